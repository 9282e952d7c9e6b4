/*
 * ossl.c - libsslsocket's OpenSSL table (ossl_int.h), filled when the
 * library is linked: a program that links libsslsocket links OpenSSL
 * too, by name. The interposer links ossl_dl.c instead.
 */
#define CORE_OSSL_NO_REDIRECT
#include "ossl_int.h"

#define CORE_OSSL_DIRECT(name) .name = name,
struct core_ossl core_ossl = {
	CORE_OSSL_FUNCS(CORE_OSSL_DIRECT)
};

int core_ossl_load(char *why, size_t len)
{
	(void)why;
	(void)len;
	return 0;
}
