/*
 * hook_listen.c - listen: an accept rule's context is built when a socket
 * it matches starts listening, so that a server that forks its workers
 * afterwards builds it once and its workers share its session tickets.
 */
#include <sys/socket.h>

#include "hook.h"
#include "listener.h"
#include "real.h"

TS_EXPORT int listen(int fd, int backlog)
{
	int r = TS_REAL(listen)(fd, backlog);

	if (r == 0)
		ts_listen_prepare(fd);
	return r;
}
