/* simd_memchr: splits a 64 KiB text into lines with a vectorised memchr
 * (i8x16.eq against '\n', i8x16.bitmask, count-trailing-zeros for each
 * match) and hashes every line length, n times; each pass moves one
 * newline, so no pass repeats another. */
#include <wasm_simd128.h>
#include "rt.h"

#define SIZE 65536
static u8 text[SIZE];

EXPORT("run") u32 run(u32 n) {
	u32 seed = 0xdeadbeef;
	for (u32 i = 0; i < SIZE; i++) {
		u32 x = xorshift32(&seed);
		text[i] = (x % 97 == 0) ? '\n' : (u8)('a' + x % 26); /* lines of ~97 bytes */
	}
	const v128_t nl = wasm_i8x16_splat('\n');
	u32 h = 2166136261u;
	for (u32 pass = 0; pass < n; pass++) {
		u32 p = (pass * 4099u) % SIZE;
		text[p] = text[p] == '\n' ? 'x' : '\n';
		u32 start = 0;
		for (u32 off = 0; off < SIZE; off += 16) {
			v128_t eq = wasm_i8x16_eq(wasm_v128_load(&text[off]), nl);
			if (!wasm_v128_any_true(eq)) continue;
			u32 m = (u32)wasm_i8x16_bitmask(eq);
			while (m) {
				u32 pos = off + (u32)__builtin_ctz(m);
				h = (h ^ (pos - start)) * 16777619u;
				start = pos + 1;
				m &= m - 1;
			}
		}
		h = (h ^ (SIZE - start)) * 16777619u;
	}
	return h;
}
