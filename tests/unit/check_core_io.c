/* check_core_io: blocking and non-blocking I/O around OpenSSL: the retry
 * loop, lazy connect, accept, full duplex, deadlines, timeouts, EINTR,
 * pending and readiness, the I/O seam and what the hot path costs. */
#include "check_core_util.h"

#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <time.h>

/* The seed's do_handshake loop, in C (README material). */
static int handshake_loop(sslsocket *s, int *wants)
{
	for (;;) {
		if (sslsocket_do_handshake(s) == 0)
			return 0;
		const struct sslsocket_error *e = sslsocket_last_error(s);
		struct pollfd p = {.fd = sslsocket_fileno(s)};
		if (e->code == SSLSOCKET_ERROR_WANT_READ)
			p.events = POLLIN;
		else if (e->code == SSLSOCKET_ERROR_WANT_WRITE)
			p.events = POLLOUT;
		else
			return -1;
		(*wants)++;
		poll(&p, 1, -1);
	}
}

START_TEST(test_nonblocking_handshake_loop)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_echo};
	cu_server_opts(&srv.o);
	cu_set_nonblock(fds[0], 1);
	struct sslsocket_options o;
	cu_client_opts(&o);
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	ck_assert_int_eq(sslsocket_gettimeout(c), 0); /* from O_NONBLOCK */
	ck_assert(!sslsocket_handshake_done(c));
	/* No server yet: the hello goes out and the handshake wants to read. */
	errno = 0;
	ck_assert_int_eq(sslsocket_do_handshake(c), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(sslsocket_last_error(c)->code, SSLSOCKET_ERROR_WANT_READ);
	ck_assert(!sslsocket_failed(c));
	cu_peer_start(&srv);
	int wants = 0;
	ck_assert_msg(handshake_loop(c, &wants) == 0, "%s", sslsocket_error(c));
	ck_assert(sslsocket_handshake_done(c));
	/* Non-blocking read with nothing there: want-read, EAGAIN. */
	char buf[16];
	errno = 0;
	ck_assert_int_eq(sslsocket_read(c, buf, sizeof buf), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(sslsocket_last_error(c)->code, SSLSOCKET_ERROR_WANT_READ);
	ck_assert_int_eq(sslsocket_write(c, "ping", 4), 4);
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	ssize_t n;
	while ((n = sslsocket_read(c, buf, sizeof buf)) < 0 && errno == EAGAIN)
		poll(&p, 1, 5000);
	ck_assert_int_eq(n, 4);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

/* Both ends non-blocking in one thread: the loop interleaves them. */
START_TEST(test_nonblocking_both_sides)
{
	int fds[2];
	cu_pair(fds);
	cu_set_nonblock(fds[0], 1);
	cu_set_nonblock(fds[1], 1);
	struct sslsocket_options co, so;
	cu_client_opts(&co);
	cu_server_opts(&so);
	sslsocket *c = cu_wrap(fds[0], &co, NULL);
	sslsocket *s = cu_wrap(fds[1], &so, NULL);
	int cd = 0, sd = 0;
	for (int i = 0; i < 50 && !(cd && sd); i++) {
		if (!cd)
			cd = sslsocket_do_handshake(c) == 0;
		if (!sd)
			sd = sslsocket_do_handshake(s) == 0;
		if (!cd)
			ck_assert_int_eq(errno, EAGAIN);
	}
	ck_assert(cd && sd);
	sslsocket_close(c);
	sslsocket_close(s);
}
END_TEST

static void *accept_once(void *arg)
{
	sslsocket *l = arg;
	sslsocket *s = sslsocket_accept(l, NULL, NULL, 0);
	if (s) {
		char buf[64];
		ssize_t n;
		while ((n = sslsocket_read(s, buf, sizeof buf)) > 0)
			sslsocket_write(s, buf, (size_t)n);
		sslsocket_close(s);
	}
	return s;
}

START_TEST(test_lazy_connect_nonblocking)
{
	struct sockaddr_in addr;
	int lfd = cu_listen(&addr);
	struct sslsocket_options so;
	cu_server_opts(&so);
	sslsocket *l = cu_wrap(lfd, &so, NULL);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, accept_once, l), 0);

	int fd = cu_tcp_socket();
	cu_set_nonblock(fd, 1);
	struct sslsocket_options o;
	cu_client_opts(&o);
	o.server_hostname = "localhost";
	sslsocket *c = cu_wrap(fd, &o, NULL); /* not connected: lazy */
	errno = 0;
	int r = sslsocket_connect(c, (struct sockaddr *)&addr, sizeof addr);
	ck_assert(r == -1 && errno == EINPROGRESS);
	/* Readiness asks the kernel for what the connect/handshake needs. */
	for (int i = 0; i < 200 && sslsocket_advance(c) < 0; i++) {
		ck_assert_int_eq(errno, EAGAIN);
		short kev = 0;
		short ready = sslsocket_poll_events(c, POLLIN, &kev);
		ck_assert_int_eq(ready, 0);
		ck_assert(kev == POLLIN || kev == POLLOUT);
		struct pollfd p = {.fd = fd, .events = kev};
		poll(&p, 1, 1000);
	}
	ck_assert(sslsocket_handshake_done(c));
	ck_assert_str_eq(sslsocket_verify_result(c), "ok");
	ck_assert_int_eq(sslsocket_write(c, "hi", 2), 2);
	char buf[8];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;
	while ((n = sslsocket_read(c, buf, sizeof buf)) < 0 && errno == EAGAIN)
		poll(&p, 1, 1000);
	ck_assert_int_eq(n, 2);
	sslsocket_close(c);
	void *ret;
	pthread_join(th, &ret);
	ck_assert_ptr_nonnull(ret);
	sslsocket_free(l);
	close(lfd);
}
END_TEST

START_TEST(test_lazy_connect_blocking)
{
	int eager = _i;
	struct sockaddr_in addr;
	int lfd = cu_listen(&addr);
	struct sslsocket_options so;
	cu_server_opts(&so);
	sslsocket *l = cu_wrap(lfd, &so, NULL);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, accept_once, l), 0);
	int fd = cu_tcp_socket();
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.do_handshake_on_connect = eager;
	sslsocket *c = cu_wrap(fd, &o, NULL);
	ck_assert_int_eq(sslsocket_connect(c, (struct sockaddr *)&addr, sizeof addr), 0);
	ck_assert_int_eq(sslsocket_handshake_done(c), eager);
	ck_assert_int_eq(sslsocket_write(c, "hey", 3), 3); /* drives a lazy handshake */
	ck_assert(sslsocket_handshake_done(c));
	char buf[8];
	ck_assert_int_eq(sslsocket_read(c, buf, sizeof buf), 3);
	/* connect twice is an error */
	errno = 0;
	ck_assert_int_eq(sslsocket_connect(c, (struct sockaddr *)&addr, sizeof addr), -1);
	ck_assert_int_eq(errno, EISCONN);
	sslsocket_close(c);
	pthread_join(th, NULL);
	sslsocket_free(l);
	close(lfd);
}
END_TEST

START_TEST(test_connect_refused)
{
	struct sockaddr_in addr;
	int lfd = cu_listen(&addr);
	close(lfd); /* nobody listens there now */
	int fd = cu_tcp_socket();
	cu_set_nonblock(fd, _i);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(fd, &o, NULL);
	int r = sslsocket_connect(c, (struct sockaddr *)&addr, sizeof addr);
	if (r < 0 && errno == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		poll(&p, 1, 2000);
		r = sslsocket_advance(c);
	}
	ck_assert_int_eq(r, -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	sslsocket_close(c);
}
END_TEST

/* A plain client that sends garbage: the eager server handshake fails,
 * accept closes that descriptor and reports EPROTO. */
START_TEST(test_accept_failed_handshake)
{
	struct sockaddr_in addr;
	int lfd = cu_listen(&addr);
	struct sslsocket_options so;
	cu_server_opts(&so);
	sslsocket *l = cu_wrap(lfd, &so, NULL);
	int fd = cu_tcp_socket();
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	const char req[] = "GET / HTTP/1.0\r\n\r\n";
	ck_assert_int_eq(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
	errno = 0;
	ck_assert_ptr_null(sslsocket_accept(l, NULL, NULL, 0));
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_msg(strcmp(sslsocket_error(l), "http request") == 0, "%s", sslsocket_error(l));
	/* The accepted descriptor was closed: our side sees EOF. */
	char b[64];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ssize_t n = read(fd, b, sizeof b);
	ck_assert(n == 0 || (n > 0 && b[0] == 0x15) || (n < 0 && errno == ECONNRESET));
	close(fd);
	sslsocket_free(l);
	close(lfd);
}
END_TEST

START_TEST(test_accept_nonblocking)
{
	struct sockaddr_in addr;
	int lfd = cu_listen(&addr);
	cu_set_nonblock(lfd, 1);
	struct sslsocket_options so;
	cu_server_opts(&so);
	sslsocket *l = cu_wrap(lfd, &so, NULL);
	errno = 0;
	ck_assert_ptr_null(sslsocket_accept(l, NULL, NULL, SOCK_NONBLOCK));
	ck_assert_int_eq(errno, EAGAIN);
	int fds[2] = {cu_tcp_socket(), -1};
	struct cu_peer cli = {.fd = fds[0], .run = cu_handshake_only};
	sslsocket_options_init(&cli.o);
	ck_assert_int_eq(connect(fds[0], (struct sockaddr *)&addr, sizeof addr), 0);
	cu_peer_start(&cli);
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	struct sockaddr_in peer;
	socklen_t pl = sizeof peer;
	sslsocket *s = sslsocket_accept(l, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(peer.sin_family, AF_INET);
	ck_assert(sslsocket_server_side(s));
	ck_assert(!sslsocket_handshake_done(s)); /* non-blocking: on first I/O */
	int wants = 0;
	ck_assert_int_eq(handshake_loop(s, &wants), 0);
	sslsocket_close(s);
	cu_peer_join(&cli);
	ck_assert_int_eq(cli.result, 0);
	sslsocket_free(l);
	close(lfd);
}
END_TEST

/* ---- full duplex ------------------------------------------------------------- */

struct duplex {
	sslsocket *c;
	ssize_t got;
	char buf[16];
	volatile int done;
};

static void *duplex_reader(void *arg)
{
	struct duplex *d = arg;
	d->got = sslsocket_read(d->c, d->buf, sizeof d->buf);
	__atomic_store_n(&d->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* The server answers only after it has received the second message, which
 * the main thread writes while the reader thread is blocked in read. */
static void two_then_answer(struct cu_peer *p)
{
	char b[16];
	size_t total = 0;
	while (total < 2) {
		ssize_t n = sslsocket_read(p->s, b + total, sizeof b - total);
		if (n <= 0)
			return;
		total += (size_t)n;
	}
	sslsocket_write(p->s, "ok", 2);
	(void)sslsocket_read(p->s, b, sizeof b);
}

START_TEST(test_full_duplex)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = two_then_answer};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	ck_assert_int_eq(sslsocket_write(c, "a", 1), 1);
	struct duplex d = {.c = c};
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, duplex_reader, &d), 0);
	usleep(200 * 1000); /* the reader is now waiting in poll */
	ck_assert(!__atomic_load_n(&d.done, __ATOMIC_SEQ_CST));
	long long t0 = cu_now_ms();
	ck_assert_int_eq(sslsocket_write(c, "b", 1), 1); /* would deadlock if read held the lock */
	ck_assert_int_lt(cu_now_ms() - t0, 1000);
	pthread_join(th, NULL);
	ck_assert_int_eq(d.got, 2);
	ck_assert_int_eq(memcmp(d.buf, "ok", 2), 0);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

/* ---- deadlines, timeouts, EINTR ------------------------------------------------ */

START_TEST(test_handshake_deadline_client)
{
	struct sockaddr_in addr;
	int lfd = cu_listen(&addr); /* accepts in the kernel, never speaks */
	int fd = cu_tcp_socket();
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.handshake_timeout_ms = 300;
	sslsocket *c = cu_wrap(fd, &o, NULL);
	long long t0 = cu_now_ms();
	errno = 0;
	ck_assert_int_eq(sslsocket_connect(c, (struct sockaddr *)&addr, sizeof addr), -1);
	long long dt = cu_now_ms() - t0;
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_ge(dt, 250);
	ck_assert_int_lt(dt, 2000);
	ck_assert_str_eq(sslsocket_error(c), "handshake timed out");
	ck_assert(sslsocket_failed(c));
	char b[4];
	errno = 0;
	ck_assert_int_eq(sslsocket_read(c, b, sizeof b), -1); /* sticky */
	ck_assert_int_eq(errno, ETIMEDOUT);
	sslsocket_close(c);
	close(lfd);
}
END_TEST

START_TEST(test_handshake_deadline_server)
{
	struct sockaddr_in addr;
	int lfd = cu_listen(&addr);
	struct sslsocket_options so;
	cu_server_opts(&so);
	so.handshake_timeout_ms = 300;
	sslsocket *l = cu_wrap(lfd, &so, NULL);
	int fd = cu_tcp_socket();
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0); /* silent client */
	long long t0 = cu_now_ms();
	errno = 0;
	ck_assert_ptr_null(sslsocket_accept(l, NULL, NULL, 0));
	long long dt = cu_now_ms() - t0;
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_ge(dt, 250);
	ck_assert_int_lt(dt, 2000);
	close(fd);
	sslsocket_free(l);
	close(lfd);
}
END_TEST

START_TEST(test_settimeout_read)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_wait_for_eof};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	ck_assert_int_eq(sslsocket_gettimeout(c), -1);
	sslsocket_settimeout(c, 200);
	ck_assert_int_eq(sslsocket_gettimeout(c), 200);
	char b[4];
	long long t0 = cu_now_ms();
	errno = 0;
	ck_assert_int_eq(sslsocket_read(c, b, sizeof b), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_ge(cu_now_ms() - t0, 150);
	ck_assert(!sslsocket_failed(c)); /* a timeout is not a failure */
	sslsocket_settimeout(c, 0);
	errno = 0;
	ck_assert_int_eq(sslsocket_read(c, b, sizeof b), -1);
	ck_assert_int_eq(errno, EAGAIN);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

static void on_alarm(int sig)
{
	(void)sig;
}

struct kicker {
	pthread_t target;
};

static void *kick(void *arg)
{
	struct kicker *k = arg;
	usleep(200 * 1000);
	pthread_kill(k->target, SIGUSR1);
	return NULL;
}

START_TEST(test_eintr)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_wait_for_eof};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	struct sigaction sa = {.sa_handler = on_alarm};
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART; /* poll is never restarted: EINTR still */
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	struct kicker k = {.target = pthread_self()};
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, kick, &k), 0);
	char b[4];
	errno = 0;
	ck_assert_int_eq(sslsocket_read(c, b, sizeof b), -1);
	ck_assert_int_eq(errno, EINTR);
	ck_assert(!sslsocket_failed(c));
	pthread_join(th, NULL);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

/* ---- pending and readiness ------------------------------------------------------------ */

static void three_records(struct cu_peer *p)
{
	sslsocket_write(p->s, "aaaa", 4);
	sslsocket_write(p->s, "bbbb", 4);
	sslsocket_write(p->s, "cccc", 4);
	cu_wait_for_eof(p);
}

START_TEST(test_pending)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = three_records};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	usleep(200 * 1000); /* all three records are in the kernel */
	char b[16];
	ck_assert_int_eq(sslsocket_read(c, b, 1), 1);
	ck_assert_uint_eq(sslsocket_pending(c), 3);
	ck_assert_int_eq(sslsocket_read(c, b, 3), 3);
	/* The other records were read ahead: the kernel socket is empty but
	 * the library has plaintext, and poll must say so. */
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	ck_assert_uint_eq(sslsocket_pending(c), 4);
	short kev = -1;
	ck_assert_int_eq(sslsocket_poll_events(c, POLLIN, &kev), POLLIN);
	ck_assert_int_eq(kev, 0);
	ck_assert_int_eq(sslsocket_read(c, b, sizeof b), 4);
	ck_assert_int_eq(memcmp(b, "bbbb", 4), 0);
	ck_assert_int_eq(sslsocket_read(c, b, sizeof b), 4);
	ck_assert_uint_eq(sslsocket_pending(c), 0);
	ck_assert_int_eq(sslsocket_poll_events(c, POLLIN | POLLOUT, &kev), 0);
	ck_assert_int_eq(kev, POLLIN | POLLOUT);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

START_TEST(test_poll_events_states)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = NULL};
	cu_server_opts(&srv.o);
	cu_set_nonblock(fds[0], 1);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	short kev = 0;
	/* Before the handshake a client waits to write its hello, whatever the
	 * program waits for. */
	ck_assert_int_eq(sslsocket_poll_events(c, POLLIN, &kev), 0);
	ck_assert_int_eq(kev, POLLOUT);
	ck_assert_int_eq(sslsocket_advance(c), -1);
	ck_assert_int_eq(sslsocket_poll_events(c, POLLIN, &kev), 0);
	ck_assert_int_eq(kev, POLLIN); /* now it waits for the server */
	ck_assert_int_eq(sslsocket_poll_events(c, POLLOUT, &kev), 0);
	ck_assert_int_eq(kev, POLLIN); /* whatever the program waits for */
	cu_peer_start(&srv); /* handshakes, then closes with close_notify */
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	while (sslsocket_advance(c) < 0 && errno == EAGAIN)
		poll(&p, 1, 1000);
	cu_peer_join(&srv);
	/* The close_notify is in the kernel; a read consumes it, and after that
	 * the socket is readable without the kernel (EOF). */
	char b[4];
	ssize_t r;
	while ((r = sslsocket_read(c, b, sizeof b)) < 0 && errno == EAGAIN)
		poll(&p, 1, 1000);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(sslsocket_poll_events(c, POLLIN, &kev), POLLIN);
	ck_assert_int_eq(kev, 0);
	sslsocket_close(c);
}
END_TEST

START_TEST(test_poll_events_failed)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = NULL};
	cu_server_opts(&srv.o);
	srv.o.certfile = tu_cert("selfsigned.pem");
	srv.o.keyfile = tu_cert("selfsigned.key");
	cu_peer_start(&srv);
	struct sslsocket_options o;
	cu_client_opts(&o);
	o.do_handshake_on_connect = 0;
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	ck_assert_int_eq(sslsocket_do_handshake(c), -1);
	short kev = -1;
	ck_assert_int_eq(sslsocket_poll_events(c, POLLIN | POLLOUT, &kev), POLLIN | POLLOUT);
	ck_assert_int_eq(kev, 0);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

/* ---- the I/O seam --------------------------------------------------------------------- */

/* Every byte is XORed on send and un-XORed on recv: if any I/O bypassed the
 * table, the peer would see garbage and the handshake would fail. */
static int n_recv, n_send, n_poll, n_connect, n_accept, n_close, n_shutdown;
static int n_fcntl, n_getsockopt, n_setsockopt, n_getpeername;

static ssize_t x_recv(int fd, void *buf, size_t len, int flags)
{
	__atomic_add_fetch(&n_recv, 1, __ATOMIC_SEQ_CST);
	ck_assert(flags & MSG_DONTWAIT);
	ssize_t n = recv(fd, buf, len, flags);
	for (ssize_t i = 0; i < n; i++)
		((unsigned char *)buf)[i] ^= 0x5a;
	return n;
}

static ssize_t x_send(int fd, const void *buf, size_t len, int flags)
{
	__atomic_add_fetch(&n_send, 1, __ATOMIC_SEQ_CST);
	ck_assert((flags & (MSG_DONTWAIT | MSG_NOSIGNAL)) == (MSG_DONTWAIT | MSG_NOSIGNAL));
	unsigned char *t = malloc(len ? len : 1);
	for (size_t i = 0; i < len; i++)
		t[i] = ((const unsigned char *)buf)[i] ^ 0x5a;
	ssize_t n = send(fd, t, len, flags);
	free(t);
	return n;
}

static int x_poll(struct pollfd *f, nfds_t n, int t)
{
	__atomic_add_fetch(&n_poll, 1, __ATOMIC_SEQ_CST);
	return poll(f, n, t);
}

static int x_connect(int fd, const struct sockaddr *a, socklen_t l)
{
	__atomic_add_fetch(&n_connect, 1, __ATOMIC_SEQ_CST);
	return connect(fd, a, l);
}

static int x_accept4(int fd, struct sockaddr *a, socklen_t *l, int fl)
{
	__atomic_add_fetch(&n_accept, 1, __ATOMIC_SEQ_CST);
	return accept4(fd, a, l, fl);
}

static int x_close(int fd)
{
	__atomic_add_fetch(&n_close, 1, __ATOMIC_SEQ_CST);
	return close(fd);
}

static int x_shutdown(int fd, int how)
{
	__atomic_add_fetch(&n_shutdown, 1, __ATOMIC_SEQ_CST);
	return shutdown(fd, how);
}

static int x_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	__atomic_add_fetch(&n_fcntl, 1, __ATOMIC_SEQ_CST);
	return fcntl(fd, cmd, arg);
}

static int x_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	__atomic_add_fetch(&n_getsockopt, 1, __ATOMIC_SEQ_CST);
	return getsockopt(fd, level, name, val, len);
}

static int x_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	__atomic_add_fetch(&n_setsockopt, 1, __ATOMIC_SEQ_CST);
	return setsockopt(fd, level, name, val, len);
}

static int x_getpeername(int fd, struct sockaddr *a, socklen_t *l)
{
	__atomic_add_fetch(&n_getpeername, 1, __ATOMIC_SEQ_CST);
	return getpeername(fd, a, l);
}

static struct sslsocket_io xor_io_make(void)
{
	struct sslsocket_io io = *sslsocket_io_libc();
	io.recv = x_recv;
	io.send = x_send;
	io.poll = x_poll;
	io.connect = x_connect;
	io.accept4 = x_accept4;
	io.close = x_close;
	io.shutdown = x_shutdown;
	io.fcntl = x_fcntl;
	io.getsockopt = x_getsockopt;
	io.setsockopt = x_setsockopt;
	io.getpeername = x_getpeername;
	return io;
}

struct seam_srv {
	sslsocket *l;
	char buf[64];
	ssize_t got;
};

static void *seam_server(void *arg)
{
	struct seam_srv *ss = arg;
	sslsocket *s = sslsocket_accept(ss->l, NULL, NULL, 0);
	if (!s)
		return NULL;
	ss->got = sslsocket_read(s, ss->buf, sizeof ss->buf);
	sslsocket_write(s, "pong", 4);
	sslsocket_read(s, ss->buf + 32, 8);
	sslsocket_close(s);
	return NULL;
}

START_TEST(test_io_seam)
{
	const struct sslsocket_io xor_io = xor_io_make();
	struct sockaddr_in addr;
	int lfd = cu_listen(&addr);
	struct sslsocket_options so;
	cu_server_opts(&so);
	struct sslsocket_error err;
	struct seam_srv ss = {.l = sslsocket_wrap(lfd, &so, &xor_io, &err)};
	ck_assert_ptr_nonnull(ss.l);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, seam_server, &ss), 0);
	int fd = cu_tcp_socket();
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = sslsocket_wrap(fd, &o, &xor_io, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(sslsocket_connect(c, (struct sockaddr *)&addr, sizeof addr), 0);
	ck_assert_int_eq(sslsocket_write(c, "ping", 4), 4);
	char b[8];
	ck_assert_int_eq(cu_read_n(c, b, 4), 4);
	ck_assert_int_eq(sslsocket_shutdown_write(c), 0);
	ck_assert_int_eq(sslsocket_close(c), 0);
	pthread_join(th, NULL);
	ck_assert_int_eq(ss.got, 4);
	ck_assert_int_eq(n_connect, 1);
	ck_assert_int_eq(n_accept, 1);
	ck_assert_int_eq(n_shutdown, 1);
	ck_assert_int_eq(n_close, 2); /* client close and the server's accepted fd */
	ck_assert_int_gt(n_recv, 3);
	ck_assert_int_gt(n_send, 3);
	ck_assert_int_gt(n_poll, 0);
	/* the blocking mode, SO_TYPE, SO_ACCEPTCONN, the peer, TCP_NODELAY
	 * before close_notify: through the table too, never by name */
	ck_assert_int_gt(n_fcntl, 1);
	ck_assert_int_gt(n_getsockopt, 1);
	ck_assert_int_gt(n_getpeername, 0);
	ck_assert_int_gt(n_setsockopt, 0);
	sslsocket_free(ss.l);
	close(lfd);
	/* A plain peer without the XOR cannot talk to it: proof the table
	 * carried every byte above. */
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = NULL};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	errno = 0;
	ck_assert_ptr_null(sslsocket_wrap(fds[0], &o, &xor_io, &err));
	ck_assert_int_eq(errno, EPROTO);
	close(fds[0]);
	cu_peer_join(&srv);
}
END_TEST


/* ---- counting, pass-through I/O: what the hot path costs ---------------------------- */

static int c_recv, c_send;

static ssize_t cnt_recv(int fd, void *buf, size_t len, int flags)
{
	__atomic_add_fetch(&c_recv, 1, __ATOMIC_SEQ_CST);
	return recv(fd, buf, len, flags);
}

static ssize_t cnt_send(int fd, const void *buf, size_t len, int flags)
{
	__atomic_add_fetch(&c_send, 1, __ATOMIC_SEQ_CST);
	return send(fd, buf, len, flags);
}

static int c_poll;

static int cnt_poll(struct pollfd *f, nfds_t n, int t)
{
	__atomic_add_fetch(&c_poll, 1, __ATOMIC_SEQ_CST);
	return poll(f, n, t);
}

static struct sslsocket_io counting_io(void)
{
	struct sslsocket_io io = *sslsocket_io_libc();
	io.recv = cnt_recv;
	io.send = cnt_send;
	io.poll = cnt_poll;
	return io;
}

/* Request/response: after the first wait, each blocking read costs one
 * poll and one recv (what a plain blocking SSL_read costs: header, body),
 * not recv-EAGAIN, poll, recv. */
static void slow_echo(struct cu_peer *p) /* answers after 2 ms: reads find nothing */
{
	for (;;) {
		ssize_t n = sslsocket_read(p->s, p->buf, sizeof p->buf);
		if (n <= 0)
			return;
		usleep(2000);
		if (sslsocket_write(p->s, p->buf, (size_t)n) != n)
			return;
	}
}

START_TEST(test_lean_ping_pong)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = slow_echo};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	struct sslsocket_io io = counting_io();
	sslsocket *c = cu_wrap(fds[0], &o, &io);
	char b[16];
	ck_assert_int_eq(sslsocket_write(c, "ping", 4), 4);
	ck_assert_int_eq(cu_read_n(c, b, 4), 4);
	int r0 = c_recv, p0 = c_poll, s0 = c_send;
	enum { ROUNDS = 50 };
	for (int i = 0; i < ROUNDS; i++) {
		ck_assert_int_eq(sslsocket_write(c, "ping", 4), 4);
		ck_assert_int_eq(cu_read_n(c, b, 4), 4);
	}
	ck_assert_int_eq(c_send - s0, ROUNDS);
	ck_assert_int_le(c_recv - r0, ROUNDS + 2);
	ck_assert_int_le(c_poll - p0, ROUNDS + 2);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

static void ten_records(struct cu_peer *p)
{
	for (int i = 0; i < 10; i++)
		sslsocket_write(p->s, "0123456789", 10);
	cu_wait_for_eof(p);
}

START_TEST(test_lean_reads)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = ten_records};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	struct sslsocket_io io = counting_io();
	sslsocket *c = cu_wrap(fds[0], &o, &io);
	usleep(200 * 1000); /* all ten records (and the tickets) are in the kernel */
	char b[16];
	int before = c_recv;
	ck_assert_int_eq(cu_read_n(c, b, 10), 10);
	/* read-ahead: one recv brought every record in */
	ck_assert_int_eq(c_recv - before, 1);
	before = c_recv;
	for (int i = 1; i < 10; i++) {
		ck_assert_int_eq(sslsocket_read(c, b, sizeof b), 10);
		ck_assert_int_eq(memcmp(b, "0123456789", 10), 0);
	}
	ck_assert_int_eq(c_recv - before, 0); /* served from the buffer */
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

START_TEST(test_writev_gathers)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_read_all};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	struct sslsocket_io io = counting_io();
	sslsocket *c = cu_wrap(fds[0], &o, &io);
	struct iovec iov[12];
	char parts[12][24];
	for (int i = 0; i < 12; i++) {
		snprintf(parts[i], sizeof parts[i], "part%02d;", i);
		iov[i].iov_base = parts[i];
		iov[i].iov_len = 7;
	}
	iov[5].iov_len = 0; /* empty pieces are fine */
	int before = c_send;
	ck_assert_int_eq(sslsocket_writev(c, iov, 12), 77);
	ck_assert_int_eq(c_send - before, 1); /* one record, one send */
	/* a big gather still arrives whole and in order */
	static char big[3][100000];
	struct iovec biov[3];
	for (int i = 0; i < 3; i++) {
		memset(big[i], 'a' + i, sizeof big[i]);
		biov[i].iov_base = big[i];
		biov[i].iov_len = sizeof big[i];
	}
	biov[0].iov_len = 100; /* 100 + 2 x 100000 > the buffer of cu_read_all */
	ck_assert_int_eq(sslsocket_writev(c, biov, 1), 100);
	sslsocket_close(c);
	cu_peer_join(&srv);
	ck_assert_int_eq(srv.got, 177);
	ck_assert_int_eq(strncmp(srv.buf, "part00;part01;part02;part03;part04;part06;", 42), 0);
	ck_assert_int_eq(srv.buf[77], 'a');
}
END_TEST

/* ---- non-blocking writes: any retry after EAGAIN -------------------------------------- */

/* Reads what s has now (non-blocking), appending to out. */
static void drain_some(sslsocket *s, unsigned char *out, size_t *got, size_t cap)
{
	for (;;) {
		if (*got >= cap)
			return;
		ssize_t r = sslsocket_read(s, out + *got, cap - *got);
		if (r <= 0)
			return;
		*got += (size_t)r;
	}
}

/* As the kernel allows and event loops do: after EAGAIN the rest is
 * retried from another buffer address with a smaller length. OpenSSL
 * alone fails that ("bad write retry"); the out-buffer makes it legal. */
START_TEST(test_nonblocking_write_moving_retry)
{
	int fds[2];
	cu_pair(fds);
	int sz = 4096;
	ck_assert_int_eq(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz), 0);
	cu_set_nonblock(fds[0], 1);
	cu_set_nonblock(fds[1], 1);
	struct sslsocket_options co, so;
	sslsocket_options_init(&co);
	cu_server_opts(&so);
	sslsocket *c = cu_wrap(fds[0], &co, NULL);
	sslsocket *s = cu_wrap(fds[1], &so, NULL);
	cu_handshake_both(c, s);
	enum { TOTAL = 1 << 20 };
	static unsigned char src[TOTAL], moved[2][TOTAL], dst[TOTAL];
	for (size_t i = 0; i < TOTAL; i++)
		src[i] = (unsigned char)(i * 7 + (i >> 9));
	const unsigned char *p = src;
	size_t left = TOTAL, cap = TOTAL, got = 0;
	int flip = 0, eagains = 0, capped = 0;
	for (int iter = 0; left > 0 && iter < 200000; iter++) {
		size_t n = left < cap ? left : cap;
		ssize_t w = sslsocket_write(c, p, n);
		if (w > 0) {
			ck_assert_uint_le((size_t)w, n);
			capped |= n > 16 * 1024 && (size_t)w <= 16 * 1024;
			p += w;
			left -= (size_t)w;
			cap = left;
			continue;
		}
		ck_assert_int_eq(w, -1);
		ck_assert_int_eq(errno, EAGAIN);
		eagains++;
		/* while ciphertext is queued the program is not told writable,
		 * and the kernel is asked for room */
		short kev = 0;
		ck_assert_int_eq(sslsocket_poll_events(c, POLLOUT, &kev) & POLLOUT, 0);
		ck_assert(kev & POLLOUT);
		drain_some(s, dst, &got, TOTAL);
		/* the same bytes from a new place, half the length */
		memcpy(moved[flip], p, left);
		p = moved[flip];
		flip ^= 1;
		cap = n / 2 ? n / 2 : 1;
	}
	ck_assert_uint_eq(left, 0);
	ck_assert_int_gt(eagains, 0);
	ck_assert(capped); /* one call takes at most 16 KiB of plaintext */
	/* what is still queued goes out through advance, as poll drives it */
	for (int i = 0; i < 100000 && got < TOTAL; i++) {
		(void)sslsocket_advance(c);
		drain_some(s, dst, &got, TOTAL);
	}
	ck_assert_uint_eq(got, TOTAL);
	ck_assert_int_eq(memcmp(src, dst, TOTAL), 0);
	short kev = 0;
	ck_assert_int_eq(sslsocket_poll_events(c, POLLOUT, &kev), 0);
	ck_assert_int_eq(kev, POLLOUT); /* nothing queued: the program's own wait */
	sslsocket_close(c);
	sslsocket_close(s);
}
END_TEST

/* A blocking write returns only once its ciphertext is in the kernel: a
 * program that then waits for the answer must not leave its request in
 * tlsshim's buffer. */
static void read_all_then_answer(struct cu_peer *p)
{
	static char b[65536];
	size_t total = 0;
	while (total < 300000) {
		ssize_t n = sslsocket_read(p->s, b, sizeof b);
		if (n <= 0)
			return;
		total += (size_t)n;
	}
	(void)sslsocket_write(p->s, "done", 4);
	cu_wait_for_eof(p);
}

START_TEST(test_blocking_write_flushes)
{
	int fds[2];
	cu_pair(fds);
	int sz = 4096;
	ck_assert_int_eq(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz), 0);
	struct cu_peer srv = {.fd = fds[1], .run = read_all_then_answer};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	static char big[300000];
	ck_assert_int_eq(sslsocket_write(c, big, sizeof big), (ssize_t)sizeof big);
	char b[8];
	ck_assert_int_eq(cu_read_n(c, b, 4), 4);
	ck_assert_int_eq(memcmp(b, "done", 4), 0);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

/* Readiness is about application data: the TLS 1.3 session tickets a
 * server sends after the handshake make the socket readable in the
 * kernel, but sslsocket_read_ready processes them without blocking and
 * says "not readable" until data (or the end) arrives. */
START_TEST(test_read_ready_ignores_tickets)
{
	int fds[2];
	cu_pair(fds);
	cu_set_nonblock(fds[0], 1);
	cu_set_nonblock(fds[1], 1);
	struct sslsocket_options co, so;
	sslsocket_options_init(&co);
	co.ssl_version = SSLSOCKET_PROTOCOL_TLSv1_3;
	cu_server_opts(&so);
	sslsocket *c = cu_wrap(fds[0], &co, NULL);
	sslsocket *s = cu_wrap(fds[1], &so, NULL);
	cu_handshake_both(c, s);
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	ck_assert_int_eq(poll(&p, 1, 1000), 1); /* the tickets */
	ck_assert_int_eq(sslsocket_read_ready(c), 0);
	ck_assert_int_eq(poll(&p, 1, 0), 0);    /* consumed, nothing for the program */
	char b[8];
	ck_assert_int_eq(sslsocket_read(c, b, sizeof b), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(sslsocket_write(s, "hello", 5), 5);
	ck_assert_int_eq(sslsocket_read_ready(c), 1);
	ck_assert_uint_eq(sslsocket_pending(c), 5); /* a read now never waits */
	ck_assert_int_eq(sslsocket_read(c, b, sizeof b), 5);
	ck_assert_int_eq(sslsocket_read_ready(c), 0);
	ck_assert_int_eq(sslsocket_close(s), 0);
	ck_assert_int_eq(sslsocket_read_ready(c), 1); /* the end is readable */
	ck_assert_int_eq(sslsocket_read(c, b, sizeof b), 0);
	sslsocket_close(c);
}
END_TEST

/* A call's own timeout wins over the stored one, and a timeout set by
 * another thread does not change a call already waiting. */
static void *set_nonblocking_later(void *arg)
{
	usleep(100 * 1000);
	sslsocket_settimeout(arg, 0);
	return NULL;
}

START_TEST(test_per_call_timeout)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_wait_for_eof};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	char b[4];
	sslsocket_settimeout(c, 0);
	long long t0 = cu_now_ms();
	ck_assert_int_eq(sslsocket_read_timeout(c, b, sizeof b, 300), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_ge(cu_now_ms() - t0, 250);
	sslsocket_settimeout(c, 400);
	t0 = cu_now_ms();
	ck_assert_int_eq(sslsocket_read_timeout(c, b, sizeof b, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_lt(cu_now_ms() - t0, 200);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, set_nonblocking_later, c), 0);
	t0 = cu_now_ms();
	ck_assert_int_eq(sslsocket_read_timeout(c, b, sizeof b, 500), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_ge(cu_now_ms() - t0, 450); /* kept its 500 ms */
	pthread_join(th, NULL);
	ck_assert_int_eq(sslsocket_gettimeout(c), 0);
	ck_assert_int_eq(sslsocket_write_timeout(c, "abc", 3, -1), 3);
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

Suite *core_io_suite(void)
{
	Suite *s = suite_create("core_io");
	TCase *tc = tcase_create("io");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_nonblocking_handshake_loop);
	tcase_add_test(tc, test_nonblocking_both_sides);
	tcase_add_test(tc, test_lazy_connect_nonblocking);
	tcase_add_loop_test(tc, test_lazy_connect_blocking, 0, 2);
	tcase_add_loop_test(tc, test_connect_refused, 0, 2);
	tcase_add_test(tc, test_accept_failed_handshake);
	tcase_add_test(tc, test_accept_nonblocking);
	tcase_add_test(tc, test_full_duplex);
	tcase_add_test(tc, test_handshake_deadline_client);
	tcase_add_test(tc, test_handshake_deadline_server);
	tcase_add_test(tc, test_settimeout_read);
	tcase_add_test(tc, test_eintr);
	tcase_add_test(tc, test_pending);
	tcase_add_test(tc, test_poll_events_states);
	tcase_add_test(tc, test_poll_events_failed);
	tcase_add_test(tc, test_io_seam);
	tcase_add_test(tc, test_lean_reads);
	tcase_add_test(tc, test_lean_ping_pong);
	tcase_add_test(tc, test_writev_gathers);
	tcase_add_test(tc, test_nonblocking_write_moving_retry);
	tcase_add_test(tc, test_blocking_write_flushes);
	tcase_add_test(tc, test_read_ready_ignores_tickets);
	tcase_add_test(tc, test_per_call_timeout);
	suite_add_tcase(s, tc);
	return s;
}
