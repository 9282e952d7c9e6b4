/*
 * refuse.c - the one refusal of a byte path that cannot go through TLS
 * (aio on a wrapped socket, preadv2/pwritev2 flags TLS has no meaning for,
 * raw syscall() numbers tlsshim cannot route): the program gets -1 and
 * EOPNOTSUPP, the log a warn line, the wire nothing.
 */
#include <errno.h>

#include "bytepath.h"
#include "conn.h"
#include "fdtab.h"
#include "log.h"

int ts_refuse(int fd, const char *func, const char *why)
{
	struct ts_conn *c;

	if (ts_conn_lookup(fd, &c) == TS_FD_OURS)
		ts_log(CFG_LOG_WARN, "%s on fd %d (%s %s): refused, EOPNOTSUPP: %s", func, fd,
		       c->side ? c->side : "?", c->peer, why);
	else
		ts_log(CFG_LOG_WARN, "%s on fd %d: refused, EOPNOTSUPP: %s", func, fd, why);
	if (c != NULL)
		ts_conn_release(c);
	errno = EOPNOTSUPP;
	return -1;
}
