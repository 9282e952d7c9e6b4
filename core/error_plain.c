/*
 * error_plain.c - filling struct sslsocket_error, without OpenSSL (the
 * launcher links this; error.c adds OpenSSL's reasons).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sslsocket_int.h"

void core_err_vset(struct sslsocket_error *e, int code, int sys_errno, unsigned long ossl,
                   const char *suffix, const char *fmt, va_list ap)
{
	if (!e)
		return;
	e->code = code;
	e->sys_errno = sys_errno;
	e->ossl_error = ossl;
	e->option = SSLSOCKET_OPT_NONE;
	e->file[0] = '\0';
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
	core_err_vset(e, code, sys_errno, 0, NULL, fmt, ap);
	va_end(ap);
	errno = sys_errno ? sys_errno : saved;
}

void core_err_option(struct sslsocket_error *e, int option, const char *file)
{
	if (!e)
		return;
	e->option = option;
	snprintf(e->file, sizeof e->file, "%s", file ? file : "");
}
