/* Wrapped descriptors a program meant an exec'd child to inherit
 * (preload/inherit.c): the exec says so at warn, once per descriptor, for
 * the connection that was marked and no other. No exec here: the warn
 * lines are read from a pipe. */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "fdtab.h"
#include "inherit.h"
#include "listener.h"
#include "log.h"
#include "real.h"

/* Numbers far above anything the runner opens (never 0, 1, 2: those are
 * always reported and rebind stdio). */
#define FD_A 900011
#define FD_B 900012

static int logp[2];

static void setup(void)
{
	ck_assert_int_eq(pipe2(logp, O_NONBLOCK | O_CLOEXEC), 0);
	ts_log_setup(CFG_LOG_WARN, logp[1]);
}

static void teardown(void)
{
	ts_log_setup(CFG_LOG_WARN, -1);
	close(logp[0]);
	close(logp[1]);
	ts_fd_forget(FD_A);
	ts_fd_forget(FD_B);
}

/* What the log pipe holds now ("" when nothing). */
static const char *logged(void)
{
	static char buf[4096];
	ssize_t n = read(logp[0], buf, sizeof buf - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (hay = strstr(hay, needle); hay != NULL; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

static struct ts_conn *conn_at(int fd)
{
	struct ts_conn *c = ts_conn_new();

	ck_assert_ptr_nonnull(c);
	c->core_fd = fd;
	strcpy(c->peer, "127.0.0.1:4433");
	ck_assert_int_eq(ts_fd_install(fd, &c->obj), 0);
	return c;
}

START_TEST(test_wanted_connection_is_reported)
{
	struct ts_conn *c = conn_at(FD_A);
	const char *l;

	conn_at(FD_B);
	ts_inherit_want(FD_A, c);
	ts_inherit_warn("/bin/child");
	l = logged();
	ck_assert_ptr_nonnull(strstr(l, "exec /bin/child: descriptor 900011 (TLS connection, "
	                                "connect 127.0.0.1:4433) is closed in the new program"));
	/* FD_B was never meant for the child */
	ck_assert_ptr_null(strstr(l, "900012"));
	ck_assert_int_eq(count(l, "\n"), 1);
}
END_TEST

START_TEST(test_dropped_mark_is_silent)
{
	struct ts_conn *c = conn_at(FD_A);

	ts_inherit_want(FD_A, c);
	ts_inherit_drop(FD_A); /* close-on-exec set again */
	ts_inherit_warn("/bin/child");
	ck_assert_str_eq(logged(), "");
}
END_TEST

START_TEST(test_mark_of_an_older_connection_is_stale)
{
	struct ts_conn *old = conn_at(FD_A), *held;

	ts_inherit_want(FD_A, old);
	/* a call in flight keeps the old object (objects are recycled) */
	ck_assert_int_eq(ts_conn_lookup(FD_A, &held), TS_FD_OURS);
	ts_fd_forget(FD_A);
	/* the number now names another connection, which nobody marked */
	ck_assert_ptr_ne(conn_at(FD_A), old);
	ts_inherit_warn("/bin/child");
	ck_assert_str_eq(logged(), "");
	ts_conn_release(held);
}
END_TEST

START_TEST(test_listener_is_not_reported)
{
	struct ts_listener *l = ts_listener_new();

	/* the number was marked for a connection, and now names a listener */
	ts_inherit_want(FD_A, conn_at(FD_A));
	ts_fd_forget(FD_A);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(ts_fd_install(FD_A, &l->obj), 0);
	ts_inherit_warn("/bin/child");
	ck_assert_str_eq(logged(), "");
}
END_TEST

START_TEST(test_tlsshim_own_exec_is_silent)
{
	struct ts_conn *c = conn_at(FD_A);

	ts_inherit_want(FD_A, c);
	ts_depth++; /* tlsshim's own work (a resolver's helper) */
	ts_inherit_warn("/bin/child");
	ts_depth--;
	ck_assert_str_eq(logged(), "");
}
END_TEST

Suite *ts_inherit_suite(void)
{
	Suite *s = suite_create("ts_inherit");
	TCase *tc = tcase_create("inherit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_wanted_connection_is_reported);
	tcase_add_test(tc, test_dropped_mark_is_silent);
	tcase_add_test(tc, test_mark_of_an_older_connection_is_stale);
	tcase_add_test(tc, test_listener_is_not_reported);
	tcase_add_test(tc, test_tlsshim_own_exec_is_silent);
	suite_add_tcase(s, tc);
	return s;
}
