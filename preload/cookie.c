/*
 * cookie.c - fdopen() on a wrapped socket.
 *
 * glibc's stdio reads and writes a FILE's descriptor with its own internal
 * read and write, which no preload can see: a plain fdopen'ed stream on a
 * wrapped socket would put fprintf's bytes on the wire in clear and hand
 * ciphertext to fgets. Instead the program gets a fopencookie stream whose
 * read, write and close go through TLS (fclose ends the connection like
 * close: close_notify from the last descriptor).
 *
 * Caveat: fileno() on such a stream is -1 (glibc's cookie streams have no
 * descriptor); the socket's own descriptor still works.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ts.h"

static int cookie_fd(void *cookie)
{
	return (int)(intptr_t)cookie;
}

static ssize_t cookie_read(void *cookie, char *buf, size_t n)
{
	int fd = cookie_fd(cookie);
	struct ts_conn *c = ts_conn_acquire(fd);
	ssize_t r;

	if (c == NULL) /* the program closed the descriptor under the FILE */
		return TS_REAL(read)(fd, buf, n);
	r = ts_conn_read(c, buf, n, 0);
	ts_conn_release(c);
	return r;
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t n)
{
	int fd = cookie_fd(cookie);
	struct ts_conn *c = ts_conn_acquire(fd);
	size_t done = 0;
	ssize_t r;

	if (c == NULL)
		return TS_REAL(write)(fd, buf, n);
	while (done < n) {
		r = ts_conn_write(c, buf + done, n - done, 0);
		if (r < 0) {
			if (done > 0)
				break;
			ts_conn_release(c);
			return -1;
		}
		done += (size_t)r;
	}
	ts_conn_release(c);
	return (ssize_t)done;
}

static int cookie_close(void *cookie)
{
	return ts_close(cookie_fd(cookie));
}

FILE *ts_fdopen(int fd, const char *mode)
{
	cookie_io_functions_t io = {
		.read = cookie_read,
		.write = cookie_write,
		.seek = NULL,
		.close = cookie_close,
	};
	struct ts_conn *c;
	FILE *fp;

	if (ts_fd_held(fd)) {
		errno = EBADF;
		return NULL;
	}
	c = ts_conn_acquire(fd);
	if (c == NULL || c->kind != TS_KIND_CONN) {
		if (c != NULL)
			ts_conn_release(c);
		return TS_REAL(fdopen)(fd, mode);
	}
	if (mode == NULL || (mode[0] != 'r' && mode[0] != 'w' && mode[0] != 'a')) {
		ts_conn_release(c);
		errno = EINVAL;
		return NULL;
	}
	/* fdopen never truncates or repositions: "w" and "a" only mean
	 * writing here, as on any socket. */
	fp = fopencookie((void *)(intptr_t)fd, mode[0] == 'r' && !strchr(mode, '+') ? "r"
	                                       : mode[0] == 'r' ? "r+" : strchr(mode, '+') ? "w+" : "w",
	                 io);
	ts_conn_release(c);
	return fp;
}
