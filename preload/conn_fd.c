/*
 * conn_fd.c - the descriptor calls on wrapped sockets: close, close_range,
 * closefrom, dup, dup2, dup3, fcntl, ioctl, setsockopt.
 *
 * The descriptor table (fdtab.c) decides when a connection ends; here the
 * real calls are made around it so that the program sees libc's results.
 * Wrapped descriptors are close-on-exec: TLS state lives in this process's
 * memory and cannot cross exec, so an exec'd program must not inherit a
 * socket in the middle of a TLS stream (it would read ciphertext and could
 * write plaintext onto a connection the peer believes is encrypted).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "conn.h"
#include "conn_fd.h"
#include "fdtab.h"
#include "inherit.h"
#include "real.h"
#include "sockprops.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int is_conn(int fd)
{
	struct ts_conn *c;

	if (ts_conn_lookup(fd, &c) != TS_FD_OURS)
		return 0;
	ts_conn_release(c);
	return 1;
}

/* 1 when fd is a number the program closed (held for the core): EBADF. */
static int closed(int fd)
{
	struct ts_fdobj *o;

	if (ts_fd_lookup(fd, TS_KIND_ANY, &o) == TS_FD_CLOSED)
		return 1;
	if (o != NULL)
		ts_fd_release(o);
	return 0;
}

int ts_close(int fd)
{
	int saved = errno;

	switch (ts_fd_detach(fd)) {
	case TS_DETACH_NONE:
		return TS_REAL(close)(fd);
	case TS_DETACH_BADF:
		errno = EBADF;
		return -1;
	case TS_DETACH_CLOSE:
		return TS_REAL(close)(fd);
	case TS_DETACH_KEEP:
		break;
	}
	/* The core's descriptor: closed by the teardown (now, or when the
	 * last user lets go). */
	errno = saved;
	return 0;
}

/* close_range over [lo, hi]: the wrapped descriptors in it are detached
 * (close_notify), and the kernel closes the rest, skipping the numbers
 * whose teardown already closed them (or will: held for the core). Closing
 * such a number again could close a descriptor another thread has just
 * been given. */
int ts_close_range(unsigned lo, unsigned hi, int flags)
{
	int (*real)(unsigned, unsigned, int) = TS_REAL(close_range);
	unsigned fd, start = lo, top;
	int r = 0;

	if (lo > hi) {
		errno = EINVAL;
		return -1;
	}
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (flags & CLOSE_RANGE_CLOEXEC) /* nothing closes */
		return real(lo, hi, flags);
	top = (unsigned)atomic_load(&ts_fd_high);
	for (fd = lo; fd < top && fd <= hi; fd++) {
		/* held for the core (BADF) or kept open (KEEP): not the kernel's */
		int skip = !TS_PLAIN(fd) && ts_fd_detach((int)fd) != TS_DETACH_CLOSE;
		if (!skip)
			continue;
		if (fd > start && real(start, fd - 1, flags) < 0)
			r = -1;
		start = fd + 1;
	}
	if (start > hi) /* the range ended on a skipped number */
		return r;
	if (real(start, hi, flags) < 0)
		r = -1;
	return r;
}

void ts_closefrom(int lo)
{
	int saved = errno;

	if (lo < 0)
		lo = 0;
	if (TS_REAL(close_range) != NULL) {
		(void)ts_close_range((unsigned)lo, UINT_MAX, 0);
	} else {
		int fd, top = atomic_load(&ts_fd_high);

		for (fd = lo; fd < top; fd++)
			if (!TS_PLAIN(fd))
				(void)ts_close(fd);
		if (TS_REAL(closefrom) != NULL)
			TS_REAL(closefrom)(top > lo ? top : lo);
	}
	errno = saved;
}

/* newfd was just made from oldfd by the kernel. */
static void after_dup(int oldfd, int newfd)
{
	int saved = errno;

	if (!TS_PLAIN(newfd))
		ts_fd_forget(newfd); /* a stale entry: the number was free */
	ts_inherit_drop(newfd);
	if (!TS_PLAIN(oldfd)) {
		ts_fd_dup(oldfd, newfd);
		if (is_conn(newfd))
			(void)ts_set_cloexec(newfd);
	}
	errno = saved;
}

int ts_dup(int oldfd)
{
	int r;

	if (closed(oldfd))
		return ts_fd_ebadf();
	r = TS_REAL(dup)(oldfd);
	if (r >= 0)
		after_dup(oldfd, r);
	return r;
}

/* dup2/dup3 onto a wrapped descriptor end its use of its connection the
 * way close() does (close_notify when it was the last one), before the
 * kernel replaces it. oldfd is checked first: a failing dup2 must leave
 * newfd exactly as it was. */
static int dup_onto(int oldfd, int newfd, int flags, int three)
{
	int r, saved = errno, left_open = 0;

	if (closed(oldfd) || TS_REAL(fcntl)(oldfd, F_GETFD) < 0 || newfd < 0)
		return ts_fd_ebadf();
	if (oldfd == newfd) {
		if (three) {
			errno = EINVAL;
			return -1;
		}
		return newfd;
	}
	if (!TS_PLAIN(newfd) && !closed(newfd))
		left_open = ts_fd_detach_replacing(newfd) == TS_DETACH_KEEP && !closed(newfd);
	errno = saved;
	r = three ? TS_REAL(dup3)(oldfd, newfd, flags) : TS_REAL(dup2)(oldfd, newfd);
	if (r < 0) {
		/* The connection is over: never leave its socket to the
		 * program in plaintext. */
		if (left_open) {
			saved = errno;
			TS_REAL(close)(newfd);
			errno = saved;
		}
		return r;
	}
	saved = errno;
	/* A number held for the core has just been replaced by the kernel. */
	ts_fd_replaced(newfd);
	after_dup(oldfd, newfd);
	errno = saved;
	return r;
}

int ts_dup2(int oldfd, int newfd)
{
	return dup_onto(oldfd, newfd, 0, 0);
}

int ts_dup3(int oldfd, int newfd, int flags)
{
	return dup_onto(oldfd, newfd, flags, 1);
}

int ts_fcntl(int fd, int cmd, void *arg, int (*real)(int, int, ...))
{
	struct ts_fdobj *o;
	struct ts_conn *c;
	int r;

	if (closed(fd))
		return ts_fd_ebadf();
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		r = real(fd, cmd, arg);
		if (r >= 0)
			after_dup(fd, r);
		return r;
	case F_SETFL:
		r = real(fd, cmd, arg);
		if (r == 0 && ts_fd_lookup(fd, TS_KIND_ANY, &o) == TS_FD_OURS) {
			if ((c = ts_conn_of(o)) != NULL)
				atomic_store(&c->nonblock, ((long)arg & O_NONBLOCK) != 0);
			ts_fd_release(o);
		}
		return r;
	case F_SETFD:
		/* Close-on-exec stays set on a wrapped descriptor; the call
		 * succeeds, and an exec that then closes it says so. */
		if (ts_conn_lookup(fd, &c) == TS_FD_OURS) {
			if ((long)arg & FD_CLOEXEC)
				ts_inherit_drop(fd);
			else
				ts_inherit_want(fd, c);
			arg = (void *)((long)arg | FD_CLOEXEC);
			ts_conn_release(c);
		}
		return real(fd, cmd, arg);
	default:
		return real(fd, cmd, arg);
	}
}

int ts_ioctl(int fd, unsigned long req, void *arg)
{
	struct ts_conn *c;
	int r;

	enum ts_fd_is is = ts_conn_lookup(fd, &c);

	switch (is) {
	case TS_FD_CLOSED:
	case TS_FD_REFUSED:
		return ts_fd_fail(is);
	case TS_FD_PASS:
		return TS_REAL(ioctl)(fd, req, arg);
	case TS_FD_OURS:
		break;
	}
	if (req == FIONREAD && c->s != NULL && !(atomic_load(&c->obj.flags) & TS_F_ABANDONED) &&
	    !sslsocket_failed(c->s)) {
		/* The kernel's count is ciphertext; the program wants what a
		 * read would return now: decrypt what has arrived (without
		 * waiting) into the peek buffer and count that. */
		char probe[1];
		size_t n;
		ssize_t k = ts_conn_read(c, probe, 1, MSG_PEEK | MSG_DONTWAIT);

		n = sslsocket_pending(c->s);
		if (k > 0) {
			pthread_mutex_lock(&c->peek_lock);
			n += c->peek_len - c->peek_off;
			pthread_mutex_unlock(&c->peek_lock);
		}
		ts_conn_release(c);
		if (arg == NULL) {
			errno = EFAULT;
			return -1;
		}
		*(int *)arg = n > INT_MAX ? INT_MAX : (int)n;
		return 0;
	}
	if (req == FIONCLEX) {
		/* as fcntl(F_SETFD) without FD_CLOEXEC: succeeds, stays set */
		ts_inherit_want(fd, c);
		ts_conn_release(c);
		return 0;
	}
	if (req == FIOCLEX)
		ts_inherit_drop(fd);
	r = TS_REAL(ioctl)(fd, req, arg);
	if (r == 0 && req == FIONBIO && arg != NULL)
		atomic_store(&c->nonblock, *(const int *)arg != 0);
	ts_conn_release(c);
	return r;
}

int ts_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct ts_fdobj *o;
	struct ts_conn *c;
	int r = TS_REAL(setsockopt)(fd, level, name, val, len);

	if (r == 0 && level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO) &&
	    len >= (socklen_t)sizeof(struct timeval) &&
	    ts_fd_lookup(fd, TS_KIND_ANY, &o) == TS_FD_OURS) {
		int saved = errno;

		if ((c = ts_conn_of(o)) != NULL)
			ts_conn_load_mode(c, fd);
		ts_fd_release(o);
		errno = saved;
	}
	return r;
}

int ts_getsockopt_error(int fd, void *val, socklen_t *len)
{
	struct ts_conn *c;
	int e = 0, pend, saved = errno;

	if (ts_conn_lookup(fd, &c) == TS_FD_CLOSED)
		return ts_fd_ebadf();
	if (c != NULL && c->s != NULL) {
		/* A program that learnt of writability some other way (a raw
		 * syscall) asks before tlsshim drove the connect: drive it now,
		 * so that the kernel's SO_ERROR is read once, by the core. */
		ts_conn_drive(c);
		/* The TCP connect's own error (ECONNREFUSED, ...) first; a
		 * failed handshake is EPROTO. Either is said once. */
		e = sslsocket_take_connect_error(c->s);
		pend = atomic_exchange(&c->so_error, 0);
		if (e == 0)
			e = pend;
	}
	if (c != NULL)
		ts_conn_release(c);
	errno = saved;
	if (e == 0)
		return TS_REAL(getsockopt)(fd, SOL_SOCKET, SO_ERROR, val, len);
	if (val == NULL || len == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (*len < (socklen_t)sizeof e) {
		errno = EINVAL;
		return -1;
	}
	memcpy(val, &e, sizeof e);
	*len = sizeof e;
	return 0;
}
