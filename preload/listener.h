/*
 * listener.h - a listening socket tlsshim has looked at (TS_KIND_LISTENER):
 * the accept rule for its local address, looked up once, so that its
 * accepts cost no further lookups; accept on it (listener.c).
 */
#ifndef TLSSHIM_LISTENER_H
#define TLSSHIM_LISTENER_H

#include <stddef.h>
#include <sys/socket.h>

#include "config.h"
#include "fdtab.h"

struct ts_listener {
	struct ts_fdobj obj;            /* the table's part (fdtab.h): first */
	const struct cfg_rule *rule;    /* NULL: its accepts are libc's */
	char local[64];                 /* its local address, for logs */
};
_Static_assert(offsetof(struct ts_listener, obj) == 0, "the table's part comes first");

/* The listener o is, NULL when o is NULL or of another kind. */
static inline struct ts_listener *ts_listener_of(struct ts_fdobj *o)
{
	return o != NULL && o->kind == TS_KIND_LISTENER ? (struct ts_listener *)(void *)o : NULL;
}

/* ts_fd_lookup(fd, TS_KIND_LISTENER), the object typed. */
static inline enum ts_fd_is ts_listener_lookup(int fd, struct ts_listener **out)
{
	struct ts_fdobj *o;
	enum ts_fd_is is = ts_fd_lookup(fd, TS_KIND_LISTENER, &o);

	*out = (struct ts_listener *)(void *)o; /* NULL, or a listener */
	return is;
}

/* A new listener (rule NULL), not yet installed; NULL when out of memory. */
static inline struct ts_listener *ts_listener_new(void)
{
	return ts_listener_of(ts_fdobj_new(TS_KIND_LISTENER));
}

static inline void ts_listener_release(struct ts_listener *l)
{
	ts_fd_release(&l->obj);
}

/* accept (is_accept4 0) or accept4 (flags) on fd: on a listener an
 * accept rule matches, the connection wrapped as a TLS server; else libc's
 * call. */
int ts_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags, int is_accept4);
/* After a successful listen: if an accept rule matches fd, builds its
 * context now. Keeps errno. */
void ts_listen_prepare(int fd);

#endif /* TLSSHIM_LISTENER_H */
