/* simd_matmul: n x n f32 matrix multiply with wasm_simd128.h intrinsics
 * (i-k-j order: a splat of A[i][k] times a 4-lane row slice of B, added to
 * C). f32x4.mul and f32x4.add round exactly as IEEE says and WebAssembly
 * has no implicit fused multiply-add, so every runtime computes the same
 * bits. n is clamped to MAX_DIM and rounded down to a multiple of 4. */
#include <wasm_simd128.h>
#include "rt.h"

#define MAX_DIM 256
static float A[MAX_DIM * MAX_DIM], B[MAX_DIM * MAX_DIM], C[MAX_DIM * MAX_DIM];

EXPORT("run") u32 run(u32 n) {
	if (n > MAX_DIM) n = MAX_DIM;
	n &= ~3u;
	u32 seed = 12345;
	for (u32 i = 0; i < n * n; i++) {
		A[i] = (float)(int)(xorshift32(&seed) % 2001) / 1000.0f - 1.0f;
		B[i] = (float)(int)(xorshift32(&seed) % 2001) / 1000.0f - 1.0f;
	}
	for (u32 i = 0; i < n; i++) {
		float *c = &C[i * n];
		for (u32 j = 0; j < n; j += 4) wasm_v128_store(&c[j], wasm_f32x4_splat(0.0f));
		for (u32 k = 0; k < n; k++) {
			v128_t a = wasm_f32x4_splat(A[i * n + k]);
			const float *b = &B[k * n];
			for (u32 j = 0; j < n; j += 4) {
				v128_t acc = wasm_v128_load(&c[j]);
				acc = wasm_f32x4_add(acc, wasm_f32x4_mul(a, wasm_v128_load(&b[j])));
				wasm_v128_store(&c[j], acc);
			}
		}
	}
	/* Hash the bit patterns, four lanes at a time. */
	v128_t h = wasm_i32x4_splat((int)2166136261u);
	const v128_t prime = wasm_i32x4_splat(16777619);
	for (u32 i = 0; i < n * n; i += 4)
		h = wasm_i32x4_mul(wasm_v128_xor(h, wasm_v128_load(&C[i])), prime);
	return (u32)wasm_i32x4_extract_lane(h, 0) ^ (u32)wasm_i32x4_extract_lane(h, 1) * 3u ^
	       (u32)wasm_i32x4_extract_lane(h, 2) * 5u ^ (u32)wasm_i32x4_extract_lane(h, 3) * 7u;
}
