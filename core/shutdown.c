/*
 * shutdown.c - ending a connection: unwrap (the full close_notify exchange,
 * then plain bytes), half-close, best-effort close_notify, close and free.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ossl_int.h"

#include "sslsocket_int.h"

int core_close_notify_locked(struct sslsocket *s)
{
	if (s->state != CORE_ST_ESTABLISHED || !s->ssl || s->ragged_eof)
		return 0; /* nothing established, or nobody left to tell */
	if (s->sent_close_notify)
		return s->shut_want == POLLOUT ? 1 : 0;
	if (s->write_pending) {
		/* Part of a record is in the kernel and the rest in OpenSSL, which
		 * sends it only when that write is retried; an alert now would
		 * corrupt the stream. */
		core_sock_err(s, SSLSOCKET_ERROR_WANT_WRITE, EAGAIN,
		              "cannot send close_notify: a record is half sent (retry the write that "
		              "returned EAGAIN first)");
		return -1;
	}
	ERR_clear_error();
	s->bio_errno = 0;
	s->bio_buffer = 1;
	int r = SSL_shutdown(s->ssl);
	s->bio_buffer = 0;
	/* OpenSSL marks the write side shut whether or not the alert left. */
	s->sent_close_notify = 1;
	if (r >= 0 && s->olen) {
		/* The alert is queued in the out-buffer (behind earlier
		 * records, or the kernel is full): never block here for it. */
		s->shut_want = POLLOUT;
		return 1;
	}
	if (r >= 0)
		return 0;
	if (SSL_get_error(s->ssl, r) == SSL_ERROR_WANT_WRITE) {
		/* Socket buffer full: the alert waits inside OpenSSL; never
		 * block here for it. */
		ERR_clear_error();
		s->shut_want = POLLOUT;
		s->alert_held = 1;
		return 1;
	}
	core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, s->bio_errno ? s->bio_errno : EPIPE,
	              "cannot send close_notify: %s", CORE_STRERROR(s->bio_errno ? s->bio_errno : EPIPE));
	ERR_clear_error();
	return -1;
}

int core_shutdown_progress_locked(struct sslsocket *s)
{
	if (!s->shut_want)
		return 0;
	/* Queued records (the alert among them) go out first. */
	int f = core_flush_locked(s);
	if (f < 0) {
		s->shut_want = 0;
		return -1;
	}
	if (f > 0) {
		s->shut_want = POLLOUT;
		return 1;
	}
	/* At most two rounds: flush our alert, then (unwrap) read theirs.
	 * Without an unwrap and with the alert out, SSL_shutdown would only
	 * wait for the peer's: skip it. */
	for (int round = 0; round < 2 && (s->unwrapping || s->alert_held); round++) {
		s->alert_held = 0;
		ERR_clear_error();
		s->bio_errno = 0;
		int r = SSL_shutdown(s->ssl);
		if (r < 0) {
			enum core_io_result res = core_ssl_result(s, r, "shutdown");
			if (res == CORE_IO_WANT_READ || res == CORE_IO_WANT_WRITE) {
				s->shut_want = res == CORE_IO_WANT_READ ? POLLIN : POLLOUT;
				s->alert_held = res == CORE_IO_WANT_WRITE;
				return 1;
			}
			s->shut_want = 0;
			if (res == CORE_IO_CLOSED && !s->got_close_notify)
				core_sock_err(s, SSLSOCKET_ERROR_EOF, ECONNRESET,
				              "EOF occurred in violation of protocol (during shutdown)");
			return -1;
		}
		if (r == 0 && s->unwrapping)
			continue; /* ours is out; now theirs */
		break;
	}
	s->shut_want = 0;
	if (s->unwrapping && !(SSL_get_shutdown(s->ssl) & SSL_RECEIVED_SHUTDOWN)) {
		s->shut_want = POLLIN;
		return 1;
	}
	if (s->shut_wr_pending) {
		s->shut_wr_pending = 0;
		if (s->io.shutdown(s->fd, SHUT_WR) < 0) {
			int e = errno;
			core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, e, "shutdown: %s", CORE_STRERROR(e));
			return -1;
		}
		s->write_shut = 1;
	}
	return 0;
}

static int close_notify_tmo(sslsocket *s, int tmo)
{
	core_set_op(SSLSOCKET_PHASE_SHUTDOWN);
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	int saved = errno;
	/* Waits for buffer room only within a positive timeout: callers that
	 * close set one (a full buffer right after a big write is common);
	 * blocking forever here would hang a close on a stuck peer. */
	long long deadline = core_deadline(tmo);
	if (core_lock_entry(s) < 0)
		return -1;
	int r = core_close_notify_locked(s);
	while (r == 1 && !s->unwrapping) {
		r = core_shutdown_progress_locked(s);
		if (r != 1)
			break;
		short want = s->shut_want;
		pthread_mutex_unlock(&s->lock);
		int w = deadline >= 0 && core_now_ms() < deadline ? core_wait(s, want, deadline, -1) : -1;
		pthread_mutex_lock(&s->lock);
		if (w < 0) {
			core_sock_err(s, SSLSOCKET_ERROR_WANT_WRITE, EAGAIN,
			              "close_notify queued: the socket buffer is full (sslsocket_advance sends it)");
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (r == 0)
		errno = saved;
	return r == 0 ? 0 : -1;
}

int sslsocket_send_close_notify(sslsocket *s)
{
	return close_notify_tmo(s, s ? core_timeout(s) : -1);
}

int sslsocket_send_close_notify_timeout(sslsocket *s, int timeout_ms)
{
	return close_notify_tmo(s, timeout_ms);
}

static int shutdown_write_tmo(sslsocket *s, int tmo)
{
	core_set_op(SSLSOCKET_PHASE_SHUTDOWN);
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	int saved = errno;
	long long deadline = core_deadline(tmo);
	if (core_lock_entry(s) < 0)
		return -1;
	if (s->state == CORE_ST_FAILED) {
		core_sock_fail(s);
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	if (s->write_shut || s->shut_wr_pending) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	s->shut_wr_pending = 1;
	int r = core_close_notify_locked(s);
	if (r < 0 && s->write_pending) {
		s->shut_wr_pending = 0; /* the caller may finish its write first */
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	if (r < 0) {
		/* A close_notify that cannot be sent still half-closes: the peer
		 * sees a ragged EOF, better than a write side left open. */
		s->shut_want = 0;
		(void)s->io.shutdown(s->fd, SHUT_WR);
		s->write_shut = 1;
		s->shut_wr_pending = 0;
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	if (r == 0) {
		s->shut_want = 0;
		s->shut_wr_pending = 0;
		if (s->io.shutdown(s->fd, SHUT_WR) < 0) {
			int e = errno;
			core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, e, "shutdown: %s", CORE_STRERROR(e));
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
		s->write_shut = 1;
		pthread_mutex_unlock(&s->lock);
		errno = saved;
		return 0;
	}
	/* Queued behind a full socket buffer. Non-blocking: like the kernel's
	 * FIN, it goes out later (sslsocket_advance, or poll asking for
	 * POLLOUT). Blocking: wait for room, within the socket's timeout. */
	for (;;) {
		if (tmo == 0) {
			pthread_mutex_unlock(&s->lock);
			errno = saved;
			return 0;
		}
		short want = s->shut_want;
		pthread_mutex_unlock(&s->lock);
		if (deadline >= 0 && core_now_ms() >= deadline) {
			core_sock_err(s, SSLSOCKET_ERROR_WANT_WRITE, EAGAIN, "timed out");
			return -1;
		}
		if (core_wait(s, want, deadline, -1) < 0)
			return -1;
		pthread_mutex_lock(&s->lock);
		r = core_shutdown_progress_locked(s);
		if (r <= 0) {
			pthread_mutex_unlock(&s->lock);
			if (r == 0)
				errno = saved;
			return r;
		}
	}
}

int sslsocket_shutdown_write(sslsocket *s)
{
	return shutdown_write_tmo(s, s ? core_timeout(s) : -1);
}

int sslsocket_shutdown_write_timeout(sslsocket *s, int timeout_ms)
{
	return shutdown_write_tmo(s, timeout_ms < 0 ? -1 : timeout_ms);
}

int sslsocket_unwrap(sslsocket *s)
{
	core_set_op(SSLSOCKET_PHASE_SHUTDOWN);
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	int saved = errno;
	long long deadline = core_call_deadline(s);
	if (core_lock_entry(s) < 0)
		return -1;
	if (!s->ssl || s->state == CORE_ST_UNCONNECTED || s->state == CORE_ST_LISTENING) {
		pthread_mutex_unlock(&s->lock);
		int fd = s->fd;
		sslsocket_free(s);
		errno = saved;
		return fd; /* never spoke TLS: already plain */
	}
	if (s->state != CORE_ST_ESTABLISHED) {
		if (s->state == CORE_ST_FAILED)
			core_sock_fail(s);
		else
			core_sock_err(s, SSLSOCKET_ERROR_VALUE, ENOTCONN, "unwrap before the handshake finished");
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	if (!s->sent_close_notify && s->write_pending) {
		core_sock_err(s, SSLSOCKET_ERROR_WANT_WRITE, EAGAIN,
		              "cannot unwrap: a record is half sent (retry the write that returned EAGAIN first)");
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	/* From here on read exactly one record at a time: bytes behind the
	 * peer's close_notify are plaintext and must stay in the kernel. */
	SSL_set_read_ahead(s->ssl, 0);
	s->unwrapping = 1;
	s->shut_wr_pending = 0;
	pthread_mutex_unlock(&s->lock);
	for (;;) {
		pthread_mutex_lock(&s->lock);
		/* Queued records first: the peer answers our close_notify only
		 * once it got it. */
		int f = core_flush_locked(s);
		if (f != 0) {
			if (f > 0)
				s->shut_want = POLLOUT;
			pthread_mutex_unlock(&s->lock);
			if (f < 0 || core_timeout(s) == 0) {
				if (f > 0)
					core_sock_err(s, SSLSOCKET_ERROR_WANT_WRITE, EAGAIN,
					              "The operation did not complete (write)");
				return -1;
			}
			if (core_wait(s, POLLOUT, deadline, -1) < 0)
				return -1;
			continue;
		}
		ERR_clear_error();
		s->bio_errno = 0;
		int r = SSL_shutdown(s->ssl);
		if (r == 1) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		s->sent_close_notify = 1;
		if (r == 0) {
			pthread_mutex_unlock(&s->lock);
			continue; /* ours is out; now read theirs */
		}
		enum core_io_result res = core_ssl_result(s, r, "shutdown");
		if (res == CORE_IO_WANT_READ || res == CORE_IO_WANT_WRITE)
			s->shut_want = res == CORE_IO_WANT_READ ? POLLIN : POLLOUT; /* for poll/advance */
		pthread_mutex_unlock(&s->lock);
		if (res == CORE_IO_WANT_READ || res == CORE_IO_WANT_WRITE) {
			if (core_timeout(s) == 0)
				return -1;
			if (core_wait(s, res == CORE_IO_WANT_READ ? POLLIN : POLLOUT, deadline, -1) < 0)
				return -1;
			continue;
		}
		if (res == CORE_IO_CLOSED && s->got_close_notify)
			break;
		if (res == CORE_IO_CLOSED) /* suppressed ragged EOF: no clean end */
			core_sock_err(s, SSLSOCKET_ERROR_EOF, ECONNRESET,
			              "EOF occurred in violation of protocol (during shutdown)");
		return -1;
	}
	int fd = s->fd;
	sslsocket_free(s);
	errno = saved;
	return fd;
}

void sslsocket_free(sslsocket *s)
{
	if (!s)
		return;
	int saved = errno;
	SSL_free(s->ssl);
	core_obuf_free(s);
	sslsocket_ctx_free(s->ctx);
	pthread_mutex_destroy(&s->lock);
	free(s->server_hostname);
	free(s->dest);
	free(s);
	errno = saved;
}

int sslsocket_close(sslsocket *s)
{
	core_set_op(SSLSOCKET_PHASE_SHUTDOWN);
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	int saved = errno;
	/* With records the program never read (TLS 1.3 tickets, a reply) the
	 * kernel's close is abortive: an RST, and whatever is still queued is
	 * dropped. Nagle would queue the alert behind an unacknowledged small
	 * record, so it leaves now (an error on a non-TCP descriptor is moot). */
	int one = 1;
	(void)s->io.setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (core_lock_entry(s) < 0)
		return -1;
	/* One try to get a queued alert out, then give up: close never waits. */
	if (core_close_notify_locked(s) == 1 || s->shut_want == POLLOUT)
		(void)core_shutdown_progress_locked(s);
	pthread_mutex_unlock(&s->lock);
	int r = s->io.close(s->fd);
	int e = errno;
	sslsocket_free(s);
	errno = r < 0 ? e : saved;
	return r;
}
