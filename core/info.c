/*
 * info.c - what a connection knows about itself: cipher, verification
 * result, peer certificate, ALPN, resumption, errors and accessors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

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

int sslsocket_handshake_done(const sslsocket *s)
{
	if (!s)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&((struct sslsocket *)(uintptr_t)s)->lock);
	int r = s->state == CORE_ST_ESTABLISHED;
	pthread_mutex_unlock((pthread_mutex_t *)&((struct sslsocket *)(uintptr_t)s)->lock);
	return r;
}

int sslsocket_failed(const sslsocket *s)
{
	if (!s)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&((struct sslsocket *)(uintptr_t)s)->lock);
	int r = s->state == CORE_ST_FAILED;
	pthread_mutex_unlock((pthread_mutex_t *)&((struct sslsocket *)(uintptr_t)s)->lock);
	return r;
}

const struct sslsocket_error *sslsocket_last_error(const sslsocket *s)
{
	static const struct sslsocket_error none = {.reason = "no socket"};
	return s ? &s->err : &none;
}

const char *sslsocket_error(const sslsocket *s)
{
	if (!s)
		return "no socket";
	return s->err.reason[0] ? s->err.reason : "no error";
}

int sslsocket_cipher(sslsocket *s, const char **name, const char **version, int *secret_bits)
{
	if (!s)
		return -1;
	pthread_mutex_lock(&s->lock);
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
	pthread_mutex_lock(&s->lock);
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
	pthread_mutex_lock(&s->lock);
	int r = s->ssl && s->state == CORE_ST_ESTABLISHED && SSL_session_reused(s->ssl);
	pthread_mutex_unlock(&s->lock);
	return r;
}

const char *sslsocket_alpn_selected(sslsocket *s)
{
	if (!s)
		return NULL;
	const char *r = NULL;
	pthread_mutex_lock(&s->lock);
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
	pthread_mutex_lock(&s->lock);
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
		s->err = err;
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
