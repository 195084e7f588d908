// catlines: copies each file named on the command line ("-" or no
// arguments: standard input) to standard output, numbering the lines, then
// prints a summary. Exit status: the number of files that could not be
// opened. An argument "--abort" makes it flush its output and abort(), which
// kills a native process with SIGABRT and traps under WebAssembly.
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static long lines, bytes;

static void copy(FILE *f, const char *name) {
	char buf[256];
	int start = 1;
	while (fgets(buf, sizeof buf, f)) {
		size_t n = strlen(buf);
		if (start)
			printf("%s:%ld: ", name, ++lines);
		fputs(buf, stdout);
		start = n > 0 && buf[n - 1] == '\n';
		bytes += (long)n;
	}
	if (!start)
		putchar('\n');
}

int main(int argc, char **argv) {
	int failed = 0;
	if (argc < 2) {
		copy(stdin, "-");
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--abort") == 0) {
			fflush(stdout);
			abort();
		}
		if (strcmp(argv[i], "-") == 0) {
			copy(stdin, "-");
			continue;
		}
		FILE *f = fopen(argv[i], "r");
		if (!f) {
			printf("%s: cannot open: %s\n", argv[i], strerror(errno));
			failed++;
			continue;
		}
		copy(f, argv[i]);
		fclose(f);
	}
	printf("%ld lines, %ld bytes, %d failed\n", lines, bytes, failed);
	return failed;
}
