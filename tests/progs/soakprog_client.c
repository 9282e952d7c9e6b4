/*
 * soakprog_client HOST PORT COUNT [STOP...]: a plain blocking client the
 * soak test runs under a connect rule. COUNT connections one after
 * another: connect, write "ping N\n", read until EOF, check the answer is
 * "echo: ping N\n", close. Before the first connection and after each
 * STOP-th one it prints "at N" (stdout, flushed) and waits for a line on
 * stdin, so that the test can read its RSS and descriptors at a quiet
 * moment. Any failure is printed and exits 1; prints "done N" at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void stop_at(long n)
{
	char buf[64];

	printf("at %ld\n", n);
	fflush(stdout);
	if (!fgets(buf, sizeof buf, stdin)) {
		fprintf(stderr, "stdin closed at %ld\n", n);
		exit(1);
	}
}

static int one(const struct sockaddr_in *sa, long i)
{
	char want[64], got[128];
	int m = snprintf(want, sizeof want, "echo: ping %ld\n", i);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		printf("connection %ld: socket: %s\n", i, strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
		printf("connection %ld: connect: %s\n", i, strerror(errno));
		close(fd);
		return -1;
	}
	char line[32];
	int l = snprintf(line, sizeof line, "ping %ld\n", i);
	if (write(fd, line, (size_t)l) != l) {
		printf("connection %ld: write: %s\n", i, strerror(errno));
		close(fd);
		return -1;
	}
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, got + len, sizeof got - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			printf("connection %ld: read: %s\n", i, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0 || (len += (size_t)n) == sizeof got - 1)
			break;
	}
	got[len] = '\0';
	if (close(fd) < 0) {
		printf("connection %ld: close: %s\n", i, strerror(errno));
		return -1;
	}
	if (len != (size_t)m || memcmp(got, want, len) != 0) {
		printf("connection %ld: answer [%s]\n", i, got);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s HOST PORT COUNT [STOP...]\n", argv[0]);
		return 2;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", argv[1]);
		return 2;
	}
	long count = atol(argv[3]);
	int next = 4;

	stop_at(0);
	for (long i = 1; i <= count; i++) {
		if (one(&sa, i) < 0)
			return 1;
		if (next < argc && i == atol(argv[next])) {
			next++;
			stop_at(i);
		}
	}
	printf("done %ld\n", count);
	fflush(stdout);
	return 0;
}
