/*
 * evprog_blockserver PORT COUNT: a plain blocking server on 127.0.0.1:PORT,
 * the program a test wraps with an accept rule that has a
 * handshake_timeout. One thread: accept, read one line, answer
 * "echo: LINE", close; after COUNT answered clients it exits 0. A failed
 * accept (a handshake that timed out) is printed and the loop goes on, as
 * a server does. Prints "listening", "accept failed: ..." and
 * "served N" lines (stdout, flushed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "progecho.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s PORT COUNT\n", argv[0]);
		return 2;
	}
	int count = atoi(argv[2]);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 16) < 0) {
		perror("listen");
		return 1;
	}
	printf("listening %s\n", argv[1]);
	fflush(stdout);
	int served = 0;
	while (served < count) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0) {
			if (errno == EBADF || errno == EINVAL || errno == ENOTSOCK || errno == EFAULT) {
				perror("accept");
				return 1;
			}
			printf("accept failed: %s\n", strerror(errno));
			fflush(stdout);
			continue;
		}
		if (echo_line(fd) == 0)
			printf("served %d\n", ++served);
		fflush(stdout);
		close(fd);
	}
	return 0;
}
