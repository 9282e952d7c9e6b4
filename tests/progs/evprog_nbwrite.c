/*
 * evprog_nbwrite HOST PORT BYTES COPY [write|send|writev|sendmsg]:
 * non-blocking writes that a TLS layer
 * must not trip over, the program a test wraps with a connect rule against
 * a sink that answers "ok SIZE SHA256". The socket has a 16 KiB send buffer
 * (so EAGAIN is certain), the stream is an 8-byte big-endian length and
 * BYTES of a xorshift sequence, written in chunks of varying size. After
 * EAGAIN the program waits for EPOLLOUT and retries from a DIFFERENT
 * buffer address with a SMALLER length, as event loops do (they move what
 * is left into their own buffer): the kernel allows it, OpenSSL does not
 * unless the layer above it takes care. Partial writes are accepted as the
 * kernel gives them. The stream is also written to the file COPY, for the
 * test to compare with what the peer got. Prints the peer's answer and how
 * many EAGAINs and partial writes the program saw.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int ep, fd;
static long eagains, partials;

static void wait_ev(unsigned events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd }, out;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0) {
		perror("epoll_ctl");
		exit(1);
	}
	for (;;) {
		int n = epoll_wait(ep, &out, 1, 10000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "epoll_wait: %s\n", n == 0 ? "no event in 10 s" : strerror(errno));
			exit(1);
		}
		return;
	}
}

static const char *path = "write";

/* One write through the chosen call; writev and sendmsg split the bytes
 * over three buffers. */
static ssize_t out_write(const unsigned char *p, size_t n)
{
	if (!strcmp(path, "send"))
		return send(fd, p, n, 0);
	if (!strcmp(path, "writev") || !strcmp(path, "sendmsg")) {
		size_t a = n / 3, b = n / 3;
		struct iovec iov[3] = { { (void *)(uintptr_t)p, a }, { (void *)(uintptr_t)(p + a), b },
		                        { (void *)(uintptr_t)(p + a + b), n - a - b } };
		if (path[0] == 'w')
			return writev(fd, iov, 3);
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = 3 };
		return sendmsg(fd, &m, 0);
	}
	return write(fd, p, n);
}

/* Sends len bytes of p; after EAGAIN, retries from a copy at another
 * address with at most half the length (at least 1). */
static void send_all(const unsigned char *p, size_t len)
{
	static unsigned char moved[2][1 << 20];
	int flip = 0;
	size_t cap = len;
	while (len > 0) {
		size_t n = len < cap ? len : cap;
		ssize_t w = out_write(p, n);
		if (w > 0) {
			if ((size_t)w < n)
				partials++;
			p += w;
			len -= (size_t)w;
			cap = len;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			eagains++;
			wait_ev(EPOLLOUT);
			/* the event loop's own buffer: same bytes, new place
			 * (len <= 1 MiB: callers send at most that) */
			memcpy(moved[flip], p, len);
			p = moved[flip];
			flip ^= 1;
			cap = n / 2 ? n / 2 : 1;
			continue;
		}
		perror("write");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: %s HOST PORT BYTES COPY [write|send|writev|sendmsg]\n", argv[0]);
		return 2;
	}
	if (argc == 6)
		path = argv[5];
	if (strcmp(path, "write") && strcmp(path, "send") && strcmp(path, "writev") &&
	    strcmp(path, "sendmsg")) {
		fprintf(stderr, "unknown write path %s\n", path);
		return 2;
	}
	FILE *copy = fopen(argv[4], "wb");
	if (!copy) {
		perror(argv[4]);
		return 1;
	}
	size_t total = strtoul(argv[3], NULL, 10);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int sndbuf = 16384;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLOUT, .data.fd = fd };
	if (fd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("socket");
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
		perror("connect");
		return 1;
	}
	wait_ev(EPOLLOUT);

	unsigned char hdr[8];
	for (int i = 0; i < 8; i++)
		hdr[i] = (unsigned char)((uint64_t)total >> (56 - 8 * i));
	send_all(hdr, sizeof hdr);

	static unsigned char chunk[1 << 20];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t sent = 0;
	while (sent < total) {
		size_t n = 1 + (sent * 2654435761u) % (sizeof chunk - 1);
		if (n > total - sent)
			n = total - sent;
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			chunk[i] = (unsigned char)(x >> 32);
		}
		if (fwrite(chunk, 1, n, copy) != n) {
			perror("fwrite");
			return 1;
		}
		send_all(chunk, n);
		sent += n;
	}
	if (fclose(copy) != 0) {
		perror("fclose");
		return 1;
	}

	char line[256];
	size_t got = 0;
	while (got < sizeof line - 1 && (got == 0 || line[got - 1] != '\n')) {
		ssize_t r = read(fd, line + got, sizeof line - 1 - got);
		if (r > 0) {
			got += (size_t)r;
		} else if (r == 0) {
			break;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			wait_ev(EPOLLIN);
		} else if (errno != EINTR) {
			perror("read");
			return 1;
		}
	}
	line[got] = '\0';
	printf("answer: %s", line);
	printf("%s: eagain=%ld partial=%ld\n", path, eagains, partials);
	close(fd);
	return 0;
}
