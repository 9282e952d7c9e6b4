/*
 * evprog_fork HOST PORT CASE: a connection survives a child that lets go of
 * it (issue 4, item 5), the program a test wraps with a connect rule against
 * an echo peer. The parent connects and does one echo round trip; then it
 * forks a child that
 *   close       calls close() on the descriptor and exits,
 *   closerange  calls close_range(3, ~0U, 0) and exits (as daemons and
 *               ssh do before exec),
 *   dup2        dup2()s /dev/null over the descriptor and exits,
 *   exit        just exits;
 * the parent waits for the child, then does 20 more round trips on the same
 * connection. The child did no I/O, so its close must not end the parent's
 * TLS session (no close_notify, no shutdown of the shared socket). Prints
 * "CASE ok 21 round trips".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int round_trip(int fd, int i)
{
	char msg[64], got[64];
	int n = snprintf(msg, sizeof msg, "round trip %d\n", i);
	if (write(fd, msg, (size_t)n) != n) {
		fprintf(stderr, "round trip %d: write: %s\n", i, strerror(errno));
		return -1;
	}
	int have = 0;
	while (have < n) {
		ssize_t r = read(fd, got + have, (size_t)(n - have));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "round trip %d: read: %s after %d bytes\n", i,
			        r == 0 ? "EOF" : strerror(errno), have);
			return -1;
		}
		have += (int)r;
	}
	if (memcmp(got, msg, (size_t)n) != 0) {
		fprintf(stderr, "round trip %d: echo differs\n", i);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s HOST PORT close|closerange|dup2|exit\n", argv[0]);
		return 2;
	}
	const char *c = argv[3];
	if (strcmp(c, "close") && strcmp(c, "closerange") && strcmp(c, "dup2") && strcmp(c, "exit")) {
		fprintf(stderr, "unknown case %s\n", c);
		return 2;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		return 1;
	}
	if (round_trip(fd, 0) < 0)
		return 1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		if (!strcmp(c, "close")) {
			close(fd);
		} else if (!strcmp(c, "closerange")) {
			close_range(3, ~0U, 0);
		} else if (!strcmp(c, "dup2")) {
			int nul = open("/dev/null", O_RDWR);
			dup2(nul, fd);
		}
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "child failed\n");
		return 1;
	}
	for (int i = 1; i <= 20; i++)
		if (round_trip(fd, i) < 0)
			return 1;
	printf("%s ok 21 round trips\n", c);
	close(fd);
	return 0;
}
