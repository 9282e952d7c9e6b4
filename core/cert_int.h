/*
 * cert_int.h - certificate helpers shared inside libsslsocket (not
 * installed). The socket half builds getpeercert() from the peer's X509
 * with this, so the dictionary has exactly one implementation.
 */
#ifndef SSLSOCKET_CERT_INT_H
#define SSLSOCKET_CERT_INT_H

#include <stdint.h>
#include "ossl_int.h"
#include "sslsocket.h"
#include "syserr_int.h"

/* The getpeercert() dictionary of x (not consumed; the caller keeps its
 * reference). validated is copied into the result as given: 0 yields the
 * seed's empty dictionary {} (no fields filled in). Returns an owned
 * structure (sslsocket_certinfo_free), or NULL with the reason in err
 * (which may be NULL). */
struct sslsocket_certinfo *core_certinfo_from_x509(X509 *x, int validated,
                                                   struct sslsocket_error *err);

/* Fills err (if not NULL) with code and a printf-style reason, appending
 * OpenSSL's first queued error when there is one, and clears OpenSSL's
 * error queue. errno is preserved (and recorded in sys_errno). */
void core_cert_error_set(struct sslsocket_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Python's str.isprintable() for one code point (Unicode 14.0). */
int core_unicode_isprintable(uint32_t cp);

#endif /* SSLSOCKET_CERT_INT_H */
