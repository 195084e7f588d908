// fileops: in the directory named by argv[1], creates, appends to, seeks
// in, truncates, renames and removes files and directories, printing what
// it observes; sorts standard input's lines into sorted.txt and prints
// them back. Exits with the number of lines read (the shell sees a code).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAILED %s: %s\n", #x, strerror(errno)); exit(99); } } while (0)

static int cmp(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: fileops DIR < input\n");
		return 2;
	}
	char p[512], q[512];
	const char *who = getenv("WHO");
	printf("WHO=%s\n", who ? who : "(unset)");

	snprintf(p, sizeof p, "%s/work", argv[1]);
	CHECK(mkdir(p, 0755) == 0);
	printf("mkdir again: %s\n", mkdir(p, 0755) == 0 ? "ok" : strerror(errno));

	snprintf(p, sizeof p, "%s/work/a.txt", argv[1]);
	FILE *f = fopen(p, "w");
	CHECK(f);
	fputs("hello, world\n", f);
	fclose(f);
	f = fopen(p, "a");
	CHECK(f);
	fputs("appended\n", f);
	fclose(f);

	int fd = open(p, O_RDWR);
	CHECK(fd >= 0);
	char buf[64] = {0};
	CHECK(lseek(fd, 7, SEEK_SET) == 7);
	CHECK(read(fd, buf, 5) == 5);
	printf("at 7: %s\n", buf);
	printf("end: %lld\n", (long long)lseek(fd, 0, SEEK_END));
	CHECK(ftruncate(fd, 5) == 0);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	printf("truncated size: %lld\n", (long long)st.st_size);
	CHECK(pwrite(fd, "!", 1, 5) == 1);
	close(fd);

	snprintf(q, sizeof q, "%s/work/b.txt", argv[1]);
	CHECK(rename(p, q) == 0);
	printf("old name: %s\n", access(p, F_OK) == 0 ? "exists" : strerror(errno));
	f = fopen(q, "r");
	CHECK(f);
	memset(buf, 0, sizeof buf);
	fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	printf("b.txt: %s\n", buf);

	snprintf(p, sizeof p, "%s/work", argv[1]);
	printf("rmdir non-empty: %s\n", rmdir(p) == 0 ? "ok" : (errno == ENOTEMPTY ? "not empty" : strerror(errno)));
	CHECK(unlink(q) == 0);
	CHECK(rmdir(p) == 0);
	printf("stat removed: %s\n", stat(p, &st) == 0 ? "exists" : strerror(errno));

	// Standard input, sorted, through a file.
	char *lines[1024];
	int n = 0;
	char line[256];
	while (n < 1024 && fgets(line, sizeof line, stdin))
		lines[n++] = strdup(line);
	qsort(lines, n, sizeof lines[0], cmp);
	snprintf(p, sizeof p, "%s/sorted.txt", argv[1]);
	f = fopen(p, "w");
	CHECK(f);
	for (int i = 0; i < n; i++)
		fputs(lines[i], f);
	fclose(f);
	f = fopen(p, "r");
	CHECK(f);
	while (fgets(line, sizeof line, f))
		printf("sorted: %s", line);
	fclose(f);
	fprintf(stderr, "%d lines\n", n);
	return n;
}
