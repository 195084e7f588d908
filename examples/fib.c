// A freestanding WebAssembly example for `ferry run --invoke`:
//   clang --target=wasm32 -O2 -c fib.c -o fib.o && wasm-ld --no-entry --export=fib --export=collatz_max fib.o -o fib.wasm
// (linking with wasm-ld directly keeps the name section, which clang's
// driver would strip by running wasm-opt when it is installed).

// fib is the naive doubly recursive Fibonacci: a call-heavy workload.
int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

// collatz_max returns the start below limit with the longest Collatz chain:
// a loop-heavy workload.
int collatz_max(int limit) {
  int best = 1, bestLen = 1;
  for (int i = 1; i < limit; i++) {
    long long x = i;
    int len = 1;
    while (x != 1) {
      x = (x & 1) ? 3 * x + 1 : x / 2;
      len++;
    }
    if (len > bestLen) {
      bestLen = len;
      best = i;
    }
  }
  return best;
}
