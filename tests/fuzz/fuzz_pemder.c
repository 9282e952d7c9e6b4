/*
 * fuzz_pemder.c - libFuzzer target for the certificate parsers:
 * PEM_cert_to_DER_cert, DER_cert_to_PEM_cert, certinfo_from_der with its
 * formatter, and cert_time_to_seconds, checking the round-trip
 * invariants:
 *   - PEM accepted -> DER -> PEM -> the same DER, and the PEM we print
 *     has Python's layout (header, 64-column lines, footer, "\n" each);
 *   - any non-empty bytes -> PEM -> the same bytes;
 *   - a DER that parses formats to non-empty valid UTF-8 text.
 *
 *   make fuzz      (every target), or for this one:
 *   make BUILD=build-fuzz CC=clang OPT="-O1 -g" \
 *        SAN="-fsanitize=fuzzer-no-link,address,undefined" build-fuzz/fuzz/fuzz_pemder
 *   build-fuzz/fuzz/fuzz_pemder -max_total_time=60 CORPUS
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sslsocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR "-----BEGIN CERTIFICATE-----\n"
#define FTR "-----END CERTIFICATE-----\n"

#define CHECK(c)                    \
	do {                        \
		if (!(c))           \
			abort();    \
	} while (0)

static void check_layout(const char *pem, size_t der_len)
{
	size_t n = strlen(pem), b64 = (der_len + 2) / 3 * 4, lines = (b64 + 63) / 64;
	const char *p;

	CHECK(n == strlen(HDR) + b64 + lines + strlen(FTR));
	CHECK(memcmp(pem, HDR, strlen(HDR)) == 0);
	CHECK(memcmp(pem + n - strlen(FTR), FTR, strlen(FTR)) == 0);
	p = pem + strlen(HDR);
	for (size_t i = 0; i < lines; i++) {
		const char *nl = strchr(p, '\n');
		CHECK(nl != NULL);
		CHECK(nl - p == (i + 1 < lines ? 64 : (ptrdiff_t)(b64 - 64 * i)));
		p = nl + 1;
	}
}

static int utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int k = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
		if (k < 0)
			return 0;
		p++;
		for (int i = 0; i < k; i++, p++)
			if ((*p & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

static void pem_direction(const char *text)
{
	size_t len = 0, len2 = 0;
	unsigned char *der = sslsocket_PEM_cert_to_DER_cert(text, &len, NULL), *der2;
	char *pem;

	if (!der) {
		CHECK(len == 0);
		return;
	}
	CHECK(len > 0);
	pem = sslsocket_DER_cert_to_PEM_cert(der, len, NULL);
	CHECK(pem != NULL);
	check_layout(pem, len);
	der2 = sslsocket_PEM_cert_to_DER_cert(pem, &len2, NULL);
	CHECK(der2 != NULL && len2 == len && memcmp(der, der2, len) == 0);
	free(der2);
	free(pem);
	free(der);
}

static void der_direction(const uint8_t *data, size_t size)
{
	struct sslsocket_error err;
	struct sslsocket_certinfo *ci;
	size_t len = 0;
	unsigned char *back;
	char *pem = sslsocket_DER_cert_to_PEM_cert(data, size, &err);

	if (size == 0) {
		CHECK(pem == NULL && err.code == SSLSOCKET_ERROR_VALUE);
		return;
	}
	CHECK(pem != NULL);
	check_layout(pem, size);
	back = sslsocket_PEM_cert_to_DER_cert(pem, &len, NULL);
	CHECK(back != NULL && len == size && memcmp(back, data, size) == 0);
	free(back);
	free(pem);

	ci = sslsocket_certinfo_from_der(data, size, &err);
	if (ci) {
		char *s = sslsocket_certinfo_format(ci);
		CHECK(s != NULL && s[0] == '{' && utf8_ok(s));
		if (ci->not_after) {
			time_t t;
			/* notAfter as OpenSSL prints it must read back, unless it
			 * is outside the years 1-9999 that the format allows. */
			if (sslsocket_cert_time_to_seconds(ci->not_after, &t, NULL) != 0)
				CHECK(strlen(ci->not_after) != 24);
		}
		free(s);
		sslsocket_certinfo_free(ci);
	} else {
		CHECK(err.code != SSLSOCKET_ERROR_NONE && err.reason[0]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	time_t t;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	pem_direction(text);
	(void)sslsocket_cert_time_to_seconds(text, &t, NULL);
	free(text);
	der_direction(data, size);
	return 0;
}
