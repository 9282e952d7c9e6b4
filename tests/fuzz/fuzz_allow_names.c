/*
 * fuzz_allow_names.c - libFuzzer target for the allow_names parser and
 * matchers (core/identity_parse.c): the first line of the input is an
 * allow_names entry, the rest (NUL bytes and all) a name the peer's
 * certificate presents. Invariants:
 *   - the public check (sslsocket_allow_name_parse) agrees with the
 *     internal parser; a refusal has a reason;
 *   - a parsed entry is well-formed for its kind (DNS: lower case, no
 *     trailing dot, '*' only as "*." first label; IP: 4 or 16 bytes);
 *   - an entry without wildcards matches its own text (DNS, URI), a DNS
 *     entry matches itself with a trailing dot and in upper case;
 *   - a presented name with an embedded NUL never matches;
 *   - a "*." entry never matches a name with more than one extra label.
 *
 *   make fuzz      (every target)
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity_int.h"
#include "sslsocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static void check_dns(const struct core_name_pattern *p)
{
	const char *t = p->text;
	size_t n = strlen(t);
	CHECK(n > 0 && (t[n - 1] != '.' || n == 1));
	for (size_t i = 0; i < n; i++) {
		CHECK(!isupper((unsigned char)t[i]));
		CHECK(t[i] != '*' || (i == 0 && n > 2 && t[1] == '.'));
	}
	/* itself, with a trailing dot, in upper case */
	CHECK(core_dns_pattern_match(t, t, n) == 1);
	char *u = malloc(n + 2);
	if (!u)
		return;
	for (size_t i = 0; i < n; i++)
		u[i] = (char)toupper((unsigned char)t[i]);
	u[n] = '.';
	u[n + 1] = '\0';
	CHECK(core_dns_pattern_match(t, u, n + 1) == 1);
	free(u);
}

static void check_match(const struct core_name_pattern *p, const char *name, size_t n)
{
	int has_nul = memchr(name, '\0', n) != NULL;
	if (p->kind == CORE_NAME_DNS) {
		int m = core_dns_pattern_match(p->text, name, n);
		CHECK(m == 0 || m == 1);
		CHECK(!(m && has_nul));
		size_t pl = strlen(p->text), len = n;
		if (len > 1 && name[len - 1] == '.')
			len--;
		int same = len == pl && strncasecmp(name, p->text, len) == 0;
		if (m && p->text[0] == '*' && !same) {
			/* exactly one label more than the suffix (the name is not
			 * NUL-terminated: lengths only) */
			size_t suffix = pl - 1;
			CHECK(len > suffix);
			CHECK(memchr(name, '.', len - suffix) == NULL);
		}
	} else if (p->kind == CORE_NAME_URI) {
		int m = core_uri_pattern_match(p->text, name, n);
		CHECK(m == 0 || m == 1);
		CHECK(!(m && has_nul));
		if (!strchr(p->text, '*'))
			CHECK(core_uri_pattern_match(p->text, p->text, strlen(p->text)) == 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t elen = nl ? (size_t)(nl - data) : size;
	char *entry = malloc(elen + 1);
	size_t nlen = nl ? size - elen - 1 : 0;
	char *name = malloc(nlen ? nlen : 1);
	if (!entry || !name) {
		free(entry);
		free(name);
		return 0;
	}
	memcpy(entry, data, elen);
	entry[elen] = '\0';
	if (nlen)
		memcpy(name, nl + 1, nlen);

	struct core_name_pattern p;
	struct sslsocket_error err;
	char why[200] = "";
	int rc = core_allow_name_parse(entry, &p, why, sizeof why);
	memset(&err, 0, sizeof err);
	int pub = sslsocket_allow_name_parse(entry, &err);
	CHECK((rc == 0) == (pub == 0));
	if (rc < 0) {
		CHECK(why[0] != '\0' && err.reason[0] != '\0');
	} else {
		CHECK(p.text != NULL);
		switch (p.kind) {
		case CORE_NAME_DNS: check_dns(&p); break;
		case CORE_NAME_IP: CHECK(p.iplen == 4 || p.iplen == 16); break;
		case CORE_NAME_URI: CHECK(strstr(p.text, "://") != NULL); break;
		case CORE_NAME_CN: break;
		default: abort();
		}
		check_match(&p, name, nlen);
		core_name_pattern_clear(&p);
	}
	free(entry);
	free(name);
	return 0;
}
