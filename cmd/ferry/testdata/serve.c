// serve: a booted request server for the blocked-checkpoint test
// (ckpt_blocked_test.go). It builds a table at start-up, says "ready" on
// stderr, then answers one request per line read from stdin with a
// blocking read, until end of input. A checkpoint taken while it waits for
// a request must restore into a server that answers the next one exactly
// as the uninterrupted server would.
//
// Rebuild: clang --target=wasm32-wasi -O2 -o serve.wasm serve.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 4096

static unsigned table[N];

int main(void) {
	unsigned h = 2166136261u;
	for (int i = 0; i < N; i++) {
		h = (h ^ (unsigned)i) * 16777619u;
		table[i] = h;
	}
	fprintf(stderr, "ready\n");
	char line[256];
	int served = 0;
	unsigned sum = 0;
	while (fgets(line, sizeof line, stdin) != NULL) {
		line[strcspn(line, "\n")] = 0;
		unsigned k = (unsigned)strtoul(line, NULL, 10) % N;
		sum += table[k];
		served++;
		printf("request %d: key %u -> %08x (running sum %08x)\n", served, k, table[k], sum);
		fflush(stdout);
	}
	printf("served %d requests\n", served);
	return served == 0 ? 3 : 0;
}
