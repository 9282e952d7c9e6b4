/*
 * ossl_lazy.c - OpenSSL, mapped when something needs it.
 *
 * Mapping and relocating libssl and libcrypto is most of what a preloaded
 * program pays at start-up (2.8 M of the 3.6 M instructions of a wrapped
 * /bin/true), and every program a wrapped shell runs pays it, though most
 * never make a wrapped connection. So the constructor does not open
 * OpenSSL: the rules are read and their files checked from their bytes
 * (the core's OpenSSL-free code, as in the launcher), and OpenSSL is
 * loaded by the first thing that needs it - a rule whose check only it
 * can answer (a pinned ssl_version, a cipher string, a key whose public
 * half the bytes do not show), or a rule's first context (rule_tls.c),
 * which every connection, and so every other core call, comes after.
 *
 * Fork: the load runs under a rule's lock (ts_rule_ctx), which the
 * pthread_atfork handlers take, so no child starts in the middle of it;
 * the constructor's load runs before any thread of the program exists.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "files_int.h"
#include "ossl_lazy.h"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_failed;
static char load_why[sizeof ((struct sslsocket_error *)0)->reason];

static void load(void)
{
	int saved = errno;

	if (core_ossl_load(load_why, sizeof load_why) < 0)
		load_failed = 1;
	errno = saved;
}

int ts_ossl_ready(struct sslsocket_error *err)
{
	pthread_once(&load_once, load);
	if (!load_failed)
		return 0;
	if (err != NULL) {
		memset(err, 0, sizeof *err);
		err->code = SSLSOCKET_ERROR_SSL;
		err->sys_errno = ELIBACC;
		err->option = SSLSOCKET_OPT_NONE;
		snprintf(err->reason, sizeof err->reason, "%s", load_why);
	}
	errno = ELIBACC;
	return -1;
}

/* ---- the loader's checks ------------------------------------------------- */

static int lazy_protocol_supported(enum sslsocket_protocol v, struct sslsocket_error *err)
{
	int r = core_protocol_supported_plain(v, err);

	if (r != CORE_ASK_OSSL)
		return r;
	if (ts_ossl_ready(err) < 0)
		return -1;
	return sslsocket_protocol_supported(v, err);
}

static int lazy_options_check(const struct sslsocket_options *o, struct sslsocket_error *err)
{
	if (ts_ossl_ready(err) < 0)
		return -1;
	return sslsocket_options_check(o, err);
}

static int lazy_options_weakness(const struct sslsocket_options *o, char *buf, size_t len)
{
	int r = core_options_weakness_plain(o, buf, len);

	if (r != CORE_ASK_OSSL)
		return r;
	/* A pinned version or a cipher string has loaded OpenSSL already. */
	if (ts_ossl_ready(NULL) < 0)
		return -1;
	return sslsocket_options_weakness(o, buf, len);
}

static const struct core_checks lazy_core_checks = {
	.protocol_supported = lazy_protocol_supported,
	.options_check = lazy_options_check,
};

static sslsocket_config *lazy_config_new(const struct sslsocket_options *o,
                                         struct sslsocket_error *err)
{
	return core_config_new(o, &lazy_core_checks, err);
}

const struct cfg_checks ts_cfg_checks = {
	.protocol_supported = lazy_protocol_supported,
	.config_new = lazy_config_new,
	.options_weakness = lazy_options_weakness,
};
