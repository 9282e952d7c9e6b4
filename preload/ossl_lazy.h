/*
 * ossl_lazy.h - OpenSSL mapped on first need (ossl_lazy.c).
 */
#ifndef TLSSHIM_OSSL_LAZY_H
#define TLSSHIM_OSSL_LAZY_H

#include "config.h"
#include "sslsocket.h"

/* Makes the core's OpenSSL table usable (core_ossl_load, once per
 * process; every thread that asks waits for the one load). Every preload
 * path into a core function that calls OpenSSL comes here first, or holds
 * an object (context, connection) that could only be made after it.
 * 0, or -1 with err filled (SSLSOCKET_ERROR_SSL, ELIBACC, "cannot load
 * libssl.so.3: ..."), the same each time: a failed load is not retried. */
int ts_ossl_ready(struct sslsocket_error *err);

/* The loader's checks (config.h) for the preload: the core's reading and
 * quick check of the files (core_config_new), which ask OpenSSL, loading
 * it, only what the options and the files' bytes cannot tell - as the
 * launcher's do (launcher_ssl.c). */
extern const struct cfg_checks ts_cfg_checks;

#endif /* TLSSHIM_OSSL_LAZY_H */
