/*
 * hook_read.c - read, recv, recvfrom, recvmsg, readv: plaintext from TLS
 * on wrapped sockets, libc untouched on every other descriptor.
 */
/* The hooks define read, recv, recvfrom, poll and ppoll themselves:
 * _FORTIFY_SOURCE would declare them as inline wrappers first (clang
 * refuses a definition after them). Nothing here fills a buffer of its
 * own, so fortification has nothing to check in this file. */
#undef _FORTIFY_SOURCE
#include <errno.h>

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "compiler.h"
#include "conn.h"
#include "fdadopt.h"
#include "fdtab.h"
#include "hook.h"
#include "real.h"

static TS_SLOW_PATH ssize_t read_slow(int fd, void *buf, size_t n)
{
	struct ts_conn *c;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);
	ssize_t r;

	if (is != TS_FD_OURS)
		return is == TS_FD_PASS ? TS_REAL(read)(fd, buf, n) : ts_fd_fail(is);
	r = ts_conn_read(c, buf, n, 0);
	ts_conn_release(c);
	return r;
}

TS_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	if (TS_PLAIN(fd))
		return TS_REAL_HOT(read)(fd, buf, n);
	return read_slow(fd, buf, n);
}

static TS_SLOW_PATH ssize_t recv_slow(int fd, void *buf, size_t n, int flags)
{
	struct ts_conn *c;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);
	ssize_t r;

	if (is != TS_FD_OURS)
		return is == TS_FD_PASS ? TS_REAL(recv)(fd, buf, n, flags) : ts_fd_fail(is);
	r = ts_conn_read(c, buf, n, flags);
	ts_conn_release(c);
	return r;
}

TS_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	if (TS_PLAIN(fd))
		return TS_REAL_HOT(recv)(fd, buf, n, flags);
	return recv_slow(fd, buf, n, flags);
}

static TS_SLOW_PATH ssize_t recvfrom_slow(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                           socklen_t *alen)
{
	struct ts_conn *c;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);
	ssize_t r;

	if (is != TS_FD_OURS)
		return is == TS_FD_PASS ? TS_REAL(recvfrom)(fd, buf, n, flags, addr, alen) : ts_fd_fail(is);
	r = ts_conn_recvfrom(c, fd, buf, n, flags, addr, alen);
	ts_conn_release(c);
	return r;
}

TS_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                           socklen_t *alen)
{
	if (TS_PLAIN(fd))
		return TS_REAL_HOT(recvfrom)(fd, buf, n, flags, addr, alen);
	return recvfrom_slow(fd, buf, n, flags, addr, alen);
}

static TS_SLOW_PATH ssize_t recvmsg_slow(int fd, struct msghdr *msg, int flags)
{
	struct ts_conn *c;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);
	ssize_t r;

	if (is != TS_FD_OURS)
		return is == TS_FD_PASS ? TS_REAL(recvmsg)(fd, msg, flags) : ts_fd_fail(is);
	r = ts_conn_recvmsg(c, fd, msg, flags);
	ts_conn_release(c);
	return r;
}

/* A plain descriptor's recvmsg that asked for control data: descriptors
 * received with SCM_RIGHTS may be wrapped connections (fdadopt.c). */
static TS_SLOW_PATH ssize_t recvmsg_rights(int fd, struct msghdr *msg, int flags)
{
	ssize_t r = TS_REAL(recvmsg)(fd, msg, flags);

	if (r >= 0 && msg->msg_controllen > 0 && ts_depth == 0)
		ts_fd_adopt_cmsgs(msg);
	return r;
}

TS_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (TS_PLAIN(fd)) {
		if (TS_LIKELY(msg == NULL || msg->msg_controllen == 0))
			return TS_REAL_HOT(recvmsg)(fd, msg, flags);
		return recvmsg_rights(fd, msg, flags);
	}
	return recvmsg_slow(fd, msg, flags);
}

static TS_SLOW_PATH ssize_t readv_slow(int fd, const struct iovec *iov, int iovcnt)
{
	struct ts_conn *c;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);
	ssize_t r;

	if (is != TS_FD_OURS)
		return is == TS_FD_PASS ? TS_REAL(readv)(fd, iov, iovcnt) : ts_fd_fail(is);
	r = ts_conn_readv(c, iov, iovcnt, 0);
	ts_conn_release(c);
	return r;
}

TS_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	if (TS_PLAIN(fd))
		return TS_REAL_HOT(readv)(fd, iov, iovcnt);
	return readv_slow(fd, iov, iovcnt);
}
