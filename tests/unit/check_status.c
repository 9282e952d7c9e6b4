/* The status file behind `tlsshim --status` (preload/stats.c writes it,
 * preload/launcher/launcher_status.c reads it): where it is made and with what
 * rights, that counting lands in the file, that a forked child gets its
 * own file, which failure reason a core error counts under, and how the
 * reader tells a live process from a dead one or a reused PID. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launcher.h"
#include "stats.h"

static const struct {
	int cause;
	int sys_errno;
	int want;
} reasons[] = {
	{ SSLSOCKET_CAUSE_VERIFY, EPROTO, TS_FAIL_VERIFY },
	{ SSLSOCKET_CAUSE_IDENTITY, EPROTO, TS_FAIL_IDENTITY },
	{ SSLSOCKET_CAUSE_PLAINTEXT, EPROTO, TS_FAIL_PLAINTEXT },
	{ SSLSOCKET_CAUSE_TIMEOUT, ETIMEDOUT, TS_FAIL_TIMEOUT },
	{ SSLSOCKET_CAUSE_NONE, ETIMEDOUT, TS_FAIL_TIMEOUT },
	{ SSLSOCKET_CAUSE_PROTOCOL, EPROTO, TS_FAIL_PROTOCOL },
	{ SSLSOCKET_CAUSE_NONE, ECONNRESET, TS_FAIL_PROTOCOL },
};

/* The counters follow the core's cause, never the reason's words. */
START_TEST(test_fail_reason)
{
	struct sslsocket_error e;

	memset(&e, 0, sizeof e);
	e.code = SSLSOCKET_ERROR_SSL;
	e.sys_errno = reasons[_i].sys_errno;
	e.cause = reasons[_i].cause;
	snprintf(e.reason, sizeof e.reason, "certificate verify failed: hostname mismatch");
	ck_assert_msg(ts_stats_fail_reason(&e) == reasons[_i].want, "cause %d: got %d, want %d",
	              reasons[_i].cause, ts_stats_fail_reason(&e), reasons[_i].want);
}
END_TEST

static int64_t boot_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_alive)
{
	pid_t child;
	int st;

	ck_assert_int_eq(launch_status_alive(getpid(), boot_ms()), 1);
	/* a file older than the process under its PID: the PID was reused */
	ck_assert_int_eq(launch_status_alive(getpid(), 0), 0);
	ck_assert_int_eq(launch_status_alive(0, boot_ms()), 0);
	/* a zombie has exited */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(0);
	for (int i = 0; i < 200; i++) {
		char p[64], buf[256] = "";
		FILE *f;

		snprintf(p, sizeof p, "/proc/%d/stat", (int)child);
		f = fopen(p, "r");
		if (f != NULL) {
			if (fgets(buf, sizeof buf, f) == NULL)
				buf[0] = '\0';
			fclose(f);
		}
		if (strstr(buf, ") Z") != NULL)
			break;
		usleep(10000);
	}
	ck_assert_int_eq(launch_status_alive(child, boot_ms()), 0);
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	/* reaped: gone */
	ck_assert_int_eq(launch_status_alive(child, boot_ms()), 0);
}
END_TEST

static char xdg[64];

static const struct ts_stats_hdr *read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, cap);
	close(fd);
	ck_assert_int_eq((size_t)n, ts_stats_file_size(2));
	return (const struct ts_stats_hdr *)(const void *)buf;
}

/* Two rules (one TLS, one pass-through), with XDG_RUNTIME_DIR a new
 * directory; dir is where their status files go. */
static struct cfg_ruleset *two_rules_in_new_xdg(char *dir, size_t cap)
{
	struct cfg_error err;
	struct cfg_ruleset *rs;

	snprintf(xdg, sizeof xdg, "/tmp/check_status.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(xdg));
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	memset(&err, 0, sizeof err);
	rs = cfg_load("connect = ({ match = \"127.0.0.1:1\"; cert_reqs = \"CERT_NONE\"; },"
	              " { match = \"[::1]:2\"; passthrough = true; });",
	              NULL, &cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	snprintf(dir, cap, "%s/tlsshim", xdg);
	return rs;
}

START_TEST(test_file_and_fork)
{
	struct cfg_ruleset *rs;
	struct stat st;
	char path[256], buf[4096], dir[128];
	const struct ts_stats_hdr *h;
	const struct ts_stats_rule *r;
	pid_t child;
	int status;

	rs = two_rules_in_new_xdg(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/%d.stats", dir, (int)getpid());
	/* the file of the image this one was exec'd from goes at load */
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	ts_stats_init(rs);
	ck_assert_int_eq(stat(path, &st), -1);
	ck_assert_str_eq(ts_stats_path(), "");

	/* no file until the process uses a rule; what it counted before
	 * is in the file it then makes */
	TS_STAT_ADD(&rs->rules[0], bytes_in, 1000);
	ck_assert_int_eq(stat(path, &st), -1);
	ts_stats_publish();
	ck_assert_str_eq(ts_stats_path(), path);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ts_stats_publish(); /* once */

	TS_STAT_ADD(&rs->rules[0], bytes_in, 234);
	TS_STAT_ADD(&rs->rules[0], open, 2);
	TS_STAT_ADD(&rs->rules[0], hs_ok, 1);
	h = read_file(path, buf, sizeof buf);
	ck_assert_uint_eq(h->magic, TS_STATS_MAGIC);
	ck_assert_uint_eq(h->version, TS_STATS_VERSION);
	ck_assert_uint_eq(h->rule_count, 2);
	ck_assert_int_eq(h->pid, getpid());
	r = (const struct ts_stats_rule *)(h + 1);
	ck_assert_str_eq(r[0].side, "connect");
	ck_assert_str_eq(r[0].match, "127.0.0.1:1");
	ck_assert_str_eq(r[1].match, "[::1]:2");
	ck_assert_str_eq(r[0].origin, "TLSSHIM_CONFIG_STRING:1");
	ck_assert_uint_eq(r[0].bytes_in, 1234);
	ck_assert_int_eq(r[0].open, 2);

	/* the child counts in its own file, from the connections it holds */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		ts_stats_fork_child();
		TS_STAT_ADD(&rs->rules[0], bytes_out, 7);
		cfg_ruleset_free(rs);
		_exit(0); /* keeps its file for the parent to read */
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(status, 0);
	snprintf(path, sizeof path, "%s/%d.stats", dir, (int)child);
	h = read_file(path, buf, sizeof buf);
	r = (const struct ts_stats_rule *)(h + 1);
	ck_assert_int_eq(h->pid, child);
	ck_assert_int_eq(r[0].open, 2);
	ck_assert_uint_eq(r[0].bytes_in, 0);
	ck_assert_uint_eq(r[0].hs_ok, 0);
	ck_assert_uint_eq(r[0].bytes_out, 7);
	unlink(path);
	/* the parent's file did not see the child's count */
	snprintf(path, sizeof path, "%s/%d.stats", dir, (int)getpid());
	h = read_file(path, buf, sizeof buf);
	r = (const struct ts_stats_rule *)(h + 1);
	ck_assert_uint_eq(r[0].bytes_out, 0);
	unlink(path);
	rmdir(dir);
	rmdir(xdg);
	cfg_ruleset_free(rs);
}
END_TEST

/* A process that never used a rule has no file, nor has its child until
 * the child uses one. */
START_TEST(test_fork_before_use)
{
	struct cfg_ruleset *rs;
	struct stat st;
	char path[256], buf[4096], dir[128];
	const struct ts_stats_hdr *h;
	pid_t child;
	int status;

	rs = two_rules_in_new_xdg(dir, sizeof dir);
	ts_stats_init(rs);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		ts_stats_fork_child();
		snprintf(path, sizeof path, "%s/%d.stats", dir, (int)getpid());
		if (stat(path, &st) == 0)
			_exit(2); /* made at fork */
		TS_STAT_ADD(&rs->rules[0], hs_ok, 3);
		ts_stats_publish();
		_exit(stat(path, &st) == 0 ? 0 : 3); /* keeps its file */
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(status, 0);
	snprintf(path, sizeof path, "%s/%d.stats", dir, (int)child);
	h = read_file(path, buf, sizeof buf);
	ck_assert_int_eq(h->pid, child);
	ck_assert_uint_eq(((const struct ts_stats_rule *)(h + 1))[0].hs_ok, 3);
	unlink(path);
	snprintf(path, sizeof path, "%s/%d.stats", dir, (int)getpid());
	ck_assert_int_eq(stat(path, &st), -1);
	ck_assert_str_eq(ts_stats_path(), "");
	rmdir(dir);
	rmdir(xdg);
	cfg_ruleset_free(rs);
}
END_TEST

Suite *status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");

	tcase_add_loop_test(tc, test_fail_reason, 0, (int)(sizeof reasons / sizeof reasons[0]));
	tcase_add_test(tc, test_alive);
	tcase_add_test(tc, test_file_and_fork);
	tcase_add_test(tc, test_fork_before_use);
	suite_add_tcase(s, tc);
	return s;
}
