/*
 * check_core_seam.c - the core's seam as data: the connection snapshot
 * (one lock, one call), structured errors (phase, errno, OpenSSL's reason)
 * kept per thread, and a signal handler re-entering a connection its own
 * thread is using: -1 EDEADLK at once, never a hang.
 */
#include "check_core_util.h"

#include <poll.h>
#include <signal.h>

static void handshake_pair(int fds[2], sslsocket **c, sslsocket **s, const struct sslsocket_io *cio)
{
	struct sslsocket_options co, so;
	struct sslsocket_error err;
	cu_pair(fds);
	cu_set_nonblock(fds[0], 1);
	cu_set_nonblock(fds[1], 1);
	cu_server_opts(&so);
	sslsocket_options_init(&co);
	*s = sslsocket_wrap(fds[1], &so, NULL, &err);
	ck_assert_msg(*s != NULL, "%s", err.reason);
	*c = sslsocket_wrap(fds[0], &co, cio, &err);
	ck_assert_msg(*c != NULL, "%s", err.reason);
	cu_handshake_both(*c, *s);
}

START_TEST(test_snapshot_states)
{
	int fds[2];
	sslsocket *c, *s;
	struct sslsocket_state st;
	handshake_pair(fds, &c, &s, NULL);
	ck_assert_int_eq(sslsocket_snapshot(c, &st), 0);
	ck_assert(st.established && st.handshake_done && !st.failed && !st.write_shut);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_int_eq(sslsocket_write(s, "hello", 5), 5);
	char b[2];
	for (int i = 0; i < 100 && sslsocket_read(c, b, 1) != 1; i++)
		poll(NULL, 0, 5);
	ck_assert_int_eq(sslsocket_snapshot(c, &st), 0);
	ck_assert_uint_eq(st.pending, 4); /* decrypted, not yet read */
	ck_assert_int_eq(sslsocket_shutdown_write(c), 0);
	ck_assert_int_eq(sslsocket_snapshot(c, &st), 0);
	ck_assert(st.write_shut);
	errno = 0;
	ck_assert_int_eq(sslsocket_snapshot(NULL, &st), -1);
	ck_assert_int_eq(errno, EINVAL);
	sslsocket_close(c);
	sslsocket_close(s);
}
END_TEST

/* A verification failure: failed, handshake never done, phase VERIFY,
 * errno EPROTO, OpenSSL's reason; no text parsing needed. */
START_TEST(test_verify_failure_phase)
{
	int fds[2];
	cu_pair(fds);
	struct cu_peer srv = {.fd = fds[1], .run = cu_handshake_only};
	cu_server_opts(&srv.o);
	cu_peer_start(&srv);
	struct sslsocket_options o;
	cu_client_opts(&o);
	o.ca_certs = tu_cert("other-ca.pem");
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err);
	ck_assert_ptr_null(c); /* blocking: the handshake ran in wrap */
	ck_assert_int_eq(err.phase, SSLSOCKET_PHASE_VERIFY);
	ck_assert_int_eq(err.cause, SSLSOCKET_CAUSE_VERIFY);
	ck_assert_int_eq(err.sys_errno, EPROTO);
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_SSL);
	ck_assert_uint_ne(err.ossl_error, 0);
	ck_assert_msg(strstr(err.reason, "certificate verify failed") != NULL, "%s", err.reason);
	close(fds[0]);
	cu_peer_join(&srv);
}
END_TEST

/* A connect the kernel refuses: phase CONNECT, errno ECONNREFUSED. */
START_TEST(test_connect_failure_phase)
{
	struct sockaddr_in a;
	int l = cu_listen(&a);
	close(l); /* nothing listens there now */
	int fd = cu_tcp_socket();
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fd, &o, NULL, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(sslsocket_connect(c, (struct sockaddr *)&a, sizeof a), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	const struct sslsocket_error *e = sslsocket_last_error(c);
	ck_assert_int_eq(e->phase, SSLSOCKET_PHASE_CONNECT);
	ck_assert_int_eq(e->cause, SSLSOCKET_CAUSE_NONE);
	ck_assert_int_eq(e->sys_errno, ECONNREFUSED);
	sslsocket_close(c);
}
END_TEST

/* A reader and a writer failing at the same moment in two threads each
 * read their own error back (per thread, no shared record: clean under
 * make tsan). */
struct duo {
	sslsocket *s;
	pthread_barrier_t *bar;
	int rounds;
	int bad;
};

static void *duo_reader(void *arg)
{
	struct duo *d = arg;
	char b[16];
	for (int i = 0; i < d->rounds; i++) {
		pthread_barrier_wait(d->bar);
		if (sslsocket_read_timeout(d->s, b, sizeof b, 0) != -1 || errno != EAGAIN) {
			d->bad++;
			continue;
		}
		const struct sslsocket_error *e = sslsocket_last_error(d->s);
		if (e->code != SSLSOCKET_ERROR_WANT_READ || e->sys_errno != EAGAIN ||
		    e->phase != SSLSOCKET_PHASE_READ)
			d->bad++;
	}
	return NULL;
}

static void *duo_writer(void *arg)
{
	struct duo *d = arg;
	for (int i = 0; i < d->rounds; i++) {
		pthread_barrier_wait(d->bar);
		if (sslsocket_write_timeout(d->s, "x", 1, 0) != -1 || errno != EPIPE) {
			d->bad++;
			continue;
		}
		const struct sslsocket_error *e = sslsocket_last_error(d->s);
		if (e->code != SSLSOCKET_ERROR_SYSCALL || e->sys_errno != EPIPE ||
		    e->phase != SSLSOCKET_PHASE_WRITE)
			d->bad++;
	}
	return NULL;
}

START_TEST(test_errors_per_thread)
{
	int fds[2];
	sslsocket *c, *s;
	handshake_pair(fds, &c, &s, NULL);
	ck_assert_int_eq(sslsocket_shutdown_write(c), 0); /* writes: EPIPE */
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, 2);
	struct duo r = {.s = c, .bar = &bar, .rounds = 300}, w = r;
	pthread_t tr, tw;
	ck_assert_int_eq(pthread_create(&tr, NULL, duo_reader, &r), 0);
	ck_assert_int_eq(pthread_create(&tw, NULL, duo_writer, &w), 0);
	pthread_join(tr, NULL);
	pthread_join(tw, NULL);
	ck_assert_int_eq(r.bad, 0);
	ck_assert_int_eq(w.bad, 0);
	pthread_barrier_destroy(&bar);
	sslsocket_close(c);
	sslsocket_close(s);
}
END_TEST

/* A signal handler that interrupts a write on its own thread while the
 * connection's lock is held (here: inside the BIO's send, under
 * SSL_write) and calls into the same connection gets -1 EDEADLK at once;
 * it does not wait for a lock its own thread holds. */
static sslsocket *re_sock;
static volatile sig_atomic_t re_armed, re_ran;
static int re_write_ret, re_write_errno, re_read_errno, re_snap_errno;

static ssize_t re_send(int fd, const void *b, size_t n, int fl)
{
	if (re_armed) {
		re_armed = 0;
		raise(SIGUSR1); /* delivered now, on this thread, lock held */
	}
	return send(fd, b, n, fl);
}

static void re_handler(int sig)
{
	(void)sig;
	struct sslsocket_state st;
	char b[4];
	re_write_ret = (int)sslsocket_write(re_sock, "HANDLER", 7);
	re_write_errno = errno;
	re_read_errno = sslsocket_read_timeout(re_sock, b, sizeof b, 0) < 0 ? errno : 0;
	re_snap_errno = sslsocket_snapshot(re_sock, &st) < 0 ? errno : 0;
	re_ran = 1;
}

START_TEST(test_handler_reentry_no_deadlock)
{
	struct sslsocket_io io = *sslsocket_io_libc();
	io.send = re_send;
	int fds[2];
	sslsocket *c, *s;
	handshake_pair(fds, &c, &s, &io);
	struct sigaction sa = {.sa_handler = re_handler}, old;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);
	re_sock = c;
	re_armed = 1;
	ck_assert_int_eq(sslsocket_write_timeout(c, "main", 4, 0), 4);
	sigaction(SIGUSR1, &old, NULL);
	ck_assert(re_ran);
	ck_assert_int_eq(re_write_ret, -1);
	ck_assert_int_eq(re_write_errno, EDEADLK);
	ck_assert_int_eq(re_read_errno, EDEADLK);
	ck_assert_int_eq(re_snap_errno, EDEADLK);
	/* the interrupted write went on intact: the peer reads "main" only */
	char b[16];
	ssize_t n = -1;
	for (int i = 0; i < 200 && n < 0; i++) {
		n = sslsocket_read(s, b, sizeof b);
		if (n < 0)
			poll(NULL, 0, 5);
	}
	ck_assert_int_eq(n, 4);
	ck_assert(memcmp(b, "main", 4) == 0);
	sslsocket_close(c);
	sslsocket_close(s);
}
END_TEST

/* Blocking calls take their timeout as a parameter: nothing stored in
 * the socket changes for one call. */
START_TEST(test_per_call_timeouts)
{
	int fds[2];
	cu_pair(fds);
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.do_handshake_on_connect = 0;
	struct sslsocket_error err;
	sslsocket *c = sslsocket_wrap(fds[0], &o, NULL, &err); /* blocking fd */
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(sslsocket_gettimeout(c), -1);
	/* the peer is silent: non-blocking for this call only */
	ck_assert_int_eq(sslsocket_do_handshake_timeout(c, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	long long t0 = cu_now_ms();
	ck_assert_int_eq(sslsocket_do_handshake_timeout(c, 100), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_ge(cu_now_ms() - t0, 90);
	ck_assert_int_eq(sslsocket_gettimeout(c), -1);
	sslsocket_close(c);
	close(fds[1]);
}
END_TEST

Suite *core_seam_suite(void)
{
	Suite *su = suite_create("core_seam");
	TCase *tc = tcase_create("seam");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_snapshot_states);
	tcase_add_test(tc, test_verify_failure_phase);
	tcase_add_test(tc, test_connect_failure_phase);
	tcase_add_test(tc, test_errors_per_thread);
	tcase_add_test(tc, test_handler_reentry_no_deadlock);
	tcase_add_test(tc, test_per_call_timeouts);
	suite_add_tcase(su, tc);
	return su;
}
