/*
 * hook_close.c - close, close_range, closefrom, shutdown, dup, dup2, dup3,
 * fcntl (F_DUPFD, F_DUPFD_CLOEXEC, F_SETFL, F_SETFD): the lifetime of
 * wrapped descriptors. glibc itself calls close_range (closefrom, and ssh
 * calls it directly) behind the PLT, so both are hooked here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

#include <unistd.h>

#include "compiler.h"
#include "conn.h"
#include "conn_fd.h"
#include "fdcopies.h"
#include "fdtab.h"
#include "hook.h"
#include "real.h"

TS_EXPORT int close(int fd)
{
	if (TS_PLAIN(fd))
		return TS_REAL(close)(fd);
	return ts_close(fd);
}

TS_EXPORT int close_range(unsigned lo, unsigned hi, int flags)
{
	if (atomic_load_explicit(&ts_fd_high, memory_order_relaxed) == 0) {
		if (TS_REAL(close_range) == NULL) {
			errno = ENOSYS;
			return -1;
		}
		return TS_REAL(close_range)(lo, hi, flags);
	}
	return ts_close_range(lo, hi, flags);
}

TS_EXPORT void closefrom(int lo)
{
	if (atomic_load_explicit(&ts_fd_high, memory_order_relaxed) == 0 &&
	    TS_REAL(closefrom) != NULL) {
		TS_REAL(closefrom)(lo);
		return;
	}
	ts_closefrom(lo);
}

TS_EXPORT int shutdown(int fd, int how)
{
	enum ts_fd_is is;
	struct ts_conn *c;
	int r;

	if (TS_PLAIN(fd))
		return TS_REAL(shutdown)(fd, how);
	is = ts_conn_lookup(fd, &c);
	if (is == TS_FD_PASS)
		return TS_REAL(shutdown)(fd, how);
	if (is == TS_FD_CLOSED || is == TS_FD_REFUSED)
		return ts_fd_fail(is);
	r = ts_conn_shutdown(c, fd, how);
	ts_conn_release(c);
	return r;
}

TS_EXPORT int dup(int fd)
{
	if (TS_PLAIN(fd)) {
		int r = TS_REAL(dup)(fd);

		if (r >= 0) {
			ts_fdcopy_mark(fd);
			ts_fdcopy_mark(r);
		}
		if (TS_UNLIKELY(r >= 0 && !TS_PLAIN(r))) {
			int saved = errno;

			ts_fd_forget(r);
			errno = saved;
		}
		return r;
	}
	return ts_dup(fd);
}

TS_EXPORT int dup2(int oldfd, int newfd)
{
	if (TS_PLAIN(oldfd) && TS_PLAIN(newfd)) {
		ts_fdcopy_mark(oldfd);
		ts_fdcopy_mark(newfd);
		return TS_REAL(dup2)(oldfd, newfd);
	}
	return ts_dup2(oldfd, newfd);
}

TS_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (TS_PLAIN(oldfd) && TS_PLAIN(newfd)) {
		ts_fdcopy_mark(oldfd);
		ts_fdcopy_mark(newfd);
		return TS_REAL(dup3)(oldfd, newfd, flags);
	}
	return ts_dup3(oldfd, newfd, flags);
}

/* fcntl's third argument is an int, a long or a pointer depending on cmd;
 * on the ABIs glibc supports all of them travel in one register, so it is
 * read and passed on as a pointer-sized value (as libfiu and torsocks do). */
static int fcntl_common(int fd, int cmd, void *arg, int (*real)(int, int, ...))
{
	if (TS_PLAIN(fd)) {
		int r = real(fd, cmd, arg);

		if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && r >= 0) {
			ts_fdcopy_mark(fd);
			ts_fdcopy_mark(r);
		}
		if (TS_UNLIKELY((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && r >= 0 &&
		                !TS_PLAIN(r))) {
			int saved = errno;

			ts_fd_forget(r);
			errno = saved;
		}
		return r;
	}
	return ts_fcntl(fd, cmd, arg, real);
}

TS_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg, TS_REAL(fcntl));
}

TS_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg, TS_REAL(fcntl64) ? TS_REAL(fcntl64) : TS_REAL(fcntl));
}
