/*
 * hook_connect.c - socket, connect: where client sockets become TLS.
 */
#include <errno.h>

#include <sys/socket.h>

#include "compiler.h"
#include "conn_open.h"
#include "fdcopies.h"
#include "fdtab.h"
#include "hook.h"
#include "real.h"

TS_EXPORT int socket(int domain, int type, int protocol)
{
	int fd = TS_REAL(socket)(domain, type, protocol);

	/* A fresh number: whatever the table still says about it is stale
	 * (closed behind our back by a raw syscall or glibc itself). */
	if (TS_UNLIKELY(fd >= 0 && !TS_PLAIN(fd))) {
		int saved = errno;

		ts_fd_forget(fd);
		errno = saved;
	}
	/* a socket a fork may leave to two processes before connect */
	if (fd >= 0 && (domain == AF_INET || domain == AF_INET6) && (type & 0xf) == SOCK_STREAM)
		ts_fdfresh_mark(fd);
	return fd;
}

TS_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return ts_connect(fd, addr, len);
}
