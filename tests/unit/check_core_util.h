/* Shared by the check_core_*.c suites: sockets, certificates and a peer
 * thread, so each test reads as client-against-server in one process. */
#ifndef CHECK_CORE_UTIL_H
#define CHECK_CORE_UTIL_H

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sslsocket.h"
#include "testutil.h"

static inline void cu_pair(int fds[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
}

static inline void cu_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);
	ck_assert_int_ge(fl, 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK), 0);
}

/* A listener on 127.0.0.1, any port; *addr gets its address. */
static inline int cu_listen(struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(addr, 0, sizeof *addr);
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)addr, sizeof *addr), 0);
	socklen_t l = sizeof *addr;
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)addr, &l), 0);
	ck_assert_int_eq(listen(fd, 64), 0);
	return fd;
}

static inline int cu_tcp_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static inline void cu_server_opts(struct sslsocket_options *o)
{
	sslsocket_options_init(o);
	o->server_side = 1;
	o->certfile = tu_cert("server.pem");
	o->keyfile = tu_cert("server.key");
}

/* A client that verifies against the test CA. */
static inline void cu_client_opts(struct sslsocket_options *o)
{
	sslsocket_options_init(o);
	o->cert_reqs = SSLSOCKET_CERT_REQUIRED;
	o->ca_certs = tu_cert("ca.pem");
}

/* ---- a peer in a thread ------------------------------------------------------ */

struct cu_peer {
	int fd;                         /* connected (or listening) descriptor */
	struct sslsocket_options o;
	void (*run)(struct cu_peer *p); /* what the peer does after wrapping */
	sslsocket *s;
	int wrap_failed;
	struct sslsocket_error err;
	char buf[65536];
	ssize_t got;
	int result;
	int arg;
	pthread_t th;
};

static inline void *cu_peer_main(void *arg)
{
	struct cu_peer *p = arg;
	p->s = sslsocket_wrap(p->fd, &p->o, NULL, &p->err);
	if (!p->s) {
		p->wrap_failed = 1;
		close(p->fd);
		return NULL;
	}
	if (p->run)
		p->run(p);
	if (p->s)
		sslsocket_close(p->s);
	return NULL;
}

static inline void cu_peer_start(struct cu_peer *p)
{
	ck_assert_int_eq(pthread_create(&p->th, NULL, cu_peer_main, p), 0);
}

static inline void cu_peer_join(struct cu_peer *p)
{
	ck_assert_int_eq(pthread_join(p->th, NULL), 0);
}

/* Peer behaviours. */
static inline void cu_echo(struct cu_peer *p) /* echo until EOF */
{
	for (;;) {
		ssize_t n = sslsocket_read(p->s, p->buf, sizeof p->buf);
		if (n <= 0) {
			p->got = n;
			p->result = n < 0 ? errno : 0;
			return;
		}
		if (sslsocket_write(p->s, p->buf, (size_t)n) != n)
			return;
	}
}

static inline void cu_read_all(struct cu_peer *p) /* read until EOF/error */
{
	size_t total = 0;
	for (;;) {
		ssize_t n = sslsocket_read(p->s, p->buf + total, sizeof p->buf - total - 1);
		if (n <= 0) {
			p->result = n < 0 ? errno : 0;
			p->got = (ssize_t)total;
			p->buf[total] = 0;
			return;
		}
		total += (size_t)n;
	}
}

static inline void cu_handshake_only(struct cu_peer *p)
{
	p->result = sslsocket_do_handshake(p->s) == 0 ? 0 : errno;
}


/* ---- small helpers ---------------------------------------------------------- */

/* Handshakes a client and a server wrapped on the two non-blocking ends
 * of one pair, alternating in this thread until both are done. */
static inline void cu_handshake_both(sslsocket *c, sslsocket *s)
{
	int cd = 0, sd = 0;
	for (int i = 0; i < 50 && !(cd && sd); i++) {
		if (!cd)
			cd = sslsocket_do_handshake(c) == 0;
		if (!sd)
			sd = sslsocket_do_handshake(s) == 0;
	}
	ck_assert(cd && sd);
}

static inline long long cu_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline sslsocket *cu_wrap(int fd, const struct sslsocket_options *o, const struct sslsocket_io *io)
{
	struct sslsocket_error err;
	sslsocket *s = sslsocket_wrap(fd, o, io, &err);
	ck_assert_msg(s != NULL, "%s", err.reason);
	return s;
}

/* Reads exactly n bytes unless EOF or an error comes first. */
static inline ssize_t cu_read_n(sslsocket *s, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = sslsocket_read(s, buf + got, n - got);
		if (r <= 0)
			return r;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static inline void cu_wait_for_eof(struct cu_peer *p)
{
	char b[16];
	while (sslsocket_read(p->s, b, sizeof b) > 0)
		;
}

#endif
