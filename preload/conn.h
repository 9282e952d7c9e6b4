/*
 * conn.h - a wrapped connection (struct ts_conn, TS_KIND_CONN) and its
 * I/O through the core (conn_io.c, conn_copy.c).
 */
#ifndef TLSSHIM_CONN_H
#define TLSSHIM_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "config.h"
#include "fdtab.h"
#include "sslsocket.h"


/* epoll instances a connection tells of its changes directly; a
 * registration beyond them is looked at on every wait. */
#define TS_EPW_MAX 4

struct ts_epoll;

enum ts_flag {
	/* Whether the connection failed, finished its handshake or shut its
	 * write side is the core's to say (sslsocket_snapshot): no bit here
	 * copies it. These are what tlsshim itself did or decided. */
	TS_F_ABANDONED = 1 << 0,  /* tlsshim gave it up (no core socket, a name
	                             it could not track, core_fd replaced):
	                             every call fails closed */
	TS_F_RD_SHUT = 1 << 2,    /* the program shut the read side */
	TS_F_LOGGED = 1 << 3,     /* the handshake's end was counted and logged */
	TS_F_FAIL_LOGGED = 1 << 4,/* the failure was logged (the warn line):
	                             calls after the one that found it say
	                             EPROTO */
	TS_F_CLOSING = 1 << 5,    /* no descriptor names it any more */
	TS_F_HELD = 1 << 6,       /* the program closed core_fd; we hold it open */
	TS_F_CORE_LOST = 1 << 7,  /* core_fd was replaced (dup2 onto it) */
	TS_F_KEEP_FD = 1 << 9,    /* teardown leaves core_fd open: dup2 replaces it */
	TS_F_COUNTED = 1 << 10,   /* counted open in the status file (stats.h) */
	TS_F_SNIFF = 1 << 11,     /* allow_plaintext: TLS or not is undecided (sniff.h) */
	TS_F_PLAIN = 1 << 12,     /* allow_plaintext: a plaintext client, passed through */
	TS_F_OUR_CLOEXEC = 1 << 13 /* close-on-exec was set by tlsshim, not the program */
};

struct ts_conn {
	struct ts_fdobj obj;   /* the table's part (fdtab.h): first */
	int core_fd;           /* the descriptor the core borrowed */
	sslsocket *s;
	const struct cfg_rule *rule;
	/* After fork both processes hold the object; only one that did I/O
	 * since the last fork may send close_notify (ts_conn_is_owner). */
	atomic_uint owner_epoch;
	/* The program's view of the blocking mode, never the socket's flags. */
	atomic_int nonblock;
	atomic_int rcvtimeo_ms;  /* SO_RCVTIMEO, -1: none */
	atomic_int sndtimeo_ms;  /* SO_SNDTIMEO, -1: none */
	/* recv(MSG_PEEK): bytes read from TLS but not consumed yet. */
	pthread_mutex_t peek_lock;
	unsigned char *peek_buf;
	size_t peek_len, peek_off, peek_cap;
	atomic_size_t peek_avail;  /* peek_len - peek_off, readable unlocked */
	/* The epoll instances watching it (epoll.c): when its TLS state may
	 * have changed (I/O, a handshake step, an error), ts_conn_changed
	 * notes it in each one's inbox, so that epoll_wait looks at what
	 * changed and never at idle registrations. No reference is held:
	 * a note may reach an instance that just ended, or the same address
	 * reused for a new one, which epoll.h's struct ts_epoll makes safe. */
	struct ts_epwatch {
		_Atomic(struct ts_epoll *) epoll;
		atomic_int fd;       /* the descriptor registered there */
		atomic_int queued;   /* already in that instance's inbox */
	} epw[TS_EPW_MAX];
	atomic_int epw_count;
	/* What getsockopt(SO_ERROR) owes the program, once: EPROTO when a
	 * readiness call (which reports no errno) saw the handshake of a
	 * non-blocking connect fail (CONTRACT.md). */
	atomic_int so_error;
	/* Logs. */
	char peer[64];         /* "127.0.0.1:4433", "[::1]:4433" */
	char sni[256];         /* the name sent as SNI, "" if none */
	const char *side;      /* "connect" or "accept" */
	/* allow_plaintext: when a silent client is taken for plaintext
	 * (CLOCK_MONOTONIC ms), while TS_F_SNIFF is set. */
	long long sniff_deadline;
	/* The socket's st_dev/st_ino, 0 until fdadopt.c needs them. */
	unsigned long long sock_dev, sock_ino;
};
_Static_assert(offsetof(struct ts_conn, obj) == 0, "the table's part comes first");

/* The connection o is, NULL when o is NULL or of another kind. */
static inline struct ts_conn *ts_conn_of(struct ts_fdobj *o)
{
	return o != NULL && o->kind == TS_KIND_CONN ? (struct ts_conn *)(void *)o : NULL;
}

/* ts_fd_lookup(fd, TS_KIND_CONN), the object typed. */
static inline enum ts_fd_is ts_conn_lookup(int fd, struct ts_conn **out)
{
	struct ts_fdobj *o;
	enum ts_fd_is is = ts_fd_lookup(fd, TS_KIND_CONN, &o);

	*out = (struct ts_conn *)(void *)o; /* NULL, or a connection */
	return is;
}

/* A new connection (core_fd -1, no core socket), not yet installed; NULL
 * when out of memory. */
static inline struct ts_conn *ts_conn_new(void)
{
	return ts_conn_of(ts_fdobj_new(TS_KIND_CONN));
}

static inline void ts_conn_release(struct ts_conn *c)
{
	ts_fd_release(&c->obj);
}

/* ---- conn_io.c: reads, writes, shutdown, teardown ---------------------- */

ssize_t ts_conn_read(struct ts_conn *c, void *buf, size_t n, int flags);
ssize_t ts_conn_readv(struct ts_conn *c, const struct iovec *iov, int iovcnt, int flags);
ssize_t ts_conn_write(struct ts_conn *c, const void *buf, size_t n, int flags);
ssize_t ts_conn_writev(struct ts_conn *c, const struct iovec *iov, int iovcnt, int flags);
ssize_t ts_conn_recvmsg(struct ts_conn *c, int fd, struct msghdr *msg, int flags);
ssize_t ts_conn_recvfrom(struct ts_conn *c, int fd, void *buf, size_t n, int flags,
                         struct sockaddr *addr, socklen_t *alen);
int ts_conn_shutdown(struct ts_conn *c, int fd, int how);
/* The core's teardown (installed as ts_conn_teardown_hook). */
void ts_conn_teardown(struct ts_conn *c, int send_notify, int close_core_fd);
/* Logs the info line once the handshake is done, or the warn line once it
 * failed. */
void ts_conn_log_state(struct ts_conn *c);
/* The warn line of a failed connection, once (whoever finds the failure
 * first: a read, a write, or a readiness call that processed the record). */
void ts_conn_log_failure(struct ts_conn *c);
/* Drives a connect or handshake in progress as far as it goes without
 * blocking, for a caller that reports no errno (poll, epoll, getsockopt):
 * a failure is logged and owed to the program as getsockopt(SO_ERROR) =
 * EPROTO. Nothing once established or failed. */
void ts_conn_drive(struct ts_conn *c);
/* Reads the program's blocking mode and timeouts off the descriptor. */
void ts_conn_load_mode(struct ts_conn *c, int fd);

/* ---- conn_copy.c: the copy calls through TLS ------------------------- */

/* sendfile onto a wrapped socket: the file's bytes through TLS. */
ssize_t ts_conn_sendfile(struct ts_conn *c, int in_fd, off_t *offset, size_t count);
/* splice from a pipe into a wrapped socket, and from one into a pipe. */
ssize_t ts_conn_splice_out(struct ts_conn *c, int in_fd, size_t len, unsigned flags);
ssize_t ts_conn_splice_in(struct ts_conn *c, int out_fd, size_t len, unsigned flags);
int ts_conn_sendmmsg(struct ts_conn *c, struct mmsghdr *v, unsigned n, int flags);
int ts_conn_recvmmsg(struct ts_conn *c, int fd, struct mmsghdr *v, unsigned n, int flags);

/* Bytes waiting in the peek buffer (recv MSG_PEEK, FIONREAD, splice). */
static inline size_t ts_conn_peeked(const struct ts_conn *c)
{
	return atomic_load_explicit(&c->peek_avail, memory_order_acquire);
}

#endif /* TLSSHIM_CONN_H */
