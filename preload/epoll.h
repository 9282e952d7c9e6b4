/*
 * epoll.h - epoll over wrapped connections (epoll.c, on the readiness
 * engine of readiness.h): an instance's object, with its recorded
 * registrations and an inbox of the connections that changed, so that a
 * wait is O(ready).
 */
#ifndef TLSSHIM_EPOLL_H
#define TLSSHIM_EPOLL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "conn.h"
#include "fdident_int.h"
#include "fdtab.h"

struct ts_epoll_reg;  /* a recorded registration (epoll.c) */
struct ts_epoll_note; /* a connection noted in the inbox (epoll.c) */

/* An epoll instance tlsshim records (TS_KIND_EPOLL): one object from the
 * table's pool for that kind, its registrations and inbox included.
 *
 * Connections point at it without a reference (conn.h, epw[i].epoll): a
 * note (ts_epoll_note) loads the pointer, then pushes into the inbox, and
 * may race with the instance's end (which clears the connection's slot,
 * too late for a note that loaded it already) and with the address's
 * reuse for a new instance. The table's pool is the guard: it never frees
 * an object and an address stays an epoll instance for good, and the
 * locks are initialised once, in the object's first life (ts_epoll_reset).
 * So a late note always finds a live lock and inbox: the ended instance's
 * (its next life starts with that note in its inbox) or the new one's.
 * A note is a hint, never trusted: a wait looks at a noted descriptor
 * only while its registration there still follows that connection (or
 * follows none yet), and then asks the connection's state afresh, so a
 * stale note costs one look and reports nothing that is not ready. No
 * generation count is needed; the set pool this replaced gave the same
 * guarantee the same way. */
struct ts_epoll {
	struct ts_fdobj obj;   /* the table's part (fdtab.h): first */
	/* The registrations (regs, indexed by descriptor, and the number of
	 * the last batch of events any wait opened: 64 bits, never wrapping
	 * onto a number a registration still holds), held while the engine
	 * runs. */
	pthread_mutex_t lock;
	struct ts_epoll_reg *regs;
	int cap;
	uint64_t pass;
	atomic_int rescan;     /* an inbox push failed: look at every one */
	/* The inbox: connections noted since the last wait, and the array
	 * the last wait worked on (inbox_lock, taken for nothing else but
	 * the wake eventfd's number, below). */
	pthread_mutex_t inbox_lock;
	struct ts_epoll_note *inbox, *work;
	size_t n_inbox, cap_inbox, cap_work;
	/* Threads in (or about to enter) the kernel's wait, and the eventfd
	 * that wakes them (-1 until the process has a second thread); a
	 * note reads and writes wakefd under inbox_lock, under which the
	 * end takes it (epoll.c, wake_locked). */
	atomic_int sleepers;
	atomic_int wakefd;
	/* What wakefd was when made: the program may close it (close_range,
	 * closefrom) and get its number for something else (epoll.c,
	 * wake_ours). */
	struct core_fdident wake_id;
	/* The live instances (ts_epoll_adopt), and every epoll object
	 * (ts_epoll_fork_lock), under epoll.c's lock. */
	struct ts_epoll *live_next, **live_prev;
	struct ts_epoll *every_next;
};
_Static_assert(offsetof(struct ts_epoll, obj) == 0, "the table's part comes first");

/* The epoll instance o is, NULL when o is NULL or of another kind. */
static inline struct ts_epoll *ts_epoll_of(struct ts_fdobj *o)
{
	return o != NULL && o->kind == TS_KIND_EPOLL ? (struct ts_epoll *)(void *)o : NULL;
}

/* ts_fd_lookup(fd, TS_KIND_EPOLL), the object typed. */
static inline enum ts_fd_is ts_epoll_lookup(int fd, struct ts_epoll **out)
{
	struct ts_fdobj *o;
	enum ts_fd_is is = ts_fd_lookup(fd, TS_KIND_EPOLL, &o);

	*out = (struct ts_epoll *)(void *)o; /* NULL, or an epoll instance */
	return is;
}

/* A new instance (no registrations, an empty inbox), not yet installed;
 * NULL when out of memory. */
static inline struct ts_epoll *ts_epoll_new(void)
{
	return ts_epoll_of(ts_fdobj_new(TS_KIND_EPOLL));
}

/* Drops a reference; the last one ends the instance (ts_epoll_end). */
static inline void ts_epoll_release(struct ts_epoll *e)
{
	ts_fd_release(&e->obj);
}

/* The table's calls into an instance's life (fdtab.c): ts_fdobj_new
 * starts one (fresh: the object's first life, its locks not yet
 * initialised), the last ts_fd_release ends it: its connections stop
 * noting it, its registrations are freed, its wake eventfd is closed and
 * it leaves the live list, before the pool takes the object back. errno
 * is kept. */
void ts_epoll_reset(struct ts_epoll *e, int fresh);
void ts_epoll_end(struct ts_epoll *e);
/* epoll_ctl on an instance tlsshim records (the kernel's instance epfd). */
int ts_epoll_ctl(struct ts_epoll *e, int epfd, int op, int fd, struct epoll_event *ev);
/* epoll_wait/epoll_pwait: TLS readiness for wrapped descriptors, the
 * kernel's for the others. timeout_ms -1 is forever. */
int ts_epoll_wait(struct ts_epoll *e, int epfd, struct epoll_event *out, int max, int timeout_ms,
                  const sigset_t *sigmask);
/* c's TLS state may have changed: it goes into the inbox of every epoll
 * instance watching it (ts_conn_changed is the cheap test in front). */
void ts_epoll_note(struct ts_conn *c);
/* fd was just wrapped (connect): an instance that registered the plain
 * socket before takes it up at its next wait. */
void ts_epoll_adopt(int fd, struct ts_conn *c);
/* pthread_atfork (fdtab.c, ts_fork_prepare): the live list's lock and
 * every epoll object's inbox lock, taken before fork and released in both
 * processes, so that no child starts with one held by a thread it does
 * not have (its next ts_epoll_adopt, at a connect that wraps a socket, or
 * its next note or wait on that instance would wait for good). */
void ts_epoll_fork_lock(void);
void ts_epoll_fork_unlock(void);
/* Connections evaluated by epoll_wait so far (both passes), for tests. */
extern atomic_ulong ts_epoll_visits;

static inline void ts_conn_changed(struct ts_conn *c)
{
	if (atomic_load_explicit(&c->epw_count, memory_order_relaxed) != 0)
		ts_epoll_note(c);
}

#endif /* TLSSHIM_EPOLL_H */
