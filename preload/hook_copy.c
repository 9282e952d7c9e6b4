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
#include "fdadopt.h"
#include "fdtab.h"
#include "hook.h"
#include "real.h"

static struct ts_conn *io_conn(int fd, int *pass)
{
	if (ts_fd_peek(fd) == NULL) {
		*pass = 1;
		return NULL;
	}
	return ts_io_acquire(fd, pass);
}

static ssize_t do_sendfile(int out, int in, off_t *off, size_t count)
{
	struct ts_conn *c;
	int pass;
	ssize_t r;

	if (ts_fd_peek(out) == NULL && ts_fd_peek(in) == NULL)
		return TS_REAL(sendfile)(out, in, off, count);
	if (ts_fd_peek(in) != NULL) {
		errno = EINVAL; /* a socket is never sendfile's source */
		return -1;
	}
	c = io_conn(out, &pass);
	if (c == NULL)
		return pass ? TS_REAL(sendfile)(out, in, off, count) : -1;
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
	int pass;
	ssize_t r;

	if (ts_fd_peek(out) == NULL && ts_fd_peek(in) == NULL)
		return TS_REAL(splice)(in, off_in, out, off_out, len, flags);
	if (ts_fd_peek(out) != NULL && ts_fd_peek(in) != NULL) {
		errno = EINVAL; /* splice needs a pipe on one side */
		return -1;
	}
	if (ts_fd_peek(out) != NULL) {
		if (off_out != NULL) {
			errno = ESPIPE;
			return -1;
		}
		c = io_conn(out, &pass);
		if (c == NULL)
			return pass ? TS_REAL(splice)(in, off_in, out, off_out, len, flags) : -1;
		r = ts_conn_splice_out(c, in, len, flags);
	} else {
		if (off_in != NULL) {
			errno = ESPIPE;
			return -1;
		}
		c = io_conn(in, &pass);
		if (c == NULL)
			return pass ? TS_REAL(splice)(in, off_in, out, off_out, len, flags) : -1;
		r = ts_conn_splice_in(c, out, len, flags);
	}
	ts_conn_release(c);
	return r;
}

TS_EXPORT ssize_t copy_file_range(int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
                                  unsigned flags)
{
	if (ts_fd_peek(out) != NULL || ts_fd_peek(in) != NULL) {
		/* regular files only, as the kernel says for any socket */
		errno = EINVAL;
		return -1;
	}
	if (TS_REAL(copy_file_range) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return TS_REAL(copy_file_range)(in, off_in, out, off_out, len, flags);
}

TS_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
	struct ts_conn *c;
	int pass, r;

	if (TS_PLAIN(fd))
		return TS_REAL(sendmmsg)(fd, v, n, flags);
	c = ts_io_acquire(fd, &pass);
	if (c == NULL)
		return pass ? TS_REAL(sendmmsg)(fd, v, n, flags) : -1;
	r = ts_conn_sendmmsg(c, v, n, flags);
	ts_conn_release(c);
	return r;
}

TS_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *tmo)
{
	struct ts_conn *c;
	int pass, r;

	if (TS_PLAIN(fd)) {
		r = TS_REAL(recvmmsg)(fd, v, n, flags, tmo);
		/* descriptors received with SCM_RIGHTS (fdadopt.c) */
		if (r > 0 && ts_depth == 0)
			for (int i = 0; i < r; i++)
				if (v[i].msg_hdr.msg_controllen > 0)
					ts_fd_adopt_cmsgs(&v[i].msg_hdr);
		return r;
	}
	c = ts_io_acquire(fd, &pass);
	if (c == NULL)
		return pass ? TS_REAL(recvmmsg)(fd, v, n, flags, tmo) : -1;
	r = ts_conn_recvmmsg(c, fd, v, n, flags);
	ts_conn_release(c);
	return r;
}
