/*
 * evprog_mtserver PORT THREADS: a plain multi-threaded epoll echo server,
 * the program a test wraps with an accept rule. THREADS threads all wait in
 * epoll_wait on ONE epoll instance; every descriptor (the listener too) is
 * registered EPOLLONESHOT, so exactly one thread handles an event and then
 * re-arms the descriptor with EPOLL_CTL_MOD (the pattern of thread-pool
 * servers). Connections are non-blocking; a handler reads and echoes until
 * EAGAIN, keeping unsent bytes for EPOLLOUT. Runs until killed; prints
 * "listening" and, every 100 closed connections, "closed N".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 4096
#define BUFSZ 65536

struct conn {
	char buf[BUFSZ];
	size_t len, off; /* bytes read and not yet echoed */
};

static struct conn *conns[MAXFD];
static int ep, ls;
static atomic_long n_closed;

static void arm(int fd, unsigned events, int op)
{
	struct epoll_event ev = { .events = events | EPOLLONESHOT, .data.fd = fd };
	if (epoll_ctl(ep, op, fd, &ev) < 0) {
		perror("epoll_ctl");
		exit(1);
	}
}

static void drop(int fd)
{
	struct conn *c = conns[fd];
	conns[fd] = NULL;
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(c);
	long n = atomic_fetch_add(&n_closed, 1) + 1;
	if (n % 100 == 0) {
		printf("closed %ld\n", n);
		fflush(stdout);
	}
}

/* Only the thread that got the (one-shot) event touches the connection
 * until it re-arms it. */
static void serve(int fd)
{
	struct conn *c = conns[fd];
	for (;;) {
		while (c->off < c->len) {
			ssize_t w = write(fd, c->buf + c->off, c->len - c->off);
			if (w > 0) {
				c->off += (size_t)w;
			} else if (w < 0 && errno == EINTR) {
				continue;
			} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				arm(fd, EPOLLOUT, EPOLL_CTL_MOD);
				return;
			} else {
				drop(fd);
				return;
			}
		}
		ssize_t r = read(fd, c->buf, BUFSZ);
		if (r > 0) {
			c->len = (size_t)r;
			c->off = 0;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			arm(fd, EPOLLIN, EPOLL_CTL_MOD);
			return;
		} else {
			drop(fd);
			return;
		}
	}
}

static void *worker(void *arg)
{
	(void)arg;
	struct epoll_event evs[8];
	for (;;) {
		int n = epoll_wait(ep, evs, 8, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("epoll_wait");
			exit(1);
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd != ls) {
				if (fd >= 0 && fd < MAXFD && conns[fd])
					serve(fd);
				continue;
			}
			for (;;) {
				int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (c < 0)
					break;
				if (c >= MAXFD) {
					close(c);
					continue;
				}
				conns[c] = calloc(1, sizeof *conns[c]);
				if (!conns[c]) {
					perror("calloc");
					exit(1);
				}
				arm(c, EPOLLIN, EPOLL_CTL_ADD);
			}
			arm(ls, EPOLLIN, EPOLL_CTL_MOD);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s PORT THREADS\n", argv[0]);
		return 2;
	}
	int nthreads = atoi(argv[2]);
	if (nthreads < 1 || nthreads > 64)
		return 2;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 256) < 0) {
		perror("listen");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	arm(ls, EPOLLIN, EPOLL_CTL_ADD);
	printf("listening %s, %d threads on one epoll instance (EPOLLONESHOT)\n", argv[1], nthreads);
	fflush(stdout);
	pthread_t th[64];
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	return 0;
}
