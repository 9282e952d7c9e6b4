/*
 * ossl_dl.c - the interposer's OpenSSL table (ossl_int.h), filled from
 * libssl.so.3 that it opens itself, so that no function a program exports
 * under OpenSSL's names captures its calls (libtlsshim.so does not link
 * OpenSSL: the Makefile links this file instead of ossl.c).
 *
 * RTLD_LOCAL keeps the names out of the global scope the program and its
 * libraries search. RTLD_DEEPBIND puts libssl's own dependency list
 * (libssl, libcrypto, libc) before the global scope for libssl and
 * libcrypto, so OpenSSL's calls into itself stay inside it instead of
 * going to the executable's copies. dlsym() on the handle searches that
 * same list and never the executable. A program that already has
 * libssl.so.3 loaded (curl, python3) gets that one back: it was bound
 * when the program started, as the program's own TLS is.
 *
 * AddressSanitizer and ThreadSanitizer refuse RTLD_DEEPBIND (their
 * interceptors must see every malloc and lock): a sanitizer build opens
 * libssl without it and is not protected against capture.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define CORE_OSSL_NO_REDIRECT /* the names are the table's slots here */
#include "ossl_int.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OSSL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
#define OSSL_SANITIZED 1
#endif
#endif
#ifdef OSSL_SANITIZED
#define OSSL_DLOPEN_MODE (RTLD_NOW | RTLD_LOCAL)
#else
#define OSSL_DLOPEN_MODE (RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND)
#endif

#define OSSL_STR_(x) #x
#define OSSL_STR(x) OSSL_STR_(x)
/* The libssl whose headers the core was compiled with (libssl.so.3). */
#define OSSL_LIBSSL "libssl.so." OSSL_STR(OPENSSL_SHLIB_VERSION)

struct core_ossl core_ossl;

int core_ossl_load(char *why, size_t len)
{
	void *lib = dlopen(OSSL_LIBSSL, OSSL_DLOPEN_MODE);
	void *p;

	if (lib == NULL) {
		const char *e = dlerror();
		snprintf(why, len, "cannot load %s: %s", OSSL_LIBSSL, e ? e : "unknown error");
		return -1;
	}
	/* memcpy: ISO C has no conversion from void * to a function pointer. */
#define CORE_OSSL_LOOKUP(name) \
	if ((p = dlsym(lib, #name)) == NULL) \
		goto missing; \
	memcpy(&core_ossl.name, &p, sizeof p);
	CORE_OSSL_FUNCS(CORE_OSSL_LOOKUP)
#undef CORE_OSSL_LOOKUP
	return 0;
missing:
	snprintf(why, len, "cannot load %s: %s", OSSL_LIBSSL, dlerror());
	memset(&core_ossl, 0, sizeof core_ossl);
	return -1;
}
