#!/bin/sh
# Rebuilds the benchmark kernels (bench/kernels/*.c -> *.wasm) with Debian's
# clang 14 + lld. The .wasm files are committed, so running the benchmarks
# does not need clang; rerun this after editing a kernel.
#
# Scalar kernels: freestanding wasm32, -O2, no libc, no SIMD, no bulk memory
# (rt.h supplies memset/memcpy), so every runtime that implements
# WebAssembly MVP (+ the 2.0 features clang 14 enables by default:
# mutable-globals, sign-ext) runs them.
#
# SIMD kernels (simd_*.c): the same with -msimd128 (wasm_simd128.h
# intrinsics). They are compiled (-c) and linked (wasm-ld) in two steps:
# the clang driver runs binaryen's wasm-opt after linking when it is on
# PATH, and Debian's wasm-opt 108 then rejects SIMD it was not told about.
# The script checks with wasm-objdump (wabt) that vector instructions were
# emitted.
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang}
WASMLD=${WASMLD:-wasm-ld}
for src in fib sieve matmul sha256 sort vm; do
	"$CC" --target=wasm32 -O2 -nostdlib -ffreestanding \
		-mno-simd128 -mno-bulk-memory \
		-Wl,--no-entry -Wl,--export=run -Wl,--strip-all \
		-Wl,-z,stack-size=65536 \
		-o "$src.wasm" "$src.c"
	chmod -x "$src.wasm"
	echo "built $src.wasm ($(wc -c <"$src.wasm") bytes)"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for src in simd_matmul simd_hist simd_dot simd_memchr; do
	"$CC" --target=wasm32 -O2 -msimd128 -ffreestanding -mno-bulk-memory \
		-Wall -c -o "$tmp/$src.o" "$src.c"
	"$WASMLD" --no-entry --export=run --strip-all -z stack-size=65536 \
		-o "$src.wasm" "$tmp/$src.o"
	chmod -x "$src.wasm"
	n=$(wasm-objdump -d "$src.wasm" | grep -cE '(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\.' || true)
	if [ "$n" -eq 0 ]; then
		echo "$src.wasm: no v128 instructions emitted" >&2
		exit 1
	fi
	echo "built $src.wasm ($(wc -c <"$src.wasm") bytes, $n vector instructions)"
done
