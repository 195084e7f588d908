/* matmul: dense n x n matrix multiply in doubles. Measures f64 arithmetic
 * and indexed loads. WebAssembly has no implicit fused multiply-add, so the
 * result is bit-for-bit deterministic on every runtime. */
#include "rt.h"

#define MAX_DIM 160
static double A[MAX_DIM * MAX_DIM], B[MAX_DIM * MAX_DIM], C[MAX_DIM * MAX_DIM];

/* run(n) multiplies two pseudo-random n x n matrices and returns a hash of
 * the bits of every element of the product (n is clamped to MAX_DIM). */
EXPORT("run") u32 run(u32 n) {
	if (n > MAX_DIM) n = MAX_DIM;
	u32 seed = 12345;
	for (u32 i = 0; i < n * n; i++) {
		A[i] = (double)(xorshift32(&seed) % 2001) / 1000.0 - 1.0;
		B[i] = (double)(xorshift32(&seed) % 2001) / 1000.0 - 1.0;
	}
	for (u32 i = 0; i < n; i++) {
		for (u32 j = 0; j < n; j++) {
			double sum = 0.0;
			for (u32 k = 0; k < n; k++) sum += A[i * n + k] * B[k * n + j];
			C[i * n + j] = sum;
		}
	}
	u64 h = 1469598103934665603ull; /* FNV-1a over the 64-bit patterns */
	for (u32 i = 0; i < n * n; i++) {
		union { double d; u64 u; } v = { C[i] };
		h = (h ^ v.u) * 1099511628211ull;
	}
	return (u32)(h ^ (h >> 32));
}
