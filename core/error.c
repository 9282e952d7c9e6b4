/*
 * error.c - the one place where failures become struct sslsocket_error:
 * the seed's code, errno, OpenSSL's packed error and one line of text.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "sslsocket_int.h"

static void err_vset(struct sslsocket_error *e, int code, int sys_errno, unsigned long ossl,
                     const char *suffix, const char *fmt, va_list ap)
{
	if (!e)
		return;
	e->code = code;
	e->sys_errno = sys_errno;
	e->ossl_error = ossl;
	int n = vsnprintf(e->reason, sizeof e->reason, fmt, ap);
	if (n < 0)
		n = 0;
	if (suffix && *suffix && (size_t)n < sizeof e->reason)
		snprintf(e->reason + n, sizeof e->reason - (size_t)n, ": %s", suffix);
}

void core_err_set(struct sslsocket_error *e, int code, int sys_errno, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, code, sys_errno, 0, NULL, fmt, ap);
	va_end(ap);
	errno = sys_errno ? sys_errno : saved;
}

const char *core_ossl_reason(unsigned long l)
{
	if (!l)
		return "";
	const char *r = ERR_reason_error_string(l);
	return r ? r : "unknown OpenSSL error";
}

void core_err_ossl(struct sslsocket_error *e, int code, int sys_errno, const char *fmt, ...)
{
	int saved = errno;
	/* The oldest error is the root cause; later ones are "called from". */
	unsigned long l = ERR_peek_error();
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, code, sys_errno, l, core_ossl_reason(l), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	errno = sys_errno ? sys_errno : saved;
}
