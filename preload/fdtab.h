/*
 * fdtab.h - the descriptor table (fdtab.c): which descriptor numbers name
 * an object of tlsshim's (a connection, a listener, an epoll instance, a
 * socket copied across fork), the objects' lifetime (dup, close, fork
 * ownership).
 */
#ifndef TLSSHIM_FDTAB_H
#define TLSSHIM_FDTAB_H

#include <stdatomic.h>
#include <stddef.h>

#include "compiler.h"

struct ts_conn;

#define TS_FD_MAX (1 << 20)

/* What the table knows of every object it holds: the first member of each
 * kind's type, which the kind's accessors turn into that type (ts_conn_of,
 * ts_conn_lookup, ...). The kinds and their types:
 *   TS_KIND_CONN      struct ts_conn      conn.h
 *   TS_KIND_LISTENER  struct ts_listener  listener.h
 *   TS_KIND_EPOLL     struct ts_epoll     epoll.h
 *   TS_KIND_FORKED    the header alone    bytepath.h (siblings.c)
 * Lifetime: `users` is 1 while any descriptor names the object, plus one
 * per call in flight; the object ends when it reaches 0. Objects are
 * recycled, never freed, each kind in a pool of its own: an address keeps
 * its type and kind for good, so a racing lookup can always test the
 * counter (ts_fd_lookup), and read `kind`, and a connection's note to an
 * epoll instance that just ended always finds its inbox (epoll.h). */
struct ts_fdobj {
	atomic_int users;
	atomic_int fdrefs;     /* descriptors (of this process) naming it */
	atomic_int flags;      /* enum ts_flag (conn.h) */
	int kind;              /* enum ts_kind */
	struct ts_fdobj *next_free;
};

extern _Atomic(struct ts_fdobj *) ts_fdtab[TS_FD_MAX];
/* Highest descriptor ever installed + 1 (bounds close_range scans). */
extern atomic_int ts_fd_high;

/* The kinds of object the table holds. */
enum ts_kind {
	TS_KIND_ANY = 0,      /* (a lookup's argument: whatever is there) */
	TS_KIND_CONN = 1,     /* a wrapped (or failed) TLS connection */
	TS_KIND_LISTENER = 2, /* a listening socket, its accept rule cached */
	TS_KIND_EPOLL = 3,    /* an epoll instance, its registrations recorded */
	TS_KIND_FORKED = 4    /* a TCP socket not connected when the process
	                         forked (siblings.c): never handed out, the
	                         lookup answers for it */
};

/* ---- the lookup ------------------------------------------------------------
 * Every question about a descriptor number goes through ts_fd_lookup; the
 * hooks put TS_PLAIN in front of it, its answer for the numbers that hold
 * nothing, in one load. */

/* What descriptor fd is to tlsshim. */
enum ts_fd_is {
	TS_FD_PASS = 0,   /* nothing of the kind asked: the call is libc's */
	TS_FD_OURS = 1,   /* *out is the object, with a reference the caller
	                     gives back with ts_fd_release */
	TS_FD_CLOSED = 2, /* a number the program closed that the core still
	                     uses (held until teardown): the program gets EBADF */
	TS_FD_REFUSED = 3 /* a socket that another process connected through
	                     TLS after a fork (siblings.c): EPROTO */
};

/* The one lookup. kind: the kind of object the caller handles; an object
 * of another kind answers PASS (TS_KIND_ANY: whatever is there). A
 * TS_KIND_FORKED entry answers PASS or REFUSED, whatever the kind asked.
 * Each kind's header has it typed (ts_conn_lookup, ts_listener_lookup,
 * ts_epoll_lookup). */
enum ts_fd_is ts_fd_lookup(int fd, enum ts_kind kind, struct ts_fdobj **out);
void ts_fd_release(struct ts_fdobj *o);
/* What a call on a CLOSED number returns: -1, errno EBADF. */
int ts_fd_ebadf(void);
/* What a call the lookup answered CLOSED or REFUSED returns: -1, errno
 * EBADF or EPROTO. */
int ts_fd_fail(enum ts_fd_is is);

/* The lookup's answer for a number whose slot is empty, for the hooks: 1
 * when the call goes straight to libc. One load, one compare, no errno
 * change, no reference. The number is masked into the table instead of
 * bounds-checked (one instruction less on the pass-through path, bench/:
 * <= 8 instructions a call); a number the mask folds onto a used slot
 * (above the table's 2^20, or negative) goes to the slow path, whose
 * ts_fd_lookup answers PASS. */
#define TS_PLAIN(fd)                                                                   \
	TS_LIKELY(atomic_load_explicit(&ts_fdtab[(unsigned)(fd) & (TS_FD_MAX - 1)],      \
	                               memory_order_acquire) == NULL)

/* The live object at fd without taking a reference, NULL for an empty or
 * held number: for code that may not take one (inherit.c runs in a vfork
 * child) and to ask whether fd still names a given object. Objects are
 * recycled, never freed: reading one that a racing close ends is safe,
 * but only its fixed fields (kind; a connection's side and peer) mean
 * anything then. */
struct ts_fdobj *ts_fd_unref(int fd);

/* A new object of the kind's type (users 1, fdrefs 0, flags 0, the rest
 * reset), not yet installed; NULL when out of memory. The kinds' headers
 * have it typed (ts_conn_new, ...). */
struct ts_fdobj *ts_fdobj_new(enum ts_kind kind);
/* Installs o at fd (fdrefs + 1). A stale object at fd (a descriptor closed
 * behind our back, e.g. by a raw syscall) is dropped without any I/O.
 * Returns -1 (EMFILE) when fd is beyond the table. */
int ts_fd_install(int fd, struct ts_fdobj *o);

/* What the caller must do with the real descriptor after ts_fd_detach. */
enum ts_detach {
	TS_DETACH_NONE = 0,    /* fd was not ours: call the real function */
	TS_DETACH_BADF = 3,    /* fd is a number the program already closed
	                          (held for the core): EBADF */
	TS_DETACH_CLOSE = 1,   /* close fd with the real close now */
	TS_DETACH_KEEP = 2     /* do not close: the core still uses this
	                          descriptor (held until teardown) */
};
/* The program stops naming fd (close, dup2 onto it, close_range). The
 * connection is torn down when its last descriptor goes and no call is in
 * flight; teardown sends close_notify if this process owns it. */
enum ts_detach ts_fd_detach(int fd);
/* The same for dup2/dup3 onto fd: a teardown it causes now sends
 * close_notify but leaves fd open for the kernel to replace (KEEP). */
enum ts_detach ts_fd_detach_replacing(int fd);
/* fd was closed by something that cannot be undone (dup2/dup3 onto it,
 * the kernel already replaced it): like ts_fd_detach, but if the core's
 * descriptor is lost while the connection lives on, it is marked failed. */
void ts_fd_replaced(int fd);
/* newfd now names the same connection as oldfd (dup, dup2, F_DUPFD). */
void ts_fd_dup(int oldfd, int newfd);
/* Drops a stale object at fd without I/O (fd is known to be fresh). */
void ts_fd_forget(int fd);

/* Called (once, with no lock held) when a connection ends: sends
 * close_notify when `send_notify`, frees the core socket, and closes the
 * core's descriptor when `close_core_fd`. Set by init.c; the unit tests set
 * their own. (An epoll instance's end is ts_epoll_end, epoll.h; the other
 * kinds hold nothing.) */
extern void (*ts_conn_teardown_hook)(struct ts_conn *c, int send_notify,
                                     int close_core_fd);

/* Fork: epoch and pid of this process (updated by the atfork handlers). */
extern atomic_uint ts_epoch;
extern atomic_int ts_pid;
void ts_fork_prepare(void);
void ts_fork_parent(void);
void ts_fork_child(void);
/* The child's side of _Fork (no prepare handler ran: no lock is held). */
void ts_fork_child_nolock(void);
/* Records that this process did I/O on c. */
void ts_conn_touch(struct ts_conn *c);
/* 1 if this process did I/O on c since its last fork (or never forked and
 * did I/O, or nobody did any). */
int ts_conn_is_owner(const struct ts_conn *c);

/* Descriptors installed, for tests. */
size_t ts_fd_count(void);

#endif /* TLSSHIM_FDTAB_H */
