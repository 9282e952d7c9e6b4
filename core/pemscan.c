/*
 * pemscan.c - PEM blocks from text, as leniently as OpenSSL's reader: text
 * before, between and after blocks is skipped, lines may end in CR LF and
 * carry trailing blanks, RFC 1421 headers are allowed. A block whose body
 * is not base64 is returned marked bad, not skipped, because OpenSSL fails
 * on it too. (cert_pem.c is the seed's strict PEM_cert_to_DER_cert.)
 */
#include <stdlib.h>
#include <string.h>

#include "files_int.h"

int core_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* The line [s, e) without its trailing blanks. */
static size_t trimmed_len(const char *s, const char *e)
{
	while (e > s && blank((unsigned char)e[-1]))
		e--;
	return (size_t)(e - s);
}

/* Decodes base64 from the lines [s, e), ignoring blanks. -1 if not base64. */
static int b64_decode(const char *s, const char *e, struct core_pem *blk)
{
	size_t cap = (size_t)(e - s) / 4 * 3 + 3, n = 0;
	unsigned char *out = malloc(cap ? cap : 1);
	unsigned acc = 0;
	int bits = 0, pad = 0, seen = 0;

	if (!out)
		return -2;
	for (const char *p = s; p < e; p++) {
		unsigned char c = (unsigned char)*p;
		if (blank(c))
			continue;
		seen++;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = core_b64_value(c);
		if (v < 0 || pad)
			goto bad; /* data after padding, or not base64 at all */
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (seen == 0 || seen % 4 != 0 || pad > 2)
		goto bad;
	blk->der = out;
	blk->der_len = n;
	return 0;
bad:
	explicit_bzero(out, cap);
	free(out);
	return -1;
}

int core_pem_next(const char *text, size_t len, size_t *pos, struct core_pem *blk)
{
	const char *end = text + len, *p = text + *pos;

	memset(blk, 0, sizeof *blk);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;
		size_t l = trimmed_len(p, eol ? eol : end);

		if (l < 16 || strncmp(p, "-----BEGIN ", 11) != 0 || strncmp(p + l - 5, "-----", 5) != 0) {
			p = next;
			continue;
		}
		size_t ll = l - 16;
		if (ll >= sizeof blk->label)
			ll = sizeof blk->label - 1;
		memcpy(blk->label, p + 11, ll);
		blk->label[ll] = 0;

		/* the body: up to the END line */
		const char *body = next, *b = next, *bend = NULL, *after = end;
		int headers = 0, in_headers = 0, first = 1;
		while (b < end) {
			const char *e2 = memchr(b, '\n', (size_t)(end - b));
			const char *n2 = e2 ? e2 + 1 : end;
			size_t l2 = trimmed_len(b, e2 ? e2 : end);

			if (l2 >= 9 && strncmp(b, "-----END ", 9) == 0) {
				bend = b;
				after = n2;
				/* The END label must be the BEGIN label, as OpenSSL insists. */
				if (l2 != 14 + strlen(blk->label) ||
				    strncmp(b + 9, blk->label, strlen(blk->label)) != 0)
					blk->bad = 1;
				break;
			}
			if (first && memchr(b, ':', l2)) {
				headers = in_headers = 1;
			}
			first = 0;
			if (in_headers) {
				if (l2 == 0) {
					in_headers = 0;
					body = n2;
				} else if (l2 > 10 && strncmp(b, "Proc-Type:", 10) == 0 &&
				           memmem(b, l2, "ENCRYPTED", 9)) {
					blk->encrypted = 1;
				}
			}
			b = n2;
		}
		if (!bend || (headers && in_headers)) {
			blk->bad = 1;
			*pos = (size_t)(end - text);
			return 1;
		}
		*pos = (size_t)(after - text);
		if (!blk->bad) {
			int r = b64_decode(body, bend, blk);
			if (r == -2)
				return -1;
			if (r < 0)
				blk->bad = 1;
		}
		return 1;
	}
	*pos = len;
	return 0;
}

void core_pem_clear(struct core_pem *blk)
{
	if (blk->der) {
		explicit_bzero(blk->der, blk->der_len);
		free(blk->der);
	}
	memset(blk, 0, sizeof *blk);
}

int core_pem_is_cert(const char *label)
{
	return strcmp(label, "CERTIFICATE") == 0 || strcmp(label, "TRUSTED CERTIFICATE") == 0 ||
	       strcmp(label, "X509 CERTIFICATE") == 0;
}

int core_pem_is_key(const char *label)
{
	size_t n = strlen(label);
	return n >= 11 && strcmp(label + n - 11, "PRIVATE KEY") == 0;
}

int core_pem_is_crl(const char *label)
{
	return strcmp(label, "X509 CRL") == 0;
}
