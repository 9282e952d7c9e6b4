/*
 * check_cert_time.c - sslsocket_cert_time_to_seconds against Python's
 * ssl.cert_time_to_seconds on a table of valid and malformed strings.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sslsocket.h"

static const char *const inputs[] = {
	/* valid */
	"May 9 00:00:00 2007 GMT",
	"May  9 00:00:00 2007 GMT",
	"May 09 00:00:00 2007 GMT",
	"Jan  1 00:00:00 1970 GMT",
	"Dec 31 23:59:59 1969 GMT",
	"Jan  1 00:00:00 1900 GMT",
	"Jan  1 00:00:00 0001 GMT",
	"Dec 31 23:59:59 9999 GMT",
	"Feb 29 12:00:00 2024 GMT",
	"Feb 29 12:00:00 2000 GMT",
	"Feb 28 12:00:00 2100 GMT",
	"Jan 19 03:14:07 2038 GMT",
	"Jan 19 03:14:08 2038 GMT",
	"Feb 26 00:39:28 2029 GMT",
	"Jun 30 23:59:60 2015 GMT",
	"Dec 31 23:59:61 2016 GMT",
	"Jan 1 1:2:3 2000 GMT",
	"Jan 01 01:02:03 2000 GMT",
	"may 9 00:00:00 2007 GMT",
	"MAY 9 00:00:00 2007 GMT",
	"mAy 9 00:00:00 2007 gmt",
	"May 9 00:00:00 2007 Gmt",
	"May\t9\t00:00:00\t2007\tGMT",
	"May   9   00:00:00   2007   GMT",
	"May \n9 00:00:00 2007 GMT",
	"May 9 00:00:00 2007\x1fGMT",
	"Sep 30 10:20:30 2030 GMT",
	"Oct 31 10:20:30 2030 GMT",
	"Nov 30 10:20:30 2030 GMT",
	"Aug 31 10:20:30 2030 GMT",
	"Jul 31 10:20:30 2030 GMT",
	"Mar 31 10:20:30 2030 GMT",
	"Apr 30 10:20:30 2030 GMT",
	/* malformed */
	"",
	"May",
	"Ma",
	"Foo 9 00:00:00 2007 GMT",
	"Mai 9 00:00:00 2007 GMT",
	"May9 00:00:00 2007 GMT",
	" May 9 00:00:00 2007 GMT",
	"May 0 00:00:00 2007 GMT",
	"May 00 00:00:00 2007 GMT",
	"May 32 00:00:00 2007 GMT",
	"May 100 00:00:00 2007 GMT",
	"May 9 24:00:00 2007 GMT",
	"May 9 00:60:00 2007 GMT",
	"May 9 00:00:62 2007 GMT",
	"May 9 000:00:00 2007 GMT",
	"May 9 00:00 2007 GMT",
	"May 9 00:00:00 GMT",
	"May 9 00:00:00 2007",
	"May 9 00:00:00 2007 UTC",
	"May 9 00:00:00 2007 GMT ",
	"May 9 00:00:00 2007 GMTx",
	"May 9 00:00:00 2007GMT",
	"May 9 00:00:00 07 GMT",
	"May 9 00:00:00 20071 GMT",
	"May 9 00:00:00 0000 GMT",
	"May 9 00-00-00 2007 GMT",
	"May 9 00:00:00 2007 GMT\n",
	"May -9 00:00:00 2007 GMT",
	"May 9 00:00:00 -2007 GMT",
	"May 9 0x:00:00 2007 GMT",
	"May 9 00:00:00 2007 GMT GMT",
	"20070509000000Z",
	"Wed May 9 00:00:00 2007",
};
#define NINPUTS (sizeof inputs / sizeof inputs[0])

/* Days that the month does not have: Python reads them against January and
 * lets timegm roll them over; we reject them. */
static const char *const rollover[] = {
	"Feb 30 00:00:00 2007 GMT",
	"Feb 29 00:00:00 2007 GMT",
	"Feb 29 00:00:00 1900 GMT",
	"Apr 31 00:00:00 2007 GMT",
	"Jun 31 00:00:00 2007 GMT",
	"Sep 31 00:00:00 2007 GMT",
	"Nov 31 00:00:00 2007 GMT",
};
#define NROLLOVER (sizeof rollover / sizeof rollover[0])

/* Python's answer per line of hex: the integer, or "ValueError". */
static char **python_answers(const char *const *in, size_t n)
{
	char spec[] = "/tmp/check_cert_time.XXXXXX";
	char cmd[600];
	int fd = mkstemp(spec);
	FILE *f = fdopen(fd, "w"), *p;
	char **out = calloc(n, sizeof *out);
	char line[128];

	ck_assert(f != NULL && out != NULL);
	for (size_t i = 0; i < n; i++) {
		fputc('x', f);
		for (const unsigned char *c = (const unsigned char *)in[i]; *c; c++)
			fprintf(f, "%02x", *c);
		fputc('\n', f);
	}
	fclose(f);
	snprintf(cmd, sizeof cmd,
	         "python3 -c \"import ssl, sys\n"
	         "for l in open(sys.argv[1]):\n"
	         "    s = bytes.fromhex(l.strip()[1:]).decode()\n"
	         "    try: print(ssl.cert_time_to_seconds(s))\n"
	         "    except ValueError: print('ValueError')\n\" %s",
	         spec);
	p = popen(cmd, "r");
	ck_assert(p != NULL);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(fgets(line, sizeof line, p) != NULL, "python answered %zu of %zu", i, n);
		line[strcspn(line, "\n")] = '\0';
		out[i] = strdup(line);
	}
	ck_assert_int_eq(pclose(p), 0);
	unlink(spec);
	return out;
}

START_TEST(test_table_matches_python)
{
	char **py = python_answers(inputs, NINPUTS);
	size_t accepted = 0, rejected = 0;

	for (size_t i = 0; i < NINPUTS; i++) {
		struct sslsocket_error err = { 0 };
		time_t t = 12345;
		int rc = sslsocket_cert_time_to_seconds(inputs[i], &t, &err);

		if (strcmp(py[i], "ValueError") == 0) {
			ck_assert_msg(rc == -1, "[%s]: Python rejects it, we gave %lld", inputs[i],
			              (long long)t);
			ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
			ck_assert_msg(strstr(err.reason, "time data") != NULL, "reason: %s", err.reason);
			rejected++;
		} else {
			ck_assert_msg(rc == 0, "[%s]: Python gives %s, we fail: %s", inputs[i], py[i],
			              err.reason);
			ck_assert_msg(strtoll(py[i], NULL, 10) == (long long)t,
			              "[%s]: Python %s, ours %lld", inputs[i], py[i], (long long)t);
			accepted++;
		}
		free(py[i]);
	}
	free(py);
	/* The table exercises both sides (guards against a broken python). */
	ck_assert_uint_ge(accepted, 30);
	ck_assert_uint_ge(rejected, 30);
}
END_TEST

START_TEST(test_rollover_rejected)
{
	char **py = python_answers(rollover, NROLLOVER);

	for (size_t i = 0; i < NROLLOVER; i++) {
		struct sslsocket_error err;
		time_t t;

		/* Python accepts these (the documented deviation)... */
		ck_assert_msg(strcmp(py[i], "ValueError") != 0, "[%s] Python now rejects it",
		              rollover[i]);
		/* ...we do not guess. */
		ck_assert_int_eq(sslsocket_cert_time_to_seconds(rollover[i], &t, &err), -1);
		ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
		ck_assert_msg(strstr(err.reason, "has no day") != NULL, "%s", err.reason);
		free(py[i]);
	}
	free(py);
}
END_TEST

START_TEST(test_known_values)
{
	time_t t;

	/* bpo-19940: UTC, not the seed's local-time 1178694000. */
	ck_assert_int_eq(sslsocket_cert_time_to_seconds("May 9 00:00:00 2007 GMT", &t, NULL), 0);
	ck_assert_int_eq((long long)t, 1178668800LL);
	ck_assert_int_eq(sslsocket_cert_time_to_seconds("May  9 00:00:00 2007 GMT", &t, NULL), 0);
	ck_assert_int_eq((long long)t, 1178668800LL);
	ck_assert_int_eq(sslsocket_cert_time_to_seconds("Jan  1 00:00:00 1970 GMT", &t, NULL), 0);
	ck_assert_int_eq((long long)t, 0);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct sslsocket_error err;
	time_t t;

	ck_assert_int_eq(sslsocket_cert_time_to_seconds(NULL, &t, &err), -1);
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	ck_assert_int_eq(sslsocket_cert_time_to_seconds("May 9 00:00:00 2007 GMT", NULL, &err), -1);
	ck_assert_int_eq(err.code, SSLSOCKET_ERROR_VALUE);
	/* err may be NULL */
	ck_assert_int_eq(sslsocket_cert_time_to_seconds("nonsense", &t, NULL), -1);
}
END_TEST

START_TEST(test_reason_names_the_field)
{
	struct sslsocket_error err;
	time_t t;

	ck_assert_int_eq(sslsocket_cert_time_to_seconds("May 9 24:00:00 2007 GMT", &t, &err), -1);
	ck_assert_msg(strstr(err.reason, "hour") != NULL, "%s", err.reason);
	ck_assert_int_eq(sslsocket_cert_time_to_seconds("May 9 00:00:00 2007 UTC", &t, &err), -1);
	ck_assert_msg(strstr(err.reason, "GMT") != NULL, "%s", err.reason);
	ck_assert_int_eq(sslsocket_cert_time_to_seconds("Mai 9 00:00:00 2007 GMT", &t, &err), -1);
	ck_assert_msg(strstr(err.reason, "month") != NULL, "%s", err.reason);
}
END_TEST

Suite *cert_time_suite(void)
{
	Suite *s = suite_create("cert_time");
	TCase *tc = tcase_create("cert_time_to_seconds");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_table_matches_python);
	tcase_add_test(tc, test_rollover_rejected);
	tcase_add_test(tc, test_known_values);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_reason_names_the_field);
	suite_add_tcase(s, tc);
	return s;
}
