/* The readiness engine (preload/readiness.c) and epoll's ready list
 * (preload/epoll.c): a table of the engine's decisions, one per rule it
 * applies; and epoll_wait over thousands of idle wrapped registrations,
 * which must look at none of them (ts_epoll_visits counts the connections
 * a wait evaluates), then at exactly the one whose state changed; and an
 * instance's life as one table object (its end through the table's
 * release, a late note after it). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conn.h"
#include "epoll.h"
#include "fdtab.h"
#include "readiness.h"
#include "real.h"
#include "testutil.h"

#define IN POLLIN
#define OUT POLLOUT
#define ERR POLLERR
#define HUP POLLHUP

static const struct decide_case {
	const char *what;
	struct ts_ready_facts f;
	short ready, want;
} cases[] = {
	{"idle established: ask the kernel to read",
	 {.asked = IN, .core_want = IN, .established = 1}, 0, IN},
	{"plaintext pending inside OpenSSL: readable without the kernel",
	 {.asked = IN, .core_ready = IN, .established = 1}, IN, 0},
	{"MSG_PEEK bytes: readable, the kernel is not asked to read",
	 {.asked = IN | OUT, .core_want = IN | OUT, .established = 1, .peeked = 1}, IN, OUT},
	{"server handshake while the program waits to write: ask to read",
	 {.asked = OUT, .core_want = IN, .handshaking = 1}, 0, IN},
	{"failed connect, writability asked: POLLOUT and POLLERR",
	 {.asked = OUT, .core_ready = OUT, .failed = 1}, OUT | ERR, 0},
	{"failed, both asked: both and POLLERR",
	 {.asked = IN | OUT, .core_ready = IN | OUT, .failed = 1}, IN | OUT | ERR, 0},
	{"handshake failed under a kernel answer: POLLERR",
	 {.asked = OUT, .kernel = IN, .core_ready = OUT, .handshaking = 1, .failed = 1},
	 OUT | ERR, 0},
	{"handshake moved, not done: nothing yet, ask what it wants",
	 {.asked = OUT, .kernel = OUT, .core_want = IN, .handshaking = 1}, 0, IN},
	{"handshake just done: nothing yet, ask what the program wants",
	 {.asked = OUT, .kernel = IN, .core_want = OUT, .handshaking = 1, .established = 1}, 0,
	 OUT},
	{"kernel readable, only a session ticket: not readable",
	 {.asked = IN, .kernel = IN, .core_want = IN, .established = 1}, 0, IN},
	{"kernel readable, application data: readable",
	 {.asked = IN, .kernel = IN, .core_ready = IN, .established = 1, .read_ready = 1}, IN, 0},
	{"kernel readable and hung up, the end: readable and POLLHUP",
	 {.asked = IN, .kernel = IN | HUP, .core_ready = IN, .established = 1, .read_ready = 1},
	 IN | HUP, 0},
	{"kernel writable, ciphertext still queued: not writable",
	 {.asked = OUT, .kernel = OUT, .core_want = OUT, .established = 1}, 0, OUT},
	{"kernel writable, queue flushed: writable",
	 {.asked = OUT, .kernel = OUT, .core_want = OUT, .established = 1, .flushed = 1}, OUT, OUT},
	{"a write waiting for a read (renegotiation): writable once readable",
	 {.asked = OUT, .kernel = IN, .core_want = IN, .established = 1}, OUT, IN},
	{"peer gone during the handshake: let the program look",
	 {.asked = OUT, .kernel = HUP, .core_want = IN, .handshaking = 1}, OUT | HUP, IN},
	{"closed descriptor: POLLNVAL only",
	 {.asked = IN, .kernel = POLLNVAL, .core_ready = IN, .established = 1}, POLLNVAL, 0},
};

START_TEST(test_decide_table)
{
	const struct decide_case *k = &cases[_i];
	short want = -1, r = ts_ready_decide(&k->f, &want);

	ck_assert_msg(r == k->ready && want == k->want, "%s: ready %#x want %#x, expected %#x %#x",
	              k->what, (unsigned)r, (unsigned)want, (unsigned)k->ready, (unsigned)k->want);
}
END_TEST

/* ---- epoll: idle registrations cost nothing ----------------------------- */

static void free_teardown(struct ts_conn *c, int send_notify, int close_core_fd)
{
	(void)send_notify;
	sslsocket_free(c->s);
	c->s = NULL;
	if (close_core_fd && c->core_fd >= 0)
		close(c->core_fd);
}

static unsigned long visits(void)
{
	return atomic_load(&ts_epoll_visits);
}

START_TEST(test_epoll_idle_registrations_cost_nothing)
{
	struct sslsocket_options o;
	struct sslsocket_error err;
	struct epoll_event ev, out[64];
	struct rlimit rl;
	struct ts_epoll *e;
	struct ts_conn **conns;
	sslsocket_ctx *ctx;
	int sp[2], epfd, *fds, i, n = 5000, k;
	unsigned long v;

	/* 5,000 descriptors, one per registration */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < (rlim_t)n + 200) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < (rlim_t)n + 200)
		n = (int)rl.rlim_cur - 200;
	ck_assert_msg(n >= 800, "RLIMIT_NOFILE %lu is too low for this test",
	              (unsigned long)rl.rlim_cur);
	ts_conn_teardown_hook = free_teardown;
	sslsocket_options_init(&o);
	o.server_side = 1;
	o.certfile = tu_cert("server.pem");
	o.keyfile = tu_cert("server.key");
	o.do_handshake_on_connect = 0;
	ctx = sslsocket_ctx_new(&o, &err);
	ck_assert_msg(ctx != NULL, "%s", err.reason);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	epfd = epoll_create1(0);
	ck_assert_int_ge(epfd, 0);
	e = ts_epoll_new();
	ck_assert_ptr_nonnull(e);
	fds = calloc((size_t)n, sizeof *fds);
	conns = calloc((size_t)n, sizeof *conns);
	ck_assert(fds != NULL && conns != NULL);
	/* Server-side connections before their handshake: they wait for a
	 * ClientHello that never comes (the kernel has nothing to say). */
	for (i = 0; i < n; i++) {
		fds[i] = dup(sp[0]);
		ck_assert_int_ge(fds[i], 0);
		conns[i] = ts_conn_new();
		conns[i]->s = sslsocket_wrap_ctx(fds[i], ctx, &o, NULL, &err);
		ck_assert_msg(conns[i]->s != NULL, "%s", err.reason);
		conns[i]->core_fd = fds[i];
		ck_assert_int_eq(ts_fd_install(fds[i], &conns[i]->obj), 0);
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)i;
		ck_assert_int_eq(ts_epoll_ctl(e, epfd, EPOLL_CTL_ADD, fds[i], &ev), 0);
	}
	/* the first wait looks at each new registration once */
	v = visits();
	ck_assert_int_eq(ts_epoll_wait(e, epfd, out, 64, 0, NULL), 0);
	ck_assert_uint_eq(visits() - v, (unsigned long)n);
	/* then idle: waits look at nothing */
	v = visits();
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(ts_epoll_wait(e, epfd, out, 64, 0, NULL), 0);
	ck_assert_uint_eq(visits() - v, 0);
	/* one connection's state changes: that one is looked at, once */
	ts_conn_changed(conns[17]);
	v = visits();
	ck_assert_int_eq(ts_epoll_wait(e, epfd, out, 64, 0, NULL), 0);
	ck_assert_uint_eq(visits() - v, 1);
	ck_assert_int_eq(ts_epoll_wait(e, epfd, out, 64, 0, NULL), 0);
	ck_assert_uint_eq(visits() - v, 1);
	/* one fails: reported (level-triggered: at every wait, and only it
	 * is looked at), with EPOLLERR */
	atomic_fetch_or(&conns[42]->obj.flags, TS_F_ABANDONED);
	ts_conn_changed(conns[42]);
	for (k = 0; k < 3; k++) {
		v = visits();
		ck_assert_int_eq(ts_epoll_wait(e, epfd, out, 64, 0, NULL), 1);
		ck_assert_uint_eq(out[0].data.u64, 42);
		ck_assert_uint_eq(out[0].events, EPOLLIN | EPOLLERR);
		ck_assert_uint_eq(visits() - v, 1);
	}
	ck_assert_int_eq(ts_epoll_ctl(e, epfd, EPOLL_CTL_DEL, fds[42], NULL), 0);
	ck_assert_int_eq(ts_epoll_wait(e, epfd, out, 64, 0, NULL), 0);
	for (i = 0; i < n; i++)
		if (ts_fd_detach(fds[i]) == TS_DETACH_CLOSE)
			close(fds[i]);
	ts_epoll_release(e);
	close(epfd);
	close(sp[0]);
	close(sp[1]);
	sslsocket_ctx_free(ctx);
	free(fds);
	free(conns);
	ts_conn_teardown_hook = NULL;
}
END_TEST

static void *no_op(void *arg)
{
	return arg;
}

/* An instance is one object of the table's: its registrations and inbox
 * are in it, its connections point at it, and its end comes from the
 * table's release (here: the last close of its descriptor). */
/* ---- an instance watching one wrapped connection ------------------------ */

/* A wrapped connection (server side, its handshake not begun) on one end
 * of a socketpair, registered for EPOLLIN in a new epoll instance whose
 * first wait made its wake eventfd (a second thread has run). The
 * instance is installed in the table when asked (its last close ends it). */
struct ep_fix {
	struct sslsocket_options o;
	sslsocket_ctx *ctx;
	struct ts_conn *c;
	struct ts_epoll *e;
	int sp[2], fd, epfd, w;
};

static void ep_fix_up(struct ep_fix *f, int install_instance)
{
	struct sslsocket_error err;
	struct epoll_event ev, out[8];
	pthread_t th;

	ts_conn_teardown_hook = free_teardown;
	sslsocket_options_init(&f->o);
	f->o.server_side = 1;
	f->o.certfile = tu_cert("server.pem");
	f->o.keyfile = tu_cert("server.key");
	f->o.do_handshake_on_connect = 0;
	f->ctx = sslsocket_ctx_new(&f->o, &err);
	ck_assert_msg(f->ctx != NULL, "%s", err.reason);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sp), 0);
	f->fd = f->sp[0];
	f->c = ts_conn_new();
	ck_assert_ptr_nonnull(f->c);
	f->c->s = sslsocket_wrap_ctx(f->fd, f->ctx, &f->o, NULL, &err);
	ck_assert_msg(f->c->s != NULL, "%s", err.reason);
	f->c->core_fd = f->fd;
	ck_assert_int_eq(ts_fd_install(f->fd, &f->c->obj), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, no_op, NULL), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);

	f->epfd = epoll_create1(0);
	ck_assert_int_ge(f->epfd, 0);
	f->e = ts_epoll_new();
	ck_assert_ptr_nonnull(f->e);
	if (install_instance)
		ck_assert_int_eq(ts_fd_install(f->epfd, &f->e->obj), 0);
	ev.events = EPOLLIN;
	ev.data.u64 = 7;
	ck_assert_int_eq(ts_epoll_ctl(f->e, f->epfd, EPOLL_CTL_ADD, f->fd, &ev), 0);
	ck_assert_int_eq(ts_epoll_wait(f->e, f->epfd, out, 8, 0, NULL), 0);
	f->w = atomic_load(&f->e->wakefd);
	ck_assert_int_ge(f->w, 0);
}

/* The connection and its context; the instance is the test's to end. */
static void ep_fix_down(struct ep_fix *f)
{
	if (ts_fd_detach(f->fd) == TS_DETACH_CLOSE)
		close(f->fd);
	close(f->sp[1]);
	sslsocket_ctx_free(f->ctx);
	ts_conn_teardown_hook = NULL;
}

START_TEST(test_epoll_instance_is_one_object)
{
	struct ep_fix f;
	struct epoll_event out[8];
	struct ts_epoll *e;
	struct ts_conn *c;
	int epfd, fd, w;
	unsigned long v;

	ep_fix_up(&f, 1);
	e = f.e, c = f.c, fd = f.fd, epfd = f.epfd, w = f.w;
	ck_assert_ptr_eq(atomic_load(&c->epw[0].epoll), e);
	ck_assert_int_eq(atomic_load(&c->epw_count), 1);
	/* live: a socket wrapped later is offered to it */
	ts_epoll_adopt(fd, c);
	ck_assert_uint_eq(e->n_inbox, 1);
	ck_assert_int_eq(ts_epoll_wait(e, epfd, out, 8, 0, NULL), 0);

	/* the last close ends it: the connection stops noting it, the
	 * registrations go, the eventfd is closed, it leaves the live list */
	ck_assert_int_eq(ts_fd_detach(epfd), TS_DETACH_CLOSE);
	close(epfd);
	ck_assert_ptr_null(atomic_load(&c->epw[0].epoll));
	ck_assert_int_eq(atomic_load(&c->epw_count), 0);
	ck_assert_ptr_null(e->regs);
	ck_assert_int_eq(e->cap, 0);
	ck_assert_int_eq(atomic_load(&e->wakefd), -1);
	errno = 0;
	ck_assert_int_eq(fcntl(w, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
	ts_epoll_adopt(fd, c);
	ck_assert_uint_eq(e->n_inbox, 0);

	/* a note that loaded the pointer before the end lands late, in the
	 * ended instance's inbox: the address's next life (the same
	 * object, from the same pool) starts empty and filters it */
	atomic_store(&c->epw[0].fd, fd);
	atomic_store(&c->epw[0].queued, 0);
	atomic_store(&c->epw[0].epoll, e);
	ts_epoll_note(c);
	atomic_store(&c->epw[0].epoll, NULL);
	ck_assert_uint_eq(e->n_inbox, 1);
	ck_assert_ptr_eq(ts_epoll_new(), e);
	ck_assert_ptr_null(e->regs);
	ck_assert_int_eq(atomic_load(&e->wakefd), -1);
	epfd = epoll_create1(0);
	ck_assert_int_ge(epfd, 0);
	v = atomic_load(&ts_epoll_visits);
	ck_assert_int_eq(ts_epoll_wait(e, epfd, out, 8, 0, NULL), 0);
	ck_assert_uint_eq(atomic_load(&ts_epoll_visits), v);
	ck_assert_uint_eq(e->n_inbox, 0);
	ts_epoll_release(e);
	close(epfd);

	ep_fix_down(&f);
}
END_TEST

/* ---- a note's wake and the instance's end, interleaved ------------------- */

/* 1 when thread tid of this process sleeps (blocked in the kernel: here,
 * only on a mutex). */
static int task_sleeps(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] == 'S';
}

static _Atomic(struct ts_epoll *) race_e;
static int race_w = -1, race_pipe[2];
static atomic_int race_tid, race_done;
static ssize_t (*race_real_write)(int, const void *, size_t);

/* The instance's end, in another thread, and the program then given the
 * eventfd's old number (a pipe here, a socket in life). */
static void *race_end(void *arg)
{
	atomic_store(&race_tid, (int)syscall(SYS_gettid));
	ts_epoll_release(atomic_load(&race_e));
	ck_assert_int_eq(dup2(race_pipe[1], race_w), race_w);
	atomic_store(&race_done, 1);
	return arg;
}

/* The note's write(): the end runs between the note's load of the number
 * and its write, as far as the note lets it (until the end is done, or
 * waits for the note). */
static ssize_t race_write(int fd, const void *buf, size_t n)
{
	pthread_t th;
	long spins = 0;

	if (fd == race_w && atomic_load(&race_e) != NULL) {
		ck_assert_int_eq(pthread_create(&th, NULL, race_end, NULL), 0);
		while (!atomic_load(&race_done) &&
		       (atomic_load(&race_tid) == 0 || !task_sleeps(atomic_load(&race_tid)))) {
			ck_assert_msg(++spins < 100000000L, "the end neither finished nor waited");
			sched_yield();
		}
		atomic_store(&race_e, NULL);
		ck_assert_int_eq(pthread_detach(th), 0);
	}
	return race_real_write(fd, buf, n);
}

/* A note from another thread may come as the instance ends (epoll.h): its
 * wake must not write into the number the end closed, which the program
 * may have been given again. */
START_TEST(test_epoll_note_never_writes_to_a_reused_number)
{
	struct ep_fix f;
	struct ts_epoll *e;
	struct ts_conn *c;
	char got[16];
	int epfd, fl;
	long spins = 0;

	ep_fix_up(&f, 0);
	e = f.e, c = f.c, epfd = f.epfd, race_w = f.w;
	ck_assert_int_eq(pipe(race_pipe), 0);
	fl = fcntl(race_pipe[0], F_GETFL);
	ck_assert_int_eq(fcntl(race_pipe[0], F_SETFL, fl | O_NONBLOCK), 0);
	ck_assert_ptr_eq(atomic_load(&c->epw[0].epoll), e);

	/* a thread sleeps in the kernel's wait; the note comes */
	atomic_store(&e->sleepers, 1);
	atomic_store(&race_e, e);
	atomic_store(&race_tid, 0);
	atomic_store(&race_done, 0);
	(void)ts_real_resolve();
	race_real_write = ts_real.write;
	ts_real.write = race_write;
	ts_epoll_note(c);
	ck_assert_ptr_null(atomic_load(&race_e)); /* the note did write (to the eventfd) */
	while (!atomic_load(&race_done)) {
		ck_assert_msg(++spins < 100000000L, "the end never finished");
		sched_yield();
	}
	ts_real.write = race_real_write;

	/* the program's pipe, on the eventfd's old number, got nothing */
	errno = 0;
	ck_assert_int_eq(read(race_pipe[0], got, sizeof got), -1);
	ck_assert_int_eq(errno, EAGAIN);

	close(race_w);
	close(race_pipe[0]);
	close(race_pipe[1]);
	close(epfd);
	ep_fix_down(&f);
}
END_TEST

/* The program closed the wake eventfd (close_range) and its number now
 * holds the program's pipe: a note writes nothing into the pipe, and a
 * drain reads nothing from it; the instance forgets the number and its
 * next wait makes another. */
START_TEST(test_epoll_wake_number_taken_by_the_program)
{
	struct ep_fix f;
	struct epoll_event out[8];
	struct ts_epoll *e;
	struct ts_conn *c;
	char got[16];
	int p[2], epfd, w, w2, fl;

	ep_fix_up(&f, 1);
	e = f.e, c = f.c, epfd = f.epfd, w = f.w;

	/* close_range by the program; its pipe gets the number */
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(dup2(p[1], w), w);
	close(p[1]);
	fl = fcntl(p[0], F_GETFL);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, fl | O_NONBLOCK), 0);
	atomic_store(&e->sleepers, 1);
	ts_epoll_note(c);
	atomic_store(&e->sleepers, 0);
	errno = 0;
	ck_assert_int_eq(read(p[0], got, sizeof got), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(atomic_load(&e->wakefd), -1);
	/* the next wait makes another, and the end leaves the program's alone */
	ck_assert_int_eq(ts_epoll_wait(e, epfd, out, 8, 0, NULL), 0);
	ck_assert_int_ge(atomic_load(&e->wakefd), 0);
	ck_assert_int_ne(atomic_load(&e->wakefd), w);
	ck_assert_int_eq(write(w, "x", 1), 1);
	ck_assert_int_eq(read(p[0], got, sizeof got), 1);
	/* the same for the new one, then the instance ends: it closes
	 * nothing of the program's */
	w2 = atomic_load(&e->wakefd);
	ck_assert_int_eq(dup2(w, w2), w2);
	ck_assert_int_eq(ts_fd_detach(epfd), TS_DETACH_CLOSE);
	close(epfd);
	ck_assert_int_ne(fcntl(w2, F_GETFD), -1);
	ck_assert_int_eq(write(w2, "y", 1), 1);
	ck_assert_int_eq(read(p[0], got, sizeof got), 1);

	close(w2);
	close(w);
	close(p[0]);
	ep_fix_down(&f);
}
END_TEST

/* ---- each wait's events are its own ------------------------------------- */

struct waiter {
	struct ts_epoll *e;
	int epfd, n;
	atomic_int tid;
	struct epoll_event out[8];
};

static void *waiter_run(void *arg)
{
	struct waiter *w = arg;

	atomic_store(&w->tid, (int)syscall(SYS_gettid));
	w->n = ts_epoll_wait(w->e, w->epfd, w->out, 8, 3000, NULL);
	return NULL;
}

/* Two threads wait on one instance, EPOLLONESHOT re-armed by MOD (a
 * thread pool): the main thread's wait delivers the connection and the
 * program arms it again while the other thread is back from the kernel's
 * wait with an event for it and has not yet taken the instance's lock (here
 * it still sleeps in the kernel, not counted as a sleeper, which is the
 * same to the engine). That event is the other thread's to deliver. It
 * once was "merged" into an entry of its batch that it did not have,
 * because every batch used the number of the last pass, which was the
 * main thread's: the event was lost, the registration disarmed, and the
 * connection never served again (test_evloop_mtserver, now and then). */
START_TEST(test_epoll_a_wait_delivers_what_it_got)
{
	struct ep_fix f;
	struct epoll_event ev, out[8];
	struct waiter w = {0};
	pthread_t th;
	long spins = 0;

	ep_fix_up(&f, 0);
	w.e = f.e, w.epfd = f.epfd;
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.u64 = 7;
	ck_assert_int_eq(ts_epoll_ctl(f.e, f.epfd, EPOLL_CTL_MOD, f.fd, &ev), 0);

	/* the other thread sleeps in the kernel's wait */
	ck_assert_int_eq(pthread_create(&th, NULL, waiter_run, &w), 0);
	while (atomic_load(&w.tid) == 0 || atomic_load(&f.e->sleepers) != 1 || !task_sleeps(atomic_load(&w.tid))) {
		ck_assert_msg(++spins < 100000000L, "the waiter never slept");
		sched_yield();
	}
	atomic_store(&f.e->sleepers, 0);

	/* the connection fails; the main thread's wait delivers it; the
	 * program arms it again */
	atomic_fetch_or(&f.c->obj.flags, TS_F_ABANDONED);
	ts_conn_changed(f.c);
	ck_assert_int_eq(ts_epoll_wait(f.e, f.epfd, out, 8, 0, NULL), 1);
	ck_assert_uint_eq(out[0].data.u64, 7);
	ck_assert_int_eq(ts_epoll_ctl(f.e, f.epfd, EPOLL_CTL_MOD, f.fd, &ev), 0);

	/* the kernel reports the socket to the other thread */
	atomic_store(&f.e->sleepers, 1);
	ck_assert_int_eq(write(f.sp[1], "x", 1), 1);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(w.n, 1);
	ck_assert_uint_eq(w.out[0].data.u64, 7);
	ck_assert_uint_eq(w.out[0].events, EPOLLIN | EPOLLERR);

	ts_epoll_release(f.e);
	close(f.epfd);
	ep_fix_down(&f);
}
END_TEST

static atomic_long kernel_waits;
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);

static int counting_epoll_wait(int epfd, struct epoll_event *ev, int max, int tmo)
{
	atomic_fetch_add(&kernel_waits, 1);
	return real_epoll_wait(epfd, ev, max, tmo);
}

/* A delivered EPOLLONESHOT registration is quiet until the program arms it
 * again, as in the kernel, even while its socket has something the kernel
 * reports whatever it is asked (the peer hung up: EPOLLHUP): a wait on it
 * sleeps. (The kernel's registration was a plain one, and every wait of
 * every thread of a pool spun on the hang-up until the program came back
 * to the connection.) */
START_TEST(test_epoll_disarmed_oneshot_stays_quiet)
{
	struct ep_fix f;
	struct epoll_event ev, out[8];
	long waits;

	ep_fix_up(&f, 0);
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.u64 = 7;
	ck_assert_int_eq(ts_epoll_ctl(f.e, f.epfd, EPOLL_CTL_MOD, f.fd, &ev), 0);
	ck_assert_int_eq(shutdown(f.sp[1], SHUT_RDWR), 0);
	ck_assert_int_eq(ts_epoll_wait(f.e, f.epfd, out, 8, 1000, NULL), 1);
	ck_assert_uint_eq(out[0].data.u64, 7);

	(void)ts_real_resolve();
	real_epoll_wait = ts_real.epoll_wait;
	ts_real.epoll_wait = counting_epoll_wait;
	atomic_store(&kernel_waits, 0);
	ck_assert_int_eq(ts_epoll_wait(f.e, f.epfd, out, 8, 300, NULL), 0);
	waits = atomic_load(&kernel_waits);
	ts_real.epoll_wait = real_epoll_wait;
	ck_assert_msg(waits <= 3, "one 300 ms wait on a disarmed registration made %ld kernel waits", waits);

	/* armed again: reported again */
	ck_assert_int_eq(ts_epoll_ctl(f.e, f.epfd, EPOLL_CTL_MOD, f.fd, &ev), 0);
	ck_assert_int_eq(ts_epoll_wait(f.e, f.epfd, out, 8, 1000, NULL), 1);
	ck_assert_uint_eq(out[0].data.u64, 7);

	ts_epoll_release(f.e);
	close(f.epfd);
	ep_fix_down(&f);
}
END_TEST

/* ---- fork while a thread holds the live list or an inbox ----------------- */

static atomic_int hold_inside, hold_forked;
static pid_t hold_forker;
static struct ts_conn *hold_conn; /* NULL: the thread adopts; else notes it */

static void hold_mark_forked(void)
{
	atomic_store(&hold_forked, 1);
}

/* The wake's write() in ts_epoll_adopt (under the live list's lock and an
 * inbox lock) or ts_epoll_note (under an inbox lock only): held until the
 * fork happened without it (the parent's atfork handler ran) or the
 * forking thread waits for it. */
static ssize_t hold_write(int fd, const void *buf, size_t n)
{
	long spins = 0;

	(void)fd;
	(void)buf;
	atomic_store(&hold_inside, 1);
	while (!atomic_load(&hold_forked) && !task_sleeps(hold_forker))
		if (++spins > 100000000L)
			_exit(3);
		else
			sched_yield();
	return (ssize_t)n;
}

static void *hold_thread(void *arg)
{
	if (hold_conn != NULL)
		ts_epoll_note(hold_conn);
	else
		ts_epoll_adopt(0, NULL);
	return arg;
}

enum hold_in { HOLD_ADOPT, HOLD_NOTE, HOLD_LATE_NOTE };

/* The end of the child of a multi-threaded fork, past the sanitizers'
 * _exit: TSan would count the parent's threads, which the child never had,
 * as leaked, and exit 66. */
static _Noreturn void child_exit(int code)
{
	syscall(SYS_exit_group, code);
	_exit(code);
}

/* In a process of its own (the atfork handlers stay with it): a thread
 * is inside ts_epoll_adopt, or ts_epoll_note on a live instance, or a
 * late note on an ended one (its object back in the pool), when another
 * forks; the child's own adopt (a connect that wraps a socket), or note
 * then wait on that instance (the ended one's object taken again), must
 * not wait for that thread. 0: it did not. */
static int fork_during(enum hold_in in)
{
	struct ts_epoll *e;
	struct epoll_event out[4];
	pthread_t th;
	pid_t pid;
	int st, p[2], epfd;
	long spins = 0;

	hold_forker = getpid(); /* this thread: the process's first */
	if (pthread_atfork(NULL, hold_mark_forked, NULL) != 0 ||
	    pthread_atfork(ts_fork_prepare, ts_fork_parent, ts_fork_child) != 0 || pipe(p) != 0)
		return 10;
	e = ts_epoll_new(); /* on the live list */
	if (e == NULL || (epfd = epoll_create1(0)) < 0)
		return 11;
	if (in != HOLD_ADOPT) {
		/* a connection e watches, as ts_epoll_ctl sets it up */
		if ((hold_conn = ts_conn_new()) == NULL)
			return 11;
		if (in == HOLD_LATE_NOTE)
			ts_epoll_release(e); /* ended; the note loaded e before */
		atomic_store(&hold_conn->epw[0].fd, 5);
		atomic_store(&hold_conn->epw[0].epoll, e);
		atomic_store(&hold_conn->epw_count, 1);
	}
	if (core_fdident_take(p[1], &e->wake_id) != 0) /* as wake_setup does */
		return 11;
	atomic_store(&e->wakefd, p[1]);
	atomic_store(&e->sleepers, 1); /* so the thread writes, under the lock */
	(void)ts_real_resolve();
	ts_real.write = hold_write;
	if (pthread_create(&th, NULL, hold_thread, NULL) != 0)
		return 12;
	while (!atomic_load(&hold_inside))
		if (++spins > 100000000L)
			return 13;
		else
			sched_yield();
	pid = fork();
	if (pid < 0)
		return 14;
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL); /* not check's: it kills the group */
		alarm(10);                /* a hang is the failure */
		atomic_store(&e->sleepers, 0);
		if (in == HOLD_ADOPT) {
			ts_epoll_adopt(0, NULL);
			child_exit(0);
		}
		if (in == HOLD_LATE_NOTE && ts_epoll_new() != e)
			child_exit(2); /* the pool gives the one object back */
		atomic_store(&hold_conn->epw[0].queued, 0);
		ts_epoll_note(hold_conn);
		child_exit(ts_epoll_wait(e, epfd, out, 4, 0, NULL) < 0 ? 1 : 0);
	}
	pthread_join(th, NULL);
	if (waitpid(pid, &st, 0) != pid)
		return 15;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		return 16; /* the child waited for the lock for good */
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 17;
}

static void fork_during_check(enum hold_in in, const char *what)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fork_during(in));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "status %#x", st);
	ck_assert_msg(WEXITSTATUS(st) != 16, "the child of a fork during %s hung on its lock", what);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}

START_TEST(test_epoll_fork_while_live_list_is_held)
{
	fork_during_check(HOLD_ADOPT, "adopt");
}
END_TEST

START_TEST(test_epoll_fork_while_an_inbox_is_held)
{
	fork_during_check(HOLD_NOTE, "a note");
}
END_TEST

START_TEST(test_epoll_fork_while_a_late_note_is_held)
{
	fork_during_check(HOLD_LATE_NOTE, "a late note");
}
END_TEST

Suite *ts_readiness_suite(void)
{
	Suite *s = suite_create("ts_readiness");
	TCase *tc = tcase_create("decide");
	TCase *ep = tcase_create("epoll");

	tcase_add_loop_test(tc, test_decide_table, 0, (int)(sizeof cases / sizeof cases[0]));
	suite_add_tcase(s, tc);
	tcase_set_timeout(ep, 60);
	tcase_add_test(ep, test_epoll_idle_registrations_cost_nothing);
	tcase_add_test(ep, test_epoll_instance_is_one_object);
	tcase_add_test(ep, test_epoll_note_never_writes_to_a_reused_number);
	tcase_add_test(ep, test_epoll_wake_number_taken_by_the_program);
	tcase_add_test(ep, test_epoll_a_wait_delivers_what_it_got);
	tcase_add_test(ep, test_epoll_disarmed_oneshot_stays_quiet);
	tcase_add_test(ep, test_epoll_fork_while_live_list_is_held);
	tcase_add_test(ep, test_epoll_fork_while_an_inbox_is_held);
	tcase_add_test(ep, test_epoll_fork_while_a_late_note_is_held);
	suite_add_tcase(s, ep);
	return s;
}
