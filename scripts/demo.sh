#!/usr/bin/env bash
# Sets Ferry up on a fresh Debian machine and runs it on real examples:
# a C program compiled to WebAssembly, and one script of the official
# WebAssembly spec test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export PATH=$PATH:/usr/local/go/bin
go build -o bin/ferry ./cmd/ferry
echo "\$ ferry run --invoke fib examples/fib.wasm 27"
bin/ferry run --invoke fib examples/fib.wasm 27
echo "\$ ferry run --invoke collatz_max examples/fib.wasm 100000"
bin/ferry run --invoke collatz_max examples/fib.wasm 100000
spec=../shared/spec-testsuite
if [ -d "$spec" ]; then
  echo "\$ ferry wast $spec/fac.wast $spec/call_indirect.wast"
  bin/ferry wast "$spec/fac.wast" "$spec/call_indirect.wast"
fi
