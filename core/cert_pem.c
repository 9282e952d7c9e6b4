/*
 * cert_pem.c - DER_cert_to_PEM_cert and PEM_cert_to_DER_cert.
 *
 * Output is byte for byte Python's ssl.DER_cert_to_PEM_cert: the header,
 * standard base64 in 64-column lines, the footer, each line ending in
 * "\n". Like Python, neither direction parses the certificate itself
 * (the DER is only carried), but empty input is an error.
 *
 * Input is stricter than Python, which starts at the header, strips
 * whitespace before looking for the footer, then hands the rest to
 * base64.decodebytes, which silently skips characters outside the
 * alphabet and stops at the first complete padding. Here the body may
 * hold only the base64 alphabet and whitespace, padding only at its end,
 * and a whole number of 4-character groups; anything else is malformed
 * and rejected rather than guessed at.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ossl_int.h"

#include "cert_int.h"
#include "files_int.h"

#define PEM_HEADER "-----BEGIN CERTIFICATE-----"
#define PEM_FOOTER "-----END CERTIFICATE-----"

char *sslsocket_DER_cert_to_PEM_cert(const unsigned char *der, size_t len,
                                     struct sslsocket_error *err)
{
	size_t lines, cap, off;
	char *pem;

	if (!der || len == 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "DER_cert_to_PEM_cert: empty input");
		return NULL;
	}
	/* 48 bytes make one 64-character line. */
	lines = len / 48 + (len % 48 != 0);
	if (lines > (SIZE_MAX - 128) / 66) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "DER_cert_to_PEM_cert: input too large");
		return NULL;
	}
	cap = sizeof PEM_HEADER + sizeof PEM_FOOTER + 1 + lines * 66;
	pem = malloc(cap);
	if (!pem) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "out of memory");
		return NULL;
	}
	memcpy(pem, PEM_HEADER "\n", sizeof PEM_HEADER);
	off = sizeof PEM_HEADER;
	for (size_t i = 0; i < len; i += 48) {
		size_t n = len - i < 48 ? len - i : 48;
		off += (size_t)EVP_EncodeBlock((unsigned char *)pem + off, der + i, (int)n);
		pem[off++] = '\n';
	}
	memcpy(pem + off, PEM_FOOTER "\n", sizeof PEM_FOOTER + 1);
	return pem;
}

/* Python's str.isspace() on ASCII. */
static int is_space(unsigned char c)
{
	return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
}

unsigned char *sslsocket_PEM_cert_to_DER_cert(const char *pem, size_t *len,
                                              struct sslsocket_error *err)
{
	const unsigned char *body, *end;
	unsigned char *der = NULL;
	size_t total, hlen = strlen(PEM_HEADER), flen = strlen(PEM_FOOTER);
	size_t out = 0, groups_pad = 0;
	uint32_t acc = 0;
	int quad = 0, pads = 0;

	if (len)
		*len = 0;
	if (!pem || !len) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "PEM_cert_to_DER_cert: no input");
		return NULL;
	}
	total = strlen(pem);
	if (strncmp(pem, PEM_HEADER, hlen) != 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE,
		                    "invalid PEM encoding; must start with %s", PEM_HEADER);
		return NULL;
	}
	/* The footer ends the text, trailing whitespace aside (Python's
	 * .strip().endswith()). */
	while (total > hlen && is_space((unsigned char)pem[total - 1]))
		total--;
	if (total < hlen + flen || memcmp(pem + total - flen, PEM_FOOTER, flen) != 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE,
		                    "invalid PEM encoding; must end with %s", PEM_FOOTER);
		return NULL;
	}
	body = (const unsigned char *)pem + hlen;
	end = (const unsigned char *)pem + total - flen;
	der = malloc((size_t)(end - body) / 4 * 3 + 3);
	if (!der) {
		core_cert_error_set(err, SSLSOCKET_ERROR_SSL, "out of memory");
		return NULL;
	}
	for (const unsigned char *p = body; p < end; p++) {
		int v;

		if (is_space(*p))
			continue;
		if (*p == '=') {
			/* "xx==" or "xxx=": only in the last group. */
			if (quad < 2 || quad + pads >= 4) {
				core_cert_error_set(err, SSLSOCKET_ERROR_VALUE,
				                    "invalid PEM encoding: misplaced '=' at offset %zu",
				                    (size_t)(p - (const unsigned char *)pem));
				goto fail;
			}
			pads++;
			continue;
		}
		v = core_b64_value(*p);
		if (v < 0 || pads) {
			core_cert_error_set(err, SSLSOCKET_ERROR_VALUE,
			                    v < 0 ? "invalid PEM encoding: byte 0x%02x at offset %zu is not base64"
			                          : "invalid PEM encoding: data after padding (byte 0x%02x at offset %zu)",
			                    *p, (size_t)(p - (const unsigned char *)pem));
			goto fail;
		}
		acc = (acc << 6) | (uint32_t)v;
		if (++quad == 4) {
			der[out++] = (unsigned char)(acc >> 16);
			der[out++] = (unsigned char)(acc >> 8);
			der[out++] = (unsigned char)acc;
			quad = 0;
			acc = 0;
		}
	}
	if (pads) {
		if (quad + pads != 4) {
			core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "invalid PEM encoding: incorrect padding");
			goto fail;
		}
		groups_pad = (size_t)quad;
		acc <<= 6 * pads;
		/* The bits below the last whole byte must be zero (canonical
		 * base64), or two texts would give one DER. */
		if ((quad == 2 && (acc & 0xFFFF)) || (quad == 3 && (acc & 0xFF))) {
			core_cert_error_set(err, SSLSOCKET_ERROR_VALUE,
			                    "invalid PEM encoding: non-zero bits in the last group");
			goto fail;
		}
		der[out++] = (unsigned char)(acc >> 16);
		if (groups_pad == 3)
			der[out++] = (unsigned char)(acc >> 8);
	} else if (quad != 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE,
		                    "invalid PEM encoding: base64 length is not a multiple of 4");
		goto fail;
	}
	if (out == 0) {
		core_cert_error_set(err, SSLSOCKET_ERROR_VALUE, "invalid PEM encoding: no data");
		goto fail;
	}
	*len = out;
	return der;
fail:
	free(der);
	return NULL;
}
