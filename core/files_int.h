/*
 * files_int.h - private to libsslsocket: the certificate, key and CA files
 * of the options, from their bytes.
 *
 * blob.c       a file's bytes, read now or kept from sslsocket_options_prefetch
 * pemscan.c    PEM blocks, as leniently as OpenSSL's reader takes them
 * der.c        just enough DER to find a certificate's public key and a
 *              private key's public half
 * quickcheck.c sslsocket_options_prefetch: the files checked without
 *              OpenSSL's providers (start-up cost)
 * ctx_files.c  the bytes loaded into an SSL_CTX
 */
#ifndef SSLSOCKET_FILES_INT_H
#define SSLSOCKET_FILES_INT_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "sslsocket_int.h"

/* ---- blob.c ---------------------------------------------------------------- */

/* Files larger than this are refused (a CA bundle is a few hundred KiB). */
#define CORE_BLOB_MAX (64u << 20)

struct core_blob {
	unsigned char *data; /* NUL-terminated, len bytes before it */
	size_t len;
	int kept;            /* owned by the prefetch cache, not by us */
};

/* The bytes of path: the prefetched copy if there is one, else read now.
 * what ("certificate", "private key", "CA certificates") words the error:
 * "cannot load WHAT from PATH: reason". Returns 0, or -1 with err. */
int core_blob_get(const char *path, const char *what, struct core_blob *b,
                  struct sslsocket_error *err);
/* Reads path now, ignoring the cache. */
int core_blob_read(const char *path, const char *what, struct core_blob *b,
                   struct sslsocket_error *err);
/* Moves b into the prefetch cache under path (the first copy of a path
 * wins); b then refers to the kept bytes. */
void core_blob_keep(const char *path, struct core_blob *b);
/* Releases b; bytes that are not kept are wiped (they may be a key). */
void core_blob_release(struct core_blob *b);

/* ---- pemscan.c --------------------------------------------------------------- */

struct core_pem {
	char label[64];        /* between "-----BEGIN " and "-----" */
	int encrypted;         /* a "Proc-Type: 4,ENCRYPTED" header */
	int bad;               /* the body is not base64 (der_len is 0) */
	unsigned char *der;    /* decoded body (malloc'ed; wiped on free) */
	size_t der_len;
};

/* The value of a base64 digit, -1 for anything else (cert_pem.c too). */
int core_b64_value(unsigned char c);
/* The next PEM block at or after *pos in the NUL-terminated text; fills
 * blk and moves *pos past it. Returns 1, 0 at the end, -1 out of memory. */
int core_pem_next(const char *text, size_t len, size_t *pos, struct core_pem *blk);
void core_pem_clear(struct core_pem *blk);
/* The labels OpenSSL reads a certificate, a private key, a CRL from. */
int core_pem_is_cert(const char *label);
int core_pem_is_key(const char *label);
int core_pem_is_crl(const char *label);

/* ---- der.c ------------------------------------------------------------------- */

/* A public key as the certificate states it, or as a private key implies
 * it, in pieces that compare byte for byte. */
enum core_keykind { CORE_KEY_UNKNOWN, CORE_KEY_RSA, CORE_KEY_EC, CORE_KEY_EDDSA };
struct core_pubkey {
	enum core_keykind kind;
	const unsigned char *alg; /* the algorithm OID's content */
	size_t alg_len;
	const unsigned char *a;   /* RSA: modulus; EC: curve OID; EdDSA: key */
	size_t a_len;
	const unsigned char *b;   /* RSA: exponent; EC: the point (NULL if absent) */
	size_t b_len;
};

/* 0 if der is one whole X.509 certificate (trailing bytes allowed only when
 * trailing is set: "TRUSTED CERTIFICATE" appends its aux data), with its
 * public key in pk; -1 otherwise. */
int core_der_cert(const unsigned char *der, size_t len, int trailing, struct core_pubkey *pk);
/* The public half of a private key (PKCS#8, or the traditional RSA and EC
 * forms named by label): 0 when it could be read (kind may still be
 * CORE_KEY_UNKNOWN, or b NULL, when the key does not carry it), -1 when
 * der is not such a key. */
int core_der_key(const char *label, const unsigned char *der, size_t len, struct core_pubkey *pk);
/* 1 same key, 0 different, -1 cannot tell from the bytes alone. */
int core_pubkey_same(const struct core_pubkey *cert, const struct core_pubkey *key);

/* ---- ctx_files.c --------------------------------------------------------------- */

/* The certificate chain, private key and CA certificates of o into ctx,
 * from the prefetched bytes or the files; errors as the file loaders
 * worded them. Returns 0 or -1 with err. */
int core_ctx_load_files(SSL_CTX *ctx, const struct sslsocket_options *o,
                        struct sslsocket_error *err);

#endif /* SSLSOCKET_FILES_INT_H */
