#!/bin/sh
# Rebuilds the guests of cmd/ckptbench. The .wasm files are committed, so
# running ckptbench needs neither wabt nor clang; rerun this after editing.
#
#   touch.wat   -> touch.wasm    wabt's wat2wasm
#   bootapp.c   -> bootapp.wasm  Debian's clang 14 + wasi-libc, -O2
set -eu
cd "$(dirname "$0")"
wat2wasm touch.wat -o touch.wasm
${CC:-clang} --target=wasm32-wasi -O2 -Wall -Wextra -o bootapp.wasm bootapp.c
chmod -x touch.wasm bootapp.wasm
echo "built touch.wasm ($(wc -c <touch.wasm) bytes), bootapp.wasm ($(wc -c <bootapp.wasm) bytes)"
