/*
 * conn_open.c - where sockets become TLS: connect() to a destination a
 * client rule matches, accept() on a listener a server rule matches.
 *
 * The seed's lazy client context: a socket is only wrapped when connect()
 * names a matching destination. A blocking connect with
 * do_handshake_on_connect returns after the handshake; a non-blocking one
 * returns EINPROGRESS honestly and TLS finishes on the first I/O.
 *
 * Fail closed: whatever goes wrong after a rule matched, the socket either
 * stays unconnected or enters the table as failed, so no byte of the
 * program's ever reaches the kernel in clear.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "bytepath.h"
#include "conn.h"
#include "conn_open.h"
#include "epoll.h"
#include "exitnotify.h"
#include "fdcopies.h"
#include "fdtab.h"
#include "init.h"
#include "listener.h"
#include "log.h"
#include "names.h"
#include "real.h"
#include "rule_tls.h"
#include "sniff.h"
#include "stats.h"

static int sa_family_of(const struct sockaddr *sa, socklen_t len)
{
	sa_family_t fam;

	if (sa == NULL || len < (socklen_t)sizeof fam)
		return -1;
	memcpy(&fam, (const char *)sa + offsetof(struct sockaddr, sa_family), sizeof fam);
	return fam;
}

static int is_stream(int fd)
{
	int type = 0;
	socklen_t tl = sizeof type;

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM;
}

/* 1 when this set it (the program did not ask for it). */
static int set_cloexec(int fd)
{
	int fl = TS_REAL(fcntl)(fd, F_GETFD);

	if (fl >= 0 && !(fl & FD_CLOEXEC))
		return TS_REAL(fcntl)(fd, F_SETFD, fl | FD_CLOEXEC) == 0;
	return 0;
}

/* The destination as the kernel connects to it, for matching, the name
 * cache, the identity and the log (and then for the kernel: the same
 * place). Two spellings would otherwise reach a matched destination
 * unmatched, in plaintext:
 *   - an IPv6 address without its last field: connect() takes 24 bytes
 *     (RFC 2133's sockaddr_in6, no sin6_scope_id: scope 0), the matcher
 *     reads the whole structure;
 *   - the unspecified address, 0.0.0.0, :: or ::ffff:0.0.0.0, which Linux
 *     connects to the loopback address (127.0.0.1, ::1). */
static const struct sockaddr *dest_canon(const struct sockaddr *addr, socklen_t *len,
                                         struct sockaddr_storage *buf)
{
	const socklen_t rfc2133 = (socklen_t)offsetof(struct sockaddr_in6, sin6_scope_id);
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)buf;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)buf;
	int fam = sa_family_of(addr, *len);

	if (fam == AF_INET && *len >= (socklen_t)sizeof *s4) {
		memcpy(s4, addr, sizeof *s4);
		if (s4->sin_addr.s_addr != htonl(INADDR_ANY))
			return addr;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = (socklen_t)sizeof *s4;
		return (const struct sockaddr *)s4;
	}
	if (fam != AF_INET6 || *len < rfc2133)
		return addr;
	memset(s6, 0, sizeof *s6);
	memcpy(s6, addr, *len < (socklen_t)sizeof *s6 ? *len : (socklen_t)sizeof *s6);
	if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr)) {
		s6->sin6_addr = in6addr_loopback;
	} else if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
	           memcmp(s6->sin6_addr.s6_addr + 12, "\0\0\0\0", 4) == 0) {
		s6->sin6_addr.s6_addr[12] = 127;
		s6->sin6_addr.s6_addr[15] = 1;
	} else if (*len >= (socklen_t)sizeof *s6) {
		return addr;
	}
	*len = (socklen_t)sizeof *s6;
	return (const struct sockaddr *)s6;
}

/* The destination address as text for the identity check, with an
 * IPv4-mapped IPv6 address written as the IPv4 address it carries (the
 * certificate names that one). "" if the family is unknown. */
static void dest_ip_literal(const struct sockaddr *addr, char *out, size_t cap)
{
	const unsigned char *a6;

	out[0] = '\0';
	if (addr->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)addr)->sin_addr, out,
		          (socklen_t)cap);
	} else if (addr->sa_family == AF_INET6) {
		a6 = ((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)a6))
			inet_ntop(AF_INET, a6 + 12, out, (socklen_t)cap);
		else
			inet_ntop(AF_INET6, a6, out, (socklen_t)cap);
	}
}

/* The per-socket options of a rule. The peer's identity is the rule's
 * server_hostname, else the name the process resolved for the address,
 * else the address itself: a client rule that verifies must check some
 * identity, or any certificate from a trusted CA would do. The core sends
 * SNI for names only (RFC 6066 3) and checks an IP literal against the
 * certificate's IP addresses. */
static void socket_options(const struct cfg_rule *r, const char *name, const char *ip,
                           struct sslsocket_options *o)
{
	*o = r->opts;
	if (o->server_hostname == NULL && name != NULL && name[0] != '\0')
		o->server_hostname = name;
	if (o->server_hostname == NULL && ip[0] != '\0')
		o->server_hostname = ip;
}

/* The client rule for addr, or NULL (plain). *name receives the name the
 * connection is bound to: the one that matched a name rule, else this
 * thread's own lookup of the address, else the process's only name for it,
 * else "" (ts_names_match). */
static const struct cfg_rule *match_connect(const struct sockaddr *addr, socklen_t len,
                                            char *name, size_t cap)
{
	return ts_names_match(ts_rules, CFG_CONNECT, addr, len, name, cap);
}

int ts_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	const struct cfg_rule *rule;
	struct sslsocket_options o;
	struct sslsocket_error err;
	sslsocket_ctx *ctx;
	struct ts_fdobj *had;
	struct ts_conn *c;
	struct sockaddr_storage canon;
	sslsocket *s;
	char name[TS_NAME_LEN];
	char ip[INET6_ADDRSTRLEN];
	int fam, r, e, saved = errno;
	enum ts_fd_is is = ts_fd_lookup(fd, TS_KIND_ANY, &had);

	ts_fdfresh_clear(fd); /* connected, or the program's to retry */
	if (is == TS_FD_CLOSED)
		return ts_fd_ebadf();
	if (had != NULL && had->kind == TS_KIND_LISTENER) {
		/* A socket that listened (and was shut down, which lets it
		 * connect): its cached accept rule says nothing about where it
		 * connects now. */
		ts_fd_release(had);
		ts_fd_forget(fd);
		had = NULL;
	}
	if (had != NULL) {
		/* Already ours: a second connect() (polling a non-blocking
		 * connect's progress) only asks the kernel. */
		ts_fd_release(had);
		return TS_REAL(connect)(fd, addr, len);
	}
	if (!ts_active())
		return TS_REAL(connect)(fd, addr, len);
	fam = sa_family_of(addr, len);
	if ((fam != AF_INET && fam != AF_INET6) || !is_stream(fd)) {
		errno = saved;
		return TS_REAL(connect)(fd, addr, len);
	}
	addr = dest_canon(addr, &len, &canon);
	rule = match_connect(addr, len, name, sizeof name);
	errno = saved;
	if (rule == NULL || rule->passthrough) {
		if (rule != NULL && ts_log_enabled(CFG_LOG_DEBUG)) {
			char peer[64];

			ts_addr_format(addr, len, peer, sizeof peer);
			ts_log(CFG_LOG_DEBUG, "connect %s: passthrough (rule %s:%d)", peer, rule->file,
			       rule->line);
		}
		return TS_REAL(connect)(fd, addr, len);
	}

	c = ts_conn_new();
	if (c == NULL) {
		errno = ENOMEM;
		return -1;
	}
	c->rule = rule;
	c->side = "connect";
	ts_addr_format(addr, len, c->peer, sizeof c->peer);
	memset(&err, 0, sizeof err);
	ctx = ts_rule_ctx(rule, &err);
	s = NULL;
	if (ctx != NULL) {
		dest_ip_literal(addr, ip, sizeof ip);
		socket_options(rule, name, ip, &o);
		if (o.server_hostname != NULL && o.server_hostname != ip) {
			size_t sl;

			strncpy(c->sni, o.server_hostname, sizeof c->sni - 1);
			c->sni[sizeof c->sni - 1] = '\0';
			sl = strlen(c->sni); /* the core drops a trailing dot too */
			if (sl > 1 && c->sni[sl - 1] == '.')
				c->sni[sl - 1] = '\0';
		}
		s = sslsocket_wrap_ctx(fd, ctx, &o, ts_real_io(), &err);
		sslsocket_ctx_free(ctx); /* the socket holds its own reference */
	}
	if (s == NULL) {
		/* Nothing was connected: the program's later writes fail
		 * (ENOTCONN/EPIPE) in the kernel, never in clear. */
		ts_log(CFG_LOG_WARN, "connect %s: cannot set up TLS (rule %s:%d \"%s\"): %s", c->peer,
		       rule->file, rule->line, rule->match_text, err.reason);
		ts_conn_release(c);
		errno = EPROTO;
		return -1;
	}
	c->s = s;
	ts_conn_load_mode(c, fd);
	set_cloexec(fd);
	c->core_fd = fd;
	if (ts_fd_install(fd, &c->obj) < 0) {
		e = errno;
		c->core_fd = -1;
		ts_conn_release(c); /* frees s; fd stays open and unconnected */
		errno = e;
		return -1;
	}
	ts_fd_adopt_siblings(fd); /* a dup made before this connect */
	ts_exit_arm();
	atomic_fetch_or(&c->obj.flags, TS_F_COUNTED);
	TS_STAT_ADD(rule, open, 1);
	/* An event loop may have registered the socket before connect(). */
	ts_epoll_adopt(fd, c);
	/* c's first reference now belongs to the table; take our own. The
	 * kernel's connect timeout is SO_SNDTIMEO. Another thread may have
	 * closed it meanwhile. */
	if (ts_conn_lookup(fd, &c) != TS_FD_OURS)
		return ts_fd_ebadf();
	if (!atomic_load(&c->nonblock))
		sslsocket_settimeout(s, atomic_load(&c->sndtimeo_ms));
	r = sslsocket_connect(s, addr, len);
	e = errno;
	if (r == 0) {
		ts_conn_log_state(c);
		ts_conn_release(c);
		errno = saved;
		return 0;
	}
	if (e == EINPROGRESS || e == EINTR || e == EAGAIN) {
		/* Non-blocking (or interrupted): the kernel goes on connecting,
		 * TLS finishes on the first I/O. */
		ts_conn_release(c);
		errno = e == EAGAIN ? EINPROGRESS : e;
		return -1;
	}
	{
		struct sslsocket_state st;
		int known = sslsocket_snapshot(s, &st) == 0;

		if (known && !st.failed && !st.established) {
			/* The TCP connect itself failed (ECONNREFUSED, ...): the
			 * socket is unconnected and the program may try again. */
			ts_conn_release(c);
			ts_fd_forget(fd);
			errno = e;
			return -1;
		}
		ts_conn_log_state(c);
		/* The phase says what failed, never the text: the TCP connect
		 * keeps its errno, anything of TLS's is EPROTO. */
		if (!known || !st.failed || st.failure.phase != SSLSOCKET_PHASE_CONNECT)
			e = EPROTO;
		/* a failed connect the core holds no failure of: given up,
		 * every later call fails closed */
		if (!known || !st.failed)
			atomic_fetch_or(&c->obj.flags, TS_F_ABANDONED);
	}
	ts_conn_release(c);
	errno = e;
	return -1;
}

/* ---- accept ------------------------------------------------------------------ */

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
	fam = sa_family_of((struct sockaddr *)&ss, sl);
	/* Unix and datagram listeners are cached too (rule NULL), so their
	 * accepts cost no further lookups. */
	rule = (fam == AF_INET || fam == AF_INET6) && is_stream(fd)
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
		if (set_cloexec(nfd))
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

/* ---- TCP Fast Open ------------------------------------------------------------- */

int ts_fastopen(int fd, const struct sockaddr *addr, socklen_t len, int *flags, ssize_t *ret)
{
	char name[TS_NAME_LEN];
	const struct cfg_rule *rule;
	struct sockaddr_storage canon;
	int fam, saved = errno;

	if (!(*flags & MSG_FASTOPEN) || addr == NULL || !ts_active() || !TS_PLAIN(fd))
		return 0;
	fam = sa_family_of(addr, len);
	if ((fam != AF_INET && fam != AF_INET6) || !is_stream(fd)) {
		errno = saved;
		return 0;
	}
	addr = dest_canon(addr, &len, &canon);
	rule = match_connect(addr, len, name, sizeof name);
	errno = saved;
	if (rule == NULL || rule->passthrough)
		return 0;
	/* MSG_FASTOPEN would put the data in the SYN, in clear: connect
	 * through TLS instead; the caller then writes through the
	 * connection. */
	if (ts_connect(fd, addr, len) < 0 && errno != EINPROGRESS) {
		*ret = -1;
		return 1;
	}
	*flags &= ~MSG_FASTOPEN;
	return 0;
}
