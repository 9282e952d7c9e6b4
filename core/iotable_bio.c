/*
 * iotable_bio.c - the BIO under every SSL: recv and send through the socket's
 * struct sslsocket_io, always MSG_DONTWAIT, so OpenSSL never blocks and
 * never calls a function that an interposer may have hooked. Blocking
 * semantics are built above, in core_drive and the read/write loops.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sslsocket_int.h"

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_read(BIO *b, char *buf, int len)
{
	struct sslsocket *s = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	ssize_t n = s->io.recv(s->fd, buf, (size_t)len, MSG_DONTWAIT);
	if (n > 0)
		return (int)n;
	if (n == 0) {
		/* Remembered for BIO_CTRL_EOF: OpenSSL 3 turns an EOF that the BIO
		 * confirms into SSL_R_UNEXPECTED_EOF_WHILE_READING. */
		s->bio_eof = 1;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		BIO_set_retry_read(b);
		return -1;
	}
	s->bio_errno = errno;
	return -1;
}

void core_obuf_free(struct sslsocket *s)
{
	free(s->obuf);
	s->obuf = NULL;
	s->olen = s->ooff = s->ocap = 0;
}

static int obuf_append(struct sslsocket *s, const char *buf, size_t len)
{
	if (s->olen + len > s->ocap) {
		size_t cap = s->ocap ? s->ocap : 16384;
		while (cap < s->olen + len)
			cap *= 2;
		unsigned char *p = realloc(s->obuf, cap);
		if (!p)
			return -1;
		s->obuf = p;
		s->ocap = cap;
	}
	memcpy(s->obuf + s->olen, buf, len);
	s->olen += len;
	return 0;
}

int core_flush_locked(struct sslsocket *s)
{
	while (s->ooff < s->olen) {
		ssize_t n = s->io.send(s->fd, s->obuf + s->ooff, s->olen - s->ooff,
		                       MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			s->ooff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		s->out_err = n < 0 ? errno : EPIPE;
		core_obuf_free(s);
		core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, s->out_err, "send: %s", CORE_STRERROR(s->out_err));
		return -1;
	}
	core_obuf_free(s); /* idle connections keep no buffer */
	return 0;
}

static int bio_write(BIO *b, const char *buf, int len)
{
	struct sslsocket *s = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (s->olen) {
		/* Records must leave in order: behind what is queued. */
		int f = core_flush_locked(s);
		if (f < 0) {
			s->bio_errno = s->out_err;
			return -1;
		}
		if (f > 0) {
			if (obuf_append(s, buf, (size_t)len) < 0) {
				s->bio_errno = ENOMEM;
				return -1;
			}
			return len;
		}
	}
	ssize_t n = s->io.send(s->fd, buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == len)
		return len; /* the hot path: the kernel took it all */
	if (n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		size_t took = n > 0 ? (size_t)n : 0;
		if (s->bio_buffer) {
			if (obuf_append(s, buf + took, (size_t)len - took) < 0) {
				s->bio_errno = ENOMEM;
				return -1;
			}
			return len;
		}
		if (n > 0)
			return (int)n;
		BIO_set_retry_write(b);
		return -1;
	}
	s->bio_errno = errno;
	return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)num;
	(void)ptr;
	struct sslsocket *s = BIO_get_data(b);
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		/* what the kernel refused waits in the out-buffer; the layers
		 * above flush it when the socket is writable */
		return 1;
	case BIO_CTRL_EOF:
		return s ? s->bio_eof : 0;
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void bio_init_method(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sslsocket_io");
	if (!m)
		return;
	BIO_meth_set_read(m, bio_read);
	BIO_meth_set_write(m, bio_write);
	BIO_meth_set_ctrl(m, bio_ctrl);
	BIO_meth_set_create(m, bio_create);
	bio_method = m;
}

BIO *core_bio_new(struct sslsocket *s)
{
	pthread_once(&bio_once, bio_init_method);
	if (!bio_method)
		return NULL;
	BIO *b = BIO_new(bio_method);
	if (b)
		BIO_set_data(b, s);
	return b;
}
