/*
 * fdopen_stream.c - fdopen() on a wrapped socket: a fopencookie stream.
 *
 * glibc's stdio reads and writes a FILE's descriptor with its own internal
 * read and write, which no preload can see: a plain fdopen'ed stream on a
 * wrapped socket would put fprintf's bytes on the wire in clear and hand
 * ciphertext to fgets. Instead the program gets a fopencookie stream whose
 * read, write and close go through TLS (fclose ends the connection like
 * close: close_notify from the last descriptor).
 *
 * A TCP socket that is not connected yet gets the same stream (when a
 * configuration is loaded): its connect may still be wrapped, and a plain
 * FILE would then write its bytes in clear. The stream looks the
 * descriptor up on every read and write, so it is plain until connect
 * wraps the socket and TLS after (issue 10, item 7).
 *
 * Caveat: fileno() on such a stream is -1 (glibc's cookie streams have no
 * descriptor); the socket's own descriptor still works.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <netinet/in.h>

#include "bytepath.h"
#include "conn.h"
#include "conn_fd.h"
#include "fdtab.h"
#include "real.h"

static int cookie_fd(void *cookie)
{
	return (int)(intptr_t)cookie;
}

ssize_t ts_cookie_read(void *cookie, char *buf, size_t n)
{
	int fd = cookie_fd(cookie);
	struct ts_conn *c;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);
	ssize_t r;

	if (is == TS_FD_PASS) /* not (or no longer) a connection */
		return TS_REAL(read)(fd, buf, n);
	if (is == TS_FD_CLOSED || is == TS_FD_REFUSED)
		return ts_fd_fail(is);
	r = ts_conn_read(c, buf, n, 0);
	ts_conn_release(c);
	return r;
}

ssize_t ts_cookie_write(void *cookie, const char *buf, size_t n)
{
	int fd = cookie_fd(cookie);
	struct ts_conn *c;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);
	size_t done = 0;
	ssize_t r;

	if (is == TS_FD_PASS)
		return TS_REAL(write)(fd, buf, n);
	if (is == TS_FD_CLOSED || is == TS_FD_REFUSED)
		return ts_fd_fail(is);
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

static FILE *cookie_open(int fd, const char *mode)
{
	cookie_io_functions_t io = {
		.read = ts_cookie_read,
		.write = ts_cookie_write,
		.seek = NULL,
		.close = cookie_close,
	};

	if (mode == NULL || (mode[0] != 'r' && mode[0] != 'w' && mode[0] != 'a')) {
		errno = EINVAL;
		return NULL;
	}
	/* fdopen never truncates or repositions: "w" and "a" only mean
	 * writing here, as on any socket. */
	return fopencookie((void *)(intptr_t)fd, mode[0] == 'r' && !strchr(mode, '+') ? "r"
	                                         : mode[0] == 'r' ? "r+" : strchr(mode, '+') ? "w+" : "w",
	                   io);
}

FILE *ts_fdopen(int fd, const char *mode)
{
	struct ts_conn *c;
	FILE *fp;
	enum ts_fd_is is = ts_conn_lookup(fd, &c);

	switch (is) {
	case TS_FD_PASS:
		return TS_REAL(fdopen)(fd, mode);
	case TS_FD_CLOSED:
	case TS_FD_REFUSED:
		ts_fd_fail(is);
		return NULL;
	case TS_FD_OURS:
		break;
	}
	fp = cookie_open(fd, mode);
	ts_conn_release(c);
	return fp;
}

FILE *ts_fdopen_unconnected(int fd, const char *mode)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int saved = errno, type = 0, acc = 0;
	socklen_t tl = sizeof type, al = sizeof acc;

	if (TS_REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    (TS_REAL(getsockopt)(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) == 0 && acc) ||
	    getpeername(fd, (struct sockaddr *)&ss, &(socklen_t){ sizeof ss }) == 0 ||
	    errno != ENOTCONN) {
		errno = saved;
		return NULL;
	}
	errno = saved;
	return cookie_open(fd, mode);
}
