// chello is a wasi-libc program that TestCProgram runs under Ferry.
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "r");
  if (!f) { perror("fopen"); return 2; }
  char buf[64] = {0};
  fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  printf("read: %s|env=%s\n", buf, getenv("WHO"));
  DIR *d = opendir("/data");
  if (!d) { perror("opendir"); return 2; }
  int n = 0; struct dirent *e;
  while ((e = readdir(d))) n++;
  closedir(d);
  printf("entries: %d\n", n);
  int fd = open("/data/../../etc/passwd", O_RDONLY);
  printf("escape: %d errno=%s\n", fd, strerror(errno));
  struct timespec ts = {0, 1000000};
  nanosleep(&ts, NULL);
  return 5;
}
