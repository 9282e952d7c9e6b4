/* check_core_shutdown: the ends of a connection: ragged EOF both ways,
 * close_notify, half-close, unwrap (blocking and not) with plaintext after,
 * and a close that never blocks. */
#include "check_core_util.h"

#include <poll.h>

/* Writes "data" and then drops the connection without close_notify. */
static void write_then_vanish(struct cu_peer *p)
{
	sslsocket_write(p->s, "data", 4);
	int fd = sslsocket_fileno(p->s);
	sslsocket_free(p->s);
	p->s = NULL;
	close(fd);
}

START_TEST(test_ragged_eof_client_reads)
{
	int suppress = _i;
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = write_then_vanish};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.suppress_ragged_eofs = suppress;
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	char b[8];
	ck_assert_int_eq(cu_read_n(c, b, 4), 4);
	errno = 0;
	ssize_t r = sslsocket_read(c, b, sizeof b);
	if (suppress) {
		ck_assert_int_eq(r, 0);
		ck_assert_int_eq(sslsocket_read(c, b, sizeof b), 0); /* stays at EOF */
	} else {
		ck_assert_int_eq(r, -1);
		ck_assert_int_eq(errno, ECONNRESET);
		ck_assert_int_eq(sslsocket_last_error(c)->code, SSLSOCKET_ERROR_EOF);
		ck_assert_str_eq(sslsocket_error(c), "EOF occurred in violation of protocol");
	}
	sslsocket_close(c);
	cu_peer_join(&srv);
}
END_TEST

START_TEST(test_ragged_eof_server_reads)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_read_all};
	cu_server_opts(&srv.o);
	srv.o.suppress_ragged_eofs = 0;
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	ck_assert_int_eq(sslsocket_write(c, "xyz", 3), 3);
	sslsocket_free(c); /* no close_notify */
	close(fds[0]);
	cu_peer_join(&srv);
	ck_assert_int_eq(srv.got, 3);
	ck_assert_int_eq(srv.result, ECONNRESET);
}
END_TEST

START_TEST(test_clean_close_notify)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_read_all};
	cu_server_opts(&srv.o);
	srv.o.suppress_ragged_eofs = 0; /* a real close_notify is 0 regardless */
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	ck_assert_int_eq(sslsocket_write(c, "xyz", 3), 3);
	ck_assert_int_eq(sslsocket_send_close_notify(c), 0);
	errno = 0;
	ck_assert_int_eq(sslsocket_write(c, "late", 4), -1); /* after close_notify */
	ck_assert_int_eq(errno, EPIPE);
	cu_peer_join(&srv);
	ck_assert_int_eq(srv.got, 3);
	ck_assert_int_eq(srv.result, 0);
	sslsocket_close(c);
}
END_TEST

/* close() with records the program never read (TLS 1.3 tickets, a reply):
 * the kernel's close is then abortive (RST, queued bytes dropped), and
 * Nagle would hold the close_notify behind an unacknowledged small record.
 * The peer must still see a clean close. */
static void reply_then_read_all(struct cu_peer *p)
{
	char one;
	if (sslsocket_read(p->s, &one, 1) != 1 || sslsocket_write(p->s, "reply", 5) != 5) {
		p->result = -1;
		return;
	}
	cu_read_all(p);
}

START_TEST(test_close_with_unread_records)
{
	struct sockaddr_in a;
	int l = cu_listen(&a);
	int cfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(cfd, 0);
	ck_assert_int_eq(connect(cfd, (struct sockaddr *)&a, sizeof a), 0);
	struct cu_peer srv = {.fd = accept(l, NULL, NULL), .run = reply_then_read_all};
	ck_assert_int_ge(srv.fd, 0);
	close(l);
	cu_server_opts(&srv.o);
	srv.o.suppress_ragged_eofs = 0;
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(cfd, &o, NULL);
	ck_assert_int_eq(sslsocket_write(c, "a", 1), 1);
	usleep(300 * 1000); /* the tickets and the reply arrive, unread */
	ck_assert_int_eq(sslsocket_write(c, "b", 1), 1);
	ck_assert_int_eq(sslsocket_close(c), 0);
	cu_peer_join(&srv);
	ck_assert_int_eq(srv.result, 0); /* not ECONNRESET: a clean close_notify */
	ck_assert_int_eq(srv.got, 1);
	ck_assert_int_eq(srv.buf[0], 'b');
}
END_TEST

/* Half-close: the client sends its request and SHUT_WR; the server reads
 * to the close_notify, answers, and closes; the client still reads. */
static void answer_after_eof(struct cu_peer *p)
{
	cu_read_all(p);
	if (p->result == 0)
		sslsocket_write(p->s, "answer", 6);
}

START_TEST(test_half_close)
{
	struct sockaddr_in addr;
	int lfd = cu_listen(&addr);
	int fd = cu_tcp_socket();
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	struct cu_peer srv = {.fd = accept(lfd, NULL, NULL), .run = answer_after_eof};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.suppress_ragged_eofs = 0;
	sslsocket *c = cu_wrap(fd, &o, NULL);
	ck_assert_int_eq(sslsocket_write(c, "request", 7), 7);
	ck_assert_int_eq(sslsocket_shutdown_write(c), 0);
	char b[16];
	ck_assert_int_eq(cu_read_n(c, b, 6), 6);
	ck_assert_int_eq(memcmp(b, "answer", 6), 0);
	ck_assert_int_eq(sslsocket_read(c, b, sizeof b), 0); /* server's close_notify */
	cu_peer_join(&srv);
	ck_assert_int_eq(srv.got, 7);
	sslsocket_close(c);
	close(lfd);
}
END_TEST

/* unwrap on both ends, then plaintext on the same descriptors. */
static void unwrap_then_plain(struct cu_peer *p)
{
	char b[16];
	if (cu_read_n(p->s, b, 5) != 5)
		return;
	sslsocket_write(p->s, "tls", 3);
	/* The client starts the shutdown; our read sees its close_notify. */
	if (sslsocket_read(p->s, b, sizeof b) != 0)
		return;
	int fd = sslsocket_unwrap(p->s);
	if (fd < 0)
		return;
	p->s = NULL;
	ssize_t n = write(fd, "plain from server", 17);
	p->result = n == 17;
	n = read(fd, p->buf, sizeof p->buf - 1);
	p->got = n;
	if (n > 0)
		p->buf[n] = 0;
	close(fd);
}

START_TEST(test_unwrap)
{
	int fds[2];
	int use_tcp = _i;
	int lfd = -1;
	if (use_tcp) {
		struct sockaddr_in addr;
		lfd = cu_listen(&addr);
		fds[0] = cu_tcp_socket();
		ck_assert_int_eq(connect(fds[0], (struct sockaddr *)&addr, sizeof addr), 0);
		fds[1] = accept(lfd, NULL, NULL);
	} else {
		cu_pair(fds);
	}
	struct cu_peer srv = {.fd = fds[1], .run = unwrap_then_plain};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	ck_assert_int_eq(sslsocket_write(c, "hello", 5), 5);
	char b[32];
	ck_assert_int_eq(cu_read_n(c, b, 3), 3);
	int fd = sslsocket_unwrap(c);
	ck_assert_int_eq(fd, fds[0]);
	size_t got = 0;
	while (got < 17) {
		ssize_t n = read(fd, b + got, sizeof b - got);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert_int_eq(memcmp(b, "plain from server", 17), 0);
	ck_assert_int_eq(write(fd, "plain from client", 17), 17);
	cu_peer_join(&srv);
	ck_assert_int_eq(srv.result, 1);
	ck_assert_str_eq(srv.buf, "plain from client");
	close(fd);
	if (lfd >= 0)
		close(lfd);
}
END_TEST

START_TEST(test_close_does_not_block)
{
	int fds[2];
	cu_pair(fds);
	int sz = 4096;
	setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	struct cu_peer srv = {.fd = fds[1], .run = NULL};
	cu_server_opts(&srv.o);
	/* The server handshakes and then never reads: run NULL closes it, so
	 * keep it alive by handshaking here instead. */
	cu_set_nonblock(fds[1], 1);
	sslsocket *s = cu_wrap(fds[1], &srv.o, NULL);
	cu_set_nonblock(fds[0], 1);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	sslsocket *c = cu_wrap(fds[0], &o, NULL);
	cu_handshake_both(c, s);
	static char big[65536];
	while (sslsocket_write(c, big, sizeof big) > 0)
		;
	ck_assert_int_eq(errno, EAGAIN);
	sslsocket_settimeout(c, -1); /* even a blocking socket must not wait */
	long long t0 = cu_now_ms();
	sslsocket_close(c);
	ck_assert_int_lt(cu_now_ms() - t0, 500);
	sslsocket_free(s);
	close(fds[1]);
}
END_TEST

START_TEST(test_unwrap_nonblocking)
{
	int fds[2];
	cu_pair(fds);
	cu_set_nonblock(fds[0], 1);
	cu_set_nonblock(fds[1], 1);
	struct sslsocket_options co, so;
	sslsocket_options_init(&co);
	cu_server_opts(&so);
	sslsocket *c = cu_wrap(fds[0], &co, NULL);
	sslsocket *s = cu_wrap(fds[1], &so, NULL);
	cu_handshake_both(c, s);
	/* The client's close_notify goes out; the server's is not there yet. */
	errno = 0;
	ck_assert_int_eq(sslsocket_unwrap(c), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(sslsocket_last_error(c)->code, SSLSOCKET_ERROR_WANT_READ);
	/* The server reads it (0) and unwraps at once (ours was received). */
	char b[4];
	ssize_t r;
	for (int i = 0; i < 50 && (r = sslsocket_read(s, b, sizeof b)) < 0; i++)
		usleep(10 * 1000);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(sslsocket_unwrap(s), fds[1]);
	int fd = -1;
	for (int i = 0; i < 50 && (fd = sslsocket_unwrap(c)) < 0; i++)
		usleep(10 * 1000);
	ck_assert_int_eq(fd, fds[0]);
	ck_assert_int_eq(write(fds[1], "plain", 5), 5);
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	poll(&p, 1, 1000);
	ck_assert_int_eq(read(fds[0], b, 4), 4);
	ck_assert_int_eq(memcmp(b, "plai", 4), 0);
	close(fds[0]);
	close(fds[1]);
}
END_TEST


/* ---- a close_notify queued behind a full socket buffer ---------------------------------- */

/* The client's sends fail with EAGAIN while block_sends is set: a full
 * socket buffer on demand, through the I/O seam. */
static int block_sends;

static ssize_t gate_send(int fd, const void *buf, size_t len, int flags)
{
	if (__atomic_load_n(&block_sends, __ATOMIC_SEQ_CST)) {
		errno = EAGAIN;
		return -1;
	}
	return send(fd, buf, len, flags);
}

static void *unblock_later(void *arg)
{
	(void)arg;
	usleep(150 * 1000);
	__atomic_store_n(&block_sends, 0, __ATOMIC_SEQ_CST);
	return NULL;
}

static void nb_pair(int fds[2], sslsocket **c, sslsocket **s, const struct sslsocket_io *cio)
{
	cu_pair(fds);
	cu_set_nonblock(fds[0], 1);
	cu_set_nonblock(fds[1], 1);
	struct sslsocket_options co, so;
	sslsocket_options_init(&co);
	cu_server_opts(&so);
	so.suppress_ragged_eofs = 0; /* so that only a real close_notify reads as 0 */
	*c = cu_wrap(fds[0], &co, cio);
	*s = cu_wrap(fds[1], &so, NULL);
	cu_handshake_both(*c, *s);
}

/* Reads s to its end while advance() runs on c; returns the last read's
 * result and the bytes read. */
static ssize_t drain_until_end(sslsocket *c, sslsocket *s, size_t *total)
{
	static char buf[65536];
	ssize_t r = -1;
	*total = 0;
	for (int i = 0; i < 3000; i++) {
		(void)sslsocket_advance(c);
		r = sslsocket_read(s, buf, sizeof buf);
		if (r > 0)
			*total += (size_t)r;
		if (r == 0 || (r < 0 && errno != EAGAIN))
			break;
		if (r < 0)
			usleep(1000);
	}
	return r;
}

START_TEST(test_shutdown_write_queued)
{
	int fds[2];
	sslsocket *c, *s;
	struct sslsocket_io io = *sslsocket_io_libc();
	io.send = gate_send;
	nb_pair(fds, &c, &s, &io);
	ck_assert_int_eq(sslsocket_write(c, "data", 4), 4);
	__atomic_store_n(&block_sends, 1, __ATOMIC_SEQ_CST);
	errno = 4321;
	ck_assert_int_eq(sslsocket_shutdown_write(c), 0); /* queued, like a FIN */
	ck_assert_int_eq(errno, 4321);
	errno = 0;
	ck_assert_int_eq(sslsocket_write(c, "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	short kev = 0;
	ck_assert_int_eq(sslsocket_poll_events(c, POLLIN, &kev), 0);
	ck_assert(kev & POLLOUT); /* the queued alert needs room */
	errno = 0;
	ck_assert_int_eq(sslsocket_advance(c), -1);
	ck_assert_int_eq(errno, EAGAIN);
	/* the kernel's write side stays open until the alert is out */
	struct pollfd p = {.fd = fds[1], .events = POLLRDHUP};
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	__atomic_store_n(&block_sends, 0, __ATOMIC_SEQ_CST);
	if (_i == 0) {
		ck_assert_int_eq(sslsocket_advance(c), 0);
	} else {
		/* a program that only reads after shutdown(SHUT_WR) also gets
		 * the alert out */
		char b[4];
		errno = 0;
		ck_assert_int_eq(sslsocket_read(c, b, sizeof b), -1);
		ck_assert_int_eq(errno, EAGAIN);
	}
	ck_assert_int_eq(sslsocket_poll_events(c, POLLIN, &kev), 0);
	ck_assert_int_eq(kev, POLLIN);
	size_t total = 0;
	ck_assert_int_eq(drain_until_end(c, s, &total), 0); /* a clean close_notify */
	ck_assert_uint_eq(total, 4);
	ck_assert_int_eq(poll(&p, 1, 1000), 1); /* and then the FIN */
	ck_assert(p.revents & POLLRDHUP);
	sslsocket_close(c);
	sslsocket_close(s);
}
END_TEST

START_TEST(test_send_close_notify_queued)
{
	int fds[2];
	sslsocket *c, *s;
	struct sslsocket_io io = *sslsocket_io_libc();
	io.send = gate_send;
	nb_pair(fds, &c, &s, &io);
	__atomic_store_n(&block_sends, 1, __ATOMIC_SEQ_CST);
	errno = 0;
	ck_assert_int_eq(sslsocket_send_close_notify(c), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(sslsocket_last_error(c)->code, SSLSOCKET_ERROR_WANT_WRITE);
	/* With a timeout it waits for room, within the timeout. */
	sslsocket_settimeout(c, 200);
	long long t0 = cu_now_ms();
	errno = 0;
	ck_assert_int_eq(sslsocket_send_close_notify(c), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_ge(cu_now_ms() - t0, 150);
	sslsocket_settimeout(c, 5000);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, unblock_later, NULL), 0);
	t0 = cu_now_ms();
	ck_assert_int_eq(sslsocket_send_close_notify(c), 0);
	ck_assert_int_lt(cu_now_ms() - t0, 4000);
	pthread_join(th, NULL);
	sslsocket_settimeout(c, 0);
	size_t total = 0;
	ck_assert_int_eq(drain_until_end(c, s, &total), 0);
	ck_assert_int_eq(sslsocket_send_close_notify(c), 0); /* already out */
	sslsocket_close(c);
	sslsocket_close(s);
}
END_TEST

/* A write that returned EAGAIN leaves nothing half sent inside OpenSSL
 * (what the kernel refused waits in the out-buffer), so a half-close may
 * follow at once: its close_notify is queued behind those records and the
 * peer gets every byte, then a clean end. */
START_TEST(test_close_notify_after_eagain_write)
{
	int fds[2];
	sslsocket *c, *s;
	int sz = 4096;
	nb_pair(fds, &c, &s, NULL);
	setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	static char big[65536];
	size_t sent = 0;
	ssize_t w;
	while ((w = sslsocket_write(c, big, sizeof big)) > 0)
		sent += (size_t)w;
	ck_assert_int_eq(errno, EAGAIN);
	errno = 4321;
	ck_assert_int_eq(sslsocket_shutdown_write(c), 0); /* queued, like a FIN */
	ck_assert_int_eq(errno, 4321);
	errno = 0;
	ck_assert_int_eq(sslsocket_write(c, big, 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	/* the kernel's write side stays open until the records are out */
	struct pollfd p = {.fd = fds[1], .events = POLLRDHUP};
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	size_t got = 0;
	ck_assert_int_eq(drain_until_end(c, s, &got), 0); /* clean end, nothing lost */
	ck_assert_uint_eq(got, sent);
	ck_assert_int_eq(poll(&p, 1, 1000), 1); /* and then the FIN */
	ck_assert(p.revents & POLLRDHUP);
	sslsocket_close(c);
	sslsocket_close(s);
}
END_TEST

START_TEST(test_unwrap_advance)
{
	int fds[2];
	cu_pair(fds);
	cu_set_nonblock(fds[0], 1);
	cu_set_nonblock(fds[1], 1);
	struct sslsocket_options co, so;
	sslsocket_options_init(&co);
	cu_server_opts(&so);
	sslsocket *c = cu_wrap(fds[0], &co, NULL);
	sslsocket *s = cu_wrap(fds[1], &so, NULL);
	cu_handshake_both(c, s);
	ck_assert_int_eq(sslsocket_unwrap(c), -1);
	ck_assert_int_eq(errno, EAGAIN);
	short kev = 0;
	ck_assert_int_eq(sslsocket_poll_events(c, 0, &kev), 0);
	ck_assert_int_eq(kev, POLLIN); /* waiting for the peer's close_notify */
	ck_assert_int_eq(sslsocket_advance(c), -1);
	ck_assert_int_eq(errno, EAGAIN);
	char b[4];
	ssize_t r = -1;
	for (int i = 0; i < 50 && (r = sslsocket_read(s, b, sizeof b)) < 0; i++)
		usleep(10 * 1000);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(sslsocket_unwrap(s), fds[1]);
	int ok = 0;
	for (int i = 0; i < 50 && !(ok = sslsocket_advance(c) == 0); i++)
		usleep(10 * 1000);
	ck_assert(ok);
	ck_assert_int_eq(sslsocket_unwrap(c), fds[0]); /* done at once */
	close(fds[0]);
	close(fds[1]);
}
END_TEST

Suite *core_shutdown_suite(void)
{
	Suite *s = suite_create("core_shutdown");
	TCase *tc = tcase_create("shutdown");
	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, test_ragged_eof_client_reads, 0, 2);
	tcase_add_test(tc, test_ragged_eof_server_reads);
	tcase_add_test(tc, test_clean_close_notify);
	tcase_add_test(tc, test_close_with_unread_records);
	tcase_add_test(tc, test_half_close);
	tcase_add_loop_test(tc, test_unwrap, 0, 2);
	tcase_add_test(tc, test_close_does_not_block);
	tcase_add_test(tc, test_unwrap_nonblocking);
	tcase_add_loop_test(tc, test_shutdown_write_queued, 0, 2);
	tcase_add_test(tc, test_send_close_notify_queued);
	tcase_add_test(tc, test_close_notify_after_eagain_write);
	tcase_add_test(tc, test_unwrap_advance);
	suite_add_tcase(s, tc);
	return s;
}
