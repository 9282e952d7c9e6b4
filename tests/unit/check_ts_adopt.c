/* Numbers the kernel gives a wrapped socket behind dup's back
 * (preload/fdadopt.c: SCM_RIGHTS, pidfd_getfd) and numbers a socket had
 * before connect wrapped it (preload/siblings.c): each becomes one more name
 * of the connection, close-on-exec, or, for the socket of a connection
 * that already ended, a failed entry. Real sockets (socketpair), no TLS:
 * the teardown is recorded instead of performed. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bytepath.h"
#include "conn.h"
#include "fdadopt.h"
#include "fdcopies.h"
#include "fdtab.h"
#include "log.h"

static int teardowns;

static void record_teardown(struct ts_conn *c, int send_notify, int close_core_fd)
{
	(void)c;
	(void)send_notify;
	(void)close_core_fd;
	teardowns++;
}

/* connect wraps fd: a connection installed there. */
static struct ts_conn *wrap(int fd)
{
	struct ts_conn *c = ts_conn_new();

	ck_assert_ptr_nonnull(c);
	c->core_fd = fd;
	c->s = (sslsocket *)(void *)&teardowns; /* never touched: recorded teardown */
	ck_assert_int_eq(ts_fd_install(fd, &c->obj), 0);
	return c;
}

/* A connection wrapping sv[0] of a fresh socketpair. */
static struct ts_conn *wrap_pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	return wrap(sv[0]);
}

/* Ends the test's descriptors, in the table and in the kernel. */
static void drop(int a, int b, int c)
{
	int fds[3] = {a, b, c};

	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0) {
			ts_fd_forget(fds[i]);
			close(fds[i]);
		}
}

static int cloexec(int fd)
{
	return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

static void setup(void)
{
	teardowns = 0;
	ts_conn_teardown_hook = record_teardown;
	ts_log_setup(CFG_LOG_ERROR, -1); /* the refusal's warn line is not the point here */
}

static void teardown(void)
{
	ts_conn_teardown_hook = NULL;
	ts_log_setup(CFG_LOG_WARN, -1);
}

START_TEST(test_received_copy_joins_its_connection)
{
	int sv[2], copy;
	struct ts_conn *c = wrap_pair(sv);

	copy = dup(sv[0]); /* as recvmsg's SCM_RIGHTS would make it */
	ck_assert_int_ge(copy, 0);
	ck_assert(TS_PLAIN(copy));
	ts_fd_adopt(copy);
	ck_assert_ptr_eq(ts_fd_unref(copy), &c->obj);
	ck_assert_int_eq(atomic_load(&c->obj.fdrefs), 2);
	ck_assert(cloexec(copy));
	/* closing the copy leaves the connection to sv[0] */
	ck_assert_int_eq(ts_fd_detach(copy), TS_DETACH_CLOSE);
	ck_assert_int_eq(teardowns, 0);
	close(copy);
	ck_assert_int_eq(ts_fd_detach(sv[0]), TS_DETACH_KEEP);
	ck_assert_int_eq(teardowns, 1);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_other_socket_stays_plain)
{
	int sv[2], other[2];

	wrap_pair(sv);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, other), 0);
	/* the peer's end of the same pair is another socket, too */
	ts_fd_adopt(other[0]);
	ts_fd_adopt(sv[1]);
	ck_assert(TS_PLAIN(other[0]));
	ck_assert(TS_PLAIN(sv[1]));
	ck_assert(!cloexec(other[0]));
	drop(other[0], other[1], -1);
	drop(sv[0], sv[1], -1);
}
END_TEST

START_TEST(test_copy_of_ended_connection_fails)
{
	int sv[2], copy;
	struct ts_conn *c = wrap_pair(sv), *d;

	copy = dup(sv[0]); /* a copy in flight (not received yet) */
	ck_assert_int_ge(copy, 0);
	ck_assert_int_eq(ts_fd_detach(sv[0]), TS_DETACH_KEEP);
	ck_assert_int_eq(teardowns, 1); /* the connection ended here */
	(void)c;
	ts_fd_adopt(copy); /* ... and then the copy arrives */
	ck_assert_int_eq(ts_conn_lookup(copy, &d), TS_FD_OURS);
	ck_assert(atomic_load(&d->obj.flags) & TS_F_ABANDONED);
	ck_assert(cloexec(copy));
	ts_conn_release(d);
	drop(copy, sv[0], sv[1]);
}
END_TEST

START_TEST(test_adopt_keeps_errno)
{
	int sv[2], copy;

	wrap_pair(sv);
	copy = dup(sv[0]);
	errno = EINTR;
	ts_fd_adopt(copy);
	ck_assert_int_eq(errno, EINTR);
	errno = EINTR;
	ts_fd_adopt(-1);
	ck_assert_int_eq(errno, EINTR);
	drop(copy, sv[0], sv[1]);
}
END_TEST

START_TEST(test_dup_before_connect_becomes_a_name)
{
	int sv[2], before;
	struct ts_conn *c;

	/* dup of a socket not wrapped yet: the hooks mark both numbers */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	before = dup(sv[0]);
	ck_assert_int_ge(before, 0);
	ts_fdcopy_mark(sv[0]);
	ts_fdcopy_mark(before);
	c = wrap(sv[0]); /* then connect wraps sv[0] */
	ts_fd_adopt_siblings(sv[0]);
	ck_assert_ptr_eq(ts_fd_unref(before), &c->obj);
	ck_assert(cloexec(before));
	/* the peer's end is no name of it */
	ck_assert(TS_PLAIN(sv[1]));
	drop(before, sv[0], sv[1]);
}
END_TEST

START_TEST(test_sibling_found_from_an_unmarked_connect)
{
	int sv[2], copy;
	struct ts_conn *c;

	/* sv[0] itself never took part in a copy; its copy is marked (the
	 * F_DUPFD hook marks both sides, a received copy is marked) */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	copy = fcntl(sv[0], F_DUPFD_CLOEXEC, 500);
	ck_assert_int_ge(copy, 500);
	ts_fdcopy_mark(copy);
	ck_assert_int_eq(ts_fdcopy_marked(sv[0]), 0);
	c = wrap(sv[0]);
	ts_fd_adopt_siblings(sv[0]);
	ck_assert_ptr_eq(ts_fd_unref(copy), &c->obj);
	drop(copy, sv[0], sv[1]);
}
END_TEST

Suite *ts_adopt_suite(void)
{
	Suite *s = suite_create("ts_adopt");
	TCase *tc = tcase_create("adopt");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_received_copy_joins_its_connection);
	tcase_add_test(tc, test_other_socket_stays_plain);
	tcase_add_test(tc, test_copy_of_ended_connection_fails);
	tcase_add_test(tc, test_adopt_keeps_errno);
	tcase_add_test(tc, test_dup_before_connect_becomes_a_name);
	tcase_add_test(tc, test_sibling_found_from_an_unmarked_connect);
	suite_add_tcase(s, tc);
	return s;
}
