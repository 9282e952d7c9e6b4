/*
 * hook_write.c - write, send, sendto, sendmsg, writev: through TLS on
 * wrapped sockets. sendto/sendmsg with MSG_FASTOPEN on a socket that is not
 * connected yet would carry data in the SYN, in clear: when a rule matches
 * the destination, the socket is connected through TLS first.
 */
#include <errno.h>

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "compiler.h"
#include "conn.h"
#include "conn_open.h"
#include "fdtab.h"
#include "hook.h"
#include "real.h"

static TS_SLOW_PATH ssize_t write_slow(int fd, const void *buf, size_t n)
{
	TS_SLOW_IO(fd, ts_conn_write(c_, buf, n, 0));
	return TS_REAL(write)(fd, buf, n);
}

TS_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	if (TS_PLAIN_HOT(fd))
		return TS_REAL_HOT(write)(fd, buf, n);
	return write_slow(fd, buf, n);
}

static TS_SLOW_PATH ssize_t send_slow(int fd, const void *buf, size_t n, int flags)
{
	TS_SLOW_IO(fd, ts_conn_write(c_, buf, n, flags));
	return TS_REAL(send)(fd, buf, n, flags);
}

TS_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	if (TS_PLAIN_HOT(fd))
		return TS_REAL_HOT(send)(fd, buf, n, flags);
	return send_slow(fd, buf, n, flags);
}

static TS_SLOW_PATH ssize_t sendto_slow(int fd, const void *buf, size_t n, int flags,
                         const struct sockaddr *addr, socklen_t alen)
{
	/* connected TCP ignores the address, as the kernel does */
	TS_SLOW_IO(fd, ts_conn_write(c_, buf, n, flags & ~MSG_FASTOPEN));
	return TS_REAL(sendto)(fd, buf, n, flags, addr, alen);
}

TS_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                         const struct sockaddr *addr, socklen_t alen)
{
	ssize_t r;

	if (TS_UNLIKELY((flags & MSG_FASTOPEN) && addr != NULL) &&
	    ts_fd_peek(fd) == NULL) {
		switch (ts_fastopen(fd, addr, alen, &r)) {
		case 1:
			return r;
		case -1:
			flags &= ~MSG_FASTOPEN;
			break;
		default:
			break;
		}
	}
	if (TS_PLAIN_HOT(fd))
		return TS_REAL_HOT(sendto)(fd, buf, n, flags, addr, alen);
	return sendto_slow(fd, buf, n, flags, addr, alen);
}

static TS_SLOW_PATH ssize_t sendmsg_slow(int fd, const struct msghdr *msg, int flags)
{
	/* Ancillary data (SCM_RIGHTS, ...) cannot travel inside TLS. */
	if (msg->msg_controllen > 0) {
		errno = EOPNOTSUPP;
		return -1;
	}
	TS_SLOW_IO(fd, ts_conn_writev(c_, msg->msg_iov, (int)msg->msg_iovlen, flags & ~MSG_FASTOPEN));
	return TS_REAL(sendmsg)(fd, msg, flags);
}

TS_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ssize_t r;

	if (TS_UNLIKELY((flags & MSG_FASTOPEN) && msg != NULL && msg->msg_name != NULL) &&
	    ts_fd_peek(fd) == NULL) {
		switch (ts_fastopen(fd, msg->msg_name, msg->msg_namelen, &r)) {
		case 1:
			return r;
		case -1:
			flags &= ~MSG_FASTOPEN;
			break;
		default:
			break;
		}
	}
	if (TS_PLAIN_HOT(fd))
		return TS_REAL_HOT(sendmsg)(fd, msg, flags);
	return sendmsg_slow(fd, msg, flags);
}

static TS_SLOW_PATH ssize_t writev_slow(int fd, const struct iovec *iov, int iovcnt)
{
	TS_SLOW_IO(fd, ts_conn_writev(c_, iov, iovcnt, 0));
	return TS_REAL(writev)(fd, iov, iovcnt);
}

TS_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	if (TS_PLAIN_HOT(fd))
		return TS_REAL_HOT(writev)(fd, iov, iovcnt);
	return writev_slow(fd, iov, iovcnt);
}
