#!/usr/bin/env bash
# Installs what Ferry's tests and examples need on a Debian machine, if missing:
# wabt (wast2json, wat2wasm) for the spec suite, binaryen (wasm-opt) for the
# differential tests, clang and lld to build the benchmark kernels, and
# wasi-libc with the wasm32 compiler runtime so that clang --target=wasm32-wasi
# builds the C programs of internal/realprog (gcc builds their native twins),
# qemu-user runs the builtins' tests on other CPU models and on arm64, and
# containerd (with ctr and runc) runs the containerd shim's integration tests.
set -euo pipefail
need=()
command -v wast2json >/dev/null || need+=(wabt)
command -v wasm-opt >/dev/null || need+=(binaryen)
command -v clang >/dev/null || need+=(clang)
command -v wasm-ld >/dev/null || need+=(lld)
[ -d /usr/include/wasm32-wasi ] || need+=(wasi-libc)
compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a" >/dev/null || need+=(libclang-rt-14-dev-wasm32)
command -v gcc >/dev/null || need+=(gcc)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user) # other CPUs: internal/builtins TestOtherCPUs
command -v containerd >/dev/null || need+=(containerd) # shim/: a real containerd daemon (pulls in runc)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin
go version >/dev/null
