/* config/: match strings (cfg_match_parse) and finding the rule for an
 * address (cfg_match). */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config.h"

/* ---- parsing: good ------------------------------------------------------ */

static const struct good_match {
	const char *text;
	enum cfg_host_kind kind;
	int family;        /* ADDR, CIDR */
	const char *addr;  /* ADDR, CIDR: inet_pton text */
	unsigned prefix;   /* ADDR, CIDR */
	const char *name;  /* NAME, WILDCARD */
	unsigned lo, hi;
} good[] = {
	{ "*:443", CFG_HOST_ANY, 0, NULL, 0, NULL, 443, 443 },
	{ "*:*", CFG_HOST_ANY, 0, NULL, 0, NULL, 0, 65535 },
	{ "127.0.0.1:4433", CFG_HOST_ADDR, AF_INET, "127.0.0.1", 32, NULL, 4433, 4433 },
	{ "[::1]:443", CFG_HOST_ADDR, AF_INET6, "::1", 128, NULL, 443, 443 },
	{ "[2001:DB8::1]:1", CFG_HOST_ADDR, AF_INET6, "2001:db8::1", 128, NULL, 1, 1 },
	/* IPv4-mapped spellings become the IPv4 rule they mean */
	{ "[::ffff:10.0.0.1]:80", CFG_HOST_ADDR, AF_INET, "10.0.0.1", 32, NULL, 80, 80 },
	{ "[::ffff:10.0.0.0/104]:1", CFG_HOST_CIDR, AF_INET, "10.0.0.0", 8, NULL, 1, 1 },
	{ "10.0.0.0/8:6379", CFG_HOST_CIDR, AF_INET, "10.0.0.0", 8, NULL, 6379, 6379 },
	{ "0.0.0.0/0:*", CFG_HOST_CIDR, AF_INET, "0.0.0.0", 0, NULL, 0, 65535 },
	{ "10.0.0.1/32:1", CFG_HOST_CIDR, AF_INET, "10.0.0.1", 32, NULL, 1, 1 },
	{ "192.168.4.0/22:1", CFG_HOST_CIDR, AF_INET, "192.168.4.0", 22, NULL, 1, 1 },
	{ "[fd00::/8]:443", CFG_HOST_CIDR, AF_INET6, "fd00::", 8, NULL, 443, 443 },
	{ "[::/0]:1", CFG_HOST_CIDR, AF_INET6, "::", 0, NULL, 1, 1 },
	{ "Redis.Internal:6379", CFG_HOST_NAME, 0, NULL, 0, "redis.internal", 6379, 6379 },
	{ "example.com.:443", CFG_HOST_NAME, 0, NULL, 0, "example.com", 443, 443 },
	{ "localhost:8000-8099", CFG_HOST_NAME, 0, NULL, 0, "localhost", 8000, 8099 },
	{ "a_b-c.x1:1", CFG_HOST_NAME, 0, NULL, 0, "a_b-c.x1", 1, 1 },
	{ "1a.example:65535", CFG_HOST_NAME, 0, NULL, 0, "1a.example", 65535, 65535 },
	{ "*.Example.COM:443", CFG_HOST_WILDCARD, 0, NULL, 0, ".example.com", 443, 443 },
	{ "*.com:1-65535", CFG_HOST_WILDCARD, 0, NULL, 0, ".com", 1, 65535 },
	{ "host:00080", CFG_HOST_NAME, 0, NULL, 0, "host", 80, 80 },
	{ "host:7-7", CFG_HOST_NAME, 0, NULL, 0, "host", 7, 7 },
};

START_TEST(match_parse_good)
{
	const struct good_match *g = &good[_i];
	struct cfg_match m;
	struct cfg_error err = { 0 };
	ck_assert_msg(cfg_match_parse(g->text, &m, &err) == 0, "%s: %s", g->text, err.msg);
	ck_assert_int_eq(m.host_kind, g->kind);
	ck_assert_uint_eq(m.port_lo, g->lo);
	ck_assert_uint_eq(m.port_hi, g->hi);
	if (g->addr) {
		unsigned char want[16] = { 0 };
		ck_assert_int_eq(inet_pton(g->family, g->addr, want), 1);
		ck_assert_int_eq(m.family, g->family);
		ck_assert_mem_eq(m.addr, want, g->family == AF_INET ? 4 : 16);
		ck_assert_uint_eq(m.prefix, g->prefix);
	}
	if (g->name)
		ck_assert_str_eq(m.name, g->name);
	else
		ck_assert_ptr_null(m.name);
	cfg_match_clear(&m);
	ck_assert_ptr_null(m.name);
}
END_TEST

/* ---- parsing: bad ------------------------------------------------------- */

#define PORT_EXPECTED "(expected a number 1-65535, a range such as 8000-8099, or *)"
#define NAME_CHARS "(letters, digits, '-', '_' and '.')"
#define STAR_RULE "'*' is allowed only as the whole host or as a leading \"*.\" (e.g. *.example.com)"

static const struct bad_match {
	const char *text;
	const char *msg;
} bad[] = {
	{ "", "bad match \"\": empty (expected HOST:PORT, e.g. 127.0.0.1:443)" },
	{ "10.0.0.1", "bad match \"10.0.0.1\": missing :PORT (expected HOST:PORT, e.g. 127.0.0.1:443)" },
	{ "10.0.0.1:", "bad match \"10.0.0.1:\": missing port after ':' " PORT_EXPECTED },
	{ ":443", "bad match \":443\": empty host (use * for any host)" },
	{ "::1:443", "bad match \"::1:443\": an IPv6 address must be in brackets (e.g. [::1]:443)" },
	{ "[::1]", "bad match \"[::1]\": missing :PORT (expected [IPv6]:PORT, e.g. [::1]:443)" },
	{ "[::1]443", "bad match \"[::1]443\": expected ':' after ']'" },
	{ "[::1:443", "bad match \"[::1:443\": missing ']' after the IPv6 address" },
	{ "[]:443", "bad match \"[]:443\": empty host in [] (use * for any host)" },
	{ "[10.0.0.1]:443",
	  "bad match \"[10.0.0.1]:443\": an IPv4 address is written without brackets "
	  "(e.g. 10.0.0.1:443)" },
	{ "[fe80::1%eth0]:443",
	  "bad match \"[fe80::1%eth0]:443\": IPv6 zone indexes ('%') are not supported" },
	{ "[zz::1]:443", "bad match \"[zz::1]:443\": not an IPv6 address" },
	{ "host:0", "bad match \"host:0\": port 0 is out of range (expected 1-65535)" },
	{ "host:65536", "bad match \"host:65536\": port 65536 is out of range (expected 1-65535)" },
	{ "host:0-10", "bad match \"host:0-10\": port 0 is out of range (expected 1-65535)" },
	{ "host:10-70000",
	  "bad match \"host:10-70000\": port 70000 is out of range (expected 1-65535)" },
	{ "host:99-10", "bad match \"host:99-10\": port range 99-10 is backwards (expected LOW-HIGH)" },
	{ "host:80-", "bad match \"host:80-\": bad port " PORT_EXPECTED },
	{ "host:-1", "bad match \"host:-1\": bad port " PORT_EXPECTED },
	{ "host:http", "bad match \"host:http\": bad port " PORT_EXPECTED },
	{ "host: 80", "bad match \"host: 80\": bad port " PORT_EXPECTED },
	{ "host:1234567890", "bad match \"host:1234567890\": bad port " PORT_EXPECTED },
	{ "10.0.0.0/33:1",
	  "bad match \"10.0.0.0/33:1\": bad IPv4 prefix length (expected /0 to /32)" },
	{ "10.0.0.0/:1", "bad match \"10.0.0.0/:1\": bad IPv4 prefix length (expected /0 to /32)" },
	{ "10.0.0.0/x:1", "bad match \"10.0.0.0/x:1\": bad IPv4 prefix length (expected /0 to /32)" },
	{ "[fd00::/129]:1",
	  "bad match \"[fd00::/129]:1\": bad IPv6 prefix length (expected /0 to /128)" },
	{ "10.0.0.1/8:1",
	  "bad match \"10.0.0.1/8:1\": host bits are set after /8 (the network is 10.0.0.0/8)" },
	{ "[fd00::1/8]:1",
	  "bad match \"[fd00::1/8]:1\": host bits are set after /8 (the network is [fd00::/8])" },
	{ "10.0.0/8:1",
	  "bad match \"10.0.0/8:1\": not an IPv4 address (expected four numbers 0-255, "
	  "e.g. 10.0.0.0/8)" },
	{ "/8:1", "bad match \"/8:1\": empty address before '/'" },
	{ "999.1.1.1:1",
	  "bad match \"999.1.1.1:1\": not a valid IPv4 address (expected four numbers 0-255, "
	  "e.g. 10.0.0.1)" },
	{ "10.0.0:1",
	  "bad match \"10.0.0:1\": not a valid IPv4 address (expected four numbers 0-255, "
	  "e.g. 10.0.0.1)" },
	{ "exa mple.com:1",
	  "bad match \"exa mple.com:1\": ' ' is not allowed in a host name " NAME_CHARS },
	{ "caf\xc3\xa9.com:1",
	  "bad match \"caf??.com:1\": byte 0xc3 is not allowed in a host name " NAME_CHARS },
	{ "-bad.com:1", "bad match \"-bad.com:1\": a host name label cannot start with '-'" },
	{ "bad-.com:1", "bad match \"bad-.com:1\": a host name label cannot end with '-'" },
	{ "a..b:1", "bad match \"a..b:1\": empty label in host name" },
	{ ".a:1", "bad match \".a:1\": empty label in host name" },
	{ "*.:1", "bad match \"*.:1\": " STAR_RULE },
	{ "*.*.com:1", "bad match \"*.*.com:1\": " STAR_RULE },
	{ "foo*.com:1", "bad match \"foo*.com:1\": " STAR_RULE },
	{ "**:1", "bad match \"**:1\": " STAR_RULE },
	{ "*..com:1", "bad match \"*..com:1\": empty label in host name" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com:1",
	  "bad match \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com:1\": "
	  "a host name label is longer than 63 bytes" },
};

START_TEST(match_parse_bad)
{
	const struct bad_match *b = &bad[_i];
	struct cfg_match m;
	struct cfg_error err = { 0 };
	ck_assert_msg(cfg_match_parse(b->text, &m, &err) == -1, "%s parsed", b->text);
	ck_assert_str_eq(err.msg, b->msg);
	/* a failed parse leaves nothing to free */
	ck_assert_ptr_null(m.name);
}
END_TEST

START_TEST(match_parse_long)
{
	struct cfg_match m;
	struct cfg_error err;
	char text[400];

	/* 254 bytes of name: five labels of 50 and one of 4, dots between */
	char name[300] = "";
	for (int i = 0; i < 5; i++) {
		memset(name + strlen(name), 'a' + i, 50);
		name[51 * i + 50] = '.';
		name[51 * i + 51] = '\0';
	}
	strcat(name, "abc");
	ck_assert_uint_eq(strlen(name), 258);
	snprintf(text, sizeof text, "%s:1", name);
	ck_assert_int_eq(cfg_match_parse(text, &m, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, ": host name longer than 253 bytes"));

	/* exactly 253 is fine */
	name[253] = '\0';
	name[252] = 'x';
	snprintf(text, sizeof text, "%s:1", name);
	ck_assert_msg(cfg_match_parse(text, &m, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(strlen(m.name), 253);
	cfg_match_clear(&m);

	memset(text, 'a', 301);
	text[301] = '\0';
	ck_assert_int_eq(cfg_match_parse(text, &m, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "\": longer than 300 bytes"));
	/* the echo of user text is cut and marked */
	ck_assert_ptr_nonnull(strstr(err.msg, "aaa...\""));

	ck_assert_int_eq(cfg_match_parse(NULL, &m, &err), -1);
	ck_assert_str_eq(err.msg, "bad match: no text");
	/* err may be NULL */
	ck_assert_int_eq(cfg_match_parse("x", &m, NULL), -1);
	cfg_match_clear(NULL);
}
END_TEST

/* ---- cfg_match ---------------------------------------------------------- */

static const char match_rules[] =
	"connect = (\n"
	"  { match = \"127.0.0.1:4433\"; passthrough = true; },\n"     /* 0 */
	"  { match = \"10.0.0.0/8:6379\"; passthrough = true; },\n"    /* 1 */
	"  { match = \"[::1]:443\"; passthrough = true; },\n"          /* 2 */
	"  { match = \"[fd00::/8]:8000-8099\"; passthrough = true; },\n" /* 3 */
	"  { match = \"db.internal:5432\"; passthrough = true; },\n"   /* 4 */
	"  { match = \"*.example.com:443\"; passthrough = true; },\n"  /* 5 */
	"  { match = \"10.1.2.3:*\"; passthrough = true; },\n"         /* 6 */
	"  { match = \"192.168.0.0/23:1-1024\"; passthrough = true; },\n" /* 7 */
	"  { match = \"*:9999\"; passthrough = true; }\n"              /* 8 */
	");\n"
	"accept = ( { match = \"*:8443\"; passthrough = true; } );\n"; /* 9 */

static const struct match_case {
	enum cfg_side side;
	const char *addr; /* IPv4 or IPv6 text */
	unsigned port;
	const char *names[3];
	int want; /* rule index, -1 for none */
} cases[] = {
	{ CFG_CONNECT, "127.0.0.1", 4433, { NULL }, 0 },
	{ CFG_CONNECT, "127.0.0.1", 4434, { NULL }, -1 },
	{ CFG_CONNECT, "127.0.0.2", 4433, { NULL }, -1 },
	{ CFG_CONNECT, "::ffff:127.0.0.1", 4433, { NULL }, 0 },   /* mapped */
	{ CFG_CONNECT, "::ffff:10.9.8.7", 6379, { NULL }, 1 },    /* mapped, CIDR */
	{ CFG_CONNECT, "10.0.0.0", 6379, { NULL }, 1 },           /* CIDR edges */
	{ CFG_CONNECT, "10.255.255.255", 6379, { NULL }, 1 },
	{ CFG_CONNECT, "9.255.255.255", 6379, { NULL }, -1 },
	{ CFG_CONNECT, "11.0.0.0", 6379, { NULL }, -1 },
	{ CFG_CONNECT, "10.1.2.3", 6379, { NULL }, 1 },           /* first match wins */
	{ CFG_CONNECT, "10.1.2.3", 80, { NULL }, 6 },
	{ CFG_CONNECT, "192.168.1.255", 1024, { NULL }, 7 },      /* /23 and range edges */
	{ CFG_CONNECT, "192.168.0.0", 1, { NULL }, 7 },
	{ CFG_CONNECT, "192.168.2.0", 1, { NULL }, -1 },
	{ CFG_CONNECT, "192.168.1.1", 1025, { NULL }, -1 },
	{ CFG_CONNECT, "::1", 443, { NULL }, 2 },
	{ CFG_CONNECT, "::2", 443, { NULL }, -1 },
	{ CFG_CONNECT, "127.0.0.1", 443, { NULL }, -1 },          /* v4 never matches [::1] */
	{ CFG_CONNECT, "fd00::5", 8000, { NULL }, 3 },
	{ CFG_CONNECT, "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 8099, { NULL }, 3 },
	{ CFG_CONNECT, "fd00::5", 8100, { NULL }, -1 },
	{ CFG_CONNECT, "fd00::5", 7999, { NULL }, -1 },
	{ CFG_CONNECT, "fe00::1", 8000, { NULL }, -1 },
	{ CFG_CONNECT, "fc00::1", 8000, { NULL }, -1 },
	{ CFG_CONNECT, "192.0.2.1", 5432, { "DB.Internal" }, 4 }, /* names, any case */
	{ CFG_CONNECT, "192.0.2.1", 5432, { "db.internal." }, 4 },/* root dot */
	{ CFG_CONNECT, "192.0.2.1", 5432, { "other", "db.internal" }, 4 }, /* any of names */
	{ CFG_CONNECT, "192.0.2.1", 5432, { "db.internal.x" }, -1 },
	{ CFG_CONNECT, "192.0.2.1", 5432, { "xdb.internal" }, -1 },
	{ CFG_CONNECT, "192.0.2.1", 5432, { NULL }, -1 },
	{ CFG_CONNECT, "192.0.2.1", 5433, { "db.internal" }, -1 },
	{ CFG_CONNECT, "192.0.2.1", 443, { "www.example.com" }, 5 },
	{ CFG_CONNECT, "2001:db8::1", 443, { "a.b.Example.Com" }, 5 }, /* any depth */
	{ CFG_CONNECT, "192.0.2.1", 443, { "example.com" }, -1 }, /* not the bare domain */
	{ CFG_CONNECT, "192.0.2.1", 443, { "badexample.com" }, -1 },
	{ CFG_CONNECT, "192.0.2.1", 443, { "x.example.com." }, 5 },
	{ CFG_CONNECT, "192.0.2.1", 9999, { NULL }, 8 },
	{ CFG_CONNECT, "2001:db8::1", 9999, { NULL }, 8 },
	{ CFG_CONNECT, "192.0.2.1", 8443, { NULL }, -1 },         /* an accept rule */
	{ CFG_ACCEPT, "0.0.0.0", 8443, { NULL }, 9 },
	{ CFG_ACCEPT, "::", 8443, { NULL }, 9 },
	{ CFG_ACCEPT, "127.0.0.1", 4433, { NULL }, -1 },          /* a connect rule */
};

static struct cfg_ruleset *match_rs;

static void match_setup(void)
{
	struct cfg_error err;
	match_rs = cfg_load(match_rules, NULL, &cfg_core_checks, &err);
	ck_assert_msg(match_rs != NULL, "%s", err.msg);
	ck_assert_uint_eq(match_rs->count, 10);
}

static void match_teardown(void)
{
	cfg_ruleset_free(match_rs);
	match_rs = NULL;
}

START_TEST(match_cases)
{
	const struct match_case *c = &cases[_i];
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof ss);
	if (strchr(c->addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)c->port);
		ck_assert_int_eq(inet_pton(AF_INET6, c->addr, &s6->sin6_addr), 1);
		len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)c->port);
		ck_assert_int_eq(inet_pton(AF_INET, c->addr, &s4->sin_addr), 1);
		len = sizeof *s4;
	}
	size_t n = 0;
	while (n < 3 && c->names[n])
		n++;
	const struct cfg_rule *r = cfg_match(match_rs, c->side, (struct sockaddr *)&ss, len,
	                                     n ? c->names : NULL, n);
	if (c->want < 0) {
		ck_assert_msg(r == NULL, "%s port %u matched rule %u (%s)", c->addr, c->port,
		              r ? r->index : 0, r ? r->match_text : "");
	} else {
		ck_assert_msg(r != NULL, "%s port %u matched nothing", c->addr, c->port);
		ck_assert_uint_eq(r->index, (unsigned)c->want);
		ck_assert_ptr_eq(r, &match_rs->rules[c->want]);
	}
}
END_TEST

START_TEST(match_never)
{
	/* AF_UNIX, a truncated address, NULL address or rule set: never */
	struct sockaddr_un un;
	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	strcpy(un.sun_path, "/tmp/x");
	const char *names[] = { "db.internal" };
	ck_assert_ptr_null(cfg_match(match_rs, CFG_CONNECT, (struct sockaddr *)&un, sizeof un,
	                             names, 1));
	ck_assert_ptr_null(cfg_match(match_rs, CFG_ACCEPT, (struct sockaddr *)&un, sizeof un,
	                             NULL, 0));

	struct sockaddr_in s4;
	memset(&s4, 0, sizeof s4);
	s4.sin_family = AF_INET;
	s4.sin_port = htons(9999);
	ck_assert_ptr_nonnull(cfg_match(match_rs, CFG_CONNECT, (struct sockaddr *)&s4, sizeof s4,
	                                NULL, 0));
	ck_assert_ptr_null(cfg_match(match_rs, CFG_CONNECT, (struct sockaddr *)&s4,
	                             sizeof s4 - 1, NULL, 0));
	struct sockaddr_in6 s6;
	memset(&s6, 0, sizeof s6);
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(9999);
	ck_assert_ptr_nonnull(cfg_match(match_rs, CFG_CONNECT, (struct sockaddr *)&s6, sizeof s6,
	                                NULL, 0));
	ck_assert_ptr_null(cfg_match(match_rs, CFG_CONNECT, (struct sockaddr *)&s6,
	                             sizeof(struct sockaddr_in), NULL, 0));
	ck_assert_ptr_null(cfg_match(match_rs, CFG_CONNECT, NULL, 0, NULL, 0));
	ck_assert_ptr_null(cfg_match(NULL, CFG_CONNECT, (struct sockaddr *)&s4, sizeof s4,
	                             NULL, 0));
	/* a NULL among the names is skipped */
	const char *with_null[] = { NULL, "www.example.com" };
	s4.sin_port = htons(443);
	const struct cfg_rule *r = cfg_match(match_rs, CFG_CONNECT, (struct sockaddr *)&s4,
	                                     sizeof s4, with_null, 2);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->index, 5);
}
END_TEST

START_TEST(match_any_host_both_families)
{
	struct cfg_error err;
	struct cfg_ruleset *rs = cfg_load("connect = ( { match = \"*:*\"; passthrough = true; } );",
	                                  NULL, &cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = 0 };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(65535) };
	ck_assert_ptr_nonnull(cfg_match(rs, CFG_CONNECT, (struct sockaddr *)&s4, sizeof s4, NULL, 0));
	ck_assert_ptr_nonnull(cfg_match(rs, CFG_CONNECT, (struct sockaddr *)&s6, sizeof s6, NULL, 0));
	ck_assert_ptr_null(cfg_match(rs, CFG_ACCEPT, (struct sockaddr *)&s6, sizeof s6, NULL, 0));
	cfg_ruleset_free(rs);
}
END_TEST

/* cfg_match_named says which name bound the connection: the first in the
 * list (newest first) that the winning rule matches, never a name no rule
 * matched; SIZE_MAX for an address rule. */
START_TEST(match_named_binds_matching_name)
{
	struct cfg_error err;
	struct cfg_ruleset *rs = cfg_load("connect = ( { match = \"*.example.com:443\"; },\n"
	                                  " { match = \"db.internal:443\"; },\n"
	                                  " { match = \"10.0.0.0/8:*\"; } );",
	                                  NULL, &cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(443) };
	inet_pton(AF_INET, "192.0.2.9", &s4.sin_addr);
	const char *names[] = { "evil.test", "EXAMPLE.com", "a.b.example.com", "good.example.com." };
	size_t which = 0;
	const struct cfg_rule *r = cfg_match_named(rs, CFG_CONNECT, (struct sockaddr *)&s4,
	                                           sizeof s4, names, 4, &which);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->index, 0);
	ck_assert_uint_eq(which, 2);
	/* only evil.test: nothing matches, nothing is bound */
	r = cfg_match_named(rs, CFG_CONNECT, (struct sockaddr *)&s4, sizeof s4, names, 1, &which);
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(which, SIZE_MAX);
	/* IPv6 with a later name rule */
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(443) };
	inet_pton(AF_INET6, "2001:db8::5", &s6.sin6_addr);
	const char *n6[] = { "evil.test", "DB.internal." };
	r = cfg_match_named(rs, CFG_CONNECT, (struct sockaddr *)&s6, sizeof s6, n6, 2, &which);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->index, 1);
	ck_assert_uint_eq(which, 1);
	/* an address rule binds no name */
	inet_pton(AF_INET, "10.1.1.1", &s4.sin_addr);
	r = cfg_match_named(rs, CFG_CONNECT, (struct sockaddr *)&s4, sizeof s4, names, 1, &which);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->index, 2);
	ck_assert_uint_eq(which, SIZE_MAX);
	/* cfg_rule_names_host: the host part only, name rules only */
	ck_assert_int_eq(cfg_rule_names_host(&rs->rules[0], "x.example.com"), 1);
	ck_assert_int_eq(cfg_rule_names_host(&rs->rules[0], "example.com"), 0);
	ck_assert_int_eq(cfg_rule_names_host(&rs->rules[1], "db.internal"), 1);
	ck_assert_int_eq(cfg_rule_names_host(&rs->rules[1], "db.internal.evil"), 0);
	ck_assert_int_eq(cfg_rule_names_host(&rs->rules[2], "db.internal"), 0);
	ck_assert_int_eq(cfg_rule_names_host(NULL, "db.internal"), 0);
	cfg_ruleset_free(rs);
}
END_TEST

Suite *match_suite(void)
{
	Suite *s = suite_create("match");
	TCase *tc = tcase_create("parse");
	tcase_add_loop_test(tc, match_parse_good, 0, (int)(sizeof good / sizeof good[0]));
	tcase_add_loop_test(tc, match_parse_bad, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, match_parse_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_checked_fixture(tc, match_setup, match_teardown);
	tcase_add_loop_test(tc, match_cases, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, match_never);
	tcase_add_test(tc, match_any_host_both_families);
	tcase_add_test(tc, match_named_binds_matching_name);
	suite_add_tcase(s, tc);
	return s;
}
