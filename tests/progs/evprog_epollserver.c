/*
 * evprog_epollserver PORT lt|et|lt-nodel|et-nodel: a plain non-blocking
 * epoll echo server on 127.0.0.1:PORT, level-triggered (lt) or
 * edge-triggered (et), the program a test wraps with an accept rule. With
 * -nodel it closes connections without EPOLL_CTL_DEL (close ends the
 * registration); every event carries the connection's generation, and an
 * event for a closed connection is printed as "stale event ...". One thread, accept4(SOCK_NONBLOCK),
 * echo with a per-connection buffer and EPOLLOUT when the peer is slow.
 * Runs until killed; prints "listening", "accepted N" and "closed N" lines
 * (stdout, flushed) so the test can follow it without sleeping.
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
#include <unistd.h>

#define MAXFD 4096
#define BUFSZ (256 * 1024)

struct conn {
	char *buf;      /* bytes read and not yet echoed */
	size_t len, off;
	uint32_t gen;   /* which connection on this descriptor number */
};

static struct conn conns[MAXFD];
static int ep, et, nodel;
static uint32_t next_gen = 1;
static long n_accepted, n_closed, n_stale;

/* Event data: the connection's generation and its descriptor, so that an
 * event for a connection already closed (whose number was reused) shows. */
static void set_events(int fd, unsigned events, int op)
{
	struct epoll_event ev = { .events = events | (et ? EPOLLET : 0) };
	ev.data.u64 = (uint64_t)conns[fd].gen << 32 | (uint32_t)fd;
	if (epoll_ctl(ep, op, fd, &ev) < 0) {
		perror("epoll_ctl");
		exit(1);
	}
}

static void drop(int fd)
{
	/* nodel: rely on close() to end the registration, as the kernel does
	 * when no other descriptor refers to the socket. */
	if (!nodel)
		epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(conns[fd].buf);
	memset(&conns[fd], 0, sizeof conns[fd]);
	printf("closed %ld\n", ++n_closed);
	fflush(stdout);
}

/* Writes what is buffered; 0 when all of it went, 1 when it must wait for
 * EPOLLOUT, -1 on error. */
static int flush_out(int fd)
{
	struct conn *c = &conns[fd];
	while (c->off < c->len) {
		ssize_t n = write(fd, c->buf + c->off, c->len - c->off);
		if (n > 0) {
			c->off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 1;
		} else {
			return -1;
		}
	}
	c->off = c->len = 0;
	return 0;
}

static void on_conn(int fd, unsigned events)
{
	struct conn *c = &conns[fd];
	if (c->len > c->off || (events & EPOLLOUT)) {
		int r = flush_out(fd);
		if (r < 0) {
			drop(fd);
			return;
		}
		if (r == 1) {
			set_events(fd, EPOLLOUT, EPOLL_CTL_MOD);
			return;
		}
		set_events(fd, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
	}
	/* Read while there is room; in edge-triggered mode until EAGAIN. */
	for (;;) {
		ssize_t n = read(fd, c->buf, BUFSZ);
		if (n > 0) {
			c->len = (size_t)n;
			c->off = 0;
			int r = flush_out(fd);
			if (r < 0) {
				drop(fd);
				return;
			}
			if (r == 1) {
				set_events(fd, EPOLLOUT, EPOLL_CTL_MOD);
				return;
			}
			if (!et)
				return;
		} else if (n == 0) {
			drop(fd);
			return;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return;
		} else {
			drop(fd);
			return;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[2], "lt") && strcmp(argv[2], "et") &&
	                  strcmp(argv[2], "lt-nodel") && strcmp(argv[2], "et-nodel"))) {
		fprintf(stderr, "usage: %s PORT lt|et|lt-nodel|et-nodel\n", argv[0]);
		return 2;
	}
	et = argv[2][0] == 'e';
	nodel = strstr(argv[2], "nodel") != NULL;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 256) < 0) {
		perror("listen");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	set_events(ls, EPOLLIN, EPOLL_CTL_ADD);
	printf("listening %s %s%s\n", argv[1], et ? "edge-triggered" : "level-triggered",
	       nodel ? ", close without EPOLL_CTL_DEL" : "");
	fflush(stdout);

	struct epoll_event evs[64];
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			if (fd != ls) {
				if (fd < 0 || fd >= MAXFD || !conns[fd].buf || conns[fd].gen != gen) {
					printf("stale event 0x%x for fd %d generation %u (now %u)\n",
					       evs[i].events, fd, gen, fd >= 0 && fd < MAXFD ? conns[fd].gen : 0);
					fflush(stdout);
					n_stale++;
					continue;
				}
				on_conn(fd, evs[i].events);
				continue;
			}
			for (;;) {
				int cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (cfd < 0) {
					if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
					    errno != ECONNABORTED)
						perror("accept4");
					break;
				}
				if (cfd >= MAXFD) {
					close(cfd);
					continue;
				}
				conns[cfd].gen = next_gen++;
				conns[cfd].buf = malloc(BUFSZ);
				if (!conns[cfd].buf) {
					perror("malloc");
					return 1;
				}
				set_events(cfd, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD);
				printf("accepted %ld\n", ++n_accepted);
				fflush(stdout);
				if (!et)
					break;
			}
		}
	}
}
