// ckptprog is the checkpoint-anywhere test program: it reads a file line
// by line, writes to stdout and to a file as it goes, recurses, calls
// through function pointers, grows its heap and reads the monotonic clock,
// so that a checkpoint can land in the middle of any of these.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned hash(const char *s) {
	unsigned h = 2166136261u;
	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

typedef int (*op)(int, int);
static int add(int a, int b) { return a + b; }
static int mul(int a, int b) { return a * b; }
static int sub(int a, int b) { return a - b; }
static op ops[] = {add, mul, sub};

static long long nanos(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: %s IN OUT\n", argv[0]);
		return 2;
	}
	FILE *in = fopen(argv[1], "r");
	FILE *out = fopen(argv[2], "w");
	if (!in || !out) {
		perror("open");
		return 1;
	}
	long long t0 = nanos(), last = t0;
	int backwards = 0;
	char line[256];
	int n = 0;
	size_t cap = 4;
	char **lines = malloc(cap * sizeof *lines);
	while (fgets(line, sizeof line, in)) {
		line[strcspn(line, "\n")] = 0;
		if ((size_t)n == cap) {
			cap *= 2;
			lines = realloc(lines, cap * sizeof *lines);
		}
		lines[n++] = strdup(line);
		printf("line %d: %s hash %08x fib %d\n", n, line, hash(line), fib(n % 12));
		fprintf(out, "%08x %s\n", hash(line), line);
		fflush(out);
		long long t = nanos();
		backwards += t < last;
		last = t;
	}
	int acc = 1;
	for (int i = 0; i < 24; i++) {
		acc = ops[i % 3](acc, i + 1) & 0xffff;
		printf("step %d acc %d fib %d\n", i, acc, fib(i % 14));
		if (i % 8 == 7)
			fflush(stdout);
	}
	size_t size = 96 << 10;
	unsigned char *big = malloc(size);
	for (size_t i = 0; i < size; i++)
		big[i] = (unsigned char)(i * 7 + (i >> 9));
	unsigned sum = 0;
	for (size_t i = 0; i < size; i += 512)
		sum += big[i];
	printf("sum %u\n", sum);
	for (int i = n - 1; i >= 0; i--) {
		fprintf(out, "rev %s\n", lines[i]);
		free(lines[i]);
	}
	long long t = nanos();
	backwards += t < last;
	printf("monotonic %s\n", backwards ? "WENT BACKWARDS" : "ok");
	fclose(out);
	fclose(in);
	return 0;
}
