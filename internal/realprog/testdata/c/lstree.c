// lstree: lists the directory trees named on the command line, entries
// sorted by name, with their type and size (directories without a size).
// Exit status 3 if a tree cannot be opened.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list(const char *dir, int depth) {
	DIR *d = opendir(dir);
	if (!d) {
		printf("%s: %s\n", dir, strerror(errno));
		return 3;
	}
	char *names[256];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 256) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof names[0], cmp);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		struct stat st;
		if (lstat(path, &st) != 0) {
			printf("%*s%s: lstat: %s\n", depth * 2, "", names[i], strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			printf("%*s%s/\n", depth * 2, "", names[i]);
			if (list(path, depth + 1))
				rc = 1;
		} else if (S_ISLNK(st.st_mode)) {
			char target[256];
			ssize_t len = readlink(path, target, sizeof target - 1);
			target[len < 0 ? 0 : len] = 0;
			printf("%*s%s -> %s\n", depth * 2, "", names[i], target);
		} else {
			printf("%*s%s %lld\n", depth * 2, "", names[i], (long long)st.st_size);
		}
		free(names[i]);
	}
	return rc;
}

int main(int argc, char **argv) {
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		printf("%s:\n", argv[i]);
		int r = list(argv[i], 1);
		if (r > rc)
			rc = r;
	}
	return rc;
}
