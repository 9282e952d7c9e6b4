/* TLSSHIM_LOG_FILE=syslog (preload/log_syslog.c): RFC 3164 datagrams with
 * the right PRI and timestamp, over our own socket, and what happens when
 * the log daemon restarts. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log_syslog.h"

START_TEST(test_format_rfc3164)
{
	char out[256];
	const char *line = "tlsshim[42]: connect 127.0.0.1:4433 TLSv1.3 verify=ok\n";
	/* 2026-12-02 06:05:09 UTC */
	size_t n = ts_syslog_format(out, sizeof out, CFG_LOG_INFO, 1796191509LL, 0, line,
	                            strlen(line));
	out[n] = '\0';
	ck_assert_str_eq(out, "<14>Dec  2 06:05:09 tlsshim[42]: connect 127.0.0.1:4433 "
	                      "TLSv1.3 verify=ok");
	/* severities: error 3, warn 4, debug 7, facility user (1) */
	n = ts_syslog_format(out, sizeof out, CFG_LOG_ERROR, 0, 0, "x\n", 2);
	out[n] = '\0';
	ck_assert_str_eq(out, "<11>Jan  1 00:00:00 x");
	n = ts_syslog_format(out, sizeof out, CFG_LOG_WARN, 0, 0, "x", 1);
	out[n] = '\0';
	ck_assert_str_eq(out, "<12>Jan  1 00:00:00 x");
	n = ts_syslog_format(out, sizeof out, CFG_LOG_DEBUG, 0, 0, "x", 1);
	out[n] = '\0';
	ck_assert_str_eq(out, "<15>Jan  1 00:00:00 x");
	/* local time: the cached offset, across a day and a year boundary */
	n = ts_syslog_format(out, sizeof out, CFG_LOG_INFO, 0, -3600, "x", 1);
	out[n] = '\0';
	ck_assert_str_eq(out, "<14>Dec 31 23:00:00 x");
	n = ts_syslog_format(out, sizeof out, CFG_LOG_INFO, 951782400LL + 86399, 0, "x", 1);
	out[n] = '\0';
	ck_assert_str_eq(out, "<14>Feb 29 23:59:59 x"); /* 2000-02-29 */
	/* a small buffer cuts, never overruns */
	n = ts_syslog_format(out, 24, CFG_LOG_INFO, 0, 0, line, strlen(line));
	ck_assert_uint_le(n, 24);
}
END_TEST

static int bind_dgram(const char *path)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	unlink(path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

static void expect_dgram(int fd, const char *suffix)
{
	char buf[1200];
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(buf[0] == '<' && strstr(buf, "> ") == NULL, "bad PRI: %s", buf);
	ck_assert_msg(n >= (ssize_t)strlen(suffix) &&
	              strcmp(buf + n - strlen(suffix), suffix) == 0, "got [%s]", buf);
	ck_assert_msg(buf[n - 1] != '\n', "no newline in a datagram");
}

START_TEST(test_send_and_reconnect)
{
	char path[108];
	snprintf(path, sizeof path, "/tmp/tlsshim-syslog-unit.%d", (int)getpid());
	int srv = bind_dgram(path);
	int fd = ts_syslog_open(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	ts_syslog_send(fd, CFG_LOG_WARN, "tlsshim[7]: one\n", 16);
	expect_dgram(srv, " tlsshim[7]: one");
	/* the daemon restarts: a new socket at the same path */
	close(srv);
	srv = bind_dgram(path);
	ts_syslog_send(fd, CFG_LOG_WARN, "tlsshim[7]: two\n", 16);
	expect_dgram(srv, " tlsshim[7]: two");
	close(fd);
	close(srv);
	unlink(path);
	/* nobody listening: open fails with errno */
	errno = 0;
	ck_assert_int_eq(ts_syslog_open(path), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

Suite *ts_log_syslog_suite(void)
{
	Suite *s = suite_create("ts_log_syslog");
	TCase *tc = tcase_create("syslog");
	tcase_add_test(tc, test_format_rfc3164);
	tcase_add_test(tc, test_send_and_reconnect);
	suite_add_tcase(s, tc);
	return s;
}
