/*
 * hook_stdio.c - fdopen: a wrapped socket, or a TCP socket not connected
 * yet, gets a stream whose bytes go through TLS once the socket is wrapped
 * (fdopen_stream.c says why).
 */
#include <stdio.h>

#include "bytepath.h"
#include "fdtab.h"
#include "hook.h"
#include "init.h"
#include "real.h"

TS_EXPORT FILE *fdopen(int fd, const char *mode)
{
	FILE *fp;

	if (TS_PLAIN(fd)) {
		if (ts_depth == 0 && ts_rules != NULL &&
		    (fp = ts_fdopen_unconnected(fd, mode)) != NULL)
			return fp;
		return TS_REAL(fdopen)(fd, mode);
	}
	return ts_fdopen(fd, mode);
}
