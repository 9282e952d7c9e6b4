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

/* Instances are pooled, never freed (a connection's note may race with the
 * instance's end, as ts_conn objects are). */
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
