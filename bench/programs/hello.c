/* hello: the smallest useful WASI command, for timing process start-up. */
#include <stdio.h>

int main(void) {
	printf("hello, world\n");
	return 0;
}
