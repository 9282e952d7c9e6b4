/*
 * hook_names.c - getaddrinfo, gethostbyname, gethostbyname2 and their _r
 * forms: remember which names the process resolved to which addresses
 * (names.c), for rule matching, SNI and the certificate's name check.
 */
#include <errno.h>
#include <netdb.h>

#include "hook.h"
#include "init.h"
#include "names.h"
#include "real.h"

static void record_hostent(const char *name, const struct hostent *h)
{
	char **a;

	if (h == NULL || h->h_addr_list == NULL)
		return;
	for (a = h->h_addr_list; *a != NULL; a++)
		ts_names_add_raw(h->h_addrtype, *a, name);
}

TS_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                          struct addrinfo **res)
{
	int r = TS_REAL(getaddrinfo)(node, service, hints, res);

	if (r == 0 && node != NULL && ts_depth == 0 && ts_active()) {
		int saved = errno;
		const struct addrinfo *ai;

		for (ai = *res; ai != NULL; ai = ai->ai_next)
			ts_names_add(ai->ai_addr, ai->ai_addrlen, node);
		errno = saved;
	}
	return r;
}

TS_EXPORT struct hostent *gethostbyname(const char *name)
{
	struct hostent *h = TS_REAL(gethostbyname)(name);

	if (h != NULL && ts_depth == 0 && ts_active()) {
		int saved = errno;

		record_hostent(name, h);
		errno = saved;
	}
	return h;
}

TS_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	struct hostent *h;

	if (TS_REAL(gethostbyname2) == NULL) {
		h_errno = NO_RECOVERY;
		return NULL;
	}
	h = TS_REAL(gethostbyname2)(name, af);
	if (h != NULL && ts_depth == 0 && ts_active()) {
		int saved = errno;

		record_hostent(name, h);
		errno = saved;
	}
	return h;
}

TS_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t len,
                              struct hostent **result, int *herr)
{
	int r = TS_REAL(gethostbyname_r)(name, ret, buf, len, result, herr);

	if (r == 0 && result != NULL && *result != NULL && ts_depth == 0 && ts_active()) {
		int saved = errno;

		record_hostent(name, *result);
		errno = saved;
	}
	return r;
}

TS_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
                               size_t len, struct hostent **result, int *herr)
{
	int r;

	if (TS_REAL(gethostbyname2_r) == NULL)
		return ENOSYS;
	r = TS_REAL(gethostbyname2_r)(name, af, ret, buf, len, result, herr);
	if (r == 0 && result != NULL && *result != NULL && ts_depth == 0 && ts_active()) {
		int saved = errno;

		record_hostent(name, *result);
		errno = saved;
	}
	return r;
}
