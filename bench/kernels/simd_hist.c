/* simd_hist: byte histogram of a 64 KiB buffer, 32 bins (the high nibble
 * and the low nibble of every byte), computed n times. Per 16 bytes: one
 * i8x16.shr_u, one v128.and, 32 i8x16.eq against splatted bin numbers and
 * 32 i8x16.sub into per-bin 8-bit lane counters, which are widened
 * (extadd_pairwise u8->u16->u32) every 255 vectors before they overflow. */
#include <wasm_simd128.h>
#include "rt.h"

#define SIZE 65536
static u8 buf[SIZE];

#define BINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

static inline u32 hsum8(v128_t v) {
	v128_t w = wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(v));
	return (u32)wasm_i32x4_extract_lane(w, 0) + (u32)wasm_i32x4_extract_lane(w, 1) +
	       (u32)wasm_i32x4_extract_lane(w, 2) + (u32)wasm_i32x4_extract_lane(w, 3);
}

EXPORT("run") u32 run(u32 n) {
	u32 seed = 0x2545f491;
	for (u32 i = 0; i < SIZE; i += 4) {
		u32 x = xorshift32(&seed);
		/* skewed: fewer set bits than uniform, so the bins differ */
		u32 y = x & (x >> 7);
		buf[i] = (u8)y; buf[i + 1] = (u8)(y >> 8); buf[i + 2] = (u8)(x >> 16); buf[i + 3] = (u8)(y >> 24);
	}
	u32 total[32] = {0};
	const v128_t nibble = wasm_i8x16_splat(0x0f);
	for (u32 pass = 0; pass < n; pass++) {
		buf[(pass * 4099u) % SIZE] ^= (u8)pass; /* each pass sees different data */
		for (u32 off = 0; off < SIZE;) {
			u32 end = off + 255 * 16;
			if (end > SIZE) end = SIZE;
#define DECL(b) v128_t hi##b = wasm_i8x16_splat(0), lo##b = wasm_i8x16_splat(0);
			BINS(DECL)
			for (; off < end; off += 16) {
				v128_t v = wasm_v128_load(&buf[off]);
				v128_t h = wasm_u8x16_shr(v, 4);
				v128_t l = wasm_v128_and(v, nibble);
#define COUNT(b) hi##b = wasm_i8x16_sub(hi##b, wasm_i8x16_eq(h, wasm_i8x16_splat(b))); \
                 lo##b = wasm_i8x16_sub(lo##b, wasm_i8x16_eq(l, wasm_i8x16_splat(b)));
				BINS(COUNT)
			}
#define FOLD(b) total[b] += hsum8(hi##b); total[16 + b] += hsum8(lo##b);
			BINS(FOLD)
		}
	}
	u32 h = 2166136261u;
	for (u32 b = 0; b < 32; b++) h = (h ^ total[b]) * 16777619u;
	return h;
}
