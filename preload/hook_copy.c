/*
 * hook_copy.c - sendfile, splice, copy_file_range, sendmmsg, recvmmsg: on a
 * wrapped socket the bytes go through TLS (conn_copy.c), never straight
 * from the kernel onto the wire.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "conn_open.h"
#include "fdadopt.h"
#include "fdtab.h"
#include "hook.h"
#include "real.h"

static ssize_t do_sendfile(int out, int in, off_t *off, size_t count)
{
	struct ts_conn *c;
	enum ts_fd_is is;
	ssize_t r;

	if (TS_PLAIN(out) && TS_PLAIN(in))
		return TS_REAL(sendfile)(out, in, off, count);
	if (!TS_PLAIN(in)) {
		errno = EINVAL; /* a socket is never sendfile's source */
		return -1;
	}
	is = ts_conn_lookup(out, &c);
	if (is == TS_FD_PASS)
		return TS_REAL(sendfile)(out, in, off, count);
	if (is == TS_FD_CLOSED || is == TS_FD_REFUSED)
		return ts_fd_fail(is);
	r = ts_conn_sendfile(c, in, off, count);
	ts_conn_release(c);
	return r;
}

TS_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	return do_sendfile(out, in, off, count);
}

TS_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return do_sendfile(out, in, off, count);
}

TS_EXPORT ssize_t splice(int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
                         unsigned flags)
{
	struct ts_conn *c;
	enum ts_fd_is is;
	ssize_t r;

	if (TS_PLAIN(out) && TS_PLAIN(in))
		return TS_REAL(splice)(in, off_in, out, off_out, len, flags);
	if (!TS_PLAIN(out) && !TS_PLAIN(in)) {
		errno = EINVAL; /* splice needs a pipe on one side */
		return -1;
	}
	if (!TS_PLAIN(out)) {
		if (off_out != NULL) {
			errno = ESPIPE;
			return -1;
		}
		is = ts_conn_lookup(out, &c);
		if (is == TS_FD_PASS)
			return TS_REAL(splice)(in, off_in, out, off_out, len, flags);
		if (is == TS_FD_CLOSED || is == TS_FD_REFUSED)
			return ts_fd_fail(is);
		r = ts_conn_splice_out(c, in, len, flags);
	} else {
		if (off_in != NULL) {
			errno = ESPIPE;
			return -1;
		}
		is = ts_conn_lookup(in, &c);
		if (is == TS_FD_PASS)
			return TS_REAL(splice)(in, off_in, out, off_out, len, flags);
		if (is == TS_FD_CLOSED || is == TS_FD_REFUSED)
			return ts_fd_fail(is);
		r = ts_conn_splice_in(c, out, len, flags);
	}
	ts_conn_release(c);
	return r;
}

/* To a wrapped socket the file's bytes go through TLS, as sendfile's
 * (CONTRACT.md: everything that writes bytes): the kernel would refuse a
 * socket (EINVAL), so a program that falls back to write on EINVAL works
 * either way. A socket has no offset: off_out must be NULL (ESPIPE, as
 * splice says). From a wrapped socket nothing is read: EINVAL, as the
 * kernel says for any socket. */
TS_EXPORT ssize_t copy_file_range(int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
                                  unsigned flags)
{
	ssize_t (*real)(int, loff_t *, int, loff_t *, size_t, unsigned) = TS_REAL(copy_file_range);
	struct ts_conn *c;
	enum ts_fd_is is;
	off_t pos;
	ssize_t r;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (TS_PLAIN(out) && TS_PLAIN(in))
		return real(in, off_in, out, off_out, len, flags);
	if (!TS_PLAIN(in) || flags != 0) {
		errno = EINVAL;
		return -1;
	}
	is = ts_conn_lookup(out, &c);
	if (is == TS_FD_PASS)
		return real(in, off_in, out, off_out, len, flags);
	if (is == TS_FD_CLOSED || is == TS_FD_REFUSED)
		return ts_fd_fail(is);
	if (off_out != NULL) {
		ts_conn_release(c);
		errno = ESPIPE;
		return -1;
	}
	pos = off_in != NULL ? (off_t)*off_in : 0;
	r = ts_conn_sendfile(c, in, off_in != NULL ? &pos : NULL, len);
	if (off_in != NULL)
		*off_in = (loff_t)pos;
	ts_conn_release(c);
	return r;
}

TS_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
	struct ts_conn *c;
	enum ts_fd_is is;
	ssize_t fr;
	int r;

	/* the kernel connects with the first message's address (hook_write.c) */
	if (TS_UNLIKELY(flags & MSG_FASTOPEN) && n > 0 && v != NULL &&
	    ts_fastopen(fd, v[0].msg_hdr.msg_name, v[0].msg_hdr.msg_namelen, &flags, &fr))
		return (int)fr;
	if (TS_PLAIN(fd))
		return TS_REAL(sendmmsg)(fd, v, n, flags);
	is = ts_conn_lookup(fd, &c);
	if (is == TS_FD_PASS)
		return TS_REAL(sendmmsg)(fd, v, n, flags);
	if (is == TS_FD_CLOSED || is == TS_FD_REFUSED)
		return ts_fd_fail(is);
	r = ts_conn_sendmmsg(c, v, n, flags & ~MSG_FASTOPEN);
	ts_conn_release(c);
	return r;
}

TS_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *tmo)
{
	struct ts_conn *c;
	enum ts_fd_is is;
	int r;

	if (TS_PLAIN(fd)) {
		r = TS_REAL(recvmmsg)(fd, v, n, flags, tmo);
		/* descriptors received with SCM_RIGHTS (fdadopt.c) */
		if (r > 0 && ts_depth == 0)
			for (int i = 0; i < r; i++)
				if (v[i].msg_hdr.msg_controllen > 0)
					ts_fd_adopt_cmsgs(&v[i].msg_hdr);
		return r;
	}
	is = ts_conn_lookup(fd, &c);
	if (is == TS_FD_PASS)
		return TS_REAL(recvmmsg)(fd, v, n, flags, tmo);
	if (is == TS_FD_CLOSED || is == TS_FD_REFUSED)
		return ts_fd_fail(is);
	r = ts_conn_recvmmsg(c, fd, v, n, flags);
	ts_conn_release(c);
	return r;
}
