/*
 * socket.c - the SSL socket's life: wrap (lazy for unconnected clients),
 * connect, accept, and driving the connect and handshake, blocking or not.
 * OpenSSL only ever sees a non-blocking BIO; waiting happens here, with
 * the lock released.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "ossl_int.h"

#include "sslsocket_int.h"

long long core_deadline(int timeout_ms)
{
	return timeout_ms > 0 ? core_now_ms() + timeout_ms : -1;
}

long long core_call_deadline(const struct sslsocket *s)
{
	return core_deadline(core_timeout(s));
}

static int is_ip_literal(const char *h)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

/* The session-cache key: the server name, else the peer's address:port. */
static char *dest_key(const struct sslsocket *s)
{
	if (s->server_hostname)
		return strdup(s->server_hostname);
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[INET6_ADDRSTRLEN], out[INET6_ADDRSTRLEN + 16];
	if (s->io.getpeername(s->fd, (struct sockaddr *)&ss, &len) < 0)
		return NULL;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
		snprintf(out, sizeof out, "%s:%u", host, ntohs(a->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
		snprintf(out, sizeof out, "[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		return NULL; /* no stable identity for other families */
	}
	return strdup(out);
}

int core_ssl_setup(struct sslsocket *s)
{
	ERR_clear_error();
	SSL *ssl = SSL_new(s->ctx->ssl_ctx);
	BIO *bio = ssl ? core_bio_new(s) : NULL;
	if (!ssl || !bio) {
		SSL_free(ssl);
		core_sock_err(s, SSLSOCKET_ERROR_SSL, ENOMEM, "cannot create the TLS connection");
		ERR_clear_error();
		return -1;
	}
	SSL_set_bio(ssl, bio, bio);
	SSL_set_ex_data(ssl, core_ssl_ex_index(), s);
	if (s->server_side) {
		SSL_set_accept_state(ssl);
	} else {
		SSL_set_connect_state(ssl);
		const char *h = s->server_hostname;
		int verify = s->ctx->cert_reqs != SSLSOCKET_CERT_NONE;
		if (h && is_ip_literal(h)) {
			/* RFC 6066 3: no SNI for literal addresses; check the IP SAN. */
			if (verify && !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), h))
				goto bad_name;
		} else if (h) {
			/* The macro casts away const; s->server_hostname is our own copy. */
			if (!SSL_set_tlsext_host_name(ssl, s->server_hostname))
				goto bad_name;
			if (verify) {
				/* subjectAltName only: the subject CN is never taken
				 * for a host name (RFC 6125 6.4.4, as browsers do). */
				SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
				                           X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
				if (!SSL_set1_host(ssl, h))
					goto bad_name;
			}
		}
		if (s->ctx->session_cache) {
			free(s->dest);
			s->dest = dest_key(s);
			SSL_SESSION *sess = core_session_get(s->ctx, s->dest);
			if (sess) {
				SSL_set_session(ssl, sess);
				SSL_SESSION_free(sess);
			}
		}
	}
	s->ssl = ssl;
	s->state = CORE_ST_HANDSHAKE;
	s->hs_want = s->server_side ? POLLIN : POLLOUT;
	return 0;
bad_name:
	SSL_free(ssl);
	core_sock_err(s, SSLSOCKET_ERROR_VALUE, EINVAL, "invalid server_hostname \"%s\"", s->server_hostname);
	ERR_clear_error();
	return -1;
}

/* A non-blocking connect has finished when the socket is writable;
 * SO_ERROR then says how. Returns 1 done, 0 still going, -1 failed. */
static int connect_finished(struct sslsocket *s)
{
	struct pollfd p = {.fd = s->fd, .events = POLLOUT};
	int r = s->io.poll(&p, 1, 0);
	if (r < 0) {
		int e = errno;
		core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, e, "poll: %s", CORE_STRERROR(e));
		return -1;
	}
	if (r == 0)
		return 0;
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	if (s->io.getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		s->connect_errno = soerr; /* the kernel's copy is gone now */
		core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, soerr, "connect: %s", CORE_STRERROR(soerr));
		core_sock_fail(s);
		return -1;
	}
	return 1;
}

int core_drive(struct sslsocket *s, int may_wait, long long call_deadline)
{
	for (;;) {
		short want = 0;
		if (core_lock_entry(s) < 0)
			return -1;
		switch (s->state) {
		case CORE_ST_ESTABLISHED:
			pthread_mutex_unlock(&s->lock);
			return 0;
		case CORE_ST_FAILED:
			core_sock_fail(s);
			pthread_mutex_unlock(&s->lock);
			return -1;
		case CORE_ST_UNCONNECTED:
		case CORE_ST_LISTENING:
			core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, ENOTCONN, "socket is not connected");
			pthread_mutex_unlock(&s->lock);
			return -1;
		case CORE_ST_CONNECTING: {
			int r = connect_finished(s);
			if (r == 1 && core_ssl_setup(s) == 0)
				break; /* on to the handshake, still locked */
			if (r == 1)
				core_sock_fail(s);
			if (r != 0) {
				pthread_mutex_unlock(&s->lock);
				return -1;
			}
			core_sock_err(s, SSLSOCKET_ERROR_WANT_CONNECT, EAGAIN, "connect in progress");
			want = POLLOUT;
			break;
		}
		case CORE_ST_HANDSHAKE:
			break;
		}
		if (!want && s->state == CORE_ST_HANDSHAKE) {
			if (may_wait && s->hs_deadline < 0 && s->handshake_timeout_ms > 0)
				s->hs_deadline = core_now_ms() + s->handshake_timeout_ms;
			ERR_clear_error();
			s->bio_errno = 0;
			int r = SSL_do_handshake(s->ssl);
			if (r == 1) {
				s->state = CORE_ST_ESTABLISHED;
				s->hs_done = 1;
				pthread_mutex_unlock(&s->lock);
				return 0;
			}
			switch (core_ssl_result(s, r, "handshake")) {
			case CORE_IO_WANT_READ:
				want = POLLIN;
				break;
			case CORE_IO_WANT_WRITE:
				want = POLLOUT;
				break;
			case CORE_IO_OK:
			case CORE_IO_CLOSED: /* a close_notify in place of a handshake */
				core_sock_err(s, SSLSOCKET_ERROR_EOF, EPROTO,
				              "EOF occurred in violation of protocol (during handshake)");
				core_sock_fail(s);
				pthread_mutex_unlock(&s->lock);
				return -1;
			case CORE_IO_ERROR:
				pthread_mutex_unlock(&s->lock);
				return -1;
			}
			s->hs_want = want;
		}
		long long hs_deadline = s->hs_deadline;
		pthread_mutex_unlock(&s->lock);
		if (!may_wait)
			return -1; /* s->err says WANT_READ / WANT_WRITE, errno EAGAIN */
		if (core_wait(s, want, call_deadline, hs_deadline) < 0) {
			if (errno == ETIMEDOUT) {
				pthread_mutex_lock(&s->lock);
				core_sock_fail(s); /* a handshake past its deadline is dead */
				pthread_mutex_unlock(&s->lock);
			}
			return -1;
		}
	}
}

/* ---- wrap ------------------------------------------------------------------ */

static unsigned long next_id;

static sslsocket *sock_new(int fd, sslsocket_ctx *ctx, const struct sslsocket_options *o,
                           const struct sslsocket_io *io, struct sslsocket_error *err)
{
	if (!io)
		io = sslsocket_io_libc();
	if (!io->recv || !io->send || !io->poll || !io->connect || !io->accept4 || !io->close ||
	    !io->shutdown || !io->fcntl || !io->getsockopt || !io->setsockopt || !io->getpeername ||
	    !io->getsockname || !io->socket) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "the I/O table has a NULL function");
		return NULL;
	}
	struct sslsocket *s = calloc(1, sizeof *s);
	if (!s || (o->server_hostname && !(s->server_hostname = strdup(o->server_hostname)))) {
		free(s);
		core_err_set(err, SSLSOCKET_ERROR_SSL, ENOMEM, "out of memory");
		return NULL;
	}
	/* "example.com." is example.com: the root's dot is neither sent as SNI
	 * (RFC 6066 3: "without a trailing dot") nor part of the name checked. */
	if (s->server_hostname) {
		size_t hl = strlen(s->server_hostname);
		if (hl > 1 && s->server_hostname[hl - 1] == '.')
			s->server_hostname[hl - 1] = '\0';
	}
	core_mutex_init(&s->lock);
	s->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	s->fd = fd;
	s->io = *io;
	core_ctx_ref(ctx);
	s->ctx = ctx;
	s->server_side = ctx->server_side;
	s->do_handshake_on_connect = o->do_handshake_on_connect;
	s->suppress_ragged_eofs = o->suppress_ragged_eofs;
	s->handshake_timeout_ms = o->handshake_timeout_ms > 0 ? o->handshake_timeout_ms : 0;
	s->hs_deadline = -1;
	s->state = CORE_ST_UNCONNECTED;
	return s;
}

static void set_caller_err(struct sslsocket_error *err, const struct sslsocket *s)
{
	if (err)
		*err = *core_err_slot(s);
}

sslsocket *sslsocket_wrap_ctx(int fd, sslsocket_ctx *ctx, const struct sslsocket_options *o,
                              const struct sslsocket_io *io, struct sslsocket_error *err)
{
	int saved = errno;
	if (!ctx || !o) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "no context or options given");
		return NULL;
	}
	if (o->handshake_timeout_ms < 0) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "handshake_timeout_ms must be >= 0");
		return NULL;
	}
	if (!io)
		io = sslsocket_io_libc();
	if (!io->fcntl || !io->getsockopt) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "the I/O table has a NULL function");
		return NULL;
	}
	int fl = io->fcntl(fd, F_GETFL);
	if (fl < 0) {
		core_err_set(err, SSLSOCKET_ERROR_SYSCALL, EBADF, "descriptor %d is not open", fd);
		return NULL;
	}
	int type = 0;
	socklen_t tl = sizeof type;
	if (io->getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_STREAM) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, errno == ENOTSOCK ? ENOTSOCK : EINVAL,
		             "descriptor %d is not a stream socket", fd);
		return NULL;
	}
	struct sslsocket *s = sock_new(fd, ctx, o, io, err);
	if (!s)
		return NULL;
	s->timeout_ms = (fl & O_NONBLOCK) ? 0 : -1;

	int listening = 0;
	socklen_t ll = sizeof listening;
	struct sockaddr_storage peer;
	socklen_t pl = sizeof peer;
	if (s->io.getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ll) == 0 && listening) {
		if (!s->server_side) {
			core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL,
			             "a listening socket must be wrapped with server_side");
			goto fail;
		}
		s->state = CORE_ST_LISTENING;
	} else if (s->io.getpeername(fd, (struct sockaddr *)&peer, &pl) == 0) {
		if (core_ssl_setup(s) < 0) {
			set_caller_err(err, s);
			goto fail;
		}
		if (s->do_handshake_on_connect && core_timeout(s) != 0 &&
		    core_drive(s, 1, core_call_deadline(s)) < 0) {
			set_caller_err(err, s);
			goto fail;
		}
	} else if (errno != ENOTCONN) {
		core_err_set(err, SSLSOCKET_ERROR_SYSCALL, errno, "getpeername: %s", CORE_STRERROR(errno));
		goto fail;
	}
	/* else: not connected yet; the TLS state is built in sslsocket_connect
	 * (client) or the socket becomes a listener later (server). */
	errno = saved;
	return s;
fail: {
	int e = errno;
	sslsocket_free(s);
	errno = e;
	return NULL;
}
}

sslsocket *sslsocket_wrap(int fd, const struct sslsocket_options *o, const struct sslsocket_io *io,
                          struct sslsocket_error *err)
{
	sslsocket_ctx *ctx = sslsocket_ctx_new(o, err);
	if (!ctx)
		return NULL;
	sslsocket *s = sslsocket_wrap_ctx(fd, ctx, o, io, err);
	int e = errno;
	sslsocket_ctx_free(ctx);
	errno = e;
	return s;
}

/* ---- connect and accept ------------------------------------------------------ */

int sslsocket_connect(sslsocket *s, const struct sockaddr *addr, socklen_t len)
{
	core_set_op(SSLSOCKET_PHASE_CONNECT);
	int saved = errno;
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	if (core_lock_entry(s) < 0)
		return -1;
	if (s->server_side || s->state != CORE_ST_UNCONNECTED) {
		core_sock_err(s, SSLSOCKET_ERROR_VALUE, s->server_side ? EINVAL : EISCONN,
		              s->server_side ? "connect on a server-side socket"
		                             : "socket is already connected");
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	long long deadline = core_call_deadline(s);
	int r = s->io.connect(s->fd, addr, len);
	if (r < 0 && errno != EINPROGRESS) {
		int e = errno;
		/* EINTR: the kernel goes on connecting; finish it like EINPROGRESS. */
		if (e == EINTR)
			s->state = CORE_ST_CONNECTING;
		core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, e, "connect: %s", CORE_STRERROR(e));
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	if (r == 0) {
		if (core_ssl_setup(s) < 0) {
			core_sock_fail(s);
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
	} else {
		s->state = CORE_ST_CONNECTING;
	}
	pthread_mutex_unlock(&s->lock);
	if (core_timeout(s) == 0) {
		if (r == 0) {
			errno = saved;
			return 0; /* handshake on the first I/O */
		}
		core_sock_err(s, SSLSOCKET_ERROR_WANT_CONNECT, EINPROGRESS, "connect in progress");
		return -1;
	}
	/* Blocking (or a timeout): finish the connect, and the handshake when
	 * it is eager. */
	if (s->do_handshake_on_connect) {
		if (core_drive(s, 1, deadline) < 0)
			return -1;
	} else if (r != 0) {
		for (;;) {
			pthread_mutex_lock(&s->lock);
			int st = s->state;
			int f = st == CORE_ST_CONNECTING ? connect_finished(s) : 1;
			if (f == 1 && st == CORE_ST_CONNECTING && core_ssl_setup(s) < 0) {
				core_sock_fail(s);
				f = -1;
			}
			pthread_mutex_unlock(&s->lock);
			if (f < 0)
				return -1;
			if (f == 1)
				break;
			if (core_wait(s, POLLOUT, deadline, -1) < 0)
				return -1;
		}
	}
	errno = saved;
	return 0;
}

sslsocket *sslsocket_accept(sslsocket *l, struct sockaddr *addr, socklen_t *len, int flags)
{
	core_set_op(SSLSOCKET_PHASE_ACCEPT);
	int saved = errno;
	if (!l) {
		errno = EINVAL;
		return NULL;
	}
	if (!l->server_side || (l->state != CORE_ST_LISTENING && l->state != CORE_ST_UNCONNECTED)) {
		core_sock_err(l, SSLSOCKET_ERROR_VALUE, EINVAL, "accept on a socket that is not a listener");
		return NULL;
	}
	long long deadline = core_call_deadline(l);
	int fd;
	for (;;) {
		fd = l->io.accept4(l->fd, addr, len, flags);
		if (fd >= 0)
			break;
		int e = errno;
		if ((e == EAGAIN || e == EWOULDBLOCK) && core_timeout(l) != 0) {
			if (core_wait(l, POLLIN, deadline, -1) < 0)
				return NULL;
			continue;
		}
		core_sock_err(l, SSLSOCKET_ERROR_SYSCALL, e, "accept: %s", CORE_STRERROR(e));
		return NULL;
	}
	l->state = CORE_ST_LISTENING;
	struct sslsocket_options o;
	sslsocket_options_init(&o);
	o.do_handshake_on_connect = l->do_handshake_on_connect;
	o.suppress_ragged_eofs = l->suppress_ragged_eofs;
	o.handshake_timeout_ms = l->handshake_timeout_ms;
	struct sslsocket_error err;
	struct sslsocket *s = sock_new(fd, l->ctx, &o, &l->io, &err);
	if (!s) {
		*core_err_slot(l) = err;
		l->io.close(fd);
		errno = err.sys_errno;
		return NULL;
	}
	/* accept4 gives a blocking descriptor unless SOCK_NONBLOCK was asked. */
	s->timeout_ms = (flags & SOCK_NONBLOCK) ? 0 : -1;
	if (core_ssl_setup(s) < 0)
		goto fail;
	if (s->do_handshake_on_connect && core_timeout(s) != 0 &&
	    core_drive(s, 1, core_call_deadline(s)) < 0)
		goto fail;
	errno = saved;
	return s;
fail: {
	int e = errno;
	struct sslsocket_error e_s = *core_err_slot(s);
	*core_err_slot(l) = e_s;
	sslsocket_free(s);
	l->io.close(fd);
	errno = e;
	return NULL;
}
}

static int do_handshake_tmo(sslsocket *s, int t)
{
	core_set_op(SSLSOCKET_PHASE_HANDSHAKE);
	int saved = errno;
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	if (core_drive(s, t != 0, core_deadline(t)) < 0)
		return -1;
	errno = saved;
	return 0;
}

int sslsocket_do_handshake(sslsocket *s)
{
	return do_handshake_tmo(s, s ? core_timeout(s) : -1);
}

int sslsocket_do_handshake_timeout(sslsocket *s, int timeout_ms)
{
	return do_handshake_tmo(s, timeout_ms < 0 ? -1 : timeout_ms);
}

int sslsocket_take_connect_error(sslsocket *s)
{
	if (!s)
		return 0;
	if (core_lock_entry(s) < 0)
		return 0;
	int e = s->connect_errno;
	s->connect_errno = 0;
	pthread_mutex_unlock(&s->lock);
	return e;
}

int sslsocket_advance(sslsocket *s)
{
	core_set_op(SSLSOCKET_PHASE_WRITE);
	int saved = errno;
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	if (core_drive(s, 0, -1) < 0)
		return -1;
	/* Ciphertext queued by a write, a close_notify queued behind a full
	 * buffer, a half-close waiting for it, or an unwrap waiting for the
	 * peer's close_notify. */
	if (core_lock_entry(s) < 0)
		return -1;
	int r = 0;
	if (s->olen && !s->shut_want) {
		r = core_flush_locked(s);
		if (r > 0)
			core_sock_err(s, SSLSOCKET_ERROR_WANT_WRITE, EAGAIN,
			              "The operation did not complete (write)");
	}
	if (r == 0)
		r = core_shutdown_progress_locked(s);
	pthread_mutex_unlock(&s->lock);
	if (r != 0)
		return -1; /* s->err: WANT_READ/WANT_WRITE (EAGAIN) or the failure */
	errno = saved;
	return 0;
}
