/*
 * fuzz_config.c - libFuzzer target: cfg_load on arbitrary
 * TLSSHIM_CONFIG_STRING text, then cfg_match on what it built.
 *
 *   make fuzz      (every target, FUZZ_SECONDS each), or for this one:
 *   make BUILD=build-fuzz CC=clang OPT="-O1 -g" \
 *        SAN="-fsanitize=fuzzer-no-link,address,undefined" build-fuzz/fuzz/fuzz_config
 *   build-fuzz/fuzz/fuzz_config -max_total_time=60 -dict=tests/fuzz/fuzz_config.dict CORPUS
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 leaks a string (from its lexer, or its string buffer)
 * when a syntax error cuts a string literal short; both reproduce with
 * libconfig alone, no tlsshim code. A program stops at a config error, so
 * it costs nothing there; here it would hide every other finding. Leaks
 * through any other libconfig path (a missing config_destroy) still show. */
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

static void probe(const struct cfg_ruleset *rs)
{
	static const char *const names[] = { "www.example.com", "DB.INTERNAL.", "localhost" };
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	memset(&s4, 0, sizeof s4);
	memset(&s6, 0, sizeof s6);
	s4.sin_family = AF_INET;
	s6.sin6_family = AF_INET6;
	for (unsigned port = 0; port < 65536; port += 4097) {
		s4.sin_port = htons((uint16_t)port);
		s6.sin6_port = htons((uint16_t)port);
		s4.sin_addr.s_addr = htonl(0x0a000001u + port);
		inet_pton(AF_INET6, port & 1 ? "::ffff:10.0.0.1" : "fd00::1", &s6.sin6_addr);
		for (int side = CFG_CONNECT; side <= CFG_ACCEPT; side++) {
			const struct cfg_rule *r;
			r = cfg_match(rs, side, (struct sockaddr *)&s4, sizeof s4, names, 3);
			if (r && (r->side != (enum cfg_side)side || r->index >= rs->count))
				abort();
			r = cfg_match(rs, side, (struct sockaddr *)&s6, sizeof s6, names, 3);
			if (r && (r->side != (enum cfg_side)side || r->index >= rs->count))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* @include reads other files (/dev/zero would never end): that is
	 * libconfig's file reading, not the parser this target is about. */
	if (strcasestr(text, "@include")) {
		free(text);
		return 0;
	}
	struct cfg_error err;
	struct cfg_ruleset *rs = cfg_load(text, NULL, &cfg_core_checks, &err);
	if (rs) {
		for (size_t i = 0; i < rs->count; i++) {
			const struct cfg_rule *r = &rs->rules[i];
			if (r->index != i || !r->file || !r->match_text || r->line <= 0 ||
			    r->match.port_lo > r->match.port_hi || r->match.port_hi > 65535)
				abort();
			if (!r->passthrough && r->opts.handshake_timeout_ms <= 0)
				abort();
		}
		probe(rs);
		cfg_ruleset_free(rs);
	} else if (strncmp(err.msg, "TLSSHIM_CONFIG_STRING", 21) != 0 || !memchr(err.msg, 0, sizeof err.msg) ||
	           err.source != CFG_ERR_STRING || strcmp(err.where, "TLSSHIM_CONFIG_STRING") != 0 ||
	           err.what >= sizeof err.msg || err.line < 0) {
		/* every failure names where it is, in the text and the fields */
		fprintf(stderr, "bad error message: %s\n", err.msg);
		abort();
	}
	free(text);
	return 0;
}
