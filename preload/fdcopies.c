/*
 * fdcopies.c - the marks of fdcopies.h: one bit per descriptor number,
 * set with an atomic or, read with relaxed loads (a mark that races with
 * a connect is a dup racing with that connect, which the program cannot
 * order either). Two sets: the numbers that took part in a copy, and the
 * TCP sockets not connected yet (which a fork copies to another process).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "compiler.h"
#include "fdcopies.h"
#include "fdtab.h"
#include "real.h"

#define WORD_BITS (sizeof(unsigned long) * CHAR_BIT)

/* One set of marks: a bit per descriptor number. */
struct markset {
	atomic_int high; /* highest marked word + 1; beside bits[0], one page */
	atomic_ulong bits[TS_FD_MAX / WORD_BITS];
};

TS_LARGE(static struct markset copies); /* numbers that took part in a copy */
TS_LARGE(static struct markset fresh);  /* TCP sockets not connected yet */

static void set_mark(struct markset *m, int fd)
{
	unsigned w;
	int high;

	if (fd < 0 || fd >= TS_FD_MAX)
		return;
	w = (unsigned)fd / WORD_BITS;
	atomic_fetch_or_explicit(&m->bits[w], 1UL << ((unsigned)fd % WORD_BITS),
	                         memory_order_relaxed);
	high = atomic_load_explicit(&m->high, memory_order_relaxed);
	while ((int)w + 1 > high &&
	       !atomic_compare_exchange_weak_explicit(&m->high, &high, (int)w + 1,
	                                              memory_order_relaxed, memory_order_relaxed))
		;
}

static int next_mark(struct markset *m, int from)
{
	int high = atomic_load_explicit(&m->high, memory_order_relaxed);
	unsigned w;

	if (from < 0)
		from = 0;
	for (w = (unsigned)from / WORD_BITS; (int)w < high; w++) {
		unsigned long bits = atomic_load_explicit(&m->bits[w], memory_order_relaxed);

		if (w == (unsigned)from / WORD_BITS)
			bits &= ~0UL << ((unsigned)from % WORD_BITS);
		if (bits != 0)
			return (int)(w * WORD_BITS + (unsigned)__builtin_ctzl(bits));
	}
	return -1;
}

void ts_fdcopy_mark(int fd)
{
	set_mark(&copies, fd);
}

int ts_fdcopy_marked(int fd)
{
	if (fd < 0 || fd >= TS_FD_MAX)
		return 0;
	return (atomic_load_explicit(&copies.bits[(unsigned)fd / WORD_BITS], memory_order_relaxed) >>
	        ((unsigned)fd % WORD_BITS)) & 1;
}

int ts_fdcopy_next(int from)
{
	return next_mark(&copies, from);
}

void ts_fdfresh_mark(int fd)
{
	set_mark(&fresh, fd);
}

void ts_fdfresh_clear(int fd)
{
	if (fd < 0 || fd >= TS_FD_MAX)
		return;
	atomic_fetch_and_explicit(&fresh.bits[(unsigned)fd / WORD_BITS],
	                          ~(1UL << ((unsigned)fd % WORD_BITS)), memory_order_relaxed);
}

int ts_fdfresh_next(int from)
{
	return next_mark(&fresh, from);
}

void ts_fd_each_open(void (*fn)(int fd, void *arg), void *arg)
{
	char buf[4096];
	ssize_t n;
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dir < 0)
		return;
	while ((n = getdents64(dir, buf, sizeof buf)) > 0) {
		ssize_t off = 0;

		while (off < n) {
			struct dirent64 *d = (struct dirent64 *)(void *)(buf + off);
			char *end;
			long fd = strtol(d->d_name, &end, 10);

			off += d->d_reclen;
			if (end != d->d_name && *end == '\0' && fd != dir && fd >= 0 && fd <= INT_MAX)
				fn((int)fd, arg);
		}
	}
	TS_REAL(close)(dir);
}

static void mark_one(int fd, void *arg)
{
	(void)arg;
	ts_fdcopy_mark(fd);
}

void ts_fdcopy_mark_open(void)
{
	ts_fd_each_open(mark_one, NULL);
}
