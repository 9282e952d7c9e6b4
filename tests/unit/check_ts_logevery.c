/* Warn lines said at most once a minute per key, counting the rest
 * (preload/logevery.c). */
#include <check.h>
#include <string.h>

#include "logevery.h"

START_TEST(test_once_a_minute_with_count)
{
	static struct ts_log_every t;
	unsigned long unlogged = 99;
	long long t0 = 5000;

	ck_assert_int_eq(ts_log_every(&t, "10.0.0.1", t0, &unlogged), 1);
	ck_assert_uint_eq(unlogged, 0);
	for (int i = 1; i < 50; i++)
		ck_assert_int_eq(ts_log_every(&t, "10.0.0.1", t0 + i * 1000, &unlogged), 0);
	/* another key is its own */
	ck_assert_int_eq(ts_log_every(&t, "10.0.0.2", t0 + 1000, &unlogged), 1);
	ck_assert_uint_eq(unlogged, 0);
	ck_assert_int_eq(ts_log_every(&t, "10.0.0.1", t0 + TS_LOG_EVERY_S * 1000LL - 1, &unlogged), 0);
	/* a minute after it was said: said again, with the 50 unsaid */
	ck_assert_int_eq(ts_log_every(&t, "10.0.0.1", t0 + TS_LOG_EVERY_S * 1000LL, &unlogged), 1);
	ck_assert_uint_eq(unlogged, 50);
	ck_assert_int_eq(ts_log_every(&t, "10.0.0.1", t0 + TS_LOG_EVERY_S * 1000LL + 1, &unlogged), 0);
	ck_assert_int_eq(ts_log_every(&t, "10.0.0.1", t0 + 3 * TS_LOG_EVERY_S * 1000LL, &unlogged), 1);
	ck_assert_uint_eq(unlogged, 1);
}
END_TEST

START_TEST(test_addr_drops_port)
{
	char a[TS_LOG_EVERY_KEY];

	ts_log_every_addr("127.0.0.1:443", a, sizeof a);
	ck_assert_str_eq(a, "127.0.0.1");
	ts_log_every_addr("[::1]:8443", a, sizeof a);
	ck_assert_str_eq(a, "[::1]");
	ts_log_every_addr("?", a, sizeof a);
	ck_assert_str_eq(a, "?");
	ts_log_every_addr("127.0.0.1:443", a, 4);
	ck_assert_str_eq(a, "127");
}
END_TEST

Suite *ts_logevery_suite(void)
{
	Suite *s = suite_create("ts_logevery");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_once_a_minute_with_count);
	tcase_add_test(tc, test_addr_drops_port);
	suite_add_tcase(s, tc);
	return s;
}
