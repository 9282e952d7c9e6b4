/*
 * fuzz_match.c - libFuzzer target: cfg_match_parse on arbitrary text, the
 * invariants of what it accepts, and cfg_match against the parsed rule.
 *
 *   make BUILD=build-fuzz CC=clang OPT="-O1 -g" \
 *        SAN="-fsanitize=fuzzer-no-link,address,undefined" build-fuzz/fuzz/fuzz_match
 *   build-fuzz/fuzz/fuzz_match -max_total_time=60 CORPUS
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_parsed(const struct cfg_match *m)
{
	if (m->port_lo > m->port_hi || m->port_hi > 65535)
		abort();
	switch (m->host_kind) {
	case CFG_HOST_ANY:
		if (m->name)
			abort();
		break;
	case CFG_HOST_ADDR:
	case CFG_HOST_CIDR:
		if (m->name || (m->family != AF_INET && m->family != AF_INET6) ||
		    m->prefix > (m->family == AF_INET ? 32u : 128u))
			abort();
		if (m->host_kind == CFG_HOST_ADDR && m->prefix != (m->family == AF_INET ? 32u : 128u))
			abort();
		break;
	case CFG_HOST_NAME:
	case CFG_HOST_WILDCARD:
		if (!m->name || !m->name[0] || strlen(m->name) > 254)
			abort();
		if ((m->host_kind == CFG_HOST_WILDCARD) != (m->name[0] == '.'))
			abort();
		for (const char *p = m->name; *p; p++)
			if (isupper((unsigned char)*p) || !(isalnum((unsigned char)*p) ||
			                                    *p == '-' || *p == '_' || *p == '.'))
				abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024)
		return 0;
	/* The first byte picks an address to match; the rest is the text. */
	unsigned char pick = size ? data[0] : 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	if (size)
		memcpy(text, data + 1, size - 1);
	text[size ? size - 1 : 0] = '\0';

	struct cfg_match m;
	struct cfg_error err;
	err.msg[0] = '\0';
	if (cfg_match_parse(text, &m, &err) < 0) {
		if (strncmp(err.msg, "bad match", 9) != 0 || m.name)
			abort();
		free(text);
		return 0;
	}
	check_parsed(&m);

	/* one rule, matched against an address derived from the rule itself
	 * (so CIDR and ADDR paths really compare) and from the pick byte */
	struct cfg_rule rule;
	memset(&rule, 0, sizeof rule);
	rule.match = m;
	struct cfg_ruleset rs = { .rules = &rule, .count = 1 };
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	memset(&s6, 0, sizeof s6);
	memset(&s4, 0, sizeof s4);
	s4.sin_family = AF_INET;
	s4.sin_port = htons((uint16_t)m.port_lo);
	memcpy(&s4.sin_addr, m.addr, 4);
	s4.sin_addr.s_addr ^= (uint32_t)pick << 24;
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons((uint16_t)m.port_hi);
	memcpy(&s6.sin6_addr, m.addr, 16);
	s6.sin6_addr.s6_addr[pick % 16] ^= pick;
	const char *names[] = { text, m.name ? m.name + (pick & 1) : "x" };
	const struct cfg_rule *r;
	r = cfg_match(&rs, CFG_CONNECT, (struct sockaddr *)&s4, sizeof s4, names, 2);
	if (r && r != &rule)
		abort();
	r = cfg_match(&rs, CFG_CONNECT, (struct sockaddr *)&s6, sizeof s6, names, 2);
	if (r && r != &rule)
		abort();
	if (pick == 0 && m.host_kind == CFG_HOST_ADDR && m.family == AF_INET &&
	    !cfg_match(&rs, CFG_CONNECT, (struct sockaddr *)&s4, sizeof s4, NULL, 0))
		abort(); /* an address rule matches its own address */
	if (cfg_match(&rs, CFG_ACCEPT, (struct sockaddr *)&s4, sizeof s4, names, 2))
		abort(); /* the rule is a connect rule */
	cfg_match_clear(&m);
	free(text);
	return 0;
}
