/*
 * hook.h - what the exported wrappers (hook_*.c) share: the export
 * attribute, the pass-through tests and the slow path's lookup.
 */
#ifndef TLSSHIM_HOOK_H
#define TLSSHIM_HOOK_H

#include <sys/types.h>

#include "compiler.h"
#include "fdtab.h"

/* The exported wrappers (hook_*.c only; the version script lists them). */
#define TS_EXPORT __attribute__((visibility("default")))
/* A hook's work on wrapped descriptors, kept out of the hook itself so
 * that the pass-through path has no stack frame and no canary: a bounds
 * check, a load, a compare and a jump to libc (bench/: <= 8 instructions). */
#define TS_SLOW_PATH __attribute__((noinline))

/* A hook's test: 1 when the call must go straight to libc (a descriptor
 * tlsshim does not own). One bounds check, one load, one compare; no errno
 * change. */
#define TS_PLAIN(fd) TS_LIKELY(ts_fd_peek(fd) == NULL)

/* The same test for the read and write families, one instruction shorter:
 * the descriptor is masked into the table instead of bounds-checked. A
 * number the mask folds onto a wrapped one (only possible above the
 * table's 2^20, or negative) takes the slow path, whose exact lookup finds
 * nothing and calls libc. */
#define TS_PLAIN_HOT(fd)                                                               \
	TS_LIKELY(atomic_load_explicit(&ts_fdtab[(unsigned)(fd) & (TS_FD_MAX - 1)],      \
	                               memory_order_acquire) == NULL)

/* The slow path of an I/O hook: the connection at fd, or NULL with
 * *pass = 1 (call the real function: a listener, or a race with close) or
 * *pass = 0 (fail: errno is set, EBADF for a number the program closed). */
struct ts_conn *ts_io_acquire(int fd, int *pass);

/* The body of a read or write hook's slow path: `call` runs with c_, the
 * connection at fd, and its result is returned; a descriptor that is not
 * a connection falls through to the code after it (the real call), one
 * the program closed returns -1 (EBADF). */
#define TS_SLOW_IO(fd, call)                                          \
	do {                                                    \
		int pass_;                                      \
		ssize_t r_;                                     \
		struct ts_conn *c_ = ts_io_acquire((fd), &pass_); \
		if (c_ == NULL && !pass_)                       \
			return -1;                              \
		if (c_ != NULL) {                               \
			r_ = (call);                            \
			ts_conn_release(c_);                    \
			return r_;                              \
		}                                               \
	} while (0)

#endif /* TLSSHIM_HOOK_H */
