/*
 * info.c - what a connection knows about itself: cipher, verification
 * result, peer certificate, ALPN, resumption, errors and accessors.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ossl_int.h"

#include "cert_int.h"
#include "sslsocket_int.h"

int sslsocket_fileno(const sslsocket *s)
{
	return s ? s->fd : -1;
}

int sslsocket_server_side(const sslsocket *s)
{
	return s ? s->server_side : 0;
}

static struct sslsocket *unconst(const sslsocket *s)
{
	return (struct sslsocket *)(uintptr_t)s;
}

int sslsocket_handshake_done(const sslsocket *s)
{
	if (!s || core_lock_entry(unconst(s)) < 0)
		return 0;
	int r = s->state == CORE_ST_ESTABLISHED;
	pthread_mutex_unlock(&unconst(s)->lock);
	return r;
}

int sslsocket_failed(const sslsocket *s)
{
	if (!s || core_lock_entry(unconst(s)) < 0)
		return 0;
	int r = s->state == CORE_ST_FAILED;
	pthread_mutex_unlock(&unconst(s)->lock);
	return r;
}

int sslsocket_snapshot(sslsocket *s, struct sslsocket_state *st)
{
	if (!s || !st) {
		errno = EINVAL;
		return -1;
	}
	int saved = errno;
	if (core_lock_entry(s) < 0)
		return -1;
	memset(st, 0, sizeof *st);
	st->listening = s->state == CORE_ST_LISTENING;
	st->connecting = s->state == CORE_ST_CONNECTING;
	st->handshaking = s->state == CORE_ST_HANDSHAKE;
	st->established = s->state == CORE_ST_ESTABLISHED;
	st->handshake_done = s->hs_done;
	st->failed = s->state == CORE_ST_FAILED;
	st->write_shut = s->sent_close_notify || s->write_shut || s->shut_wr_pending;
	st->peer_closed = s->got_close_notify || s->ragged_eof;
	if (s->ssl && s->state == CORE_ST_ESTABLISHED) {
		int p = SSL_pending(s->ssl);
		st->pending = p > 0 ? (size_t)p : 0;
	}
	st->queued = s->olen > s->ooff ? s->olen - s->ooff : 0;
	if (s->state == CORE_ST_CONNECTING)
		st->want = POLLOUT;
	else if (s->state == CORE_ST_HANDSHAKE)
		st->want = s->hs_want ? s->hs_want : POLLOUT;
	else if (s->state == CORE_ST_ESTABLISHED)
		st->want = (short)((st->queued ? POLLOUT : 0) | s->shut_want);
	st->connect_errno = s->connect_errno;
	if (st->failed)
		st->failure = s->fail_err;
	pthread_mutex_unlock(&s->lock);
	errno = saved;
	return 0;
}

const struct sslsocket_error *sslsocket_last_error(const sslsocket *s)
{
	static const struct sslsocket_error none = {.reason = "no socket"};
	static const struct sslsocket_error ok = {.reason = ""};
	if (!s)
		return &none;
	const struct sslsocket_error *e = core_err_slot(s);
	if (e->reason[0] || e->code)
		return e;
	/* Another thread's call failed s: its sticky failure, set once under
	 * the lock and never changed after. */
	int failed = 0;
	if (core_lock_entry(unconst(s)) == 0) {
		failed = s->state == CORE_ST_FAILED;
		pthread_mutex_unlock(&unconst(s)->lock);
	}
	return failed ? &s->fail_err : &ok;
}

const char *sslsocket_error(const sslsocket *s)
{
	if (!s)
		return "no socket";
	const struct sslsocket_error *e = sslsocket_last_error(s);
	return e->reason[0] ? e->reason : "no error";
}

int sslsocket_cipher(sslsocket *s, const char **name, const char **version, int *secret_bits)
{
	if (!s)
		return -1;
	if (core_lock_entry(s) < 0)
		return -1;
	const SSL_CIPHER *c = s->state == CORE_ST_ESTABLISHED ? SSL_get_current_cipher(s->ssl) : NULL;
	if (!c) {
		core_sock_err(s, SSLSOCKET_ERROR_VALUE, ENOTCONN, "no cipher before the handshake");
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	/* The strings are OpenSSL's static tables: they outlive s. */
	if (name)
		*name = SSL_CIPHER_get_name(c);
	if (version)
		*version = SSL_get_version(s->ssl);
	if (secret_bits)
		*secret_bits = SSL_CIPHER_get_bits(c, NULL);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

const char *sslsocket_verify_result(sslsocket *s)
{
	if (!s)
		return "none";
	if (core_lock_entry(s) < 0)
		return "none";
	const char *r = "none";
	if (s->ssl && s->ctx->cert_reqs != SSLSOCKET_CERT_NONE &&
	    (s->state == CORE_ST_ESTABLISHED || s->state == CORE_ST_FAILED)) {
		long v = SSL_get_verify_result(s->ssl);
		X509 *peer = SSL_get0_peer_certificate(s->ssl);
		if (v != X509_V_OK) {
			snprintf(s->verify_text, sizeof s->verify_text, "%s", X509_verify_cert_error_string(v));
			r = s->verify_text;
		} else if (peer) {
			r = "ok";
		}
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

int sslsocket_session_reused(sslsocket *s)
{
	if (!s)
		return 0;
	if (core_lock_entry(s) < 0)
		return 0;
	int r = s->ssl && s->state == CORE_ST_ESTABLISHED && SSL_session_reused(s->ssl);
	pthread_mutex_unlock(&s->lock);
	return r;
}

const char *sslsocket_alpn_selected(sslsocket *s)
{
	if (!s)
		return NULL;
	const char *r = NULL;
	if (core_lock_entry(s) < 0)
		return NULL;
	if (s->ssl && s->state == CORE_ST_ESTABLISHED) {
		const unsigned char *p = NULL;
		unsigned int n = 0;
		SSL_get0_alpn_selected(s->ssl, &p, &n);
		if (p && n) {
			memcpy(s->alpn_buf, p, n);
			s->alpn_buf[n] = 0;
			r = s->alpn_buf;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* The peer certificate (a new reference) once the handshake is done. */
static int peer_cert(struct sslsocket *s, X509 **x, int *validated)
{
	if (core_lock_entry(s) < 0)
		return -1;
	if (s->state != CORE_ST_ESTABLISHED) {
		core_sock_err(s, SSLSOCKET_ERROR_VALUE, ENOTCONN, "no peer certificate before the handshake");
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	*x = SSL_get1_peer_certificate(s->ssl);
	*validated = s->ctx->cert_reqs != SSLSOCKET_CERT_NONE && SSL_get_verify_result(s->ssl) == X509_V_OK;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int sslsocket_getpeercert(sslsocket *s, struct sslsocket_certinfo **out)
{
	if (!s || !out) {
		errno = EINVAL;
		return -1;
	}
	int saved = errno, validated = 0;
	X509 *x = NULL;
	*out = NULL;
	if (peer_cert(s, &x, &validated) < 0)
		return -1;
	if (!x) {
		errno = saved;
		return 0; /* the seed's None */
	}
	struct sslsocket_error err = {0};
	*out = core_certinfo_from_x509(x, validated, &err);
	X509_free(x);
	if (!*out) {
		*core_err_slot(s) = err;
		errno = err.sys_errno ? err.sys_errno : EINVAL;
		return -1;
	}
	errno = saved;
	return 0;
}

int sslsocket_getpeercert_der(sslsocket *s, unsigned char **der, size_t *len)
{
	if (!s || !der || !len) {
		errno = EINVAL;
		return -1;
	}
	int saved = errno, validated = 0;
	X509 *x = NULL;
	*der = NULL;
	*len = 0;
	if (peer_cert(s, &x, &validated) < 0)
		return -1;
	if (!x) {
		errno = saved;
		return 0;
	}
	unsigned char *tmp = NULL;
	int n = i2d_X509(x, &tmp);
	X509_free(x);
	if (n <= 0 || !(*der = malloc((size_t)n))) {
		OPENSSL_free(tmp);
		core_sock_err(s, SSLSOCKET_ERROR_SSL, ENOMEM, "cannot encode the peer certificate");
		ERR_clear_error();
		return -1;
	}
	/* Copied so that the caller's free() is the right deallocator. */
	memcpy(*der, tmp, (size_t)n);
	OPENSSL_free(tmp);
	*len = (size_t)n;
	errno = saved;
	return 0;
}
