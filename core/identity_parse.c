/*
 * identity_parse.c - the peer identities a rule accepts (allow_names) and
 * the keys it pins (pin_sha256): parsing and matching as pure functions,
 * without OpenSSL (the launcher's configuration check links this file).
 * identity.c applies them to a peer's certificate during the handshake.
 *
 * allow_names entries:
 *   "db.internal"              a DNS name (subjectAltName dNSName), exactly
 *   "*.example.com"            one label under example.com: not example.com
 *                              itself, not a.b.example.com
 *   "10.0.0.1", "fd00::1"      an IP address (subjectAltName iPAddress)
 *   "spiffe://example.org/ns/prod/sa/web"
 *                              a URI (subjectAltName URI); in the path, a
 *                              segment "*" stands for exactly one segment and
 *                              a last segment "**" for one or more
 *   "CN=name"                  the subject's common name, exactly
 * DNS names and a URI's scheme and authority compare without regard to
 * case; a trailing dot is not part of a DNS name. A wildcard in the peer's
 * certificate ("*.example.com" as a dNSName) matches only the same
 * wildcard entry, never a name under it: an allow-list names identities.
 *
 * pin_sha256 entries: the base64 SHA-256 digest of the peer's
 * SubjectPublicKeyInfo (HPKP, curl's --pinnedpubkey sha256//...), with or
 * without the "sha256//" prefix.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity_int.h"
#include "files_int.h"

#define MAX_ENTRY 2048
#define DNS_MAX 253

static int why_set(char *why, size_t whylen, const char *fmt, ...) CORE_PRINTF(3, 4);
static int why_set(char *why, size_t whylen, const char *fmt, ...)
{
	if (why && whylen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- DNS names ------------------------------------------------------------ */

/* A host name of letters, digits, '-' and '_' in labels of 1 to 63 bytes,
 * at most 253 bytes (a trailing dot not counted). */
static int dns_check(const char *s, size_t n, char *why, size_t whylen)
{
	size_t label = 0;

	if (n > 1 && s[n - 1] == '.')
		n--;
	if (n == 0)
		return why_set(why, whylen, "empty DNS name");
	if (n > DNS_MAX)
		return why_set(why, whylen, "DNS name longer than %d bytes", DNS_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return why_set(why, whylen, "empty label in a DNS name");
			label = 0;
			continue;
		}
		if (c == '*')
			return why_set(why, whylen, "'*' is allowed only as a whole first label "
			               "(\"*.example.com\")");
		if (!isalnum(c) && c != '-' && c != '_')
			return why_set(why, whylen, "character 0x%02x is not allowed in a DNS name", c);
		if (++label > 63)
			return why_set(why, whylen, "label longer than 63 bytes in a DNS name");
	}
	if (label == 0)
		return why_set(why, whylen, "empty label in a DNS name");
	return 0;
}

/* Lower case, without a trailing dot. */
static char *dns_norm(const char *s, size_t n)
{
	if (n > 1 && s[n - 1] == '.')
		n--;
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)s[i]);
	d[n] = '\0';
	return d;
}

int core_dns_pattern_match(const char *pattern, const char *name, size_t n)
{
	size_t pl = strlen(pattern);

	if (!name || n == 0 || memchr(name, '\0', n))
		return 0; /* an embedded NUL is an attack, not a name */
	if (n > 1 && name[n - 1] == '.')
		n--;
	if (pl > 1 && pattern[pl - 1] == '.')
		pl--;
	/* the same text: "db.internal", or a certificate wildcard matching
	 * the same wildcard entry */
	if (n == pl && strncasecmp(name, pattern, n) == 0)
		return 1;
	if (pl < 3 || pattern[0] != '*' || pattern[1] != '.')
		return 0;
	/* "*.example.com": exactly one more label, not itself a wildcard */
	size_t suffix = pl - 1; /* ".example.com" */
	if (n <= suffix || strncasecmp(name + n - suffix, pattern + 1, suffix) != 0)
		return 0;
	for (size_t i = 0; i < n - suffix; i++)
		if (name[i] == '.' || name[i] == '*')
			return 0;
	return 1;
}

/* ---- URIs ----------------------------------------------------------------- */

/* The length of "scheme://authority" in s, 0 if s does not start so. */
static size_t uri_prefix(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !isalpha((unsigned char)s[0]))
		return 0;
	while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
		i++;
	if (i + 3 > n || memcmp(s + i, "://", 3) != 0)
		return 0;
	i += 3;
	size_t a = i;
	while (i < n && s[i] != '/')
		i++;
	return i > a ? i : 0;
}

static int uri_check(const char *s, size_t n, char *why, size_t whylen)
{
	size_t p = uri_prefix(s, n);

	if (p == 0)
		return why_set(why, whylen, "not a URI pattern: expected scheme://authority/path "
		               "(e.g. spiffe://example.org/ns/prod/sa/web)");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7f)
			return why_set(why, whylen, "character 0x%02x is not allowed in a URI", c);
		if (c == '?' || c == '#')
			return why_set(why, whylen, "'%c': a query or fragment is never part of an "
			               "identity", c);
	}
	if (memchr(s, '*', p))
		return why_set(why, whylen, "'*' is allowed only in the path, as a whole segment");
	/* the path: "/seg/seg", no empty segment, "*" whole, "**" whole and last */
	size_t i = p;
	while (i < n) {
		size_t b = ++i; /* past '/' */
		while (i < n && s[i] != '/')
			i++;
		size_t len = i - b;
		if (len == 0)
			return why_set(why, whylen, "empty path segment in a URI pattern");
		const char *star = memchr(s + b, '*', len);
		if (!star)
			continue;
		if (len == 2 && s[b] == '*' && s[b + 1] == '*') {
			if (i != n)
				return why_set(why, whylen, "\"**\" is allowed only as the last segment");
			continue;
		}
		if (len != 1)
			return why_set(why, whylen, "'*' must be a whole path segment (\"/*/\", or "
			               "\"/**\" at the end)");
	}
	return 0;
}

int core_uri_pattern_match(const char *pattern, const char *uri, size_t n)
{
	size_t pn = strlen(pattern);

	if (!uri || memchr(uri, '\0', n))
		return 0;
	size_t pp = uri_prefix(pattern, pn), up = uri_prefix(uri, n);
	if (pp == 0 || up != pp || strncasecmp(pattern, uri, pp) != 0)
		return 0;
	const char *p = pattern + pp, *pe = pattern + pn;
	const char *u = uri + up, *ue = uri + n;
	for (;;) {
		if (p == pe)
			return u == ue;
		if (u == ue)
			return 0;
		/* both at '/' */
		if (*p != '/' || *u != '/')
			return 0;
		p++;
		u++;
		const char *ps = p, *us = u;
		while (p < pe && *p != '/')
			p++;
		while (u < ue && *u != '/')
			u++;
		size_t pl = (size_t)(p - ps), ul = (size_t)(u - us);
		if (pl == 2 && ps[0] == '*' && ps[1] == '*')
			return ue > us && ul > 0; /* one or more segments, the first non-empty */
		if (pl == 1 && ps[0] == '*') {
			if (ul == 0)
				return 0;
			continue;
		}
		if (pl != ul || memcmp(ps, us, pl) != 0)
			return 0;
	}
}

/* ---- allow_names entries -------------------------------------------------- */

int core_allow_name_parse(const char *entry, struct core_name_pattern *out, char *why,
                          size_t whylen)
{
	struct core_name_pattern pat = {0};
	size_t n;

	if (out)
		memset(out, 0, sizeof *out);
	if (!entry)
		return why_set(why, whylen, "no entry");
	n = strlen(entry);
	if (n == 0)
		return why_set(why, whylen, "empty entry");
	if (n > MAX_ENTRY)
		return why_set(why, whylen, "longer than %d bytes", MAX_ENTRY);
	if (strncasecmp(entry, "CN=", 3) == 0) {
		if (n == 3)
			return why_set(why, whylen, "empty common name after \"CN=\"");
		for (size_t i = 3; i < n; i++)
			if ((unsigned char)entry[i] < ' ' || entry[i] == 0x7f)
				return why_set(why, whylen, "control character in a common name");
		pat.kind = CORE_NAME_CN;
		pat.text = strdup(entry + 3);
	} else if (strstr(entry, "://")) {
		if (uri_check(entry, n, why, whylen) < 0)
			return -1;
		pat.kind = CORE_NAME_URI;
		pat.text = strdup(entry);
	} else if (inet_pton(AF_INET, entry, pat.ip) == 1) {
		pat.kind = CORE_NAME_IP;
		pat.iplen = 4;
		pat.text = strdup(entry);
	} else if (inet_pton(AF_INET6, entry, pat.ip) == 1) {
		pat.kind = CORE_NAME_IP;
		pat.iplen = 16;
		pat.text = strdup(entry);
	} else {
		int wild = n > 2 && entry[0] == '*' && entry[1] == '.';
		if (entry[0] == '*' && !wild)
			return why_set(why, whylen, "'*' is allowed only as a whole first label "
			               "(\"*.example.com\")");
		if (dns_check(entry + (wild ? 2 : 0), n - (wild ? 2 : 0), why, whylen) < 0)
			return -1;
		pat.kind = CORE_NAME_DNS;
		pat.text = dns_norm(entry, n);
	}
	if (!pat.text)
		return why_set(why, whylen, "out of memory");
	if (out)
		*out = pat;
	else
		free(pat.text);
	return 0;
}

void core_name_pattern_clear(struct core_name_pattern *p)
{
	if (!p)
		return;
	free(p->text);
	memset(p, 0, sizeof *p);
}

/* ---- pins ----------------------------------------------------------------- */

static int pin_decode(const char *pin, unsigned char digest[CORE_PIN_LEN], char *why, size_t whylen)
{
	unsigned char out[CORE_PIN_LEN + 3];
	size_t n, k = 0, pad = 0;
	unsigned acc = 0;
	int bits = 0;

	n = strlen(pin);
	if (n == 0)
		return why_set(why, whylen, "empty pin");
	while (n > 0 && pin[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	for (size_t i = 0; i < n; i++)
		if (core_b64_value((unsigned char)pin[i]) < 0)
			return why_set(why, whylen, "not base64: character 0x%02x at %zu",
			               (unsigned char)pin[i], i + 1);
	if (pad && (n + pad) % 4 != 0)
		return why_set(why, whylen, "not base64: bad padding");
	if (n % 4 == 1)
		return why_set(why, whylen, "not base64: truncated");
	for (size_t i = 0; i < n; i++) {
		int v = core_b64_value((unsigned char)pin[i]);
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (k < sizeof out)
				out[k] = (unsigned char)(acc >> bits);
			k++;
			acc &= (1u << bits) - 1;
		}
	}
	if (k != CORE_PIN_LEN)
		return why_set(why, whylen, "decodes to %zu bytes; a SHA-256 digest is %d "
		               "(44 base64 characters)", k, CORE_PIN_LEN);
	if (digest)
		memcpy(digest, out, CORE_PIN_LEN);
	return 0;
}

int core_pin_parse(const char *pin, unsigned char digest[CORE_PIN_LEN], char *why, size_t whylen)
{
	if (!pin)
		return why_set(why, whylen, "no pin");
	/* "sha256//" is optional, and its letters and slashes are base64
	 * digits too: a bare pin may itself begin with "sha256//" (fuzz_pin
	 * found one). The prefix is taken as a prefix only when the rest is a
	 * pin; else the whole text is the pin. The two readings cannot both
	 * be 32 bytes (their lengths differ by 8). */
	if (strncmp(pin, "sha256//", 8) == 0) {
		if (pin_decode(pin + 8, digest, why, whylen) == 0)
			return 0;
		char ignored[8];
		if (pin_decode(pin, digest, ignored, sizeof ignored) == 0)
			return 0;
		return pin_decode(pin + 8, digest, why, whylen);
	}
	return pin_decode(pin, digest, why, whylen);
}

/* ---- the public checks ---------------------------------------------------- */

int sslsocket_allow_name_parse(const char *entry, struct sslsocket_error *err)
{
	char why[200];
	int saved = errno;

	if (core_allow_name_parse(entry, NULL, why, sizeof why) < 0) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "%s", why);
		core_err_option(err, SSLSOCKET_OPT_ALLOW_NAMES, NULL);
		return -1;
	}
	errno = saved;
	return 0;
}

int sslsocket_pin_sha256_parse(const char *pin, unsigned char digest[32],
                               struct sslsocket_error *err)
{
	char why[200];
	int saved = errno;

	if (core_pin_parse(pin, digest, why, sizeof why) < 0) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "%s", why);
		core_err_option(err, SSLSOCKET_OPT_PIN_SHA256, NULL);
		return -1;
	}
	errno = saved;
	return 0;
}

int core_identity_options_check(const struct sslsocket_options *o, struct sslsocket_error *err)
{
	char why[200];

	if ((o->allow_names_count && !o->allow_names) || (o->pin_sha256_count && !o->pin_sha256)) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "a count without its list");
		core_err_option(err, o->allow_names_count && !o->allow_names ? SSLSOCKET_OPT_ALLOW_NAMES
		                                                             : SSLSOCKET_OPT_PIN_SHA256,
		                NULL);
		return -1;
	}
	if (!o->allow_names_count && !o->pin_sha256_count)
		return 0;
	if (o->cert_reqs == SSLSOCKET_CERT_NONE) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL,
		             "%s needs cert_reqs CERT_REQUIRED or CERT_OPTIONAL: with CERT_NONE "
		             "the peer's certificate is not verified",
		             o->allow_names_count ? "allow_names" : "pin_sha256");
		core_err_option(err, o->allow_names_count ? SSLSOCKET_OPT_ALLOW_NAMES
		                                          : SSLSOCKET_OPT_PIN_SHA256, NULL);
		return -1;
	}
	for (size_t i = 0; i < o->allow_names_count; i++) {
		if (core_allow_name_parse(o->allow_names[i], NULL, why, sizeof why) < 0) {
			core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "allow_names entry %zu: %s",
			             i + 1, why);
			core_err_option(err, SSLSOCKET_OPT_ALLOW_NAMES, NULL);
			return -1;
		}
	}
	for (size_t i = 0; i < o->pin_sha256_count; i++) {
		if (core_pin_parse(o->pin_sha256[i], NULL, why, sizeof why) < 0) {
			core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "pin_sha256 entry %zu: %s",
			             i + 1, why);
			core_err_option(err, SSLSOCKET_OPT_PIN_SHA256, NULL);
			return -1;
		}
	}
	return 0;
}
