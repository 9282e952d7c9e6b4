/*
 * error.c - the one place where failures become struct sslsocket_error:
 * the seed's code, errno, OpenSSL's packed error and one line of text; and
 * where SSL_get_error's answers become the seed's codes (ragged EOF,
 * close_notify, want-read/want-write, sticky failures).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ossl_int.h"

#include "sslsocket_int.h"

const char *core_ossl_reason(unsigned long l)
{
	if (!l)
		return "";
	const char *r = ERR_reason_error_string(l);
	return r ? r : "unknown OpenSSL error";
}

void core_err_ossl(struct sslsocket_error *e, int code, int sys_errno, const char *fmt, ...)
{
	int saved = errno;
	/* The oldest error is the root cause; later ones are "called from". */
	unsigned long l = ERR_peek_error();
	va_list ap;
	va_start(ap, fmt);
	core_err_vset(e, code, sys_errno, l, core_ossl_reason(l), fmt, ap);
	va_end(ap);
	ERR_clear_error();
	errno = sys_errno ? sys_errno : saved;
}

/* Per thread, the errors of its last calls on the last few sockets it
 * used (by id; the oldest slot is reused). */
#define ERR_SLOTS 4
static __thread struct {
	unsigned long id;
	struct sslsocket_error err;
} err_slot[ERR_SLOTS];
static __thread unsigned err_next;
static __thread int cur_op;

struct sslsocket_error *core_err_slot(const struct sslsocket *s)
{
	for (unsigned i = 0; i < ERR_SLOTS; i++)
		if (err_slot[i].id == s->id)
			return &err_slot[i].err;
	unsigned i = err_next++ % ERR_SLOTS;
	err_slot[i].id = s->id;
	memset(&err_slot[i].err, 0, sizeof err_slot[i].err);
	return &err_slot[i].err;
}

void core_set_op(int phase)
{
	cur_op = phase;
}

static int phase_of(const struct sslsocket *s)
{
	switch (s->state) {
	case CORE_ST_UNCONNECTED:
	case CORE_ST_CONNECTING:
		return cur_op == SSLSOCKET_PHASE_ACCEPT ? SSLSOCKET_PHASE_ACCEPT : SSLSOCKET_PHASE_CONNECT;
	case CORE_ST_LISTENING:
		return SSLSOCKET_PHASE_ACCEPT;
	case CORE_ST_HANDSHAKE:
		return SSLSOCKET_PHASE_HANDSHAKE;
	default:
		return cur_op ? cur_op : SSLSOCKET_PHASE_READ;
	}
}

void core_sock_err(struct sslsocket *s, int code, int sys_errno, const char *fmt, ...)
{
	int saved = errno;
	struct sslsocket_error *e = core_err_slot(s);
	va_list ap;
	va_start(ap, fmt);
	e->code = code;
	e->sys_errno = sys_errno;
	e->ossl_error = 0;
	e->option = SSLSOCKET_OPT_NONE;
	e->file[0] = '\0';
	e->phase = phase_of(s);
	e->cause = sys_errno == ETIMEDOUT && s->state == CORE_ST_HANDSHAKE ? SSLSOCKET_CAUSE_TIMEOUT
	                                                                  : SSLSOCKET_CAUSE_NONE;
	vsnprintf(e->reason, sizeof e->reason, fmt, ap);
	va_end(ap);
	errno = sys_errno ? sys_errno : saved;
}

void core_sock_fail(struct sslsocket *s)
{
	struct sslsocket_error *e = core_err_slot(s);
	if (s->state != CORE_ST_FAILED) {
		s->state = CORE_ST_FAILED;
		s->fail_err = *e;
	}
	*e = s->fail_err;
	errno = s->fail_err.sys_errno ? s->fail_err.sys_errno : EPROTO;
}

void core_mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

int core_lock_entry(struct sslsocket *s)
{
	int r = pthread_mutex_lock(&s->lock);
	if (r != 0) {
		errno = r == EDEADLK ? EDEADLK : r;
		return -1;
	}
	return 0;
}

/* What OpenSSL's error l and the verification result vr mean to an
 * operator (enum sslsocket_cause). */
static int ssl_cause(unsigned long l, long vr, int identity)
{
	if (identity || vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH ||
	    vr == X509_V_ERR_EMAIL_MISMATCH)
		return SSLSOCKET_CAUSE_IDENTITY;
	if (ERR_GET_LIB(l) != ERR_LIB_SSL)
		return vr != X509_V_OK ? SSLSOCKET_CAUSE_VERIFY : SSLSOCKET_CAUSE_PROTOCOL;
	switch (ERR_GET_REASON(l)) {
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		return SSLSOCKET_CAUSE_VERIFY;
	case SSL_R_WRONG_VERSION_NUMBER: /* a record header that is not TLS */
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
		return SSLSOCKET_CAUSE_PLAINTEXT;
	default:
		return vr != X509_V_OK ? SSLSOCKET_CAUSE_VERIFY : SSLSOCKET_CAUSE_PROTOCOL;
	}
}

/* The reason of a TLS failure: OpenSSL's text, with the verification
 * result spelled out when that is what failed. */
static void ssl_failure(struct sslsocket *s, const char *what)
{
	unsigned long l = ERR_peek_error();
	const char *r = core_ossl_reason(l);
	long vr = s->ssl ? SSL_get_verify_result(s->ssl) : X509_V_OK;
	if (ERR_GET_LIB(l) == ERR_LIB_SSL && ERR_GET_REASON(l) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
	    vr == X509_V_ERR_APPLICATION_VERIFICATION && s->identity_why[0])
		core_sock_err(s, SSLSOCKET_ERROR_SSL, EPROTO, "%s: %s", r, s->identity_why);
	else if (ERR_GET_LIB(l) == ERR_LIB_SSL && ERR_GET_REASON(l) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
	    vr != X509_V_OK)
		core_sock_err(s, SSLSOCKET_ERROR_SSL, EPROTO, "%s: %s", r, X509_verify_cert_error_string(vr));
	else if (*r)
		core_sock_err(s, SSLSOCKET_ERROR_SSL, EPROTO, "%s", r);
	else
		core_sock_err(s, SSLSOCKET_ERROR_SSL, EPROTO, "TLS failure in %s", what);
	struct sslsocket_error *e = core_err_slot(s);
	e->ossl_error = l;
	e->cause = ssl_cause(l, vr, vr == X509_V_ERR_APPLICATION_VERIFICATION && s->identity_why[0]);
	if (s->state == CORE_ST_HANDSHAKE &&
	    (vr != X509_V_OK ||
	     (ERR_GET_LIB(l) == ERR_LIB_SSL && ERR_GET_REASON(l) == SSL_R_CERTIFICATE_VERIFY_FAILED)))
		e->phase = SSLSOCKET_PHASE_VERIFY;
	ERR_clear_error();
}

enum core_io_result core_ssl_result(struct sslsocket *s, int ret, const char *what)
{
	int e = SSL_get_error(s->ssl, ret);
	int in_handshake = s->state != CORE_ST_ESTABLISHED;
	switch (e) {
	case SSL_ERROR_NONE:
		return CORE_IO_OK;
	case SSL_ERROR_WANT_READ:
		core_sock_err(s, SSLSOCKET_ERROR_WANT_READ, EAGAIN,
		              "The operation did not complete (read)");
		return CORE_IO_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		core_sock_err(s, SSLSOCKET_ERROR_WANT_WRITE, EAGAIN,
		              "The operation did not complete (write)");
		return CORE_IO_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		s->got_close_notify = 1;
		ERR_clear_error();
		return CORE_IO_CLOSED;
	case SSL_ERROR_SSL:
		if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
			goto ragged;
		ssl_failure(s, what);
		core_sock_fail(s);
		return CORE_IO_ERROR;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && s->bio_errno == 0)
			goto ragged;
		if (ERR_peek_error() != 0) {
			ssl_failure(s, what);
		} else {
			int se = s->bio_errno;
			core_sock_err(s, SSLSOCKET_ERROR_SYSCALL, in_handshake ? EPROTO : se, "%s: %s",
			              what, CORE_STRERROR(se));
		}
		ERR_clear_error();
		core_sock_fail(s);
		return CORE_IO_ERROR;
	default:
		ERR_clear_error();
		core_sock_err(s, SSLSOCKET_ERROR_INVALID_ERROR_CODE, EPROTO,
		              "unexpected SSL_get_error %d in %s", e, what);
		core_sock_fail(s);
		return CORE_IO_ERROR;
	}
ragged:
	ERR_clear_error();
	if (in_handshake) {
		/* The seed's "EOF occurred in violation of protocol"; during the
		 * handshake it is a handshake failure, so fail closed. */
		core_sock_err(s, SSLSOCKET_ERROR_EOF, EPROTO,
		              "EOF occurred in violation of protocol (during %s)", what);
		core_sock_fail(s);
		return CORE_IO_ERROR;
	}
	s->ragged_eof = 1;
	if (s->suppress_ragged_eofs)
		return CORE_IO_CLOSED;
	core_sock_err(s, SSLSOCKET_ERROR_EOF, ECONNRESET, "EOF occurred in violation of protocol");
	return CORE_IO_ERROR;
}
