/*
 * files_int.h - private to libsslsocket: the certificate, key and CA files
 * of the options, from their bytes.
 *
 * blob.c       a file's bytes, read now, and what identifies the file
 * sslconfig.c  sslsocket_config: options and their files' bytes, owned,
 *              reference-counted, wiped when released
 * pemscan.c    PEM blocks, as leniently as OpenSSL's reader takes them
 * der.c        just enough DER to find a certificate's public key and a
 *              private key's public half
 * files_check.c a configuration's files checked without OpenSSL's
 *              providers (start-up cost)
 * ctx_files.c  the bytes loaded into an SSL_CTX
 */
#ifndef SSLSOCKET_FILES_INT_H
#define SSLSOCKET_FILES_INT_H

#include <stddef.h>
#include <sys/stat.h>

#include "ossl_int.h"

#include "sslsocket_int.h"

/* ---- blob.c ---------------------------------------------------------------- */

/* Files larger than this are refused (a CA bundle is a few hundred KiB). */
#define CORE_BLOB_MAX (64u << 20)

/* What a path resolved to when it was read: the file's identity and
 * state. A rename over it, a symlink swap and a rewrite in place each
 * change one of them. err: the errno that kept it from being read. */
struct core_file_id {
	unsigned long long dev, ino;
	long long size, mtime_ns, ctime_ns;
	unsigned mode;          /* st_mode & 07777 */
	unsigned long uid;      /* st_uid */
	int err;
};

struct core_blob {
	unsigned char *data; /* NUL-terminated, len bytes before it */
	size_t len;
	size_t cap;          /* bytes allocated (all of them are wiped) */
	struct core_file_id id;
};

/* Reads path now. what ("certificate", "private key", "CA certificates")
 * words the error: "cannot load WHAT from PATH: reason". secret: the file
 * holds a private key, and one that group or others may write (seen
 * through the descriptor read, so a rename cannot race it) is refused, as
 * ssh refuses such a key. Returns 0, or -1 with err (b->id.err says
 * why). */
int core_blob_read(const char *path, const char *what, int secret, struct core_blob *b,
                   struct sslsocket_error *err);
/* Wipes and frees b's bytes (they may be a key). */
void core_blob_release(struct core_blob *b);
/* Wipes n bytes at p, then frees p (NULL: nothing). */
void core_wipe_free(unsigned char *p, size_t n);
/* Test hook: called with the wiped bytes just before they are freed. */
extern void (*core_wipe_observer)(const unsigned char *p, size_t n);
void core_file_id_of(const struct stat *st, struct core_file_id *id);

/* ---- sslconfig.c --------------------------------------------------------------- */

enum core_file_kind { CORE_F_CERT, CORE_F_KEY, CORE_F_CA, CORE_F_CRL, CORE_F_COUNT };

struct sslsocket_config {
	int refs;                         /* atomic */
	struct sslsocket_options o;       /* strings owned (below) */
	char *strs[7];                    /* keyfile, certfile, ca_certs, crl_file,
	                                     server_hostname, ciphers, keylog_file */
	char **alpn;                      /* owned copies of the lists */
	char **allow_names;
	char **pin_sha256;
	/* The files' bytes as read; f[CORE_F_KEY] is empty when the key is in
	 * the certificate file. */
	struct core_blob f[CORE_F_COUNT];
};

/* The path of file kind k in c's options (NULL when not configured; for
 * CORE_F_KEY, NULL when the key is in the certificate file). */
const char *core_config_path(const struct sslsocket_config *c, int k);
/* A configuration for o with its files read but not checked (for a context
 * built now, which checks them the full way). */
struct sslsocket_config *core_config_read(const struct sslsocket_options *o,
                                          const struct core_checks *chk,
                                          struct sslsocket_error *err);
/* sslsocket_config_new with the checks that need OpenSSL taken from chk
 * (asked only when the files' bytes cannot tell). */
struct sslsocket_config *core_config_new(const struct sslsocket_options *o,
                                         const struct core_checks *chk,
                                         struct sslsocket_error *err);

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

/* ---- files_check.c ------------------------------------------------------------- */

enum { CORE_QC_OK = 0, CORE_QC_UNSURE = 1 };
/* c's files checked from their bytes: -1 with err when one is wrong,
 * CORE_QC_UNSURE when only a context can tell (a key without its public
 * half, a CRL), CORE_QC_OK otherwise. */
int core_config_quickcheck(const struct sslsocket_config *c, struct sslsocket_error *err);

/* ---- ctx_files.c --------------------------------------------------------------- */

/* The certificate chain, private key, CA certificates and CRLs of files
 * (read by a configuration) into ctx, as o asks; errors as the file
 * loaders worded them. Returns 0 or -1 with err. */
int core_ctx_load_files(SSL_CTX *ctx, const struct sslsocket_options *o,
                        const struct sslsocket_config *files, struct sslsocket_error *err);

#endif /* SSLSOCKET_FILES_INT_H */
