/*
 * shutdown.c - ending a connection: unwrap (the full close_notify exchange,
 * then plain bytes), half-close, best-effort close_notify, close and free.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "sslsocket_int.h"

int core_close_notify_locked(struct sslsocket *s)
{
	if (s->state != CORE_ST_ESTABLISHED || !s->ssl || s->sent_close_notify)
		return 0;
	if (s->ragged_eof)
		return 0; /* nobody to tell */
	ERR_clear_error();
	s->bio_errno = 0;
	int r = SSL_shutdown(s->ssl);
	if (r >= 0) {
		s->sent_close_notify = 1;
		return 0;
	}
	/* Socket buffer full or connection gone: give up rather than block. */
	int e = SSL_get_error(s->ssl, r);
	core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, e == SSL_ERROR_WANT_WRITE ? EAGAIN : EPIPE,
	              "cannot send close_notify");
	ERR_clear_error();
	return -1;
}

int sslsocket_send_close_notify(sslsocket *s)
{
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	int saved = errno;
	pthread_mutex_lock(&s->lock);
	int r = core_close_notify_locked(s);
	pthread_mutex_unlock(&s->lock);
	if (r == 0)
		errno = saved;
	return r;
}

int sslsocket_shutdown_write(sslsocket *s)
{
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	int saved = errno;
	pthread_mutex_lock(&s->lock);
	if (s->state == CORE_ST_FAILED) {
		core_sock_fail(s);
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	/* A failed close_notify still half-closes: the peer then sees a
	 * ragged EOF, which is better than an open write side. */
	int cn = core_close_notify_locked(s);
	int r = s->io.shutdown(s->fd, SHUT_WR);
	if (r < 0) {
		int e = errno;
		core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, e, "shutdown: %s", strerror(e));
	} else {
		s->write_shut = 1;
	}
	pthread_mutex_unlock(&s->lock);
	if (r == 0 && cn == 0)
		errno = saved;
	return r < 0 || cn < 0 ? -1 : 0;
}

int sslsocket_unwrap(sslsocket *s)
{
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	int saved = errno;
	long long deadline = core_call_deadline(s);
	pthread_mutex_lock(&s->lock);
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
	/* From here on read exactly one record at a time: bytes behind the
	 * peer's close_notify are plaintext and must stay in the kernel. */
	SSL_set_read_ahead(s->ssl, 0);
	pthread_mutex_unlock(&s->lock);
	for (;;) {
		pthread_mutex_lock(&s->lock);
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
		pthread_mutex_unlock(&s->lock);
		if (res == CORE_IO_WANT_READ || res == CORE_IO_WANT_WRITE) {
			if (s->timeout_ms == 0)
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
	sslsocket_ctx_free(s->ctx);
	pthread_mutex_destroy(&s->lock);
	free(s->server_hostname);
	free(s->dest);
	free(s);
	errno = saved;
}

int sslsocket_close(sslsocket *s)
{
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	int saved = errno;
	pthread_mutex_lock(&s->lock);
	if (!s->write_shut)
		(void)core_close_notify_locked(s);
	pthread_mutex_unlock(&s->lock);
	int r = s->io.close(s->fd);
	int e = errno;
	sslsocket_free(s);
	errno = r < 0 ? e : saved;
	return r;
}
