/* The line echo of the test servers: one line in (read a byte at a time,
 * EINTR retried), "echo: LINE" out. Returns 0, or -1 after printing
 * "read failed: ..." or "write failed: ..." (stdout). */
#ifndef PROGECHO_H
#define PROGECHO_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline int echo_line(int fd)
{
	char line[512], out[600];
	size_t len = 0;

	while (len < sizeof line - 1) {
		ssize_t n = read(fd, line + len, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			printf("read failed: %s\n", n == 0 ? "EOF" : strerror(errno));
			return -1;
		}
		if (line[len++] == '\n')
			break;
	}
	int m = snprintf(out, sizeof out, "echo: %.*s", (int)len, line);
	if (write(fd, out, (size_t)m) != m) {
		printf("write failed: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

#endif
