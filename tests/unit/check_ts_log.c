/* Log lines (preload/log.c): the exact shape CONTRACT.md shows, one line
 * per event whatever the text, and the address notation. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static size_t fmt(char *buf, size_t cap, int pid, const char *f, ...)
	__attribute__((format(printf, 4, 5)));
static size_t fmt(char *buf, size_t cap, int pid, const char *f, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, f);
	n = ts_log_format(buf, cap, pid, f, ap);
	va_end(ap);
	return n;
}

START_TEST(test_contract_line)
{
	char buf[256];
	size_t n = fmt(buf, sizeof buf, 4242, "connect %s %s %s verify=%s", "127.0.0.1:4433",
	               "TLSv1.3", "TLS_AES_256_GCM_SHA384", "ok");

	ck_assert_str_eq(buf, "tlsshim[4242]: connect 127.0.0.1:4433 TLSv1.3 "
	                      "TLS_AES_256_GCM_SHA384 verify=ok\n");
	ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

START_TEST(test_control_chars_cannot_forge_lines)
{
	char buf[128];

	fmt(buf, sizeof buf, 1, "name %s", "evil\ntlsshim[1]: fake\r");
	ck_assert_str_eq(buf, "tlsshim[1]: name evil?tlsshim[1]: fake?\n");
}
END_TEST

START_TEST(test_long_line_is_cut_visibly)
{
	char buf[64], big[200];
	size_t n;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	n = fmt(buf, sizeof buf, 7, "%s", big);
	ck_assert_uint_eq(n, sizeof buf - 1);
	ck_assert_uint_eq(strlen(buf), n);
	ck_assert_int_eq(buf[n - 1], '\n');
	ck_assert_int_eq(memcmp(buf + n - 4, "...", 3), 0);
}
END_TEST

START_TEST(test_addr_format)
{
	struct sockaddr_in a;
	struct sockaddr_in6 b;
	char buf[64];

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(4433);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	ts_addr_format((struct sockaddr *)&a, sizeof a, buf, sizeof buf);
	ck_assert_str_eq(buf, "127.0.0.1:4433");
	memset(&b, 0, sizeof b);
	b.sin6_family = AF_INET6;
	b.sin6_port = htons(443);
	inet_pton(AF_INET6, "::1", &b.sin6_addr);
	ts_addr_format((struct sockaddr *)&b, sizeof b, buf, sizeof buf);
	ck_assert_str_eq(buf, "[::1]:443");
	ts_addr_format(NULL, 0, buf, sizeof buf);
	ck_assert_str_eq(buf, "?");
}
END_TEST

START_TEST(test_levels)
{
	ts_log_setup(CFG_LOG_WARN, -1);
	ck_assert_int_eq(ts_log_enabled(CFG_LOG_ERROR), 1);
	ck_assert_int_eq(ts_log_enabled(CFG_LOG_WARN), 1);
	ck_assert_int_eq(ts_log_enabled(CFG_LOG_INFO), 0);
	ts_log_setup(CFG_LOG_DEBUG, -1);
	ck_assert_int_eq(ts_log_enabled(CFG_LOG_INFO), 1);
}
END_TEST

START_TEST(test_log_goes_to_file_and_keeps_errno)
{
	char path[] = "/tmp/tlsshim-log-XXXXXX", buf[256];
	int fd = mkstemp(path), rfd;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	ts_log_setup(CFG_LOG_INFO, fd);
	errno = ENOTCONN;
	ts_log(CFG_LOG_INFO, "accept %s", "[::1]:1");
	ts_log(CFG_LOG_DEBUG, "not shown");
	ck_assert_int_eq(errno, ENOTCONN);
	rfd = open(path, O_RDONLY);
	n = read(rfd, buf, sizeof buf - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "]: accept [::1]:1\n"));
	ck_assert_ptr_null(strstr(buf, "not shown"));
	close(rfd);
	/* the daemon closed our file and the number now names something
	 * else (here a pipe): the line must not go there */
	{
		int p[2];
		char c;

		ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
		ck_assert_int_eq(dup2(p[1], fd), fd);
		ts_log(CFG_LOG_INFO, "lost");
		ck_assert_int_eq(read(p[0], &c, 1), -1);
		ck_assert_int_eq(errno, EAGAIN);
		close(p[0]);
		close(p[1]);
	}
	close(fd);
	unlink(path);
	ts_log_setup(CFG_LOG_WARN, -1);
}
END_TEST

Suite *ts_log_suite(void)
{
	Suite *s = suite_create("ts_log");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, test_contract_line);
	tcase_add_test(tc, test_control_chars_cannot_forge_lines);
	tcase_add_test(tc, test_long_line_is_cut_visibly);
	tcase_add_test(tc, test_addr_format);
	tcase_add_test(tc, test_levels);
	tcase_add_test(tc, test_log_goes_to_file_and_keeps_errno);
	suite_add_tcase(s, tc);
	return s;
}
