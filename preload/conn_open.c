/*
 * conn_open.c - where client sockets become TLS: connect() (or a send with
 * MSG_FASTOPEN) to a destination a client rule matches. Accepted sockets
 * become TLS in listener.c.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "bytepath.h"
#include "conn.h"
#include "conn_open.h"
#include "epoll.h"
#include "exitnotify.h"
#include "fdcopies.h"
#include "fdtab.h"
#include "init.h"
#include "log.h"
#include "names.h"
#include "real.h"
#include "rule_tls.h"
#include "sockprops.h"
#include "stats.h"

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
	int fam = ts_sa_family_of(addr, *len);

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
	fam = ts_sa_family_of(addr, len);
	if ((fam != AF_INET && fam != AF_INET6) || !ts_is_stream(fd)) {
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
	ts_set_cloexec(fd);
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

/* ---- TCP Fast Open ------------------------------------------------------------- */

int ts_fastopen(int fd, const struct sockaddr *addr, socklen_t len, int *flags, ssize_t *ret)
{
	char name[TS_NAME_LEN];
	const struct cfg_rule *rule;
	struct sockaddr_storage canon;
	int fam, saved = errno;

	if (!(*flags & MSG_FASTOPEN) || addr == NULL || !ts_active() || !TS_PLAIN(fd))
		return 0;
	fam = ts_sa_family_of(addr, len);
	if ((fam != AF_INET && fam != AF_INET6) || !ts_is_stream(fd)) {
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
