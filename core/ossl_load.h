/*
 * ossl_load.h - readying the core's OpenSSL table (ossl_int.h), for the
 * interposer, whose files do not see OpenSSL's headers.
 */
#ifndef OSSL_LOAD_H
#define OSSL_LOAD_H

#include <stddef.h>

/* Makes the core's OpenSSL table usable; called once, before any core
 * function that calls OpenSSL runs (the interposer, on first need:
 * preload/ossl_lazy.c; the core's OpenSSL-free files need no table).
 * libsslsocket's table is filled when it is linked (core/ossl.c): 0. The
 * interposer's opens OpenSSL (core/ossl_dl.c): 0, or -1 with the reason
 * ("cannot load libssl.so.3: ...") in why[len]. */
int core_ossl_load(char *why, size_t len);

#endif /* OSSL_LOAD_H */
