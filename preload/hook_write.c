/*
 * hook_write.c - write, send, sendto, sendmsg, writev: through TLS on
 * wrapped sockets. sendto/sendmsg (and sendmmsg, hook_copy.c) with
 * MSG_FASTOPEN on a socket that is not
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
	struct ts_conn *c;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);
	ssize_t r;

	if (is != TS_FD_OURS)
		return is == TS_FD_PASS ? TS_REAL(write)(fd, buf, n) : ts_fd_fail(is);
	r = ts_conn_write(c, buf, n, 0);
	ts_conn_release(c);
	return r;
}

TS_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	if (TS_PLAIN(fd))
		return TS_REAL_HOT(write)(fd, buf, n);
	return write_slow(fd, buf, n);
}

static TS_SLOW_PATH ssize_t send_slow(int fd, const void *buf, size_t n, int flags)
{
	struct ts_conn *c;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);
	ssize_t r;

	if (is != TS_FD_OURS)
		return is == TS_FD_PASS ? TS_REAL(send)(fd, buf, n, flags) : ts_fd_fail(is);
	r = ts_conn_write(c, buf, n, flags);
	ts_conn_release(c);
	return r;
}

TS_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	if (TS_PLAIN(fd))
		return TS_REAL_HOT(send)(fd, buf, n, flags);
	return send_slow(fd, buf, n, flags);
}

static TS_SLOW_PATH ssize_t sendto_slow(int fd, const void *buf, size_t n, int flags,
                         const struct sockaddr *addr, socklen_t alen)
{
	struct ts_conn *c;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);
	ssize_t r;

	if (is != TS_FD_OURS)
		return is == TS_FD_PASS ? TS_REAL(sendto)(fd, buf, n, flags, addr, alen) : ts_fd_fail(is);
	/* connected TCP ignores the address, as the kernel does */
	r = ts_conn_write(c, buf, n, flags & ~MSG_FASTOPEN);
	ts_conn_release(c);
	return r;
}

TS_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                         const struct sockaddr *addr, socklen_t alen)
{
	ssize_t r;

	if (TS_UNLIKELY(flags & MSG_FASTOPEN) && ts_fastopen(fd, addr, alen, &flags, &r))
		return r;
	if (TS_PLAIN(fd))
		return TS_REAL_HOT(sendto)(fd, buf, n, flags, addr, alen);
	return sendto_slow(fd, buf, n, flags, addr, alen);
}

static TS_SLOW_PATH ssize_t sendmsg_slow(int fd, const struct msghdr *msg, int flags)
{
	struct ts_conn *c;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);
	ssize_t r;

	if (is != TS_FD_OURS)
		return is == TS_FD_PASS ? TS_REAL(sendmsg)(fd, msg, flags) : ts_fd_fail(is);
	/* Ancillary data (SCM_RIGHTS, ...) cannot travel inside TLS. */
	if (msg->msg_controllen > 0) {
		ts_conn_release(c);
		errno = EOPNOTSUPP;
		return -1;
	}
	r = ts_conn_writev(c, msg->msg_iov, (int)msg->msg_iovlen, flags & ~MSG_FASTOPEN);
	ts_conn_release(c);
	return r;
}

TS_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ssize_t r;

	if (TS_UNLIKELY(flags & MSG_FASTOPEN) && msg != NULL &&
	    ts_fastopen(fd, msg->msg_name, msg->msg_namelen, &flags, &r))
		return r;
	if (TS_PLAIN(fd))
		return TS_REAL_HOT(sendmsg)(fd, msg, flags);
	return sendmsg_slow(fd, msg, flags);
}

static TS_SLOW_PATH ssize_t writev_slow(int fd, const struct iovec *iov, int iovcnt)
{
	struct ts_conn *c;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);
	ssize_t r;

	if (is != TS_FD_OURS)
		return is == TS_FD_PASS ? TS_REAL(writev)(fd, iov, iovcnt) : ts_fd_fail(is);
	r = ts_conn_writev(c, iov, iovcnt, 0);
	ts_conn_release(c);
	return r;
}

TS_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	if (TS_PLAIN(fd))
		return TS_REAL_HOT(writev)(fd, iov, iovcnt);
	return writev_slow(fd, iov, iovcnt);
}
