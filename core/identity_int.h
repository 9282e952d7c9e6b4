/*
 * identity_int.h - private to libsslsocket: the peer identities a context
 * accepts (allow_names) and the keys it pins (pin_sha256).
 *
 * identity_parse.c  entries and pins: parsing and matching, pure functions
 *                   without OpenSSL (linked into the launcher too)
 * identity.c        the check of a peer's certificate, run inside the
 *                   handshake from the verify callback
 */
#ifndef SSLSOCKET_IDENTITY_INT_H
#define SSLSOCKET_IDENTITY_INT_H

#include <stddef.h>

#include "sslsocket_int.h"

#define CORE_PIN_LEN 32

enum core_name_kind {
	CORE_NAME_DNS = 1, /* text: lower case, no trailing dot; "*.x" wildcard */
	CORE_NAME_IP,      /* ip[0..iplen) */
	CORE_NAME_URI,     /* text: the pattern as written */
	CORE_NAME_CN       /* text: the common name after "CN=" */
};

struct core_name_pattern {
	enum core_name_kind kind;
	char *text;             /* malloc'ed */
	unsigned char ip[16];
	int iplen;
};

/* Parses one allow_names entry into out (may be NULL: check only). Returns
 * 0, or -1 with the reason in why. Pure: no I/O, no global state. */
int core_allow_name_parse(const char *entry, struct core_name_pattern *out, char *why,
                          size_t whylen);
void core_name_pattern_clear(struct core_name_pattern *p);
/* Whether the DNS pattern (lower case; "*.example.com" for one label)
 * matches the peer's dNSName name[0..n) (any case, maybe a trailing dot,
 * maybe with an embedded NUL: never matches). */
int core_dns_pattern_match(const char *pattern, const char *name, size_t n);
/* Whether the URI pattern ("*" one path segment, "**" last: one or more)
 * matches the peer's URI uri[0..n). Scheme and authority ignore case. */
int core_uri_pattern_match(const char *pattern, const char *uri, size_t n);
/* Parses a pin ("sha256//" optional, then base64 of 32 bytes) into digest
 * (may be NULL). 0, or -1 with the reason in why. Pure. */
int core_pin_parse(const char *pin, unsigned char digest[CORE_PIN_LEN], char *why, size_t whylen);
/* The options' allow_names and pin_sha256: well-formed, and not with
 * CERT_NONE (nothing would be verified). 0, or -1 with err. */
int core_identity_options_check(const struct sslsocket_options *o, struct sslsocket_error *err);

/* A context's compiled identity policy (NULL when the options have none). */
struct core_identity;
/* Compiles o's lists; NULL with err->code 0 when there is nothing to check,
 * NULL with err set on failure. */
struct core_identity *core_identity_new(const struct sslsocket_options *o,
                                        struct sslsocket_error *err);
void core_identity_free(struct core_identity *id);
/* Checks the peer's leaf certificate against id. 0 when it
 * passes; -1 when it does not, with why naming what the peer presented. */
int core_identity_check(const struct core_identity *id, X509 *leaf, char *why, size_t whylen);
/* The SSL verify callback of contexts with an identity policy. */
int core_identity_verify_cb(int ok, X509_STORE_CTX *store_ctx);

#endif /* SSLSOCKET_IDENTITY_INT_H */
