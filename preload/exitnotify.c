/*
 * exitnotify.c - close_notify at exit (CONTRACT.md "close_notify at exit").
 *
 * A process that ends with exit() or by returning from main while it owns
 * wrapped connections sends their close_notify, so the peer reads a clean
 * end of stream and not a truncation (rsync's daemon child calls exit()
 * with its connection open; rsync's TLS client then reports an unexpected
 * EOF although every file arrived). The kernel's close at exit would only
 * send a FIN.
 *
 * When: an atexit handler, registered on the first wrapped connection.
 * By then OpenSSL has registered its own cleanup (OPENSSL_cleanup, an
 * atexit handler: building the rule's context initialised it), and atexit
 * handlers run last-in first-out, so this one runs while OpenSSL still
 * works. A destructor would run after OPENSSL_cleanup. Handlers the program
 * registered later run first and may still use their connections;
 * handlers registered earlier run after and find the write side shut.
 *
 * First every stream with buffered output is flushed (stdstream.c): exit()
 * flushes stdio only after every atexit handler, when the connection
 * under a stream would already be shut for writing.
 *
 * Which: connections whose handshake completed, not failed, that this
 * process owns (ts_conn_is_owner: after fork, only the process that did
 * I/O since; a parent that handed a connection to a child sends nothing).
 *
 * Bounded: each waits for socket buffer room as close() does (100 ms for
 * non-blocking sockets, 5 s for blocking ones), all of them together at
 * most TS_EXIT_BUDGET_MS: exit never hangs on a stuck peer. _exit() and a
 * fatal signal send nothing (no handler runs).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <time.h>

#include "bytepath.h"
#include "compiler.h"
#include "conn.h"
#include "exitnotify.h"
#include "fdtab.h"
#include "log.h"
#include "real.h"

#define TS_EXIT_BUDGET_MS 2000

static pthread_once_t arm_once = PTHREAD_ONCE_INIT;
static atomic_int armed;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int owned_open(struct ts_conn *c)
{
	int flags = atomic_load(&c->obj.flags);
	struct sslsocket_state st;

	return c->s != NULL &&
	       !(flags & (TS_F_ABANDONED | TS_F_CORE_LOST | TS_F_CLOSING)) && ts_conn_is_owner(c) &&
	       sslsocket_snapshot(c->s, &st) == 0 && st.established;
}

static void notify_one(struct ts_conn *c, long long deadline)
{
	long long left = deadline - now_ms();
	int tmo = atomic_load(&c->nonblock) ? 100 : 5000;
	int one = 1;

	if (left <= 0)
		tmo = 0;
	else if (left < tmo)
		tmo = (int)left;
	/* Nagle off, as the teardown does: the process's sockets close right
	 * after this, and a small alert held back behind an unacknowledged
	 * record would be lost in that close. */
	if (c->core_fd >= 0)
		(void)TS_REAL(setsockopt)(c->core_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (sslsocket_send_close_notify_timeout(c->s, tmo) == 0)
		ts_log(CFG_LOG_DEBUG, "%s %s: close_notify sent at exit", c->side, c->peer);
	else
		ts_log(CFG_LOG_WARN, "%s %s: close_notify at exit not sent: %s", c->side, c->peer,
		       sslsocket_error(c->s));
}

static void at_exit(void)
{
	int fd, top = atomic_load(&ts_fd_high), saved = errno;
	long long deadline = now_ms() + TS_EXIT_BUDGET_MS;

	ts_streams_flush_at_exit();
	/* A connection named by several descriptors is told once: the core
	 * sends one close_notify per connection whatever it is asked. */
	for (fd = 0; fd < top; fd++) {
		struct ts_fdobj *o;
		struct ts_conn *c;

		/* TS_KIND_ANY: a TS_KIND_FORKED entry is not asked about */
		if (TS_PLAIN(fd) || ts_fd_lookup(fd, TS_KIND_ANY, &o) != TS_FD_OURS)
			continue;
		if ((c = ts_conn_of(o)) != NULL && owned_open(c))
			notify_one(c, deadline);
		ts_fd_release(o);
	}
	errno = saved;
}

static void arm(void)
{
	if (atexit(at_exit) == 0)
		atomic_store(&armed, 1);
}

void ts_exit_arm(void)
{
	if (TS_LIKELY(atomic_load_explicit(&armed, memory_order_relaxed)))
		return;
	pthread_once(&arm_once, arm);
}
