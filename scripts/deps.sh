#!/usr/bin/env bash
# Installs what Ferry's tests and examples need on a Debian machine, if missing:
# wabt (wast2json, wat2wasm) for the spec suite, binaryen (wasm-opt) for the
# differential tests, clang and lld to build the benchmark kernels.
set -euo pipefail
need=()
command -v wast2json >/dev/null || need+=(wabt)
command -v wasm-opt >/dev/null || need+=(binaryen)
command -v clang >/dev/null || need+=(clang)
command -v wasm-ld >/dev/null || need+=(lld)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin
go version >/dev/null
