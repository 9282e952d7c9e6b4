/*
 * match.c - `match = "HOST:PORT"`: parsing, and finding the rule for an
 * address. cfg_match runs inside every intercepted connect() and accept(),
 * so it allocates nothing and takes no lock: the rule set is immutable.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"

/* The longest match string worth reading: a 253-byte name, ":", a range. */
#define MATCH_MAX 300

int cfg_hostname_check(const char *s, size_t len, struct cfg_error *err)
{
	if (len > 0 && s[len - 1] == '.')
		len--; /* the root label of a fully qualified name */
	if (len == 0) {
		cfg_errorf(err, "empty host name");
		return -1;
	}
	if (len > 253) {
		cfg_errorf(err, "host name longer than 253 bytes");
		return -1;
	}
	int only_digits_and_dots = 1;
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';
		if (c == '.') {
			if (label == 0) {
				cfg_errorf(err, "empty label in host name");
				return -1;
			}
			if (s[i - 1] == '-') {
				cfg_errorf(err, "a host name label cannot end with '-'");
				return -1;
			}
			label = 0;
			continue;
		}
		if (!isascii((unsigned char)c) ||
		    !(isalnum((unsigned char)c) || c == '-' || c == '_')) {
			if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
				cfg_errorf(err, "'%c' is not allowed in a host name "
				           "(letters, digits, '-', '_' and '.')", c);
			else
				cfg_errorf(err, "byte 0x%02x is not allowed in a host name "
				           "(letters, digits, '-', '_' and '.')", (unsigned char)c);
			return -1;
		}
		if (label == 0 && c == '-') {
			cfg_errorf(err, "a host name label cannot start with '-'");
			return -1;
		}
		if (++label > 63) {
			cfg_errorf(err, "a host name label is longer than 63 bytes");
			return -1;
		}
		if (!isdigit((unsigned char)c))
			only_digits_and_dots = 0;
	}
	if (only_digits_and_dots) {
		cfg_errorf(err, "not a valid IPv4 address (expected four numbers 0-255, "
		           "e.g. 10.0.0.1)");
		return -1;
	}
	return 0;
}

/* A decimal number of 1 to max_digits digits, no sign, no space. */
static int parse_uint(const char *s, size_t len, size_t max_digits, unsigned *out)
{
	if (len == 0 || len > max_digits)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int parse_port(const char *p, struct cfg_match *m, struct cfg_error *err)
{
	if (*p == '\0') {
		cfg_errorf(err, "missing port after ':' (expected a number 1-65535, "
		           "a range such as 8000-8099, or *)");
		return -1;
	}
	if (strcmp(p, "*") == 0) {
		m->port_lo = 0;
		m->port_hi = 65535;
		return 0;
	}
	const char *dash = strchr(p, '-');
	size_t lo_len = dash ? (size_t)(dash - p) : strlen(p);
	unsigned lo, hi;
	if (parse_uint(p, lo_len, 9, &lo) < 0 ||
	    (dash && parse_uint(dash + 1, strlen(dash + 1), 9, &hi) < 0)) {
		cfg_errorf(err, "bad port (expected a number 1-65535, a range such as "
		           "8000-8099, or *)");
		return -1;
	}
	if (!dash)
		hi = lo;
	if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535) {
		cfg_errorf(err, "port %u is out of range (expected 1-65535)",
		           (lo < 1 || lo > 65535) ? lo : hi);
		return -1;
	}
	if (lo > hi) {
		cfg_errorf(err, "port range %u-%u is backwards (expected LOW-HIGH)", lo, hi);
		return -1;
	}
	m->port_lo = lo;
	m->port_hi = hi;
	return 0;
}

static int host_bits_clear(const unsigned char *a, unsigned bytes, unsigned prefix)
{
	for (unsigned bit = prefix; bit < bytes * 8; bit++)
		if (a[bit / 8] & (0x80u >> (bit % 8)))
			return 0;
	return 1;
}

static const unsigned char v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* An IPv4-mapped IPv6 rule ([::ffff:10.0.0.1], [::ffff:10.0.0.0/104]) is
 * stored as the IPv4 rule it means, so that the IPv4 and IPv6 spellings of
 * one destination behave alike (cfg_match maps addresses the same way). */
static void normalize_mapped(struct cfg_match *m)
{
	if (m->family != AF_INET6 || m->prefix < 96 ||
	    memcmp(m->addr, v4_mapped_prefix, 12) != 0)
		return;
	memmove(m->addr, m->addr + 12, 4);
	memset(m->addr + 4, 0, 12);
	m->family = AF_INET;
	m->prefix -= 96;
}

/* host[0..len) is an address or CIDR of family af (brackets removed). */
static int parse_addr(const char *host, size_t len, int af, struct cfg_match *m,
                      struct cfg_error *err)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = memchr(host, '/', len);
	size_t alen = slash ? (size_t)(slash - host) : len;
	unsigned max = af == AF_INET ? 32 : 128;
	const char *what = af == AF_INET ? "IPv4" : "IPv6";

	if (alen == 0) {
		cfg_errorf(err, "empty address before '/'");
		return -1;
	}
	if (alen >= sizeof buf) {
		cfg_errorf(err, "not an %s address", what);
		return -1;
	}
	memcpy(buf, host, alen);
	buf[alen] = '\0';
	if (af == AF_INET6 && strchr(buf, '%')) {
		cfg_errorf(err, "IPv6 zone indexes ('%%') are not supported");
		return -1;
	}
	if (inet_pton(af, buf, m->addr) != 1) {
		if (af == AF_INET6) {
			struct in_addr a4;
			if (inet_pton(AF_INET, buf, &a4) == 1)
				cfg_errorf(err, "an IPv4 address is written without brackets "
				           "(e.g. 10.0.0.1:443)");
			else
				cfg_errorf(err, "not an IPv6 address");
		} else {
			cfg_errorf(err, "not an IPv4 address (expected four numbers 0-255, "
			           "e.g. 10.0.0.0/8)");
		}
		return -1;
	}
	m->family = af;
	if (!slash) {
		m->host_kind = CFG_HOST_ADDR;
		m->prefix = max;
		normalize_mapped(m);
		return 0;
	}
	unsigned prefix;
	if (parse_uint(slash + 1, len - alen - 1, 3, &prefix) < 0 || prefix > max) {
		cfg_errorf(err, "bad %s prefix length (expected /0 to /%u)", what, max);
		return -1;
	}
	if (!host_bits_clear(m->addr, max / 8, prefix)) {
		/* Rejected rather than masked: 10.0.0.1/8 is more likely a typo for
		 * 10.0.0.1/32 than a wish for 10.0.0.0/8. */
		unsigned char net[16];
		char shown[INET6_ADDRSTRLEN];
		memcpy(net, m->addr, sizeof net);
		for (unsigned bit = prefix; bit < max; bit++)
			net[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
		inet_ntop(af, net, shown, sizeof shown);
		if (af == AF_INET6)
			cfg_errorf(err, "host bits are set after /%u (the network is [%s/%u])",
			           prefix, shown, prefix);
		else
			cfg_errorf(err, "host bits are set after /%u (the network is %s/%u)",
			           prefix, shown, prefix);
		return -1;
	}
	m->host_kind = CFG_HOST_CIDR;
	m->prefix = prefix;
	normalize_mapped(m);
	return 0;
}

static char *lower_dup(const char *s, size_t len, int leading_dot)
{
	if (len > 0 && s[len - 1] == '.')
		len--;
	char *d = malloc(len + 1 + (leading_dot ? 1 : 0));
	if (!d)
		return NULL;
	char *p = d;
	if (leading_dot)
		*p++ = '.';
	for (size_t i = 0; i < len; i++)
		*p++ = (char)tolower((unsigned char)s[i]);
	*p = '\0';
	return d;
}

static int parse_host(const char *host, size_t len, struct cfg_match *m,
                      struct cfg_error *err)
{
	if (len == 1 && host[0] == '*') {
		m->host_kind = CFG_HOST_ANY;
		return 0;
	}
	const char *star = memchr(host, '*', len);
	int wildcard = len > 2 && host[0] == '*' && host[1] == '.';
	if (star && (!wildcard || memchr(host + 1, '*', len - 1))) {
		cfg_errorf(err, "'*' is allowed only as the whole host or as a leading "
		           "\"*.\" (e.g. *.example.com)");
		return -1;
	}
	if (wildcard) {
		if (cfg_hostname_check(host + 2, len - 2, err) < 0)
			return -1;
		m->host_kind = CFG_HOST_WILDCARD;
		m->name = lower_dup(host + 2, len - 2, 1);
		if (!m->name) {
			cfg_errorf(err, "out of memory");
			return -1;
		}
		return 0;
	}
	if (memchr(host, '/', len))
		return parse_addr(host, len, AF_INET, m, err);

	char buf[16];
	if (len < sizeof buf) {
		memcpy(buf, host, len);
		buf[len] = '\0';
		if (inet_pton(AF_INET, buf, m->addr) == 1) {
			m->family = AF_INET;
			m->host_kind = CFG_HOST_ADDR;
			m->prefix = 32;
			return 0;
		}
	}
	if (cfg_hostname_check(host, len, err) < 0)
		return -1;
	m->host_kind = CFG_HOST_NAME;
	m->name = lower_dup(host, len, 0);
	if (!m->name) {
		cfg_errorf(err, "out of memory");
		return -1;
	}
	return 0;
}

static int parse_match(const char *text, struct cfg_match *m, struct cfg_error *err)
{
	size_t n = strlen(text);
	if (n == 0) {
		cfg_errorf(err, "empty (expected HOST:PORT, e.g. 127.0.0.1:443)");
		return -1;
	}
	if (n > MATCH_MAX) {
		cfg_errorf(err, "longer than %d bytes", MATCH_MAX);
		return -1;
	}
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close) {
			cfg_errorf(err, "missing ']' after the IPv6 address");
			return -1;
		}
		if (close == text + 1) {
			cfg_errorf(err, "empty host in [] (use * for any host)");
			return -1;
		}
		if (close[1] != ':') {
			cfg_errorf(err, close[1] ? "expected ':' after ']'"
			                          : "missing :PORT (expected [IPv6]:PORT, e.g. [::1]:443)");
			return -1;
		}
		if (parse_addr(text + 1, (size_t)(close - text - 1), AF_INET6, m, err) < 0)
			return -1;
		return parse_port(close + 2, m, err);
	}
	const char *colon = strrchr(text, ':');
	if (!colon) {
		cfg_errorf(err, "missing :PORT (expected HOST:PORT, e.g. 127.0.0.1:443)");
		return -1;
	}
	if (memchr(text, ':', (size_t)(colon - text))) {
		cfg_errorf(err, "an IPv6 address must be in brackets (e.g. [::1]:443)");
		return -1;
	}
	if (colon == text) {
		cfg_errorf(err, "empty host (use * for any host)");
		return -1;
	}
	if (parse_host(text, (size_t)(colon - text), m, err) < 0)
		return -1;
	return parse_port(colon + 1, m, err);
}

int cfg_match_parse(const char *text, struct cfg_match *out, struct cfg_error *err)
{
	struct cfg_error why;
	char q[CFG_QUOTE_BUF];

	memset(out, 0, sizeof *out);
	if (!text) {
		cfg_errorf(err, "bad match: no text");
		return -1;
	}
	why.msg[0] = '\0';
	if (parse_match(text, out, &why) < 0) {
		cfg_match_clear(out);
		cfg_errorf(err, "bad match \"%s\": %s", cfg_quote(q, text), why.msg);
		return -1;
	}
	return 0;
}

void cfg_match_clear(struct cfg_match *m)
{
	if (!m)
		return;
	free(m->name);
	memset(m, 0, sizeof *m);
}

/* ---- matching -------------------------------------------------------- */

static int prefix_equal(const unsigned char *a, const unsigned char *b, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned mask = (0xffu << (8 - rest)) & 0xffu;
	return ((a[full] ^ b[full]) & mask) == 0;
}

/* Case-insensitive; a name from the resolver may end with the root's dot. */
static int name_matches(const struct cfg_match *m, const char *name)
{
	size_t n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	size_t rl = strlen(m->name);
	if (m->host_kind == CFG_HOST_NAME)
		return n == rl && strncasecmp(name, m->name, n) == 0;
	/* WILDCARD: at least one byte before ".domain", at any depth. */
	return n > rl && strncasecmp(name + n - rl, m->name, rl) == 0;
}

struct addr_view {
	int family;
	const unsigned char *addr;
	unsigned port;
};

static int view_of(const struct sockaddr *sa, socklen_t len, struct addr_view *v)
{
	if (!sa)
		return -1;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		v->family = AF_INET;
		v->addr = (const unsigned char *)&s4->sin_addr;
		v->port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		const unsigned char *a = s6->sin6_addr.s6_addr;
		v->port = ntohs(s6->sin6_port);
		if (memcmp(a, v4_mapped_prefix, 12) == 0) {
			v->family = AF_INET;
			v->addr = a + 12;
		} else {
			v->family = AF_INET6;
			v->addr = a;
		}
		return 0;
	}
	return -1;
}

static int rule_matches(const struct cfg_match *m, const struct addr_view *v,
                        const char *const *names, size_t n_names)
{
	if (v->port < m->port_lo || v->port > m->port_hi)
		return 0;
	switch (m->host_kind) {
	case CFG_HOST_ANY:
		return 1;
	case CFG_HOST_ADDR:
	case CFG_HOST_CIDR:
		return m->family == v->family && prefix_equal(m->addr, v->addr, m->prefix);
	case CFG_HOST_NAME:
	case CFG_HOST_WILDCARD:
		/* 2 + the index of the name that matched: that name is the
		 * identity the connection is bound to. */
		for (size_t i = 0; names && i < n_names; i++)
			if (names[i] && name_matches(m, names[i]))
				return i < (size_t)INT_MAX - 2 ? (int)i + 2 : 1;
		return 0;
	}
	return 0;
}

const struct cfg_rule *cfg_match_named(const struct cfg_ruleset *rs, enum cfg_side side,
                                       const struct sockaddr *sa, socklen_t len,
                                       const char *const *names, size_t n_names, size_t *which)
{
	struct addr_view v;
	if (which)
		*which = SIZE_MAX;
	if (!rs || view_of(sa, len, &v) < 0)
		return NULL;
	for (size_t i = 0; i < rs->count; i++) {
		const struct cfg_rule *r = &rs->rules[i];
		if (r->side != side)
			continue;
		int m = rule_matches(&r->match, &v, names, n_names);
		if (m == 0)
			continue;
		if (which && m > 1)
			*which = (size_t)(m - 2);
		return r;
	}
	return NULL;
}

const struct cfg_rule *cfg_match(const struct cfg_ruleset *rs, enum cfg_side side,
                                 const struct sockaddr *sa, socklen_t len,
                                 const char *const *names, size_t n_names)
{
	return cfg_match_named(rs, side, sa, len, names, n_names, NULL);
}

int cfg_rule_names_host(const struct cfg_rule *r, const char *name)
{
	if (!r || !name || r->passthrough ||
	    (r->match.host_kind != CFG_HOST_NAME && r->match.host_kind != CFG_HOST_WILDCARD))
		return 0;
	return name_matches(&r->match, name);
}
