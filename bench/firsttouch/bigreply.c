// A program with 1 GiB of memory that answers at once: it fills 1 GiB
// (every page stored in a checkpoint), waits for a line on standard input
// (where `ferry run --checkpoint-on stdin` checkpoints it), then answers
// the line reading one byte of the gigabyte. measure.sh times restoring it
// to that answer under each --verify-memory mode.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE (1u << 30)

int main(void) {
	unsigned char *p = malloc(SIZE);
	if (!p) {
		fprintf(stderr, "no memory\n");
		return 1;
	}
	memset(p, 0x5a, SIZE);
	for (size_t i = 0; i < SIZE; i += 4096)
		p[i] = (unsigned char)(i >> 12);
	printf("ready\n");
	fflush(stdout);
	char line[256];
	if (!fgets(line, sizeof line, stdin))
		return 1;
	printf("%d %s", p[12345 * 4096], line);
	return 0;
}
