/* rt.h: the few freestanding helpers the kernels need. There is no libc:
 * memset and memcpy are defined here (clang lowers struct copies and
 * zeroing loops to calls to them), marked no_builtin so the compiler does
 * not turn their own loops back into calls to themselves. Without
 * -mbulk-memory clang 14 emits plain calls, never memory.copy/memory.fill. */
#ifndef FERRY_BENCH_RT_H
#define FERRY_BENCH_RT_H

typedef unsigned int u32;
typedef unsigned long long u64;
typedef unsigned char u8;
typedef unsigned long size_t;

#define EXPORT(name) __attribute__((export_name(name)))

__attribute__((no_builtin)) void *memset(void *dst, int c, size_t n) {
	u8 *d = (u8 *)dst;
	while (n--) *d++ = (u8)c;
	return dst;
}

__attribute__((no_builtin)) void *memcpy(void *dst, const void *src, size_t n) {
	u8 *d = (u8 *)dst;
	const u8 *s = (const u8 *)src;
	while (n--) *d++ = *s++;
	return dst;
}

/* xorshift32: a deterministic pseudo-random stream shared by the kernels. */
static inline u32 xorshift32(u32 *state) {
	u32 x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

#endif
