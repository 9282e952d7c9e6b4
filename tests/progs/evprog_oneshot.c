/*
 * evprog_oneshot PORT DIR: a plain program a test wraps with an accept
 * rule. Accepts one connection on 127.0.0.1:PORT and registers it
 * EPOLLIN | EPOLLONESHOT; waits for its first event (printing "first N"),
 * then, without reading and without re-arming, waits until DIR/sent
 * exists (the client sent more bytes), prints "second wait" and waits 1 s
 * on the disarmed registration (printing "second N": 0, as the kernel
 * says of a delivered EPOLLONESHOT); then reads the first message and,
 * without waiting, the second ("read A B"). stdout is flushed at every
 * line so that a tracer's log shows where each wait starts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	char path[4096], a[64] = "", b[64] = "";
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT }, out[4];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	struct stat st;
	int ls, c, ep, n, one = 1;
	ssize_t ra, rb;

	if (argc != 3) {
		fprintf(stderr, "usage: %s PORT DIR\n", argv[0]);
		return 2;
	}
	snprintf(path, sizeof path, "%s/sent", argv[2]);
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 4) < 0)
		die("listen");
	printf("listening %s\n", argv[1]);
	fflush(stdout);
	c = accept(ls, NULL, NULL);
	if (c < 0)
		die("accept");
	ep = epoll_create1(0);
	ev.data.fd = c;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) < 0)
		die("epoll_ctl");
	n = epoll_wait(ep, out, 4, 10000);
	printf("first %d\n", n);
	fflush(stdout);
	for (int i = 0; stat(path, &st) < 0; i++) {
		if (i > 2000) {
			fprintf(stderr, "%s never appeared\n", path);
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	printf("second wait\n");
	fflush(stdout);
	n = epoll_wait(ep, out, 4, 1000);
	printf("second %d\n", n);
	fflush(stdout);
	ra = read(c, a, sizeof a - 1);
	rb = recv(c, b, sizeof b - 1, MSG_DONTWAIT);
	printf("read %s %s\n", ra > 0 ? a : "-", rb > 0 ? b : (errno == EAGAIN ? "EAGAIN" : "-"));
	fflush(stdout);
	return 0;
}
