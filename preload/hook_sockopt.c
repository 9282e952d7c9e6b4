/*
 * hook_sockopt.c - ioctl (FIONBIO, FIONREAD) and setsockopt (SO_RCVTIMEO,
 * SO_SNDTIMEO): the program's view of a wrapped socket's blocking mode and
 * of how much can be read; getsockopt (SO_ERROR): the error of a
 * non-blocking connect, which the core reads (and so clears) when it
 * drives the connect from a readiness call.
 */
#include <stdarg.h>

#include <sys/ioctl.h>
#include <sys/socket.h>

#include "conn_fd.h"
#include "fdtab.h"
#include "hook.h"
#include "real.h"

TS_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (TS_PLAIN(fd))
		return TS_REAL(ioctl)(fd, req, arg);
	return ts_ioctl(fd, req, arg);
}

TS_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	if (TS_PLAIN(fd))
		return TS_REAL(setsockopt)(fd, level, name, val, len);
	return ts_setsockopt(fd, level, name, val, len);
}

TS_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	if (TS_PLAIN(fd) || level != SOL_SOCKET || name != SO_ERROR)
		return TS_REAL(getsockopt)(fd, level, name, val, len);
	return ts_getsockopt_error(fd, val, len);
}
