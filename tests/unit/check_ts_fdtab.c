/* The descriptor table and the connection lifetime (preload/fdtab.c):
 * dup'ed descriptors share one connection, close_notify goes out with the
 * last close and only from the process that owns the connection, the
 * core's own descriptor is held while it is still needed. No sockets: the
 * teardown is recorded instead of performed. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "conn.h"
#include "epoll.h"
#include "fdtab.h"
#include "listener.h"

/* Descriptor numbers far above anything the runner opens. */
#define FD_A 900001
#define FD_B 900002
#define FD_C 900003

static int td_calls, td_notify, td_close_core, td_core_fd;

static void record_teardown(struct ts_conn *c, int send_notify, int close_core_fd)
{
	td_calls++;
	td_notify = send_notify;
	td_close_core = close_core_fd;
	td_core_fd = c->core_fd;
}

static struct ts_conn *new_conn(int core_fd)
{
	struct ts_conn *c = ts_conn_new();

	ck_assert_ptr_nonnull(c);
	c->core_fd = core_fd;
	/* any non-NULL core socket: the recorder never touches it */
	c->s = (sslsocket *)(void *)&td_calls;
	ck_assert_int_eq(ts_fd_install(core_fd, &c->obj), 0);
	return c;
}

/* The lookup's answer for fd, any kind, the reference given back. */
static enum ts_fd_is lookup(int fd)
{
	struct ts_fdobj *o = (struct ts_fdobj *)(void *)&td_calls;
	enum ts_fd_is r = ts_fd_lookup(fd, TS_KIND_ANY, &o);

	if (r == TS_FD_OURS)
		ts_fd_release(o);
	else
		ck_assert_ptr_null(o);
	return r;
}

static void setup(void)
{
	td_calls = td_notify = td_close_core = 0;
	td_core_fd = -1;
	ts_conn_teardown_hook = record_teardown;
}

static void teardown(void)
{
	ts_fd_forget(FD_A);
	ts_fd_forget(FD_B);
	ts_fd_forget(FD_C);
	ts_conn_teardown_hook = NULL;
}

START_TEST(test_unwrapped_fd_is_null)
{
	ck_assert_int_eq(lookup(FD_A), TS_FD_PASS);
	ck_assert_int_eq(lookup(-1), TS_FD_PASS);
	ck_assert_int_eq(lookup(TS_FD_MAX), TS_FD_PASS);
	ck_assert(TS_PLAIN(FD_A));
	ck_assert_ptr_null(ts_fd_unref(FD_A));
	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_NONE);
}
END_TEST

START_TEST(test_install_beyond_table_fails)
{
	struct ts_conn *c = ts_conn_new();

	errno = 0;
	ck_assert_int_eq(ts_fd_install(TS_FD_MAX, &c->obj), -1);
	ck_assert_int_eq(errno, EMFILE);
	ck_assert_int_eq(ts_fd_install(-3, &c->obj), -1);
	ts_conn_release(c);
}
END_TEST

START_TEST(test_single_close_tears_down_with_notify)
{
	struct ts_conn *c = new_conn(FD_A);

	ck_assert_ptr_eq(ts_fd_unref(FD_A), &c->obj);
	ck_assert(!TS_PLAIN(FD_A));
	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_KEEP);
	ck_assert_int_eq(td_calls, 1);
	ck_assert_int_eq(td_notify, 1);
	ck_assert_int_eq(td_close_core, 1);
	ck_assert_int_eq(td_core_fd, FD_A);
	ck_assert_int_eq(lookup(FD_A), TS_FD_PASS);
	ck_assert(TS_PLAIN(FD_A));
}
END_TEST

START_TEST(test_dup_shares_until_last_close)
{
	struct ts_conn *c = new_conn(FD_A);

	ts_fd_dup(FD_A, FD_B);
	ck_assert_ptr_eq(ts_fd_unref(FD_B), &c->obj);
	ck_assert_int_eq(atomic_load(&c->obj.fdrefs), 2);
	/* closing the dup: its own number is closed at once, nothing ends */
	ck_assert_int_eq(ts_fd_detach(FD_B), TS_DETACH_CLOSE);
	ck_assert_int_eq(td_calls, 0);
	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_KEEP);
	ck_assert_int_eq(td_calls, 1);
	ck_assert_int_eq(td_notify, 1);
}
END_TEST

START_TEST(test_core_fd_closed_first_is_held)
{
	struct ts_conn *c = new_conn(FD_A), *u;

	ts_fd_dup(FD_A, FD_B);
	/* The core reads and writes FD_A: the program's close must not free
	 * that number while FD_B still names the connection. */
	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_KEEP);
	ck_assert_int_eq(td_calls, 0);
	ck_assert_int_eq(lookup(FD_A), TS_FD_CLOSED);
	ck_assert(!TS_PLAIN(FD_A)); /* the slow path must answer EBADF */
	ck_assert_ptr_null(ts_fd_unref(FD_A));
	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_BADF);
	ck_assert_int_eq(ts_conn_lookup(FD_B, &u), TS_FD_OURS);
	ck_assert_ptr_eq(u, c);
	ts_conn_release(u);
	ck_assert_int_eq(ts_fd_detach(FD_B), TS_DETACH_CLOSE);
	ck_assert_int_eq(td_calls, 1);
	ck_assert_int_eq(td_close_core, 1);
	ck_assert_int_eq(td_core_fd, FD_A);
	ck_assert_int_eq(lookup(FD_A), TS_FD_PASS);
}
END_TEST

START_TEST(test_close_waits_for_call_in_flight)
{
	struct ts_conn *c = new_conn(FD_A);
	struct ts_conn *u;

	ck_assert_int_eq(ts_conn_lookup(FD_A, &u), TS_FD_OURS);
	ck_assert_ptr_eq(u, c);
	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_KEEP);
	/* a reader is still inside the core: nothing torn down, number held */
	ck_assert_int_eq(td_calls, 0);
	ck_assert_int_eq(lookup(FD_A), TS_FD_CLOSED);
	ts_conn_release(u);
	ck_assert_int_eq(td_calls, 1);
	ck_assert_int_eq(lookup(FD_A), TS_FD_PASS);
}
END_TEST

START_TEST(test_failed_connection_sends_no_notify)
{
	struct ts_conn *c = new_conn(FD_A);

	atomic_fetch_or(&c->obj.flags, TS_F_ABANDONED);
	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_KEEP);
	ck_assert_int_eq(td_calls, 1);
	ck_assert_int_eq(td_notify, 0);
	ck_assert_int_eq(td_close_core, 1);
}
END_TEST

START_TEST(test_fork_without_io_is_not_owner)
{
	struct ts_conn *c = new_conn(FD_A);

	ck_assert_int_eq(ts_conn_is_owner(c), 1);
	/* as the atfork parent handler does (child: the same plus the pid) */
	atomic_fetch_add(&ts_epoch, 1);
	ck_assert_int_eq(ts_conn_is_owner(c), 0);
	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_KEEP);
	ck_assert_int_eq(td_calls, 1);
	ck_assert_int_eq(td_notify, 0);
}
END_TEST

START_TEST(test_fork_then_io_is_owner)
{
	struct ts_conn *c = new_conn(FD_A);

	atomic_fetch_add(&ts_epoch, 1);
	ts_conn_touch(c);
	ck_assert_int_eq(ts_conn_is_owner(c), 1);
	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_KEEP);
	ck_assert_int_eq(td_notify, 1);
}
END_TEST

START_TEST(test_replaced_core_fd_fails_connection)
{
	struct ts_conn *c = new_conn(FD_A);

	ts_fd_dup(FD_A, FD_B);
	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_KEEP);
	/* dup2(x, FD_A): the kernel replaced the core's descriptor */
	ts_fd_replaced(FD_A);
	ck_assert_int_eq(lookup(FD_A), TS_FD_PASS);
	ck_assert(atomic_load(&c->obj.flags) & TS_F_ABANDONED);
	ck_assert_int_eq(ts_fd_detach(FD_B), TS_DETACH_CLOSE);
	ck_assert_int_eq(td_calls, 1);
	ck_assert_int_eq(td_notify, 0);
	ck_assert_int_eq(td_close_core, 0);
}
END_TEST

START_TEST(test_stale_entry_dropped_without_io)
{
	struct ts_conn *c = new_conn(FD_A);
	struct ts_conn *d;

	(void)c;
	/* FD_A was closed behind our back and handed out again */
	d = ts_conn_new();
	d->core_fd = FD_A;
	d->s = c->s;
	ck_assert_int_eq(ts_fd_install(FD_A, &d->obj), 0);
	ck_assert_int_eq(td_calls, 1);
	ck_assert_int_eq(td_notify, 0);
	ck_assert_int_eq(td_close_core, 0);
	ck_assert_ptr_eq(ts_fd_unref(FD_A), &d->obj);
	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_KEEP);
	ck_assert_int_eq(td_calls, 2);
	ck_assert_int_eq(td_notify, 1);
}
END_TEST

START_TEST(test_listener_closes_at_once)
{
	struct ts_listener *l = ts_listener_new();

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(ts_fd_install(FD_C, &l->obj), 0);
	ts_fd_dup(FD_C, FD_B);
	ck_assert_int_eq(ts_fd_detach(FD_C), TS_DETACH_CLOSE);
	ck_assert_int_eq(ts_fd_detach(FD_B), TS_DETACH_CLOSE);
	ck_assert_int_eq(td_calls, 0); /* no connection ended */
}
END_TEST

static const enum ts_kind kinds[] = {TS_KIND_CONN, TS_KIND_LISTENER, TS_KIND_EPOLL,
                                     TS_KIND_FORKED};

/* Whatever the kind at fd, a lookup for another kind answers PASS and
 * hands out nothing: a listener looked up as a connection is libc's (a
 * read on it), never a struct ts_conn. */
START_TEST(test_lookup_never_hands_out_another_kind)
{
	enum ts_kind kind = kinds[_i];
	struct ts_fdobj *o = ts_fdobj_new(kind), *any;
	/* not NULL: the lookups must clear what they do not hand out */
	void *junk = &td_calls;
	struct ts_conn *c = junk;
	struct ts_listener *l = junk;
	struct ts_epoll *e = junk;
	int users;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->kind, kind);
	ck_assert_int_eq(ts_fd_install(FD_C, o), 0);
	users = atomic_load(&o->users);

	ck_assert_int_eq(ts_conn_lookup(FD_C, &c), kind == TS_KIND_CONN ? TS_FD_OURS : TS_FD_PASS);
	ck_assert_ptr_eq(c, kind == TS_KIND_CONN ? (void *)o : NULL);
	ck_assert_int_eq(ts_listener_lookup(FD_C, &l),
	                 kind == TS_KIND_LISTENER ? TS_FD_OURS : TS_FD_PASS);
	ck_assert_ptr_eq(l, kind == TS_KIND_LISTENER ? (void *)o : NULL);
	ck_assert_int_eq(ts_epoll_lookup(FD_C, &e), kind == TS_KIND_EPOLL ? TS_FD_OURS : TS_FD_PASS);
	ck_assert_ptr_eq(e, kind == TS_KIND_EPOLL ? (void *)o : NULL);
	/* one reference for the one object handed out */
	ck_assert_int_eq(atomic_load(&o->users), users + (kind != TS_KIND_FORKED));
	if (c != NULL)
		ts_conn_release(c);
	if (l != NULL)
		ts_listener_release(l);
	if (e != NULL)
		ts_epoll_release(e);
	ck_assert_int_eq(atomic_load(&o->users), users);

	/* TS_KIND_ANY: whatever is there (a TS_KIND_FORKED entry is nothing of
	 * ours yet), and each kind's accessor answers for its own kind only */
	ck_assert_int_eq(ts_fd_lookup(FD_C, TS_KIND_ANY, &any),
	                 kind == TS_KIND_FORKED ? TS_FD_PASS : TS_FD_OURS);
	if (any != NULL) {
		ck_assert_ptr_eq(any, o);
		ck_assert_int_eq(ts_conn_of(any) != NULL, kind == TS_KIND_CONN);
		ck_assert_int_eq(ts_listener_of(any) != NULL, kind == TS_KIND_LISTENER);
		ck_assert_int_eq(ts_epoll_of(any) != NULL, kind == TS_KIND_EPOLL);
		ts_fd_release(any);
	}
	ck_assert_int_eq(atomic_load(&o->users), users);
}
END_TEST

/* Each kind is recycled apart: memory that held one kind's object is
 * never handed out as another's (a lookup racing with the recycle reads
 * the header of an object of the type it was). */
START_TEST(test_kinds_are_recycled_apart)
{
	struct ts_listener *l = ts_listener_new();
	struct ts_epoll *e = ts_epoll_new();
	struct ts_conn *c;

	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_nonnull(e);
	ts_listener_release(l);
	ts_epoll_release(e);
	c = ts_conn_new();
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_ne(c, l);
	ck_assert_ptr_ne(c, e);
	ts_conn_release(c);
	ck_assert_ptr_eq(ts_listener_new(), l);
	ck_assert_ptr_null(l->rule);
	ck_assert_str_eq(l->local, "");
	ts_listener_release(l);
	ck_assert_ptr_eq(ts_epoll_new(), e);
	ck_assert_ptr_null(e->regs);
	ts_epoll_release(e);
	ck_assert_ptr_null(ts_fdobj_new(TS_KIND_ANY));
}
END_TEST

START_TEST(test_folded_number_answers_pass)
{
	new_conn(FD_A);
	/* TS_PLAIN masks the number into the table: one above the table that
	 * folds onto a used slot goes to the slow path, whose lookup is exact */
	ck_assert(!TS_PLAIN(FD_A + TS_FD_MAX));
	ck_assert_int_eq(lookup(FD_A + TS_FD_MAX), TS_FD_PASS);
	ck_assert_int_eq(lookup(FD_A), TS_FD_OURS);
}
END_TEST

START_TEST(test_objects_are_recycled)
{
	struct ts_conn *c = new_conn(FD_A), *d;

	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_KEEP);
	d = ts_conn_new();
	/* type-stable memory: the freed object comes back, zeroed state */
	ck_assert_ptr_eq(d, c);
	ck_assert_int_eq(atomic_load(&d->obj.users), 1);
	ck_assert_int_eq(atomic_load(&d->obj.fdrefs), 0);
	ck_assert_int_eq(atomic_load(&d->obj.flags), 0);
	ts_conn_release(d);
}
END_TEST

static void *dup_close_worker(void *arg)
{
	int base = *(int *)arg, i;

	for (i = 0; i < 2000; i++) {
		struct ts_fdobj *o;

		if (ts_fd_lookup(FD_A, TS_KIND_ANY, &o) == TS_FD_OURS)
			ts_fd_release(o);
		ts_fd_dup(FD_A, base);
		(void)ts_fd_detach(base);
	}
	return NULL;
}

START_TEST(test_concurrent_dup_close)
{
	pthread_t t[3];
	int bases[3] = {900100, 900101, 900102}, i;

	new_conn(FD_A);
	for (i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, dup_close_worker, &bases[i]);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(td_calls, 0);
	ck_assert_int_eq(ts_fd_detach(FD_A), TS_DETACH_KEEP);
	ck_assert_int_eq(td_calls, 1);
}
END_TEST

Suite *ts_fdtab_suite(void)
{
	Suite *s = suite_create("ts_fdtab");
	TCase *tc = tcase_create("lifetime");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_unwrapped_fd_is_null);
	tcase_add_test(tc, test_install_beyond_table_fails);
	tcase_add_loop_test(tc, test_lookup_never_hands_out_another_kind, 0,
	                    (int)(sizeof kinds / sizeof kinds[0]));
	tcase_add_test(tc, test_kinds_are_recycled_apart);
	tcase_add_test(tc, test_folded_number_answers_pass);
	tcase_add_test(tc, test_single_close_tears_down_with_notify);
	tcase_add_test(tc, test_dup_shares_until_last_close);
	tcase_add_test(tc, test_core_fd_closed_first_is_held);
	tcase_add_test(tc, test_close_waits_for_call_in_flight);
	tcase_add_test(tc, test_failed_connection_sends_no_notify);
	tcase_add_test(tc, test_fork_without_io_is_not_owner);
	tcase_add_test(tc, test_fork_then_io_is_owner);
	tcase_add_test(tc, test_replaced_core_fd_fails_connection);
	tcase_add_test(tc, test_stale_entry_dropped_without_io);
	tcase_add_test(tc, test_listener_closes_at_once);
	tcase_add_test(tc, test_objects_are_recycled);
	tcase_add_test(tc, test_concurrent_dup_close);
	suite_add_tcase(s, tc);
	return s;
}
