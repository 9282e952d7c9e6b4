/*
 * evprog_fdserver PORT CLIENTS [edge]: a plain blocking server on
 * 127.0.0.1:PORT that runs out of descriptors, the program a test wraps with an accept
 * rule under a low RLIMIT_NOFILE. It holds every accepted connection open
 * until accept fails with EMFILE or ENFILE (prints "accept failed: EMFILE
 * holding N"), then answers each held connection (one line in, "echo:
 * LINE" out, close) and goes on accepting and answering one at a time
 * until CLIENTS were answered in all. Prints "fds START END": descriptors
 * open after listen and at the end, after every connection was closed.
 * With "edge" it lowers RLIMIT_NOFILE itself after listen, to the
 * listener's number + 2: the first accept takes the one number left.
 * Any other accept error, a read or write that fails, or CLIENTS accepted
 * without ever running out, is printed and the program exits 1.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "progecho.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the directory's own descriptor */
}

/* One line in, "echo: LINE" out, close: 0, or -1 after printing why. */
static int answer(int fd)
{
	int r = echo_line(fd);

	close(fd);
	return r;
}

int main(int argc, char **argv)
{
	if (argc != 3 && (argc != 4 || strcmp(argv[3], "edge"))) {
		fprintf(stderr, "usage: %s PORT CLIENTS [edge]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int clients = atoi(argv[2]);
	int *held = calloc((size_t)clients, sizeof *held);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (held == NULL || ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(ls, clients) < 0) {
		perror("listen");
		return 1;
	}
	if (argc == 4) {
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = (rlim_t)ls + 2;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			perror("setrlimit");
			return 1;
		}
	}
	int start = count_fds();
	printf("listening %s\n", argv[1]);
	int nheld = 0, served = 0, ran_out = 0;
	while (served < clients) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0) {
			int e = errno;
			if (e == EINTR || e == ECONNABORTED)
				continue;
			if ((e != EMFILE && e != ENFILE) || ran_out) {
				printf("accept failed: %s\n", strerror(e));
				return 1;
			}
			ran_out = 1;
			printf("accept failed: %s holding %d\n", e == EMFILE ? "EMFILE" : "ENFILE", nheld);
			for (int i = 0; i < nheld; i++) {
				if (answer(held[i]) < 0)
					return 1;
				served++;
			}
			nheld = 0;
			continue;
		}
		if (!ran_out) {
			held[nheld++] = fd;
			if (nheld == clients) {
				printf("accepted all %d without running out of descriptors\n", clients);
				return 1;
			}
			continue;
		}
		if (answer(fd) < 0)
			return 1;
		served++;
	}
	free(held);
	printf("served %d\n", served);
	printf("fds %d %d\n", start, count_fds());
	return 0;
}
