/*
 * options.c - wrap_socket's parameters checked the full way (a throwaway
 * context), and what this OpenSSL can really speak; the configuration
 * constructors that use them (core_ossl_checks). The defaults, the protocol
 * names and the checks that need no OpenSSL are options_plain.c, the
 * configuration's reading and quick check sslconfig.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "ossl_int.h"

#include "files_int.h"

const struct core_checks core_ossl_checks = {
	.protocol_supported = sslsocket_protocol_supported,
	.options_check = sslsocket_options_check,
};

sslsocket_config *sslsocket_config_new(const struct sslsocket_options *o,
                                       struct sslsocket_error *err)
{
	return core_config_new(o, &core_ossl_checks, err);
}

int sslsocket_options_prefetch(const struct sslsocket_options *o, struct sslsocket_error *err)
{
	sslsocket_config *c = sslsocket_config_new(o, err);
	if (!c)
		return -1;
	sslsocket_config_free(c);
	return 0;
}

int sslsocket_options_check(const struct sslsocket_options *o, struct sslsocket_error *err)
{
	/* Building a throwaway context loads and cross-checks every file
	 * exactly as wrap time will. */
	struct sslsocket_config *files = core_config_read(o, &core_ossl_checks, err);
	if (!files)
		return -1;
	SSL_CTX *ctx = core_ssl_ctx_build(o, NULL, files, err);
	int e = errno;
	sslsocket_config_free(files);
	if (!ctx) {
		errno = e;
		return -1;
	}
	SSL_CTX_free(ctx);
	return 0;
}

/* ---- what this OpenSSL can speak ------------------------------------------ */

/* OpenSSL's version constant for a pinned protocol; 0 for negotiate; -1 for
 * SSLv2 (gone since OpenSSL 1.1.0) or an unknown value. */
int core_protocol_version(int v)
{
	switch (v) {
	case SSLSOCKET_PROTOCOL_SSLv23: return 0;
	case SSLSOCKET_PROTOCOL_SSLv3: return SSL3_VERSION;
	case SSLSOCKET_PROTOCOL_TLSv1: return TLS1_VERSION;
	case SSLSOCKET_PROTOCOL_TLSv1_1: return TLS1_1_VERSION;
	case SSLSOCKET_PROTOCOL_TLSv1_2: return TLS1_2_VERSION;
	case SSLSOCKET_PROTOCOL_TLSv1_3: return TLS1_3_VERSION;
	default: return -1;
	}
}

/* A throwaway P-256 certificate for the probe handshakes below. */
static int probe_identity(EVP_PKEY **pkey, X509 **cert)
{
	*pkey = EVP_EC_gen("P-256");
	*cert = X509_new();
	if (!*pkey || !*cert)
		return -1;
	X509_set_version(*cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(*cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(*cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(*cert), 3600);
	X509_NAME *name = X509_get_subject_name(*cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"probe", -1, -1, 0);
	X509_set_issuer_name(*cert, name);
	X509_set_pubkey(*cert, *pkey);
	return X509_sign(*cert, *pkey, EVP_sha256()) > 0 ? 0 : -1;
}

/*
 * Whether version ver can really be spoken: a client and a server pinned to
 * it at the default security level handshake over a memory BIO pair. A
 * cipher-list check is not enough: OpenSSL 3 lists TLS 1.0 ciphers at
 * security level 2 but refuses the handshake (no SHA-1 signatures), so only
 * a handshake tells the truth. Returns 0, or -1 with OpenSSL's reason in
 * why.
 */
static int probe_version(int ver, char *why, size_t whylen)
{
	int ok = -1;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	SSL_CTX *cc = NULL, *sc = NULL;
	SSL *c = NULL, *s = NULL;
	BIO *b1 = NULL, *b2 = NULL;
	unsigned long e = 0;

	snprintf(why, whylen, "cannot set up the probe");
	ERR_clear_error();
	if (probe_identity(&pkey, &cert) < 0)
		goto out;
	cc = SSL_CTX_new(TLS_client_method());
	sc = SSL_CTX_new(TLS_server_method());
	if (!cc || !sc)
		goto out;
	if (!SSL_CTX_set_min_proto_version(cc, ver) || !SSL_CTX_set_max_proto_version(cc, ver) ||
	    !SSL_CTX_set_min_proto_version(sc, ver) || !SSL_CTX_set_max_proto_version(sc, ver)) {
		snprintf(why, whylen, "not built into this OpenSSL");
		goto out;
	}
	if (!SSL_CTX_use_certificate(sc, cert) || !SSL_CTX_use_PrivateKey(sc, pkey))
		goto out;
	c = SSL_new(cc);
	s = SSL_new(sc);
	if (!c || !s || !BIO_new_bio_pair(&b1, 0, &b2, 0))
		goto out;
	SSL_set_bio(c, b1, b1);
	SSL_set_bio(s, b2, b2);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (int i = 0; i < 20; i++) {
		int rc = SSL_do_handshake(c);
		int rs = SSL_do_handshake(s);
		if (rc == 1 && rs == 1) {
			ok = 0;
			break;
		}
		int ec = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(c, rc);
		int es = rs == 1 ? SSL_ERROR_NONE : SSL_get_error(s, rs);
		if ((ec != SSL_ERROR_NONE && ec != SSL_ERROR_WANT_READ && ec != SSL_ERROR_WANT_WRITE) ||
		    (es != SSL_ERROR_NONE && es != SSL_ERROR_WANT_READ && es != SSL_ERROR_WANT_WRITE)) {
			e = ERR_peek_error();
			break;
		}
	}
	if (ok < 0)
		snprintf(why, whylen, "%s", e ? core_ossl_reason(e) : "handshake did not complete");
out:
	ERR_clear_error();
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cc);
	SSL_CTX_free(sc);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	return ok;
}

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static int probe_done[8];
static int probe_ok[8];
static char probe_why[8][160];

int sslsocket_protocol_supported(enum sslsocket_protocol v, struct sslsocket_error *err)
{
	int r = core_protocol_supported_plain(v, err);
	if (r != CORE_ASK_OSSL)
		return r;
	const char *name = sslsocket_protocol_name(v);
	int idx = (int)v;
	int saved = errno;
	pthread_mutex_lock(&probe_lock);
	if (!probe_done[idx]) {
		probe_ok[idx] = probe_version(core_protocol_version(v), probe_why[idx],
		                              sizeof probe_why[idx]) == 0;
		probe_done[idx] = 1;
	}
	int ok = probe_ok[idx];
	char why[160];
	memcpy(why, probe_why[idx], sizeof why);
	pthread_mutex_unlock(&probe_lock);
	if (ok) {
		errno = saved;
		return 0;
	}
	/* The security level is what usually forbids TLS 1.0 and 1.1; name it. */
	SSL_CTX *probe = SSL_CTX_new(TLS_method());
	int level = probe ? SSL_CTX_get_security_level(probe) : -1;
	SSL_CTX_free(probe);
	core_err_set(err, SSLSOCKET_ERROR_VALUE, EPROTONOSUPPORT,
	             "%s cannot be spoken by this OpenSSL (%s) at security level %d: %s", name,
	             OpenSSL_version(OPENSSL_VERSION), level, why);
	core_err_option(err, SSLSOCKET_OPT_SSL_VERSION, NULL);
	return -1;
}

/* ---- what a cipher string admits ------------------------------------------ */

/* Appends to buf (a string in len bytes), cutting what does not fit. */
static void buf_add(char *buf, size_t len, const char *fmt, ...) CORE_PRINTF(3, 4);
static void buf_add(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	if (n + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* "N suites WHAT (A, B, C, ...)" */
static void weak_list(char *buf, size_t len, const char *what, const char *const *names, int count)
{
	buf_add(buf, len, "%d suite%s %s (", count, count == 1 ? "" : "s", what);
	for (int i = 0; i < count && i < 3; i++)
		buf_add(buf, len, "%s%s", i ? ", " : "", names[i]);
	buf_add(buf, len, "%s)", count > 3 ? ", ..." : "");
}

/* What the suites that ciphers admits with version v lack, appended to
 * buf: 1 when something, 0 when nothing, -1 when it cannot be judged. */
static int ciphers_weakness(const char *ciphers, enum sslsocket_protocol v, char *buf, size_t len)
{
	size_t start = strlen(buf);
	int ver = core_protocol_version(v);
	if (ver < 0)
		return -1;
	if (ver == TLS1_3_VERSION)
		return 0; /* the string is for TLS 1.2 and older: unused */
	int minv = ver ? ver : CORE_MIN_NEGOTIATED, maxv = ver ? ver : TLS1_3_VERSION;
	int ret = -1;
	SSL *ssl = NULL;
	STACK_OF(SSL_CIPHER) *sk = NULL;
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());
	if (!ctx)
		goto out;
	int level0 = SSL_CTX_get_security_level(ctx);
	if (!SSL_CTX_set_min_proto_version(ctx, minv) || !SSL_CTX_set_max_proto_version(ctx, maxv) ||
	    SSL_CTX_set_cipher_list(ctx, ciphers) != 1 || !(ssl = SSL_new(ctx)))
		goto out;
	SSL_set_connect_state(ssl);
	/* What a handshake could pick: the version range and security level
	 * applied, suites needing a PSK or SRP left out. */
	sk = SSL_get1_supported_ciphers(ssl);
	const char *nofs[3], *noaead[3];
	int n_nofs = 0, n_noaead = 0;
	for (int i = 0; sk && i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		int kx = SSL_CIPHER_get_kx_nid(c);
		if (kx == NID_kx_any)
			continue; /* TLS 1.3's: all ephemeral and AEAD */
		if (kx != NID_kx_ecdhe && kx != NID_kx_dhe && kx != NID_kx_ecdhe_psk && kx != NID_kx_dhe_psk) {
			if (n_nofs < 3)
				nofs[n_nofs] = SSL_CIPHER_get_name(c);
			n_nofs++;
		}
		if (!SSL_CIPHER_is_aead(c)) {
			if (n_noaead < 3)
				noaead[n_noaead] = SSL_CIPHER_get_name(c);
			n_noaead++;
		}
	}
	int level = SSL_CTX_get_security_level(ctx);
	if (n_nofs || n_noaead)
		buf_add(buf, len, "%sciphers admit ", start ? "; " : "");
	if (n_nofs)
		weak_list(buf, len, "without forward secrecy", nofs, n_nofs);
	if (n_noaead) {
		buf_add(buf, len, "%s", n_nofs ? " and " : "");
		weak_list(buf, len, "without AEAD (CBC)", noaead, n_noaead);
	}
	if (level < level0)
		buf_add(buf, len, "%sciphers lower OpenSSL's security level from %d to %d",
		        buf[0] ? "; " : "", level0, level);
	ret = strlen(buf) > start;
out:
	ERR_clear_error();
	sk_SSL_CIPHER_free(sk);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return ret;
}

int sslsocket_options_weakness(const struct sslsocket_options *o, char *buf, size_t len)
{
	int r = core_options_weakness_plain(o, buf, len);
	if (r != CORE_ASK_OSSL)
		return r;
	int ver = core_protocol_version(o->ssl_version);
	if (ver < 0)
		return -1;
	if (ver && ver < TLS1_2_VERSION)
		buf_add(buf, len, "ssl_version %s is older than TLS 1.2",
		        sslsocket_protocol_name(o->ssl_version));
	if (o->ciphers && ciphers_weakness(o->ciphers, o->ssl_version, buf, len) < 0) {
		buf[0] = '\0';
		return -1;
	}
	return buf[0] != '\0';
}
