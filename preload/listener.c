/*
 * listener.c - where accepted sockets become TLS: a listening socket's
 * accept rule, looked up by its local address once (at listen, or at its
 * first accept), and accept()/accept4() on it wrapping each connection
 * as a server.
 *
 * Fail closed: an accepted connection whose TLS cannot be set up is closed
 * before the program sees it; none reaches the program in clear unless the
 * rule allows plaintext clients (sniff.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>

#include "conn.h"
#include "exitnotify.h"
#include "fdtab.h"
#include "init.h"
#include "listener.h"
#include "log.h"
#include "real.h"
#include "rule_tls.h"
#include "sniff.h"
#include "sockprops.h"
#include "stats.h"

/* 1 when fd is a listening socket. */
static int is_listening(int fd)
{
	int on = 0;
	socklen_t ol = sizeof on;

	return TS_REAL(getsockopt)(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) == 0 && on;
}

/* The listener object for fd, with a reference: its accept rule, looked
 * up once by local address. NULL when fd names another object of ours (a
 * connection: accept is libc's) or is not a listening socket: then the
 * real accept reports whatever is wrong, and nothing is cached (a socket
 * that accept() failed on, never bound or never listening, may later
 * connect, or bind and listen elsewhere: a listener entry made now would
 * hold a wrong or empty rule for it, and connect() would take it for a
 * connection). */
static struct ts_listener *listener_for(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	const struct cfg_rule *rule;
	struct sslsocket_error err;
	struct ts_fdobj *had;
	struct ts_listener *l;
	int fam;

	if (ts_fd_lookup(fd, TS_KIND_ANY, &had) == TS_FD_OURS) {
		/* a connection or an epoll instance: its accepts are libc's */
		if ((l = ts_listener_of(had)) == NULL)
			ts_fd_release(had);
		return l;
	}
	if (!is_listening(fd) || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return NULL;
	fam = ts_sa_family_of((struct sockaddr *)&ss, sl);
	/* Unix and datagram listeners are cached too (rule NULL), so their
	 * accepts cost no further lookups. */
	rule = (fam == AF_INET || fam == AF_INET6) && ts_is_stream(fd)
	               ? cfg_match(ts_rules, CFG_ACCEPT, (struct sockaddr *)&ss, sl, NULL, 0)
	               : NULL;
	l = ts_listener_new();
	if (l == NULL)
		return NULL;
	ts_addr_format((struct sockaddr *)&ss, sl, l->local, sizeof l->local);
	if (rule != NULL && !rule->passthrough) {
		sslsocket_ctx *ctx;

		/* Built at listen, before a forking server's workers exist, so
		 * that they share it and its session tickets; each accept then
		 * takes the rule's context of the moment (rotation). */
		memset(&err, 0, sizeof err);
		ctx = ts_rule_ctx(rule, &err);
		if (ctx == NULL)
			ts_log(CFG_LOG_ERROR, "accept on %s: no TLS context (rule %s:%d): %s", l->local,
			       rule->file, rule->line, err.reason);
		sslsocket_ctx_free(ctx);
		l->rule = rule;
	}
	if (ts_fd_install(fd, &l->obj) < 0) {
		ts_listener_release(l);
		return NULL;
	}
	/* the creation reference is the table's; the caller gets its own */
	ts_listener_lookup(fd, &l);
	return l;
}

void ts_listen_prepare(int fd)
{
	struct ts_listener *l;
	int saved = errno;

	if (ts_active() && (l = listener_for(fd)) != NULL)
		ts_listener_release(l);
	errno = saved;
}

int ts_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags, int is_accept4)
{
	struct ts_fdobj *had;
	struct ts_listener *l;
	struct ts_conn *c;
	struct sslsocket_options o;
	struct sslsocket_error err;
	sslsocket_ctx *ctx;
	struct sockaddr_storage peer;
	socklen_t pl;
	sslsocket *s;
	int nfd, e, fl, lnonblock, saved = errno;

	if (ts_fd_lookup(fd, TS_KIND_ANY, &had) == TS_FD_CLOSED)
		return ts_fd_ebadf();
	if (had != NULL)
		ts_fd_release(had);
	if (!ts_active() || (l = listener_for(fd)) == NULL) {
		errno = saved;
		return is_accept4 ? TS_REAL(accept4)(fd, addr, len, flags)
		                  : TS_REAL(accept)(fd, addr, len);
	}
	errno = saved;
	if (l->rule == NULL) {
		ts_listener_release(l);
		return is_accept4 ? TS_REAL(accept4)(fd, addr, len, flags)
		                  : TS_REAL(accept)(fd, addr, len);
	}
	fl = TS_REAL(fcntl)(fd, F_GETFL);
	lnonblock = fl >= 0 && (fl & O_NONBLOCK) != 0;
	errno = saved;
	for (;;) {
		pl = sizeof peer;
		nfd = TS_REAL(accept4)(fd, (struct sockaddr *)&peer, &pl, flags);
		if (nfd < 0)
			break;
		if (!TS_PLAIN(nfd))
			ts_fd_forget(nfd); /* a stale entry: the number was free */
		memset(&err, 0, sizeof err);
		ctx = ts_rule_ctx(l->rule, &err);
		if (ctx == NULL) {
			/* fail closed: a rule matched but TLS cannot be offered */
			ts_log(CFG_LOG_WARN, "accept on %s: no TLS context (rule %s:%d): %s", l->local,
			       l->rule->file, l->rule->line, err.reason);
			TS_REAL(close)(nfd);
			continue;
		}
		if (l->rule->allow_plaintext && !lnonblock && l->rule->opts.do_handshake_on_connect) {
			/* a blocking server handshakes here: sniff here too */
			char who[64];

			ts_addr_format((struct sockaddr *)&peer, pl, who, sizeof who);
			if (!ts_sniff_accept(nfd, l->rule, who)) {
				sslsocket_ctx_free(ctx);
				if (addr != NULL && len != NULL) {
					memcpy(addr, &peer, *len < pl ? *len : pl);
					*len = pl;
				}
				errno = saved;
				break; /* a plaintext client: the socket as the kernel gave it */
			}
		}
		c = ts_conn_new();
		if (c == NULL) {
			sslsocket_ctx_free(ctx);
			TS_REAL(close)(nfd);
			errno = ENOMEM;
			nfd = -1;
			break;
		}
		c->rule = l->rule;
		c->side = "accept";
		ts_addr_format((struct sockaddr *)&peer, pl, c->peer, sizeof c->peer);
		if (ts_set_cloexec(nfd))
			atomic_fetch_or(&c->obj.flags, TS_F_OUR_CLOEXEC);
		o = l->rule->opts;
		/* A blocking server with an eager handshake handshakes here,
		 * bounded by handshake_timeout. An event loop's accepted
		 * descriptor handshakes on its first I/O or readiness call:
		 * whether the server is an event loop is told by its
		 * LISTENING socket, because accept4 without SOCK_NONBLOCK
		 * hands a loop (Python's asyncio) a blocking descriptor that
		 * it makes non-blocking only after accept returns. */
		if (lnonblock)
			o.do_handshake_on_connect = 0;
		/* Permissive, and not sniffed above: the first I/O or
		 * readiness call decides, as it drives a lazy handshake. */
		if (l->rule->allow_plaintext && !o.do_handshake_on_connect)
			ts_sniff_start(c);
		memset(&err, 0, sizeof err);
		s = sslsocket_wrap_ctx(nfd, ctx, &o, ts_real_io(), &err);
		sslsocket_ctx_free(ctx); /* the connection holds its own */
		if (s == NULL) {
			/* That client failed; the server goes on with the next. */
			ts_log(CFG_LOG_WARN, "accept %s: failed (rule %s:%d \"%s\"): %s", c->peer,
			       l->rule->file, l->rule->line, l->rule->match_text, err.reason);
			ts_stats_hs_failed(l->rule, &err);
			ts_conn_release(c);
			TS_REAL(close)(nfd);
			continue;
		}
		c->s = s;
		ts_conn_load_mode(c, nfd);
		ts_conn_log_state(c);
		c->core_fd = nfd;
		if (ts_fd_install(nfd, &c->obj) < 0) {
			e = errno;
			c->core_fd = -1;
			ts_conn_release(c);
			TS_REAL(close)(nfd);
			errno = e;
			nfd = -1;
			break;
		}
		ts_exit_arm();
		atomic_fetch_or(&c->obj.flags, TS_F_COUNTED);
		TS_STAT_ADD(c->rule, open, 1);
		if (addr != NULL && len != NULL) {
			memcpy(addr, &peer, *len < pl ? *len : pl);
			*len = pl;
		}
		errno = saved;
		break;
	}
	e = errno;
	ts_listener_release(l);
	errno = e;
	return nfd;
}