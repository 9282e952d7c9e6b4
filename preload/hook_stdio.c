/*
 * hook_stdio.c - fdopen: a wrapped socket gets a stream whose bytes go
 * through TLS (cookie.c says why).
 */
#include <stdio.h>

#include "ts.h"

TS_EXPORT FILE *fdopen(int fd, const char *mode)
{
	if (TS_PLAIN(fd))
		return TS_REAL(fdopen)(fd, mode);
	return ts_fdopen(fd, mode);
}
