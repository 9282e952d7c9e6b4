/*
 * evprog_slowclient HOST PORT [epoll|poll|select]: a plain non-blocking
 * client, the program a test wraps with a connect rule against a server
 * that delays its TLS handshake. It connects (EINPROGRESS), waits to be
 * writable, writes "ping\n", waits to be readable and reads the 5-byte
 * echo, waiting (epoll_wait by default, or poll, or select) whenever a
 * call says EAGAIN, as an event loop does.
 *
 * Prints "wall_ms=W cpu_ms=C waits=N eagain=E reply=ping": the CPU time
 * (getrusage, user + system) from just before connect to the end, so that
 * start-up work is not counted; a handshake that spins while the server
 * sleeps shows up as CPU time and as many waits. Exit 0 when the reply is
 * right, 1 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000L +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000L;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static long waits, eagains;
static const char *mode = "epoll";

/* Waits until fd is ready for `events` (EPOLLIN or EPOLLOUT) with the
 * chosen call; 1 ready, 0 timed out. */
static int wait_for(int ep, int fd, unsigned events, int timeout_ms)
{
	if (!strcmp(mode, "poll")) {
		struct pollfd p = { .fd = fd, .events = events == EPOLLIN ? POLLIN : POLLOUT };
		for (;;) {
			int n = poll(&p, 1, timeout_ms);
			waits++;
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				perror("poll");
				exit(1);
			}
			return n;
		}
	}
	if (!strcmp(mode, "select")) {
		for (;;) {
			fd_set set;
			FD_ZERO(&set);
			FD_SET(fd, &set);
			struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
			int n = events == EPOLLIN ? select(fd + 1, &set, NULL, NULL, &tv)
			                          : select(fd + 1, NULL, &set, NULL, &tv);
			waits++;
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				perror("select");
				exit(1);
			}
			return n;
		}
	}
	struct epoll_event ev = { .events = events, .data.fd = fd };
	struct epoll_event out;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0) {
		perror("epoll_ctl");
		exit(1);
	}
	for (;;) {
		int n = epoll_wait(ep, &out, 1, timeout_ms);
		waits++;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("epoll_wait");
			exit(1);
		}
		return n;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s HOST PORT [epoll|poll|select]\n", argv[0]);
		return 2;
	}
	if (argc == 4)
		mode = argv[3];
	if (strcmp(mode, "epoll") && strcmp(mode, "poll") && strcmp(mode, "select")) {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", argv[1]);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int ep = epoll_create1(0);
	if (fd < 0 || ep < 0) {
		perror("socket/epoll_create1");
		return 1;
	}
	struct epoll_event ev = { .events = EPOLLOUT, .data.fd = fd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("epoll_ctl");
		return 1;
	}

	long t0 = now_ms(), c0 = cpu_ms();
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno != EINPROGRESS) {
			perror("connect");
			return 1;
		}
		if (!wait_for(ep, fd, EPOLLOUT, 10000)) {
			fprintf(stderr, "connect: no EPOLLOUT in 10 s\n");
			return 1;
		}
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			fprintf(stderr, "connect: %s\n", strerror(soerr));
			return 1;
		}
	}

	const char msg[] = "ping\n";
	size_t off = 0;
	while (off < sizeof msg - 1) {
		ssize_t n = write(fd, msg + off, sizeof msg - 1 - off);
		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			eagains++;
			if (!wait_for(ep, fd, EPOLLOUT, 10000)) {
				fprintf(stderr, "write: no EPOLLOUT in 10 s\n");
				return 1;
			}
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			perror("write");
			return 1;
		}
	}

	char reply[16];
	size_t got = 0;
	while (got < 5) {
		ssize_t n = read(fd, reply + got, 5 - got);
		if (n > 0) {
			got += (size_t)n;
		} else if (n == 0) {
			fprintf(stderr, "read: EOF after %zu bytes\n", got);
			return 1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			eagains++;
			if (!wait_for(ep, fd, EPOLLIN, 10000)) {
				fprintf(stderr, "read: no EPOLLIN in 10 s\n");
				return 1;
			}
		} else if (errno != EINTR) {
			perror("read");
			return 1;
		}
	}
	long wall = now_ms() - t0, cpu = cpu_ms() - c0;
	reply[got] = '\0';
	if (got && reply[got - 1] == '\n')
		reply[got - 1] = '\0';
	printf("%s: wall_ms=%ld cpu_ms=%ld waits=%ld eagain=%ld reply=%s\n", mode, wall, cpu, waits,
	       eagains, reply);
	close(fd);
	close(ep);
	return strcmp(reply, "ping") == 0 ? 0 : 1;
}
