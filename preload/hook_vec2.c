/*
 * hook_vec2.c - preadv2, pwritev2 and their 64 names. With offset -1 they
 * use the file position, and a socket has none to skip: the kernel makes
 * them readv and writev. Unhooked, pwritev2 put plaintext on a wrapped
 * socket and preadv2 handed the program raw TLS records (issue 10, items 1
 * and 8). On a wrapped socket, offset -1 goes through TLS as readv/writev
 * (RWF_NOWAIT as MSG_DONTWAIT); any other offset is ESPIPE, as the kernel
 * says for every socket; other RWF_ flags are refused (EOPNOTSUPP).
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "bytepath.h"
#include "conn.h"
#include "fdtab.h"
#include "hook.h"
#include "real.h"

typedef ssize_t (*vec2_fn)(int, const struct iovec *, int, off_t, int);

static TS_SLOW_PATH ssize_t vec2_slow(const char *name, vec2_fn real, int wr, int fd,
                                      const struct iovec *iov, int cnt, off_t off, int flags)
{
	struct ts_conn *c;
	enum ts_fd_is is;
	ssize_t r;

	is = ts_conn_lookup(fd, &c);
	if (is != TS_FD_OURS) {
		if (is == TS_FD_CLOSED || is == TS_FD_REFUSED)
			return ts_fd_fail(is);
		if (real == NULL) {
			errno = ENOSYS;
			return -1;
		}
		return real(fd, iov, cnt, off, flags);
	}
	if (off != -1) {
		errno = ESPIPE;
		r = -1;
	} else if (flags & ~RWF_NOWAIT) {
		r = ts_refuse(fd, name, "RWF_ flags other than RWF_NOWAIT have no meaning in TLS");
	} else {
		int mf = (flags & RWF_NOWAIT) ? MSG_DONTWAIT : 0;

		r = wr ? ts_conn_writev(c, iov, cnt, mf) : ts_conn_readv(c, iov, cnt, mf);
	}
	ts_conn_release(c);
	return r;
}

#define VEC2(name, wr, ptrtype)                                                             \
	TS_EXPORT ssize_t name(int fd, ptrtype iov, int cnt, off_t off, int flags)          \
	{                                                                                   \
		vec2_fn real = (vec2_fn)TS_REAL(name);                                      \
		if (TS_PLAIN(fd)) {                                                         \
			if (real == NULL) {                                                 \
				errno = ENOSYS;                                             \
				return -1;                                                  \
			}                                                                   \
			return real(fd, iov, cnt, off, flags);                              \
		}                                                                           \
		return vec2_slow(#name, real, wr, fd, iov, cnt, off, flags);                \
	}

VEC2(preadv2, 0, const struct iovec *)
VEC2(pwritev2, 1, const struct iovec *)
VEC2(preadv64v2, 0, const struct iovec *)
VEC2(pwritev64v2, 1, const struct iovec *)
