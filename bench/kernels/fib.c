/* fib: doubly recursive Fibonacci. Measures call/return cost. */
#include "rt.h"

static u32 fib(u32 n) {
	if (n < 2) return n;
	return fib(n - 1) + fib(n - 2);
}

/* run(n) returns fib(n) (mod 2^32). */
EXPORT("run") u32 run(u32 n) { return fib(n); }
