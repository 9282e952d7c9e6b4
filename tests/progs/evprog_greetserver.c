/*
 * evprog_greetserver PORT: a plain non-blocking epoll server that speaks
 * first (as SMTP, FTP or IMAP servers do), the program a test wraps with an
 * accept rule. On accept it writes "hello\n" at once; when that says
 * EAGAIN it waits for EPOLLOUT and tries again. Under TLS the accepted
 * connection still has to read the ClientHello before anything can be
 * written: the interposer must wait for the kernel's EPOLLIN while the
 * program waits for EPOLLOUT, without reporting EPOLLOUT early (a spin).
 * After the greeting it half-closes and closes on the client's EOF.
 * Prints "listening", "accepted N", "greeted N" and the number of EAGAINs
 * and wake-ups, flushed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 4096

static int ep;
static int sent[MAXFD]; /* bytes of the greeting written; -1: free */
static long n_accepted, n_greeted, wakeups, eagains;
static const char greeting[] = "hello\n";

static void mod(int fd, unsigned events, int op)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	if (epoll_ctl(ep, op, fd, &ev) < 0) {
		perror("epoll_ctl");
		exit(1);
	}
}

static void finish(int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	sent[fd] = -1;
}

/* Writes the rest of the greeting; then waits for the client's EOF. */
static void greet(int fd)
{
	while (sent[fd] < (int)sizeof greeting - 1) {
		ssize_t n = write(fd, greeting + sent[fd], sizeof greeting - 1 - (size_t)sent[fd]);
		if (n > 0) {
			sent[fd] += (int)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			eagains++;
			mod(fd, EPOLLOUT, EPOLL_CTL_MOD);
			return;
		} else {
			printf("write failed: %s\n", n < 0 ? strerror(errno) : "0");
			finish(fd);
			return;
		}
	}
	printf("greeted %ld (eagain %ld, wakeups %ld)\n", ++n_greeted, eagains, wakeups);
	fflush(stdout);
	shutdown(fd, SHUT_WR);
	mod(fd, EPOLLIN, EPOLL_CTL_MOD);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < MAXFD; i++)
		sent[i] = -1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 64) < 0) {
		perror("listen");
		return 1;
	}
	ep = epoll_create1(0);
	mod(ls, EPOLLIN, EPOLL_CTL_ADD);
	printf("listening %s\n", argv[1]);
	fflush(stdout);
	struct epoll_event evs[32];
	for (;;) {
		int n = epoll_wait(ep, evs, 32, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
				if (c < 0)
					continue;
				if (c >= MAXFD) {
					close(c);
					continue;
				}
				sent[c] = 0;
				printf("accepted %ld\n", ++n_accepted);
				fflush(stdout);
				mod(c, EPOLLOUT, EPOLL_CTL_ADD);
				greet(c);
				continue;
			}
			if (sent[fd] < 0)
				continue;
			wakeups++;
			if (sent[fd] < (int)sizeof greeting - 1) {
				greet(fd);
				continue;
			}
			char buf[256];
			ssize_t r = read(fd, buf, sizeof buf);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
				finish(fd);
		}
	}
}
