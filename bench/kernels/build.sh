#!/bin/sh
# Rebuilds the benchmark kernels (bench/kernels/*.c -> *.wasm) with Debian's
# clang 14 + lld. The .wasm files are committed, so running the benchmarks
# does not need clang; rerun this after editing a kernel.
#
# Freestanding wasm32, -O2, no libc, no SIMD, no bulk memory (rt.h supplies
# memset/memcpy), so every runtime that implements WebAssembly MVP (+ the
# 2.0 features clang 14 enables by default: mutable-globals, sign-ext) runs them.
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang}
for src in fib sieve matmul sha256 sort vm; do
	"$CC" --target=wasm32 -O2 -nostdlib -ffreestanding \
		-mno-simd128 -mno-bulk-memory \
		-Wl,--no-entry -Wl,--export=run -Wl,--strip-all \
		-Wl,-z,stack-size=65536 \
		-o "$src.wasm" "$src.c"
	chmod -x "$src.wasm"
	echo "built $src.wasm ($(wc -c <"$src.wasm") bytes)"
done
