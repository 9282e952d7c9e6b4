/*
 * options_plain.c - wrap_socket's parameters without OpenSSL: the seed's
 * defaults, the protocol names, and the checks that need no files. Linked
 * into the launcher too, which loads OpenSSL only when it must: what needs
 * OpenSSL is asked through the caller's struct core_checks.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "identity_int.h"

void sslsocket_options_init(struct sslsocket_options *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof *o);
	o->cert_reqs = SSLSOCKET_CERT_NONE;
	o->ssl_version = SSLSOCKET_PROTOCOL_SSLv23;
	o->do_handshake_on_connect = 1;
	o->suppress_ragged_eofs = 1;
	o->session_cache = 1;
}

int core_options_check_cheap(const struct sslsocket_options *o, const struct core_checks *chk,
                             struct sslsocket_error *err)
{
	if (!o) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "no options given");
		return -1;
	}
	if (o->cert_reqs != SSLSOCKET_CERT_NONE && o->cert_reqs != SSLSOCKET_CERT_OPTIONAL &&
	    o->cert_reqs != SSLSOCKET_CERT_REQUIRED) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "invalid cert_reqs %d", (int)o->cert_reqs);
		core_err_option(err, SSLSOCKET_OPT_CERT_REQS, NULL);
		return -1;
	}
	if (chk->protocol_supported(o->ssl_version, err) < 0)
		return -1;
	if (o->cert_reqs != SSLSOCKET_CERT_NONE && !o->ca_certs && !o->ca_certs_default) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL,
		             "cert_reqs other than CERT_NONE requires ca_certs (a file of CA certificates)");
		core_err_option(err, SSLSOCKET_OPT_CERT_REQS, NULL);
		return -1;
	}
	if (o->keyfile && !o->certfile) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "keyfile given without certfile");
		core_err_option(err, SSLSOCKET_OPT_KEYFILE, o->keyfile);
		return -1;
	}
	if (o->server_side && !o->certfile) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL,
		             "certfile must be specified for server-side operations");
		core_err_option(err, SSLSOCKET_OPT_CERTFILE, NULL);
		return -1;
	}
	if (o->alpn_count && !o->alpn) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "alpn_count without alpn");
		core_err_option(err, SSLSOCKET_OPT_ALPN, NULL);
		return -1;
	}
	for (size_t i = 0; i < o->alpn_count; i++) {
		size_t n = o->alpn[i] ? strlen(o->alpn[i]) : 0;
		if (n == 0 || n > 255) {
			core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL,
			             "ALPN protocol %zu must be 1 to 255 bytes long", i);
			core_err_option(err, SSLSOCKET_OPT_ALPN, NULL);
			return -1;
		}
	}
	if (o->handshake_timeout_ms < 0) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "handshake_timeout_ms must be >= 0");
		core_err_option(err, SSLSOCKET_OPT_HANDSHAKE_TIMEOUT, NULL);
		return -1;
	}
	return core_identity_options_check(o, err);
}

/* ---- protocol names ------------------------------------------------------ */

static const struct {
	enum sslsocket_protocol v;
	const char *name;
} proto_names[] = {
	{SSLSOCKET_PROTOCOL_SSLv2, "PROTOCOL_SSLv2"},
	{SSLSOCKET_PROTOCOL_SSLv3, "PROTOCOL_SSLv3"},
	{SSLSOCKET_PROTOCOL_SSLv23, "PROTOCOL_SSLv23"},
	{SSLSOCKET_PROTOCOL_TLSv1, "PROTOCOL_TLSv1"},
	{SSLSOCKET_PROTOCOL_TLSv1_1, "PROTOCOL_TLSv1_1"},
	{SSLSOCKET_PROTOCOL_TLSv1_2, "PROTOCOL_TLSv1_2"},
	{SSLSOCKET_PROTOCOL_TLSv1_3, "PROTOCOL_TLSv1_3"},
};

const char *sslsocket_protocol_name(enum sslsocket_protocol v)
{
	for (size_t i = 0; i < sizeof proto_names / sizeof proto_names[0]; i++)
		if (proto_names[i].v == v)
			return proto_names[i].name;
	return NULL;
}

/* ---- what needs no OpenSSL to answer -------------------------------------- */

int core_protocol_supported_plain(enum sslsocket_protocol v, struct sslsocket_error *err)
{
	const char *name = sslsocket_protocol_name(v);
	if (!name) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "unknown protocol %d", (int)v);
		core_err_option(err, SSLSOCKET_OPT_SSL_VERSION, NULL);
		return -1;
	}
	if (v == SSLSOCKET_PROTOCOL_SSLv23)
		return 0; /* negotiation is always possible */
	if (v == SSLSOCKET_PROTOCOL_SSLv2) {
		core_err_set(err, SSLSOCKET_ERROR_VALUE, EPROTONOSUPPORT,
		             "PROTOCOL_SSLv2 cannot be spoken: OpenSSL removed SSLv2 in 1.1.0");
		core_err_option(err, SSLSOCKET_OPT_SSL_VERSION, NULL);
		return -1;
	}
	return CORE_ASK_OSSL;
}

int core_options_weakness_plain(const struct sslsocket_options *o, char *buf, size_t len)
{
	if (!o || !buf || len == 0)
		return -1;
	buf[0] = '\0';
	/* Negotiation with the default suites is the default: nothing to judge. */
	if (o->ssl_version == SSLSOCKET_PROTOCOL_SSLv23 && !o->ciphers)
		return 0;
	return CORE_ASK_OSSL;
}

int sslsocket_protocol_from_name(const char *name, enum sslsocket_protocol *out)
{
	if (!name || !out) {
		errno = EINVAL;
		return -1;
	}
	const char *n = name;
	if (strncasecmp(n, "PROTOCOL_", 9) == 0)
		n += 9;
	if (strcasecmp(n, "TLS") == 0) {
		*out = SSLSOCKET_PROTOCOL_TLS;
		return 0;
	}
	for (size_t i = 0; i < sizeof proto_names / sizeof proto_names[0]; i++) {
		if (strcasecmp(n, proto_names[i].name + 9) == 0) {
			*out = proto_names[i].v;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

