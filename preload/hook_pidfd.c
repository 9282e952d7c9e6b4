/*
 * hook_pidfd.c - pidfd_getfd: a copy of another (or this) process's
 * descriptor. When it is a wrapped connection of this process (fetched
 * from itself, or from a fork that shares the connection), the new number
 * is tracked as a dup of it (fdadopt.c). The raw syscall(SYS_pidfd_getfd)
 * is handled where syscall() is hooked, with ts_fd_adopt.
 */
#include <dlfcn.h>
#include <errno.h>
#include <sys/pidfd.h>

#include "fdadopt.h"
#include "fdcopies.h"
#include "hook.h"
#include "real.h"

typedef int (*pidfd_getfd_fn)(int, int, unsigned int);

/* Resolved here, not in real.c's table: glibc exports it only since 2.36,
 * and nothing else in tlsshim calls it. */
static _Atomic(pidfd_getfd_fn) real_pidfd_getfd;

static pidfd_getfd_fn resolve(void)
{
	pidfd_getfd_fn f = atomic_load_explicit(&real_pidfd_getfd, memory_order_acquire);

	if (f == NULL) {
		f = (pidfd_getfd_fn)dlsym(RTLD_NEXT, "pidfd_getfd");
		atomic_store_explicit(&real_pidfd_getfd, f, memory_order_release);
	}
	return f;
}

TS_EXPORT int pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
	pidfd_getfd_fn real = resolve();
	int r;

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	r = real(pidfd, targetfd, flags);
	if (r >= 0)
		ts_fdcopy_mark(r);
	if (r >= 0 && ts_depth == 0)
		ts_fd_adopt(r);
	return r;
}
