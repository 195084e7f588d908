/* sieve: sieve of Eratosthenes. Measures byte loads/stores and tight loops. */
#include "rt.h"

#define MAX_N (1u << 22)
static u8 composite[MAX_N + 1];

/* run(n) returns the number of primes <= n (n is clamped to MAX_N). */
EXPORT("run") u32 run(u32 n) {
	if (n > MAX_N) n = MAX_N;
	memset(composite, 0, n + 1);
	u32 count = 0;
	for (u32 i = 2; i <= n; i++) {
		if (composite[i]) continue;
		count++;
		for (u32 j = i * 2; j <= n; j += i) composite[j] = 1;
	}
	return count;
}
