// fileprog holds files open for its whole run, so that a checkpoint lands
// while they are open: it reads data.txt in pieces of varying size,
// appends to log.txt (which already exists) through an O_APPEND descriptor
// and reads the log back through a second descriptor, overwrites records
// in records.bin with pwrite, and keeps tally.txt open with stdio ("a+").
// At the end it reads everything back, reports on stdout and stderr, and
// exits with a status computed from what it read.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned mix(unsigned h, const char *p, long n) {
	for (long i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return h;
}

static unsigned work(unsigned h, int rounds) {
	for (int i = 0; i < rounds; i++)
		h = (h << 5 | h >> 27) + (unsigned)i * 2654435761u;
	return h;
}

int main(void) {
	int in = open("data.txt", O_RDONLY);
	int log = open("log.txt", O_WRONLY | O_APPEND);
	int back = open("log.txt", O_RDONLY);
	int rec = open("records.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
	FILE *tally = fopen("tally.txt", "a+");
	if (in < 0 || log < 0 || back < 0 || rec < 0 || !tally) {
		perror("open");
		return 1;
	}
	char buf[64], line[160], seen[40];
	unsigned h = 2166136261u;
	long n;
	int round = 0;
	while ((n = read(in, buf, 5 + round % 9)) > 0) {
		h = work(mix(h, buf, n), 200 + round % 50);
		int len = snprintf(line, sizeof line, "round %d read %ld hash %08x\n", round, n, h);
		if (write(log, line, len) != len) {
			perror("append");
			return 1;
		}
		long m = read(back, seen, sizeof seen - 1);
		for (long i = 0; i < m; i++)
			if (seen[i] == '\n')
				seen[i] = '|';
		printf("round %d: log says [%.*s]\n", round, (int)(m > 0 ? m : 0), seen);
		unsigned r[2] = {h, (unsigned)round};
		if (pwrite(rec, r, sizeof r, (off_t)(round % 16) * sizeof r) != sizeof r) {
			perror("pwrite");
			return 1;
		}
		if (round % 4 == 3) {
			fprintf(tally, "tally %d %08x\n", round, h);
			fflush(tally);
		}
		if (round % 10 == 9)
			fprintf(stderr, "progress: %d rounds\n", round + 1);
		round++;
	}
	unsigned r[32] = {0};
	lseek(rec, 0, SEEK_SET);
	long got = read(rec, r, sizeof r);
	unsigned sum = 0;
	for (int i = 0; i < 32; i++)
		sum = sum * 31 + r[i];
	printf("records: %ld bytes, sum %08x\n", got, sum);
	rewind(tally);
	int tallies = 0;
	while (fgets(line, sizeof line, tally)) {
		tallies++;
		fputs(line, stdout);
	}
	off_t logsize = lseek(log, 0, SEEK_END);
	printf("log is %ld bytes, %d tallies\n", (long)logsize, tallies);
	fprintf(stderr, "done after %d rounds\n", round);
	fclose(tally);
	close(rec);
	close(back);
	close(log);
	close(in);
	return 3 + (int)(h % 5);
}
