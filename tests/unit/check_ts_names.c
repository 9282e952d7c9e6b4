/* The address -> name cache (preload/names.c) that connect matching, SNI
 * and the hostname check rely on. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ts.h"

static struct sockaddr_in v4(const char *ip, unsigned port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof s);
	s.sin_family = AF_INET;
	s.sin_port = htons((unsigned short)port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &s.sin_addr), 1);
	return s;
}

static struct sockaddr_in6 v6(const char *ip, unsigned port)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof s);
	s.sin6_family = AF_INET6;
	s.sin6_port = htons((unsigned short)port);
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &s.sin6_addr), 1);
	return s;
}

#define SA(x) ((const struct sockaddr *)(const void *)&(x)), sizeof(x)

static void setup(void)
{
	ts_names_clear();
}

START_TEST(test_add_lookup_lowercases)
{
	struct sockaddr_in a = v4("10.1.2.3", 443), b = v4("10.1.2.3", 80);
	char out[4][TS_NAME_LEN];

	ts_names_add(SA(a), "Db.Example.COM.");
	/* the port is not part of the key */
	ck_assert_uint_eq(ts_names_lookup(SA(b), out, 4), 1);
	ck_assert_str_eq(out[0], "db.example.com");
}
END_TEST

START_TEST(test_unknown_address)
{
	struct sockaddr_in a = v4("10.1.2.3", 443), b = v4("10.1.2.4", 443);
	char out[4][TS_NAME_LEN];

	ts_names_add(SA(a), "a.example");
	ck_assert_uint_eq(ts_names_lookup(SA(b), out, 4), 0);
}
END_TEST

START_TEST(test_ip_literals_ignored)
{
	struct sockaddr_in a = v4("127.0.0.1", 1);
	struct sockaddr_in6 b = v6("::1", 1);
	char out[4][TS_NAME_LEN];

	ts_names_add(SA(a), "127.0.0.1");
	ts_names_add(SA(b), "::1");
	ts_names_add(SA(b), "fe80::1%lo");
	ck_assert_uint_eq(ts_names_lookup(SA(a), out, 4), 0);
	ck_assert_uint_eq(ts_names_lookup(SA(b), out, 4), 0);
	ck_assert_int_eq(ts_is_ip_literal("10.0.0.1"), 1);
	ck_assert_int_eq(ts_is_ip_literal("[::1]"), 0);
	ck_assert_int_eq(ts_is_ip_literal("localhost"), 0);
}
END_TEST

START_TEST(test_newest_first_and_dedup)
{
	struct sockaddr_in a = v4("10.0.0.9", 1);
	char out[4][TS_NAME_LEN];

	ts_names_add(SA(a), "one.example");
	ts_names_add(SA(a), "two.example");
	ck_assert_uint_eq(ts_names_lookup(SA(a), out, 4), 2);
	ck_assert_str_eq(out[0], "two.example");
	ck_assert_str_eq(out[1], "one.example");
	/* resolving an old name again makes it the newest, not a duplicate */
	ts_names_add(SA(a), "ONE.example");
	ck_assert_uint_eq(ts_names_lookup(SA(a), out, 4), 2);
	ck_assert_str_eq(out[0], "one.example");
	ck_assert_uint_eq(ts_names_lookup(SA(a), out, 1), 1);
}
END_TEST

START_TEST(test_v4_mapped_v6_finds_v4)
{
	struct sockaddr_in a = v4("192.0.2.7", 1);
	struct sockaddr_in6 m = v6("::ffff:192.0.2.7", 1);
	char out[2][TS_NAME_LEN];

	ts_names_add(SA(a), "mapped.example");
	ck_assert_uint_eq(ts_names_lookup(SA(m), out, 2), 1);
	ck_assert_str_eq(out[0], "mapped.example");
}
END_TEST

START_TEST(test_v6)
{
	struct sockaddr_in6 a = v6("2001:db8::5", 443);
	struct sockaddr_in b = v4("0.0.0.0", 1);
	char out[2][TS_NAME_LEN];

	ts_names_add_raw(AF_INET6, &a.sin6_addr, "six.example");
	ck_assert_uint_eq(ts_names_lookup(SA(a), out, 2), 1);
	ck_assert_str_eq(out[0], "six.example");
	ck_assert_uint_eq(ts_names_lookup(SA(b), out, 2), 0);
}
END_TEST

START_TEST(test_bounded_oldest_out)
{
	struct sockaddr_in first = v4("10.9.0.0", 1), last;
	char out[1][TS_NAME_LEN], name[64], ip[32];
	int i;

	for (i = 0; i < TS_NAMES_MAX + 10; i++) {
		snprintf(ip, sizeof ip, "10.9.%d.%d", i / 256, i % 256);
		snprintf(name, sizeof name, "h%d.example", i);
		last = v4(ip, 1);
		ts_names_add(SA(last), name);
	}
	ck_assert_uint_eq(ts_names_lookup(SA(first), out, 1), 0);
	ck_assert_uint_eq(ts_names_lookup(SA(last), out, 1), 1);
	snprintf(name, sizeof name, "h%d.example", TS_NAMES_MAX + 9);
	ck_assert_str_eq(out[0], name);
}
END_TEST

START_TEST(test_bad_input_ignored)
{
	struct sockaddr_in a = v4("10.0.0.1", 1);
	struct sockaddr_un_like { sa_family_t f; char p[20]; } u = { AF_UNIX, "x" };
	char out[1][TS_NAME_LEN], longname[TS_NAME_LEN + 10];

	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	ts_names_add(SA(a), longname);
	ts_names_add(SA(a), "");
	ts_names_add(SA(a), NULL);
	ts_names_add(NULL, 0, "x.example");
	ck_assert_uint_eq(ts_names_lookup(SA(a), out, 1), 0);
	ck_assert_uint_eq(ts_names_lookup((const struct sockaddr *)(const void *)&u, sizeof u, out, 1), 0);
	/* a truncated address length is not read past */
	ts_names_add(SA(a), "ok.example");
	ck_assert_uint_eq(ts_names_lookup((const struct sockaddr *)(const void *)&a, 4, out, 1), 0);
}
END_TEST

Suite *ts_names_suite(void)
{
	Suite *s = suite_create("ts_names");
	TCase *tc = tcase_create("cache");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_add_lookup_lowercases);
	tcase_add_test(tc, test_unknown_address);
	tcase_add_test(tc, test_ip_literals_ignored);
	tcase_add_test(tc, test_newest_first_and_dedup);
	tcase_add_test(tc, test_v4_mapped_v6_finds_v4);
	tcase_add_test(tc, test_v6);
	tcase_add_test(tc, test_bounded_oldest_out);
	tcase_add_test(tc, test_bad_input_ignored);
	suite_add_tcase(s, tc);
	return s;
}
