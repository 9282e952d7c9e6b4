/* Permissive accept rules (preload/sniff.c): which first bytes are a TLS
 * ClientHello, and that sniffing a socket peeks (the bytes stay for the
 * handshake or the program) and waits no longer than it is told. */
#include <check.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sniff.h"

static const struct {
	const char *bytes;
	size_t n;
	int want;
} cases[] = {
	{ "", 0, TS_SNIFF_MORE },
	{ "\x16", 1, TS_SNIFF_MORE },
	{ "\x16\x03", 2, TS_SNIFF_MORE },
	{ "\x16\x03\x01", 3, TS_SNIFF_TLS },   /* every ClientHello record today */
	{ "\x16\x03\x00", 3, TS_SNIFF_TLS },   /* SSLv3-era record version */
	{ "\x16\x03\x03", 3, TS_SNIFF_TLS },
	{ "\x16\x03\x04", 3, TS_SNIFF_TLS },
	{ "\x16\x03\x05", 3, TS_SNIFF_PLAIN },
	{ "\x16\x02\x01", 3, TS_SNIFF_PLAIN },
	{ "\x17\x03\x03", 3, TS_SNIFF_PLAIN }, /* application data first: not a hello */
	{ "\x80\x2e\x01", 3, TS_SNIFF_PLAIN }, /* SSLv2 hello: OpenSSL 3 cannot */
	{ "GET / HTTP/1.1\r\n", 16, TS_SNIFF_PLAIN },
	{ "EHLO x\r\n", 8, TS_SNIFF_PLAIN },
	{ "*1\r\n$4\r\nPING\r\n", 14, TS_SNIFF_PLAIN },
	{ "\x00\x00\x00\x08\x04\xd2\x16\x2f", 8, TS_SNIFF_PLAIN }, /* PostgreSQL SSLRequest */
};

START_TEST(test_bytes)
{
	ck_assert_int_eq(ts_sniff_bytes((const unsigned char *)cases[_i].bytes, cases[_i].n),
	                 cases[_i].want);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_fd_peeks_and_waits)
{
	int sv[2];
	char buf[16];
	double t;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* nothing sent: not decided, after about the wait */
	t = now_s();
	ck_assert_int_eq(ts_sniff_fd(sv[0], 150), TS_SNIFF_MORE);
	t = now_s() - t;
	ck_assert_msg(t >= 0.13 && t < 2.0, "waited %.3f s", t);
	ck_assert_int_eq(ts_sniff_fd(sv[0], 0), TS_SNIFF_MORE);
	/* a ClientHello's start: TLS, and the bytes are still there */
	ck_assert_int_eq(write(sv[1], "\x16\x03\x01\x02", 4), 4);
	ck_assert_int_eq(ts_sniff_fd(sv[0], 1000), TS_SNIFF_TLS);
	ck_assert_int_eq(read(sv[0], buf, sizeof buf), 4);
	/* plaintext, decided at once */
	ck_assert_int_eq(write(sv[1], "HELO", 4), 4);
	t = now_s();
	ck_assert_int_eq(ts_sniff_fd(sv[0], 5000), TS_SNIFF_PLAIN);
	ck_assert(now_s() - t < 1.0);
	ck_assert_int_eq(read(sv[0], buf, sizeof buf), 4);
	/* the peer closed without a word: the handshake reports it */
	close(sv[1]);
	ck_assert_int_eq(ts_sniff_fd(sv[0], 5000), TS_SNIFF_TLS);
	close(sv[0]);
}
END_TEST

Suite *ts_sniff_suite(void)
{
	Suite *s = suite_create("ts_sniff");
	TCase *tc = tcase_create("sniff");

	tcase_add_loop_test(tc, test_bytes, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, test_fd_peeks_and_waits);
	suite_add_tcase(s, tc);
	return s;
}
