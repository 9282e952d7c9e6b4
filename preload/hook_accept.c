/*
 * hook_accept.c - accept, accept4: auto-wrap on listeners an accept rule
 * matches.
 */
#include <sys/socket.h>

#include "hook.h"
#include "listener.h"

TS_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return ts_accept(fd, addr, len, 0, 0);
}

TS_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return ts_accept(fd, addr, len, flags, 1);
}
