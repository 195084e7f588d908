// dirtier keeps a memory of MIB mebibytes (every 4 KiB page present)
// and, every millisecond, writes the pages due by then at RATE pages per
// second of its monotonic clock (256 is 1 MiB/s), spread over the whole
// memory, then prints a counter:
// the workload of the migration measurements (its output shows a gap or
// a repeat at once; RATE sets the dirty rate).
//
// Build: clang --target=wasm32-wasi -O2 -Wl,--max-memory=2147483648 -Wl,--strip-all -o dirtier.wasm dirtier.c
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
	long mib = argc > 1 ? atol(argv[1]) : 64;
	long rate = argc > 2 ? atol(argv[2]) : 0;
	long max = argc > 3 ? atol(argv[3]) : 1000000000L;
	size_t pages = ((size_t)mib << 20) / 4096;
	// volatile: the program never reads its memory back, and without it
	// the compiler drops the stores and the allocation with them.
	volatile unsigned char *m = malloc(pages * 4096);
	if (m == NULL) {
		fprintf(stderr, "dirtier: cannot allocate %ld MiB\n", mib);
		return 1;
	}
	// One non-zero byte makes a page present in a checkpoint.
	for (size_t p = 0; p < pages; p++)
		m[p * 4096] = 1;
	struct timespec ms = {0, 1000000};
	size_t cursor = 0;
	long long written = 0;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 1; i <= max; i++) {
		// Due by the clock, not by the loop: a slow loop keeps the rate.
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long us = (long long)(now.tv_sec - t0.tv_sec) * 1000000 + (now.tv_nsec - t0.tv_nsec) / 1000;
		long long due = us * rate / 1000000;
		for (; written < due; written++) {
			m[cursor * 4096 + (i & 4095)] = (unsigned char)i;
			cursor = (cursor + 7919) % pages; // a prime step visits every page
		}
		printf("%ld\n", i);
		fflush(stdout);
		nanosleep(&ms, NULL);
	}
	return 0;
}
