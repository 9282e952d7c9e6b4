/*
 * cert_int.h - certificate helpers shared inside libsslsocket (not
 * installed). The socket half builds getpeercert() from the peer's X509
 * with this, so the dictionary has exactly one implementation.
 */
#ifndef SSLSOCKET_CERT_INT_H
#define SSLSOCKET_CERT_INT_H

#include <openssl/x509.h>
#include "sslsocket.h"

/* The getpeercert() dictionary of x (not consumed; the caller keeps its
 * reference). validated is copied into the result as given: 0 yields the
 * seed's empty dictionary {} (no fields filled in). Returns an owned
 * structure (sslsocket_certinfo_free), or NULL with the reason in err
 * (which may be NULL). */
struct sslsocket_certinfo *core_certinfo_from_x509(X509 *x, int validated,
                                                   struct sslsocket_error *err);

#endif /* SSLSOCKET_CERT_INT_H */
