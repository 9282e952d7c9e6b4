/*
 * conn_io.c - reads, writes and shutdown of a wrapped connection, in the
 * POSIX terms the program expects (errno, blocking mode, SIGPIPE).
 *
 * The core never blocks inside OpenSSL: it waits with the real poll for
 * what TLS needs. Here the program's view of its socket (O_NONBLOCK set by
 * fcntl/ioctl/SOCK_NONBLOCK, SO_RCVTIMEO, SO_SNDTIMEO, MSG_DONTWAIT) is
 * turned into the core's per-call timeout; the socket's own flags are never
 * touched.
 *
 * Fail closed: once a handshake or verification failed, every read and
 * write is -1 EPROTO, and nothing reaches the kernel in clear.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/time.h>
#include <unistd.h>

#include "compiler.h"
#include "conn.h"
#include "epoll.h"
#include "fdtab.h"
#include "log.h"
#include "real.h"
#include "sniff.h"
#include "stats.h"

#define PEEK_MAX (64 * 1024)

static int timeval_ms(const struct timeval *tv)
{
	long long ms;

	if (tv->tv_sec == 0 && tv->tv_usec == 0)
		return -1; /* 0 means "no timeout" for SO_RCVTIMEO */
	ms = (long long)tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000;
	if (ms > 0x7fffffff)
		ms = 0x7fffffff;
	return ms > 0 ? (int)ms : 1;
}

void ts_conn_load_mode(struct ts_conn *c, int fd)
{
	struct timeval tv;
	socklen_t len;
	int fl = TS_REAL(fcntl)(fd, F_GETFL);

	atomic_store(&c->nonblock, fl >= 0 && (fl & O_NONBLOCK) != 0);
	len = sizeof tv;
	if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0)
		atomic_store(&c->rcvtimeo_ms, timeval_ms(&tv));
	len = sizeof tv;
	if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0)
		atomic_store(&c->sndtimeo_ms, timeval_ms(&tv));
}

/* The core's timeout for one call: 0 non-blocking, -1 forever, else ms.
 * Passed per call, never stored in the socket: a reader blocked in one
 * thread keeps its mode while another thread writes with MSG_DONTWAIT. */
static int call_timeout(struct ts_conn *c, int reading, int flags)
{
	if ((flags & MSG_DONTWAIT) || atomic_load(&c->nonblock))
		return 0;
	return atomic_load(reading ? &c->rcvtimeo_ms : &c->sndtimeo_ms);
}

/* A failure of the connection's (the core's state) fails it closed: a
 * TLS failure (handshake, verification, a bad record) and a failed TCP
 * connect. A reset or a broken pipe after the handshake is the network's:
 * its errno stands on every call, as on a plain socket. */
static int fails_closed(const struct sslsocket_state *st)
{
	return st->failed && (!st->handshake_done || st->failure.code != SSLSOCKET_ERROR_SYSCALL);
}

/* The handshake's end, counted and logged once (TS_F_LOGGED). */
static void handshake_done_once(struct ts_conn *c)
{
	const char *name = NULL, *version = NULL;
	int bits = 0;

	if (atomic_fetch_or(&c->obj.flags, TS_F_LOGGED) & TS_F_LOGGED)
		return;
	TS_STAT_ADD(c->rule, hs_ok, 1);
	if (ts_log_enabled(CFG_LOG_INFO) && sslsocket_cipher(c->s, &name, &version, &bits) == 0)
		ts_log(CFG_LOG_INFO, "%s %s %s %s verify=%s", c->side, c->peer, version, name,
		       sslsocket_verify_result(c->s));
	if (c->sni[0] != '\0')
		ts_log(CFG_LOG_DEBUG, "%s %s: server name %s", c->side, c->peer, c->sni);
}

/* The warn line of a failed connection, once. */
void ts_conn_log_failure(struct ts_conn *c)
{
	struct sslsocket_state st;

	if (atomic_fetch_or(&c->obj.flags, TS_F_FAIL_LOGGED) & TS_F_FAIL_LOGGED)
		return;
	/* The core says whether the handshake had finished (a read can end
	 * one and meet a bad record in the same call). */
	if (c->s != NULL && sslsocket_snapshot(c->s, &st) == 0) {
		if (st.handshake_done)
			handshake_done_once(c);
		else
			ts_stats_hs_failed(c->rule, &st.failure);
	}
	if (c->rule != NULL)
		ts_log(CFG_LOG_WARN, "%s %s: failed (rule %s:%d \"%s\"%s%s): %s", c->side, c->peer,
		       c->rule->file, c->rule->line, c->rule->match_text,
		       c->sni[0] != '\0' ? ", server name " : "", c->sni, sslsocket_error(c->s));
	else
		ts_log(CFG_LOG_WARN, "%s %s: failed: %s", c->side, c->peer, sslsocket_error(c->s));
}

void ts_conn_log_state(struct ts_conn *c)
{
	struct sslsocket_state st;
	int flags;

	ts_conn_changed(c);
	flags = atomic_load(&c->obj.flags);
	/* the hot path of every read and write: one load */
	if ((flags & TS_F_LOGGED) || c->s == NULL || sslsocket_snapshot(c->s, &st) < 0)
		return;
	if (st.handshake_done)
		handshake_done_once(c);
	if (st.failed && !(flags & TS_F_FAIL_LOGGED))
		ts_conn_log_failure(c);
}

void ts_conn_drive(struct ts_conn *c)
{
	/* allow_plaintext: the handshake must not read the first bytes
	 * before they are sniffed */
	if (TS_UNLIKELY(atomic_load(&c->obj.flags) & (TS_F_SNIFF | TS_F_PLAIN)) &&
	    ts_sniff_resolve(c, 0) != 1)
		return;
	{
		struct sslsocket_state st;

		if (c->s == NULL || sslsocket_snapshot(c->s, &st) < 0 || st.established ||
		    st.failed)
			return;
	}
	(void)sslsocket_advance(c->s);
	ts_conn_log_state(c);
	if (sslsocket_failed(c->s))
		atomic_store(&c->so_error, EPROTO);
}

/* After a core call returned -1: choose the errno the program sees from
 * the core's state. A failed handshake is EPROTO (CONTRACT.md), unless the
 * TCP connect itself failed: the call that finds that reports its errno
 * (ECONNREFUSED is more useful), every later one EPROTO. */
static ssize_t io_error(struct ts_conn *c)
{
	int e = errno;
	struct sslsocket_state st;

	ts_conn_changed(c);
	/* EDEADLK: a signal handler's call on a connection the call it
	 * interrupted is using; nothing was done, nothing is failed. */
	if (e != EDEADLK && sslsocket_snapshot(c->s, &st) == 0 && st.failed) {
		/* the first call to hear of it logs it */
		int first = !(atomic_load(&c->obj.flags) & TS_F_FAIL_LOGGED);

		ts_conn_log_failure(c);
		if (fails_closed(&st) && !first) {
			/* told once: from now on as failed_closed() */
			atomic_store(&c->so_error, 0);
			e = EPROTO;
		} else if (!st.handshake_done && st.failure.phase != SSLSOCKET_PHASE_CONNECT) {
			e = EPROTO;
		}
	}
	errno = e;
	return -1;
}

/* A call answered without the core (nothing asked, the read side shut,
 * bytes peeked earlier) still fails on a failed connection: -1 with the
 * errno io_error chooses, or 0 when the connection has not failed. */
static int core_failed(struct ts_conn *c)
{
	if (!sslsocket_failed(c->s))
		return 0;
	errno = EPROTO;
	return (int)io_error(c);
}

/* The program hears of the failure from this call: as the kernel's
 * socket error, SO_ERROR no longer reports it. */
/* allow_plaintext: decides an undecided connection for this call, waiting
 * as long as the call may block (never past the sniff deadline). 1: TLS;
 * 0: a plaintext client (plain I/O on core_fd); -1 EAGAIN. */
static int sniff_gate(struct ts_conn *c, int reading, int flags)
{
	int r = ts_sniff_resolve(c, call_timeout(c, reading, flags));

	if (r < 0)
		errno = EAGAIN;
	return r;
}

/* TS_F_ABANDONED: tlsshim gave the connection up. */
static ssize_t failed_closed(struct ts_conn *c)
{
	/* Every failure is logged at warn, once, with OpenSSL's reason, also
	 * when a readiness call found it first (a bad record peeked by poll). */
	if (c->s != NULL && !(atomic_load(&c->obj.flags) & TS_F_FAIL_LOGGED) &&
	    sslsocket_failed(c->s))
		ts_conn_log_failure(c);
	atomic_store(&c->so_error, 0);
	errno = EPROTO;
	return -1;
}

/* ---- reads ---------------------------------------------------------------- */

/* Bytes a MSG_PEEK read took from TLS and the program has not consumed:
 * returns the count copied (consumed unless peeking), or 0 if none. */
static size_t peek_take(struct ts_conn *c, void *buf, size_t n, int peek)
{
	size_t avail, k = 0;

	pthread_mutex_lock(&c->peek_lock);
	avail = c->peek_len - c->peek_off;
	if (avail > 0) {
		k = avail < n ? avail : n;
		memcpy(buf, c->peek_buf + c->peek_off, k);
		if (!peek) {
			c->peek_off += k;
			if (c->peek_off == c->peek_len)
				c->peek_off = c->peek_len = 0;
			atomic_store(&c->peek_avail, c->peek_len - c->peek_off);
			ts_conn_changed(c);
		}
	}
	pthread_mutex_unlock(&c->peek_lock);
	return k;
}

static size_t peek_pending(struct ts_conn *c)
{
	size_t n;

	pthread_mutex_lock(&c->peek_lock);
	n = c->peek_len - c->peek_off;
	pthread_mutex_unlock(&c->peek_lock);
	return n;
}

/* recv(MSG_PEEK): reads from TLS into the connection's peek buffer and
 * copies without consuming. */
static ssize_t peek_read(struct ts_conn *c, void *buf, size_t n, int flags)
{
	size_t k;
	ssize_t r;

	k = peek_take(c, buf, n, 1);
	if (k > 0)
		return (ssize_t)k;
	pthread_mutex_lock(&c->peek_lock);
	if (c->peek_buf == NULL) {
		c->peek_buf = malloc(PEEK_MAX);
		if (c->peek_buf == NULL) {
			pthread_mutex_unlock(&c->peek_lock);
			errno = ENOMEM;
			return -1;
		}
		c->peek_cap = PEEK_MAX;
	}
	/* as much as one call gives (FIONREAD peeks one byte to count) */
	r = sslsocket_read_timeout(c->s, c->peek_buf, c->peek_cap, call_timeout(c, 1, flags));
	if (r > 0) {
		c->peek_off = 0;
		c->peek_len = (size_t)r;
		atomic_store(&c->peek_avail, (size_t)r);
		memcpy(buf, c->peek_buf, (size_t)r < n ? (size_t)r : n);
		r = (size_t)r < n ? r : (ssize_t)n;
	}
	pthread_mutex_unlock(&c->peek_lock);
	if (r < 0)
		return io_error(c);
	ts_conn_log_state(c);
	return r;
}

static ssize_t read_once(struct ts_conn *c, void *buf, size_t n, int flags)
{
	ssize_t r;
	size_t k;

	if (ts_conn_peeked(c) > 0) {
		if (core_failed(c) < 0)
			return -1;
		k = peek_take(c, buf, n, 0);
		if (k > 0) {
			TS_STAT_ADD(c->rule, bytes_in, k);
			return (ssize_t)k;
		}
	}
	r = sslsocket_read_timeout(c->s, buf, n, call_timeout(c, 1, flags));
	if (r < 0)
		return io_error(c);
	ts_conn_log_state(c);
	TS_STAT_ADD(c->rule, bytes_in, (uint64_t)r);
	return r;
}

ssize_t ts_conn_read(struct ts_conn *c, void *buf, size_t n, int flags)
{
	size_t got = 0;
	ssize_t r;
	int flg = atomic_load(&c->obj.flags);

	if (TS_UNLIKELY(flg & (TS_F_SNIFF | TS_F_PLAIN))) {
		int g = sniff_gate(c, 1, flags);

		if (g == 0)
			return TS_REAL(recv)(c->core_fd, buf, n, flags);
		if (g < 0)
			return -1;
	}
	if (flg & TS_F_ABANDONED)
		return failed_closed(c);
	if (c->s == NULL) {
		errno = ENOTCONN;
		return -1;
	}
	if (flg & TS_F_RD_SHUT)
		return core_failed(c);
	if (flags & MSG_OOB) {
		/* TCP urgent data cannot travel inside TLS records */
		errno = EOPNOTSUPP;
		return -1;
	}
	ts_conn_touch(c);
	if (n == 0)
		return core_failed(c);
	if (flags & MSG_PEEK)
		return peek_read(c, buf, n, flags);
	if (!(flags & MSG_WAITALL))
		return read_once(c, buf, n, flags);
	/* MSG_WAITALL: until n bytes, EOF, an error or a timeout. */
	while (got < n) {
		r = read_once(c, (char *)buf + got, n - got, flags);
		if (r < 0)
			return got > 0 ? (ssize_t)got : -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t ts_conn_readv(struct ts_conn *c, const struct iovec *iov, int iovcnt, int flags)
{
	ssize_t total = 0, r;
	int i, e;

	if (iovcnt < 0) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len == 0)
			continue;
		r = ts_conn_read(c, iov[i].iov_base, iov[i].iov_len, flags);
		if (r < 0) {
			e = errno;
			if (total > 0)
				return total; /* the bytes already read are the answer */
			errno = e;
			return -1;
		}
		total += r;
		if ((size_t)r < iov[i].iov_len || (flags & MSG_PEEK))
			break;
		/* Fill the next buffer only with what is already decrypted. */
		if (sslsocket_pending(c->s) == 0 && peek_pending(c) == 0)
			break;
		flags |= MSG_DONTWAIT;
	}
	return total;
}

/* The peer's address for recvfrom/recvmsg on a connected socket. */
static void peer_name(int fd, struct sockaddr *addr, socklen_t *alen)
{
	if (addr != NULL && alen != NULL && getpeername(fd, addr, alen) < 0)
		*alen = 0;
}

ssize_t ts_conn_recvfrom(struct ts_conn *c, int fd, void *buf, size_t n, int flags,
                         struct sockaddr *addr, socklen_t *alen)
{
	ssize_t r = ts_conn_read(c, buf, n, flags);

	if (r >= 0) {
		int e = errno;

		peer_name(fd, addr, alen);
		errno = e;
	}
	return r;
}

ssize_t ts_conn_recvmsg(struct ts_conn *c, int fd, struct msghdr *msg, int flags)
{
	ssize_t r = ts_conn_readv(c, msg->msg_iov, (int)msg->msg_iovlen, flags);

	if (r >= 0) {
		int e = errno;

		if (msg->msg_name != NULL)
			peer_name(fd, msg->msg_name, &msg->msg_namelen);
		/* No ancillary data travels inside TLS. */
		msg->msg_controllen = 0;
		msg->msg_flags = 0;
		errno = e;
	}
	return r;
}

/* ---- writes --------------------------------------------------------------- */

/* EPIPE keeps its POSIX meaning: the signal too, unless MSG_NOSIGNAL. */
static ssize_t write_error(struct ts_conn *c, int flags)
{
	ssize_t r = io_error(c);
	int e = errno;

	/* Writing to a connection the peer reset: the kernel says EPIPE
	 * (the reset arrives in CLOSE_WAIT), whatever the BIO saw first. */
	if (e == ECONNRESET)
		e = errno = EPIPE;
	if (e == EPIPE && !(flags & MSG_NOSIGNAL)) {
		raise(SIGPIPE);
		errno = e;
	}
	return r;
}

/* A write after shutdown(SHUT_WR) and one on a failed connection are
 * refused by the core (EPIPE, the failure's errno), which says so under
 * its lock in the same call: nothing is checked twice here. */
static int write_check(struct ts_conn *c, int flags)
{
	if (atomic_load(&c->obj.flags) & TS_F_ABANDONED)
		return failed_closed(c);
	if (c->s == NULL) {
		errno = ENOTCONN;
		return -1;
	}
	if (flags & MSG_OOB) {
		/* an urgent byte would leave outside TLS, in clear */
		errno = EOPNOTSUPP;
		return -1;
	}
	ts_conn_touch(c);
	return 0;
}

/* write(fd, buf, 0): 0, as the kernel's, unless the write side is shut
 * (EPIPE) or the connection failed. */
static ssize_t write_nothing(struct ts_conn *c, int flags)
{
	struct sslsocket_state st;

	if (sslsocket_snapshot(c->s, &st) < 0)
		return -1;
	if (st.failed) {
		errno = EPROTO;
		return io_error(c);
	}
	if (st.write_shut) {
		if (!(flags & MSG_NOSIGNAL))
			raise(SIGPIPE);
		errno = EPIPE;
		return -1;
	}
	return 0;
}

ssize_t ts_conn_write(struct ts_conn *c, const void *buf, size_t n, int flags)
{
	ssize_t r;

	if (TS_UNLIKELY(atomic_load(&c->obj.flags) & (TS_F_SNIFF | TS_F_PLAIN))) {
		int g = sniff_gate(c, 0, flags);

		if (g == 0)
			return TS_REAL(send)(c->core_fd, buf, n, flags);
		if (g < 0)
			return -1;
	}
	if (write_check(c, flags) < 0)
		return -1;
	if (n == 0)
		return write_nothing(c, flags);
	r = sslsocket_write_timeout(c->s, buf, n, call_timeout(c, 0, flags));
	if (r < 0)
		return write_error(c, flags);
	ts_conn_log_state(c);
	TS_STAT_ADD(c->rule, bytes_out, (uint64_t)r);
	return r;
}

ssize_t ts_conn_writev(struct ts_conn *c, const struct iovec *iov, int iovcnt, int flags)
{
	ssize_t r;

	if (iovcnt < 0 || iovcnt > IOV_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (TS_UNLIKELY(atomic_load(&c->obj.flags) & (TS_F_SNIFF | TS_F_PLAIN))) {
		int g = sniff_gate(c, 0, flags);

		if (g == 0) {
			struct msghdr m;

			memset(&m, 0, sizeof m);
			m.msg_iov = (struct iovec *)(uintptr_t)iov;
			m.msg_iovlen = (size_t)iovcnt;
			return TS_REAL(sendmsg)(c->core_fd, &m, flags);
		}
		if (g < 0)
			return -1;
	}
	if (write_check(c, flags) < 0)
		return -1;
	r = sslsocket_writev_timeout(c->s, iov, iovcnt, call_timeout(c, 0, flags));
	if (r < 0)
		return write_error(c, flags);
	ts_conn_log_state(c);
	TS_STAT_ADD(c->rule, bytes_out, (uint64_t)r);
	return r;
}

/* ---- shutdown and teardown ------------------------------------------------ */

int ts_conn_shutdown(struct ts_conn *c, int fd, int how)
{
	int r, flg = atomic_load(&c->obj.flags);
	struct sslsocket_state st;

	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
		errno = EINVAL;
		return -1;
	}
	if (TS_UNLIKELY(flg & (TS_F_SNIFF | TS_F_PLAIN)) && ts_sniff_resolve(c, -1) != 1)
		return TS_REAL(shutdown)(fd, how); /* nothing of TLS's was sent */
	if (c->s == NULL || (flg & TS_F_ABANDONED) || sslsocket_snapshot(c->s, &st) < 0 ||
	    st.failed) {
		/* Nothing of the program's can leak: plain shutdown. */
		r = TS_REAL(shutdown)(fd, how);
	} else if (how == SHUT_RD) {
		r = TS_REAL(shutdown)(fd, SHUT_RD);
	} else if (st.write_shut) {
		r = TS_REAL(shutdown)(fd, how);
	} else {
		ts_conn_touch(c);
		/* A handshake that has not finished (lazy, or a non-blocking
		 * socket): finish it now, bounded by the rule's
		 * handshake_timeout, so the peer gets a close_notify and not a
		 * truncated handshake. This is the one place a non-blocking
		 * program may wait: shutdown() cannot report "try again". */
		if (!sslsocket_handshake_done(c->s)) {
			int t = c->rule && c->rule->opts.handshake_timeout_ms > 0
			                ? c->rule->opts.handshake_timeout_ms
			                : 10000;

			if (sslsocket_do_handshake_timeout(c->s, t) < 0)
				io_error(c);
		}
		if (!sslsocket_handshake_done(c->s)) {
			/* failed: nothing of the program's can go out; plain
			 * half-close */
			r = TS_REAL(shutdown)(fd, how);
			goto done;
		}
		if (how == SHUT_WR) {
			/* a close_notify queued behind a full buffer: wait for
			 * room as the program's writes would (this call's own
			 * timeout; nothing stored in the socket changes) */
			r = sslsocket_shutdown_write_timeout(c->s, call_timeout(c, 0, 0));
			if (r < 0 && errno == EPROTO) /* the half-close happened */
				r = 0;
		} else {
			/* The kernel delivers what a write already took before its
			 * FIN: so must the ciphertext queued behind a full buffer
			 * (bounded as close's). */
			(void)sslsocket_send_close_notify_timeout(c->s,
			                                          atomic_load(&c->nonblock) ? 100 : 5000);
			r = TS_REAL(shutdown)(fd, SHUT_RDWR);
		}
	}
done:
	if (r == 0 && how != SHUT_WR)
		atomic_fetch_or(&c->obj.flags, TS_F_RD_SHUT);
	return r;
}

void ts_conn_teardown(struct ts_conn *c, int send_notify, int close_core_fd)
{
	int saved = errno;

	if (atomic_load(&c->obj.flags) & TS_F_COUNTED)
		TS_STAT_ADD(c->rule, open, -1);
	if (c->s != NULL) {
		/* After shutdown(SHUT_WR) too: its close_notify may still be
		 * queued behind a full buffer (then this sends it). */
		if (send_notify && sslsocket_handshake_done(c->s)) {
			int one = 1;

			/* The kernel closes the socket right after this. With
			 * records the program never read still in the receive
			 * queue (TLS 1.3 session tickets, a reply) that close is
			 * abortive: an RST, and what is still queued for sending
			 * is dropped. Nagle holds a small alert back while an
			 * earlier small record is unacknowledged (the peer delays
			 * its ACK), so the close_notify would be the casualty:
			 * with Nagle off it leaves with its send. Harmless on a
			 * socket that is ending; fails (ignored) on non-TCP. */
			if (c->core_fd >= 0)
				(void)TS_REAL(setsockopt)(c->core_fd, IPPROTO_TCP, TCP_NODELAY, &one,
				                          sizeof one);
			/* close() must not hang on a stuck peer, but a full send
			 * buffer right after a large write is common: wait a
			 * bounded time for room (briefly for event loops). */
			(void)sslsocket_send_close_notify_timeout(c->s,
			                                          atomic_load(&c->nonblock) ? 100 : 5000);
		}
		sslsocket_free(c->s);
		c->s = NULL;
	}
	if (close_core_fd && c->core_fd >= 0)
		TS_REAL(close)(c->core_fd);
	errno = saved;
}
