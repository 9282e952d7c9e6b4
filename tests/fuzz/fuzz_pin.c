/*
 * fuzz_pin.c - libFuzzer target for the pin_sha256 parser
 * (core/identity_parse.c): base64 of a 32-byte SPKI digest, "sha256//"
 * optional. Invariants: the public check agrees with the internal parser
 * and fills the same digest; a refusal has a reason; an accepted pin
 * re-encoded canonically (44 characters, one '=') parses, with and without
 * the prefix, to the same digest.
 *
 *   make fuzz      (every target)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity_int.h"
#include "sslsocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static void b64(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = i + 1 < n ? a[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	out[o] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024)
		return 0;
	char *pin = malloc(size + 1);
	if (!pin)
		return 0;
	memcpy(pin, data, size);
	pin[size] = '\0';

	unsigned char d1[CORE_PIN_LEN], d2[32], d3[CORE_PIN_LEN];
	char why[200] = "";
	struct sslsocket_error err;
	memset(&err, 0, sizeof err);
	int rc = core_pin_parse(pin, d1, why, sizeof why);
	int pub = sslsocket_pin_sha256_parse(pin, d2, &err);
	CHECK((rc == 0) == (pub == 0));
	if (rc < 0) {
		CHECK(why[0] != '\0' && err.reason[0] != '\0');
	} else {
		CHECK(memcmp(d1, d2, CORE_PIN_LEN) == 0);
		char canon[8 + 48];
		memcpy(canon, "sha256//", 8);
		b64(d1, CORE_PIN_LEN, canon + 8);
		CHECK(strlen(canon + 8) == 44);
		CHECK(core_pin_parse(canon, d3, NULL, 0) == 0 && memcmp(d1, d3, CORE_PIN_LEN) == 0);
		CHECK(core_pin_parse(canon + 8, d3, NULL, 0) == 0 && memcmp(d1, d3, CORE_PIN_LEN) == 0);
		CHECK(core_pin_parse(canon + 8, NULL, NULL, 0) == 0);
	}
	free(pin);
	return 0;
}
