/*
 * evprog_connfail HOST PORT MODE: a plain non-blocking client that learns
 * how its connect went the way event loops do, for a test that wraps it
 * with a connect rule against a peer whose TLS handshake fails. MODE is
 * poll, ppoll, select, pselect, epoll or epollet (edge-triggered).
 *
 * It connects (EINPROGRESS), waits once (10 s at most) for writability
 * with MODE, then reads SO_ERROR twice, writes one byte and reads one, and
 * prints one line:
 *   MODE: ready=OUT|ERR so_error=EPROTO so_error2=0 write=EPROTO read=EPROTO
 * ready lists what the wait reported (IN, OUT, ERR, HUP; "none" when it
 * timed out); the others are errno names, or "0"/"ok". Exit 0 when it got
 * that far.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *err_name(int e)
{
	switch (e) {
	case 0:
		return "0";
	case EPROTO:
		return "EPROTO";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ECONNRESET:
		return "ECONNRESET";
	case EPIPE:
		return "EPIPE";
	case EAGAIN:
		return "EAGAIN";
	case ENOTCONN:
		return "ENOTCONN";
	default:
		return strerror(e);
	}
}

/* Waits for writability with the chosen call; returns POLL* bits. */
static short wait_out(const char *mode, int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	struct timespec ts = {10, 0};
	sigset_t none;
	int n;

	sigemptyset(&none);
	if (!strcmp(mode, "poll") || !strcmp(mode, "ppoll")) {
		n = !strcmp(mode, "poll") ? poll(&p, 1, 10000) : ppoll(&p, 1, &ts, &none);
		if (n < 0) {
			perror(mode);
			exit(1);
		}
		return n > 0 ? p.revents : 0;
	}
	if (!strcmp(mode, "select") || !strcmp(mode, "pselect")) {
		fd_set rd, wr;
		struct timeval tv = {10, 0};
		short r = 0;

		FD_ZERO(&rd);
		FD_ZERO(&wr);
		FD_SET(fd, &wr);
		n = !strcmp(mode, "select") ? select(fd + 1, &rd, &wr, NULL, &tv)
		                            : pselect(fd + 1, &rd, &wr, NULL, &ts, &none);
		if (n < 0) {
			perror(mode);
			exit(1);
		}
		if (FD_ISSET(fd, &wr))
			r |= POLLOUT;
		return r;
	}
	{
		int ep = epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd}, out;
		short r = 0;

		if (!strcmp(mode, "epollet"))
			ev.events |= EPOLLET;
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			perror("epoll");
			exit(1);
		}
		n = epoll_wait(ep, &out, 1, 10000);
		if (n < 0) {
			perror("epoll_wait");
			exit(1);
		}
		if (n > 0) {
			if (out.events & EPOLLIN)
				r |= POLLIN;
			if (out.events & EPOLLOUT)
				r |= POLLOUT;
			if (out.events & EPOLLERR)
				r |= POLLERR;
			if (out.events & EPOLLHUP)
				r |= POLLHUP;
		}
		close(ep);
		return r;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char ready[32] = "", c = 'x';
	int fd, e1 = 0, e2 = 0, we, re;
	socklen_t sl;
	short r;

	if (argc != 4) {
		fprintf(stderr, "usage: %s HOST PORT poll|ppoll|select|pselect|epoll|epollet\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return 1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 || errno != EINPROGRESS) {
		printf("%s: connect=%s\n", argv[3], err_name(errno));
		return 1;
	}
	r = wait_out(argv[3], fd);
	if (r & POLLIN)
		strcat(ready, "|IN");
	if (r & POLLOUT)
		strcat(ready, "|OUT");
	if (r & POLLERR)
		strcat(ready, "|ERR");
	if (r & POLLHUP)
		strcat(ready, "|HUP");
	sl = sizeof e1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e1, &sl) < 0)
		e1 = -1;
	sl = sizeof e2;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e2, &sl) < 0)
		e2 = -1;
	we = write(fd, &c, 1) < 0 ? errno : 0;
	re = read(fd, &c, 1) < 0 ? errno : 0;
	printf("%s: ready=%s so_error=%s so_error2=%s write=%s read=%s\n", argv[3],
	       ready[0] ? ready + 1 : "none", err_name(e1), err_name(e2), we ? err_name(we) : "ok",
	       re ? err_name(re) : "ok");
	return 0;
}
