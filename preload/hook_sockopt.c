/*
 * hook_sockopt.c - ioctl (FIONBIO, FIONREAD) and setsockopt (SO_RCVTIMEO,
 * SO_SNDTIMEO): the program's view of a wrapped socket's blocking mode and
 * of how much can be read; getsockopt (SO_ERROR): the error of a
 * non-blocking connect, which the core reads (and so clears) when it
 * drives the connect from a readiness call. getsockopt
 * (TCP_ZEROCOPY_RECEIVE), the kernel's zero-copy receive, copies or maps
 * the socket's queued bytes into the program: on a wrapped socket those
 * are TLS records, so it is refused (EOPNOTSUPP, a warn line).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>

#include <sys/ioctl.h>
#include <sys/socket.h>

#include "bytepath.h"
#include "conn_fd.h"
#include "conn.h"
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
	struct ts_conn *c;

	if (TS_PLAIN(fd))
		return TS_REAL(getsockopt)(fd, level, name, val, len);
	if (level == SOL_SOCKET && name == SO_ERROR)
		return ts_getsockopt_error(fd, val, len);
	if (level == IPPROTO_TCP && name == TCP_ZEROCOPY_RECEIVE &&
	    ts_conn_lookup(fd, &c) == TS_FD_OURS) {
		ts_conn_release(c);
		return ts_refuse(fd, "getsockopt(TCP_ZEROCOPY_RECEIVE)",
		                 "the kernel would hand the program the raw TLS records");
	}
	return TS_REAL(getsockopt)(fd, level, name, val, len);
}
