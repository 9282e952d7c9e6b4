/*
 * fdtab.c - which descriptors name an object of tlsshim's, and when the
 * object (a connection, a listener, an epoll instance) ends.
 *
 * The table is a flat array of atomic pointers indexed by descriptor, so
 * that a hook on a descriptor tlsshim does not own costs one bounds check,
 * one load and one compare (DESIGN.md part 1). 2^20 slots are 8 MiB of
 * zero-filled BSS that the kernel only backs where descriptors are used.
 *
 * Connection objects are shared by every descriptor that dup() made of the
 * first one. The core borrowed one particular descriptor number (core_fd);
 * if the program closes that number while a dup or a call in flight still
 * uses the connection, the number is held open (a tagged table entry:
 * EBADF for the program, still the socket for the core) until the
 * connection ends. Objects are recycled, never freed, each kind in a pool
 * of its own, so that a lookup racing with the last close only ever
 * touches a live counter, in an object of the type it expects.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytepath.h"
#include "compiler.h"
#include "conn.h"
#include "epoll.h"
#include "fdadopt.h"
#include "fdtab.h"
#include "listener.h"
#include "logevery.h"
#include "names.h"
#include "stats.h"

TS_LARGE(_Atomic(struct ts_fdobj *) ts_fdtab[TS_FD_MAX]);
atomic_int ts_fd_high;
atomic_uint ts_epoch = 1;
atomic_int ts_pid;
void (*ts_conn_teardown_hook)(struct ts_conn *c, int send_notify, int close_core_fd);

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_size_t fd_count;

/* A held descriptor's entry: the object's address with the low bit set
 * (objects are at least pointer-aligned). */
#define HELD_TAG ((uintptr_t)1)

static int is_held(const struct ts_fdobj *p)
{
	return ((uintptr_t)p & HELD_TAG) != 0;
}

static struct ts_fdobj *held_of(struct ts_fdobj *o)
{
	return (struct ts_fdobj *)((uintptr_t)o | HELD_TAG);
}

static struct ts_fdobj *untag(struct ts_fdobj *p)
{
	return (struct ts_fdobj *)((uintptr_t)p & ~HELD_TAG);
}

/* ---- objects ---------------------------------------------------------------
 * One pool per kind, so that an address keeps its type for good. */

#define KINDS (TS_KIND_FORKED + 1)

static struct ts_fdobj *pool_free[KINDS];

static size_t kind_size(enum ts_kind kind)
{
	switch (kind) {
	case TS_KIND_CONN:
		return sizeof(struct ts_conn);
	case TS_KIND_LISTENER:
		return sizeof(struct ts_listener);
	case TS_KIND_EPOLL:
		return sizeof(struct ts_epoll);
	case TS_KIND_FORKED:
		return sizeof(struct ts_fdobj);
	case TS_KIND_ANY:
		break;
	}
	return 0;
}

static void conn_reset(struct ts_conn *c, int fresh)
{
	if (fresh)
		pthread_mutex_init(&c->peek_lock, NULL);
	c->core_fd = -1;
	c->s = NULL;
	c->rule = NULL;
	c->sock_dev = c->sock_ino = 0;
	atomic_store(&c->owner_epoch, atomic_load(&ts_epoch));
	atomic_store(&c->nonblock, 0);
	atomic_store(&c->rcvtimeo_ms, -1);
	atomic_store(&c->sndtimeo_ms, -1);
	c->peek_len = c->peek_off = 0;
	atomic_store(&c->peek_avail, 0);
	atomic_store(&c->so_error, 0);
	for (int i = 0; i < TS_EPW_MAX; i++) {
		atomic_store(&c->epw[i].epoll, NULL);
		atomic_store(&c->epw[i].queued, 0);
	}
	atomic_store(&c->epw_count, 0);
	c->peer[0] = '\0';
	c->sni[0] = '\0';
	c->side = "connect";
}

struct ts_fdobj *ts_fdobj_new(enum ts_kind kind)
{
	struct ts_fdobj *o;
	int fresh = 0;

	if (kind_size(kind) == 0)
		return NULL;
	pthread_mutex_lock(&pool_lock);
	o = pool_free[kind];
	if (o != NULL)
		pool_free[kind] = o->next_free;
	pthread_mutex_unlock(&pool_lock);
	if (o == NULL) {
		o = calloc(1, kind_size(kind));
		if (o == NULL)
			return NULL;
		o->kind = kind;
		fresh = 1;
	}
	atomic_store(&o->fdrefs, 0);
	atomic_store(&o->flags, 0);
	o->next_free = NULL;
	switch (kind) {
	case TS_KIND_CONN:
		conn_reset(ts_conn_of(o), fresh);
		break;
	case TS_KIND_LISTENER:
		ts_listener_of(o)->rule = NULL;
		ts_listener_of(o)->local[0] = '\0';
		break;
	case TS_KIND_EPOLL:
		ts_epoll_reset(ts_epoll_of(o), fresh);
		break;
	default:
		break;
	}
	/* Last: a racing ts_fd_lookup that still holds the address of the
	 * object's previous life may now take (and give back) a reference. */
	atomic_store_explicit(&o->users, 1, memory_order_release);
	return o;
}

static void recycle(struct ts_fdobj *o)
{
	struct ts_conn *c = ts_conn_of(o);

	if (c != NULL) {
		free(c->peek_buf);
		c->peek_buf = NULL;
		c->peek_cap = 0;
	}
	pthread_mutex_lock(&pool_lock);
	o->next_free = pool_free[o->kind];
	pool_free[o->kind] = o;
	pthread_mutex_unlock(&pool_lock);
}

/* The connection's end: its held number, close_notify, its descriptor. */
static void conn_end(struct ts_conn *c)
{
	int flags = atomic_load(&c->obj.flags), notify, close_core;

	/* The held number is released before the core's descriptor is closed,
	 * so that a thread that gets the number next finds a clean slot. */
	if (c->core_fd >= 0 && c->core_fd < TS_FD_MAX) {
		struct ts_fdobj *expect = held_of(&c->obj);

		atomic_compare_exchange_strong(&ts_fdtab[c->core_fd], &expect, NULL);
	}
	notify = c->s != NULL && !(flags & (TS_F_ABANDONED | TS_F_CORE_LOST)) &&
	         ts_conn_is_owner(c);
	close_core = c->core_fd >= 0 && !(flags & (TS_F_CORE_LOST | TS_F_KEEP_FD));
	if (ts_conn_teardown_hook != NULL) {
		ts_fd_adopt_retire(c);
		ts_conn_teardown_hook(c, notify, close_core);
	}
}

void ts_fd_release(struct ts_fdobj *o)
{
	if (atomic_fetch_sub_explicit(&o->users, 1, memory_order_acq_rel) != 1)
		return;
	switch (o->kind) {
	case TS_KIND_CONN:
		conn_end(ts_conn_of(o));
		break;
	case TS_KIND_EPOLL:
		ts_epoll_end(ts_epoll_of(o));
		break;
	default:
		break;
	}
	recycle(o);
}

static void drop_stale(int fd, struct ts_fdobj *old);

static struct ts_fdobj *slot(int fd)
{
	if (TS_UNLIKELY((unsigned)fd >= TS_FD_MAX))
		return NULL;
	return atomic_load_explicit(&ts_fdtab[fd], memory_order_acquire);
}

/* The object at fd with a reference, whatever its kind. */
static enum ts_fd_is take(int fd, struct ts_fdobj **out)
{
	struct ts_fdobj *c;
	int u;

	*out = NULL;
	for (;;) {
		c = slot(fd);
		if (c == NULL)
			return TS_FD_PASS;
		if (is_held(c))
			return TS_FD_CLOSED;
		u = atomic_load(&c->users);
		while (u > 0 && !atomic_compare_exchange_weak(&c->users, &u, u + 1))
			;
		if (u == 0)
			continue; /* a recycled object: look again */
		if (slot(fd) == c)
			break;
		ts_fd_release(c);
	}
	*out = c;
	return TS_FD_OURS;
}

enum ts_fd_is ts_fd_lookup(int fd, enum ts_kind kind, struct ts_fdobj **out)
{
	struct ts_fdobj *c;
	enum ts_fd_is is = take(fd, out);

	if (is != TS_FD_OURS)
		return is;
	c = *out;
	*out = NULL;
	if (TS_UNLIKELY(c->kind == TS_KIND_FORKED)) {
		/* Asked for whatever is there (close, dup, fcntl, connect,
		 * listen, exit): nothing of ours yet. Asked by a call that
		 * moves bytes or readiness: the kernel says what it is now. */
		int r = kind == TS_KIND_ANY ? 0 : ts_fd_forked_check(fd, c);

		if (r > 0) {
			struct ts_fdobj *expect = c;

			if (atomic_compare_exchange_strong(&ts_fdtab[fd], &expect, NULL))
				drop_stale(fd, c);
		}
		ts_fd_release(c);
		return r < 0 ? TS_FD_REFUSED : TS_FD_PASS;
	}
	if (kind != TS_KIND_ANY && c->kind != (int)kind) {
		ts_fd_release(c);
		return TS_FD_PASS;
	}
	*out = c;
	return TS_FD_OURS;
}

int ts_fd_ebadf(void)
{
	errno = EBADF;
	return -1;
}

int ts_fd_fail(enum ts_fd_is is)
{
	errno = is == TS_FD_REFUSED ? EPROTO : EBADF;
	return -1;
}

struct ts_fdobj *ts_fd_unref(int fd)
{
	struct ts_fdobj *c = slot(fd);

	return c == NULL || is_held(c) ? NULL : c;
}

/* A stale entry: the descriptor was closed behind our back (a raw
 * syscall, glibc's internal close) and the kernel handed the number out
 * again. The old connection cannot be reached any more; drop this name
 * without any I/O (the socket is gone, nothing could go out in clear). */
static void drop_stale(int fd, struct ts_fdobj *old)
{
	struct ts_fdobj *o = untag(old);

	if (is_held(old) || (o->kind == TS_KIND_CONN && fd == ts_conn_of(o)->core_fd))
		atomic_fetch_or(&o->flags, TS_F_CORE_LOST | TS_F_ABANDONED);
	if (!is_held(old)) {
		atomic_fetch_sub(&fd_count, 1);
		if (atomic_fetch_sub(&o->fdrefs, 1) == 1) {
			atomic_fetch_or(&o->flags, TS_F_CLOSING);
			ts_fd_release(o);
		}
	}
}

int ts_fd_install(int fd, struct ts_fdobj *c)
{
	struct ts_fdobj *old;
	int high;

	if (fd < 0 || fd >= TS_FD_MAX) {
		errno = EMFILE;
		return -1;
	}
	atomic_fetch_add(&c->fdrefs, 1);
	old = atomic_exchange_explicit(&ts_fdtab[fd], c, memory_order_acq_rel);
	atomic_fetch_add(&fd_count, 1);
	if (old != NULL)
		drop_stale(fd, old);
	high = atomic_load(&ts_fd_high);
	while (fd + 1 > high && !atomic_compare_exchange_weak(&ts_fd_high, &high, fd + 1))
		;
	if (c->kind == TS_KIND_CONN) /* streams on this number (stdstream.c) */
		ts_stdio_changed(fd);
	return 0;
}

void ts_fd_forget(int fd)
{
	struct ts_fdobj *old;

	if (fd < 0 || fd >= TS_FD_MAX)
		return;
	old = atomic_exchange(&ts_fdtab[fd], NULL);
	if (old != NULL)
		drop_stale(fd, old);
	if (TS_UNLIKELY(fd <= 2))
		ts_stdio_changed(fd);
}

static enum ts_detach detach(int fd, int replacing)
{
	struct ts_fdobj *old, *c;
	int keep, in_use;

	for (;;) {
		old = slot(fd);
		if (old == NULL)
			return TS_DETACH_NONE;
		if (is_held(old))
			return TS_DETACH_BADF;
		if (atomic_compare_exchange_strong(&ts_fdtab[fd], &old, NULL))
			break;
	}
	c = old;
	atomic_fetch_sub(&fd_count, 1);
	keep = c->kind == TS_KIND_CONN && fd == ts_conn_of(c)->core_fd;
	if (keep) {
		/* Other descriptors or calls in flight still use the core's
		 * number: hold it (the teardown closes it). */
		in_use = atomic_load(&c->fdrefs) > 1 || atomic_load(&c->users) > 1;
		if (in_use) {
			atomic_fetch_or(&c->flags, TS_F_HELD);
			atomic_store(&ts_fdtab[fd], held_of(c));
		} else if (replacing) {
			/* The teardown below sends close_notify but leaves the
			 * number open: dup2 replaces it atomically, with no
			 * moment in which another thread could be given it. */
			atomic_fetch_or(&c->flags, TS_F_KEEP_FD);
		}
	}
	if (atomic_fetch_sub(&c->fdrefs, 1) == 1) {
		atomic_fetch_or(&c->flags, TS_F_CLOSING);
		ts_fd_release(c);
	}
	return keep ? TS_DETACH_KEEP : TS_DETACH_CLOSE;
}

enum ts_detach ts_fd_detach(int fd)
{
	enum ts_detach d = detach(fd, 0);

	if (TS_UNLIKELY((unsigned)fd <= 2) && d != TS_DETACH_NONE)
		ts_stdio_changed(fd); /* stdin/stdout/stderr back (stdstream.c) */
	return d;
}

enum ts_detach ts_fd_detach_replacing(int fd)
{
	enum ts_detach d = detach(fd, 1);

	if (TS_UNLIKELY((unsigned)fd <= 2) && d != TS_DETACH_NONE)
		ts_stdio_changed(fd);
	return d;
}

void ts_fd_replaced(int fd)
{
	struct ts_fdobj *old;

	if (fd < 0 || fd >= TS_FD_MAX)
		return;
	old = slot(fd);
	if (old == NULL || !is_held(old))
		return;
	if (atomic_compare_exchange_strong(&ts_fdtab[fd], &old, NULL))
		atomic_fetch_or(&untag(old)->flags, TS_F_CORE_LOST | TS_F_ABANDONED);
}

void ts_fd_dup(int oldfd, int newfd)
{
	struct ts_fdobj *c;

	if (take(oldfd, &c) != TS_FD_OURS)
		return; /* a TS_KIND_FORKED entry too: the copy is one more name */
	if (ts_fd_install(newfd, c) < 0)
		atomic_fetch_or(&c->flags, TS_F_ABANDONED);
	ts_fd_release(c);
}

size_t ts_fd_count(void)
{
	return atomic_load(&fd_count);
}

/* ---- fork ----------------------------------------------------------------
 * Both processes keep every object after fork. Each counts forks in its own
 * epoch; a connection on which this process did no I/O since its last fork
 * is presumed to be the other process's (accept-then-fork: the child
 * serves, the parent closes its copy), so its close sends no close_notify. */

void ts_conn_touch(struct ts_conn *c)
{
	unsigned e = atomic_load_explicit(&ts_epoch, memory_order_relaxed);

	if (atomic_load_explicit(&c->owner_epoch, memory_order_relaxed) != e)
		atomic_store_explicit(&c->owner_epoch, e, memory_order_relaxed);
}

int ts_conn_is_owner(const struct ts_conn *c)
{
	return atomic_load(&c->owner_epoch) == atomic_load(&ts_epoch);
}

/* The locks no child may start with held, taken in one order: names,
 * epoll's live list, every epoll object's inbox lock (live or pooled, in
 * one order, epoll.c), pool, log_every; released in the reverse. Each is
 * a leaf towards the others (no holder of one waits for another of
 * them): the live list's holders take only inbox locks, one at a time
 * (ts_epoll_adopt); an inbox lock's holders take no lock (a push, whose
 * realloc's malloc locks glibc's fork takes after these handlers, and a
 * write to the wake eventfd; a wait and an instance's end take it under
 * the instance's own lock, none of these); and an epoll object leaves the
 * live list before the pool takes it back (ts_epoll_end, then recycle)
 * and joins it after the pool gave it out (ts_fdobj_new), never holding
 * both. The inbox locks cost a fork O(epoll objects): the most instances
 * the program had at once. A new lock here keeps that, or says where it
 * nests. */
void ts_fork_prepare(void)
{
	ts_fd_watch_forked(); /* before the locks: it makes table entries */
	ts_names_lock();
	ts_epoll_fork_lock();
	pthread_mutex_lock(&pool_lock);
	ts_log_every_lock();
}

void ts_fork_parent(void)
{
	atomic_fetch_add(&ts_epoch, 1);
	ts_log_every_unlock();
	pthread_mutex_unlock(&pool_lock);
	ts_epoll_fork_unlock();
	ts_names_unlock();
}

/* The child's one thread is the one that took the locks in
 * ts_fork_prepare: it unlocks them (initialising a held mutex again is
 * undefined, and ThreadSanitizer then counts it held forever: the next
 * fork's prepare handlers looked like a lock-order inversion, under make
 * tsan in test_evloop_upgrade's nginx). */
void ts_fork_child(void)
{
	atomic_fetch_add(&ts_epoch, 1);
	atomic_store(&ts_pid, (int)getpid());
	ts_log_every_unlock();
	pthread_mutex_unlock(&pool_lock);
	ts_epoll_fork_unlock();
	ts_names_unlock();
	ts_stats_fork_child();
}

/* _Fork's child: no handler took the locks, so any of them, an epoll
 * inbox lock too, may be held by a thread it does not have. They are left
 * so: the child of a threaded process may call only async-signal-safe
 * functions until it execs (POSIX, _Fork), none of which takes them, and
 * initialising a held mutex again is undefined (above). */
void ts_fork_child_nolock(void)
{
	atomic_fetch_add(&ts_epoch, 1);
	atomic_store(&ts_pid, (int)getpid());
	ts_stats_fork_child();
}
