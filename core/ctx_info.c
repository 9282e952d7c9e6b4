/*
 * ctx_info.c - what a built context holds, for operators: the notAfter of
 * its own certificate (tlsshim --status shows when a rule's certificate
 * expires).
 */
#include <time.h>

#include "ossl_int.h"

#include "sslsocket_int.h"

SSLSOCKET_API int sslsocket_ctx_cert_not_after(const sslsocket_ctx *ctx, time_t *out)
{
	X509 *x;
	const ASN1_TIME *t;
	struct tm tm;

	if (ctx == NULL || ctx->ssl_ctx == NULL || out == NULL)
		return -1;
	x = SSL_CTX_get0_certificate(ctx->ssl_ctx);
	if (x == NULL)
		return -1;
	t = X509_get0_notAfter(x);
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}
