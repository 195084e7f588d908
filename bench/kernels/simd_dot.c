/* simd_dot: dot product of two 32 Ki-element int16 vectors with
 * i32x4.dot_i16x8_s (4 products summed per lane pair), n times; each pass
 * writes its result back into b, so no pass repeats another. Integer
 * arithmetic wrapping modulo 2^32: identical everywhere. */
#include <wasm_simd128.h>
#include "rt.h"

#define LEN 32768
static short a[LEN], b[LEN];

EXPORT("run") u32 run(u32 n) {
	u32 seed = 0x1234567;
	for (u32 i = 0; i < LEN; i++) {
		u32 x = xorshift32(&seed);
		a[i] = (short)x;
		b[i] = (short)(x >> 16);
	}
	u32 h = 0;
	for (u32 pass = 0; pass < n; pass++) {
		v128_t acc0 = wasm_i32x4_splat(0), acc1 = wasm_i32x4_splat(0);
		for (u32 i = 0; i < LEN; i += 16) {
			acc0 = wasm_i32x4_add(acc0, wasm_i32x4_dot_i16x8(wasm_v128_load(&a[i]), wasm_v128_load(&b[i])));
			acc1 = wasm_i32x4_add(acc1, wasm_i32x4_dot_i16x8(wasm_v128_load(&a[i + 8]), wasm_v128_load(&b[i + 8])));
		}
		v128_t acc = wasm_i32x4_add(acc0, acc1);
		u32 s = (u32)wasm_i32x4_extract_lane(acc, 0) + (u32)wasm_i32x4_extract_lane(acc, 1) +
		        (u32)wasm_i32x4_extract_lane(acc, 2) + (u32)wasm_i32x4_extract_lane(acc, 3);
		b[(pass * 7919u) % LEN] = (short)s;
		h = (h ^ s) * 16777619u;
	}
	return h;
}
