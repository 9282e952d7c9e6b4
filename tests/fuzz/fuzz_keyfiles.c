/*
 * fuzz_keyfiles.c - libFuzzer target for the prefetch's own parsers (the
 * bytes of every certificate, key and CA file a configuration names go
 * through them before main): the PEM scanner, the certificate and key
 * DER walkers and the public-key comparison. Invariants:
 *   - the scan terminates and every block lies inside the input;
 *   - what a walker returns points inside the bytes it was given;
 *   - a key compared with itself is never "different".
 * The input is copied without a terminating NUL so that ASan sees any
 * read past its end.
 *
 *   make fuzz      (every target)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "files_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static int inside(const unsigned char *p, size_t n, const unsigned char *b, size_t len)
{
	return !p || (p >= b && n <= len && p + n <= b + len);
}

static void walk(const char *label, const unsigned char *der, size_t len)
{
	struct core_pubkey c, k;
	int have_c = core_der_cert(der, len, 1, &c) == 0;
	int have_k = core_der_key(label, der, len, &k) == 0;
	if (have_c) {
		CHECK(inside(c.a, c.a_len, der, len) && inside(c.b, c.b_len, der, len));
		CHECK(core_pubkey_same(&c, &c) != 0);
	}
	if (have_k) {
		CHECK(inside(k.a, k.a_len, der, len) && inside(k.b, k.b_len, der, len));
		CHECK(core_pubkey_same(&k, &k) != 0);
	}
	if (have_c && have_k)
		CHECK(core_pubkey_same(&c, &k) >= -1 && core_pubkey_same(&c, &k) <= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);

	static const char *const labels[] = {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"};
	for (size_t i = 0; i < 3; i++)
		walk(labels[i], (const unsigned char *)text, size);

	struct core_pem blk;
	size_t pos = 0, prev = 0;
	int r, blocks = 0;
	while ((r = core_pem_next(text, size, &pos, &blk)) == 1) {
		CHECK(pos > prev && pos <= size);
		prev = pos;
		CHECK(strlen(blk.label) < sizeof blk.label);
		if (!blk.bad)
			walk(blk.label, blk.der, blk.der_len);
		else
			CHECK(blk.der == NULL);
		core_pem_clear(&blk);
		blocks++;
	}
	CHECK(r == 0 && pos == size);
	free(text);
	return 0;
}
