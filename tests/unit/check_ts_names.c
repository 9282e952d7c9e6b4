/* The address -> name cache (preload/names.c) that connect matching, SNI
 * and the hostname check rely on. */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init.h"
#include "log.h"
#include "names.h"

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

/* ---- name rules and the cache (issue 10 item 6) ------------------------ */

static struct cfg_ruleset *rules_rs;

static void rules_setup(void)
{
	struct cfg_error err;

	ts_names_clear();
	rules_rs = cfg_load("connect = ( { match = \"good.example.com:443\"; },\n"
	                    " { match = \"*.example.com:443\"; },\n"
	                    " { match = \"db.internal:5432\"; },\n"
	                    " { match = \"10.7.0.0/16:8443\"; } );",
	                    NULL, &cfg_core_checks, &err);
	ck_assert_msg(rules_rs != NULL, "%s", err.msg);
	ts_rules = rules_rs;
}

static void rules_teardown(void)
{
	ts_rules = NULL;
	ts_names_clear();
	cfg_ruleset_free(rules_rs);
	rules_rs = NULL;
}

/* Resolve the name of rule 1, then `others` names to the same address and
 * `elsewhere` names to other addresses: rule 1 still matches, bound to its
 * name. */
static void pressure(unsigned others, unsigned elsewhere)
{
	struct sockaddr_in a = v4("10.1.2.3", 443), b;
	char name[TS_NAME_LEN], ip[32], label[64];
	const struct cfg_rule *r;
	unsigned i;

	ts_names_add(SA(a), "good.example.com");
	for (i = 0; i < others; i++) {
		snprintf(label, sizeof label, "other%u.test", i);
		ts_names_add(SA(a), label);
	}
	for (i = 0; i < elsewhere; i++) {
		snprintf(ip, sizeof ip, "10.2.%u.%u", i / 250, i % 250 + 1);
		snprintf(label, sizeof label, "far%u.test", i);
		b = v4(ip, 443);
		ts_names_add(SA(b), label);
	}
	r = ts_names_match(ts_rules, CFG_CONNECT, SA(a), name, sizeof name);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->match_text, "good.example.com:443");
	ck_assert_str_eq(name, "good.example.com");
}

START_TEST(test_rule_many_names_one_address)
{
	pressure(20, 0);
}
END_TEST

START_TEST(test_rule_survives_cache_pressure)
{
	/* more names than the ring holds, on the address and elsewhere */
	pressure(TS_NAMES_MAX + 100, 0);
	ts_names_clear();
	pressure(0, 3 * TS_NAMES_MAX);
	ts_names_clear();
	pressure(TS_NAMES_MAX, TS_NAMES_MAX);
}
END_TEST

/* *.example.com: a later evil.test at the same address neither becomes
 * the bound name nor hides the one that matched. */
START_TEST(test_wildcard_binds_matching_name)
{
	struct sockaddr_in a = v4("10.1.2.4", 443);
	char name[TS_NAME_LEN];
	const struct cfg_rule *r;
	int i;

	ts_names_add(SA(a), "www.example.com");
	ts_names_add(SA(a), "evil.test");
	for (i = 0; i < 2 * TS_NAMES_MAX; i++)
		ts_names_add(SA(a), "evil.test"); /* the same pair again */
	r = ts_names_match(ts_rules, CFG_CONNECT, SA(a), name, sizeof name);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->match_text, "*.example.com:443");
	ck_assert_str_eq(name, "www.example.com");
	/* the newest matching name wins among matching names */
	ts_names_add(SA(a), "api.example.com");
	ts_names_add(SA(a), "evil2.test");
	r = ts_names_match(ts_rules, CFG_CONNECT, SA(a), name, sizeof name);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(name, "api.example.com");
	/* no name rule matches evil.test alone */
	{
		struct sockaddr_in e = v4("10.1.2.5", 443);

		ts_names_add(SA(e), "evil.test");
		ck_assert_ptr_null(ts_names_match(ts_rules, CFG_CONNECT, SA(e), name, sizeof name));
		ck_assert_str_eq(name, "");
	}
}
END_TEST

/* An address rule binds the newest name (it says nothing about names). */
START_TEST(test_address_rule_newest_name)
{
	struct sockaddr_in a = v4("10.7.1.1", 8443), none = v4("10.7.1.2", 8443);
	char name[TS_NAME_LEN];
	const struct cfg_rule *r;

	ts_names_add(SA(a), "one.test");
	ts_names_add(SA(a), "two.test");
	r = ts_names_match(ts_rules, CFG_CONNECT, SA(a), name, sizeof name);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->match_text, "10.7.0.0/16:8443");
	ck_assert_str_eq(name, "two.test");
	r = ts_names_match(ts_rules, CFG_CONNECT, SA(none), name, sizeof name);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(name, "");
}
END_TEST

/* "DB.Internal." is db.internal: case and the root's dot are not part of
 * the name, for matching or for the bound name. */
START_TEST(test_rule_trailing_dot_and_case)
{
	struct sockaddr_in a = v4("10.1.3.1", 5432);
	char name[TS_NAME_LEN];
	const struct cfg_rule *r;
	unsigned i;

	ts_names_add(SA(a), "DB.Internal.");
	for (i = 0; i < TS_NAMES_MAX + 1; i++) {
		char label[32];

		snprintf(label, sizeof label, "x%u.test", i);
		ts_names_add(SA(a), label);
	}
	r = ts_names_match(ts_rules, CFG_CONNECT, SA(a), name, sizeof name);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->match_text, "db.internal:5432");
	ck_assert_str_eq(name, "db.internal");
}
END_TEST

START_TEST(test_rule_v6_and_mapped)
{
	struct sockaddr_in6 a = v6("2001:db8::7", 443), m = v6("::ffff:10.1.4.1", 443);
	struct sockaddr_in a4 = v4("10.1.4.1", 443);
	char name[TS_NAME_LEN];
	const struct cfg_rule *r;
	unsigned i;

	ts_names_add(SA(a), "good.example.com");
	ts_names_add(SA(a4), "GOOD.example.COM");
	for (i = 0; i < TS_NAMES_MAX + 1; i++) {
		char label[32];

		snprintf(label, sizeof label, "y%u.test", i);
		ts_names_add(SA(a), label);
		ts_names_add(SA(a4), label);
	}
	r = ts_names_match(ts_rules, CFG_CONNECT, SA(a), name, sizeof name);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(name, "good.example.com");
	r = ts_names_match(ts_rules, CFG_CONNECT, SA(m), name, sizeof name);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->match_text, "good.example.com:443");
	ck_assert_str_eq(name, "good.example.com");
}
END_TEST

/* ---- whose name: the connecting thread's own lookup (issue 10 item 6b) -- */

struct resolver {
	struct sockaddr_in a;
	const char *names[3];
};

/* Another thread's lookups: names[] resolved to a, in order. */
static void *resolve_elsewhere(void *arg)
{
	const struct resolver *r = arg;
	size_t i;

	for (i = 0; i < 3 && r->names[i] != NULL; i++)
		ts_names_add(SA(r->a), r->names[i]);
	return NULL;
}

static void in_other_thread(struct sockaddr_in a, const char *n1, const char *n2)
{
	struct resolver r = {a, {n1, n2, NULL}};
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, resolve_elsewhere, &r), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
}

struct matcher {
	struct sockaddr_in a;
	char name[TS_NAME_LEN];
	const struct cfg_rule *r;
};

/* ts_names_match from a thread that looked nothing up. */
static void *match_elsewhere(void *arg)
{
	struct matcher *m = arg;

	m->r = ts_names_match(ts_rules, CFG_CONNECT, SA(m->a), m->name, sizeof m->name);
	return NULL;
}

/* An address rule: another thread's later evil.test does not replace the
 * name this thread looked up. */
START_TEST(test_address_rule_own_thread_name)
{
	struct sockaddr_in a = v4("10.7.2.1", 8443);
	char name[TS_NAME_LEN];
	const struct cfg_rule *r;

	ts_names_add(SA(a), "good.test");
	in_other_thread(a, "evil.test", NULL);
	r = ts_names_match(ts_rules, CFG_CONNECT, SA(a), name, sizeof name);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->match_text, "10.7.0.0/16:8443");
	ck_assert_str_eq(name, "good.test");
}
END_TEST

/* A thread that looked nothing up: the process's only name is bound; with
 * two, none is. */
START_TEST(test_address_rule_other_threads_names)
{
	struct matcher m;
	pthread_t t;

	memset(&m, 0, sizeof m);
	m.a = v4("10.7.2.2", 8443);
	in_other_thread(m.a, "only.test", NULL);
	ck_assert_int_eq(pthread_create(&t, NULL, match_elsewhere, &m), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_ptr_nonnull(m.r);
	ck_assert_str_eq(m.name, "only.test");

	in_other_thread(m.a, "second.test", NULL);
	ck_assert_int_eq(pthread_create(&t, NULL, match_elsewhere, &m), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_ptr_nonnull(m.r);
	ck_assert_str_eq(m.r->match_text, "10.7.0.0/16:8443");
	ck_assert_str_eq(m.name, "");
}
END_TEST

/* 50 connects to an address that two other threads' names resolved to:
 * each is checked against the address (no name bound), as before; the warn
 * line is written once (logevery.h says the rest later, counted), not 50
 * times. */
START_TEST(test_ambiguous_logged_once)
{
	char path[] = "/tmp/tlsshim-names-XXXXXX", buf[8192];
	int fd = mkstemp(path), rfd, lines = 0;
	struct matcher m;
	pthread_t t;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	memset(&m, 0, sizeof m);
	m.a = v4("10.7.2.50", 8443);
	in_other_thread(m.a, "one.test", NULL);
	in_other_thread(m.a, "two.test", NULL);
	ts_log_setup(CFG_LOG_WARN, fd);
	for (int i = 0; i < 50; i++) {
		strcpy(m.name, "unset");
		m.r = NULL;
		ck_assert_int_eq(pthread_create(&t, NULL, match_elsewhere, &m), 0);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_ptr_nonnull(m.r);
		ck_assert_str_eq(m.r->match_text, "10.7.0.0/16:8443");
		ck_assert_str_eq(m.name, "");
	}
	ts_log_setup(CFG_LOG_WARN, -1);
	rfd = open(path, O_RDONLY);
	ck_assert_int_ge(rfd, 0);
	n = read(rfd, buf, sizeof buf - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	for (char *p = buf; (p = strstr(p, "names were resolved to this address")) != NULL; p++)
		lines++;
	ck_assert_int_eq(lines, 1);
	ck_assert_ptr_nonnull(strstr(buf, "connect 10.7.2.50:8443: 2 names were resolved to this "
	                                  "address, none by this thread (two.test, one.test); no "
	                                  "name is sent, the certificate is checked against the "
	                                  "address\n"));
	close(rfd);
	close(fd);
	unlink(path);
}
END_TEST

/* *.example.com: of two matching names, the one this thread looked up is
 * bound, even when another thread resolved the other one later. */
START_TEST(test_wildcard_prefers_own_thread_name)
{
	struct sockaddr_in a = v4("10.1.2.6", 443);
	char name[TS_NAME_LEN];
	const struct cfg_rule *r;

	ts_names_add(SA(a), "www.example.com");
	in_other_thread(a, "api.example.com", NULL);
	r = ts_names_match(ts_rules, CFG_CONNECT, SA(a), name, sizeof name);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->match_text, "*.example.com:443");
	ck_assert_str_eq(name, "www.example.com");
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

	tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, rules_setup, rules_teardown);
	tcase_add_test(tc, test_rule_many_names_one_address);
	tcase_add_test(tc, test_rule_survives_cache_pressure);
	tcase_add_test(tc, test_wildcard_binds_matching_name);
	tcase_add_test(tc, test_address_rule_newest_name);
	tcase_add_test(tc, test_rule_trailing_dot_and_case);
	tcase_add_test(tc, test_rule_v6_and_mapped);
	tcase_add_test(tc, test_address_rule_own_thread_name);
	tcase_add_test(tc, test_address_rule_other_threads_names);
	tcase_add_test(tc, test_ambiguous_logged_once);
	tcase_add_test(tc, test_wildcard_prefers_own_thread_name);
	suite_add_tcase(s, tc);
	return s;
}
