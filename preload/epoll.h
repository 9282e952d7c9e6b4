/*
 * epoll.h - epoll over wrapped connections (epoll.c, on the readiness
 * engine of readiness.h): recorded registrations and an inbox of the
 * connections that changed, so that a wait is O(ready).
 */
#ifndef TLSSHIM_EPOLL_H
#define TLSSHIM_EPOLL_H

#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>

#include "conn.h"
#include "fdtab.h"

/* An epoll instance tlsshim records (TS_KIND_EPOLL). */
struct ts_epoll {
	struct ts_fdobj obj;   /* the table's part (fdtab.h): first */
	struct ts_epset *ep;   /* its registrations (freed at its end) */
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

/* A new instance (ep NULL), not yet installed; NULL when out of memory. */
static inline struct ts_epoll *ts_epoll_new(void)
{
	return ts_epoll_of(ts_fdobj_new(TS_KIND_EPOLL));
}

static inline void ts_epoll_release(struct ts_epoll *e)
{
	ts_fd_release(&e->obj);
}

/* Sets are pooled, never freed (a connection's note may race with the
 * instance's end, as the table's objects are). */
struct ts_epset *ts_epset_new(void);
void ts_epset_free(struct ts_epset *e);
/* epoll_ctl on an instance tlsshim records (e is the instance's set). */
int ts_epoll_ctl(struct ts_epset *e, int epfd, int op, int fd, struct epoll_event *ev);
/* epoll_wait/epoll_pwait: TLS readiness for wrapped descriptors, the
 * kernel's for the others. timeout_ms -1 is forever. */
int ts_epoll_wait(struct ts_epset *e, int epfd, struct epoll_event *out, int max, int timeout_ms,
                  const sigset_t *sigmask);
/* c's TLS state may have changed: it goes into the inbox of every epoll
 * instance watching it (ts_conn_changed is the cheap test in front). */
void ts_epoll_note(struct ts_conn *c);
/* fd was just wrapped (connect): an instance that registered the plain
 * socket before takes it up at its next wait. */
void ts_epoll_adopt(int fd, struct ts_conn *c);
/* Connections evaluated by epoll_wait so far (both passes), for tests. */
extern atomic_ulong ts_epoll_visits;

static inline void ts_conn_changed(struct ts_conn *c)
{
	if (atomic_load_explicit(&c->epw_count, memory_order_relaxed) != 0)
		ts_epoll_note(c);
}

#endif /* TLSSHIM_EPOLL_H */
