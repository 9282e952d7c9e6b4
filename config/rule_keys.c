/*
 * rule_keys.c - one key of a rule or of `defaults`: its type, its value, and
 * for file names, that the file is there; then the core's own check of a
 * rule's final options, with the blame put on the line that caused it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load_int.h"

static const char *const key_names[LD_KEY_COUNT] = {
	[LD_MATCH] = "match",
	[LD_KEYFILE] = "keyfile",
	[LD_CERTFILE] = "certfile",
	[LD_CERT_REQS] = "cert_reqs",
	[LD_SSL_VERSION] = "ssl_version",
	[LD_CA_CERTS] = "ca_certs",
	[LD_DO_HANDSHAKE_ON_CONNECT] = "do_handshake_on_connect",
	[LD_SUPPRESS_RAGGED_EOFS] = "suppress_ragged_eofs",
	[LD_SERVER_HOSTNAME] = "server_hostname",
	[LD_CIPHERS] = "ciphers",
	[LD_ALPN] = "alpn",
	[LD_PASSTHROUGH] = "passthrough",
	[LD_HANDSHAKE_TIMEOUT] = "handshake_timeout",
	[LD_RELEASE_BUFFERS] = "release_buffers",
	[LD_SESSION_CACHE] = "session_cache",
	[LD_ALLOW_NAMES] = "allow_names",
	[LD_PIN_SHA256] = "pin_sha256",
	[LD_ALLOW_PLAINTEXT] = "allow_plaintext",
	[LD_SNIFF_TIMEOUT_MS] = "sniff_timeout_ms",
	[LD_CRL_FILE] = "crl_file",
};

/* Per-rule by nature: a default match, SNI name or passthrough would make
 * every rule the same rule. */
#define RULE_ONLY (LD_BIT(LD_MATCH) | LD_BIT(LD_PASSTHROUGH) | LD_BIT(LD_SERVER_HOSTNAME) | \
                   LD_BIT(LD_ALLOW_PLAINTEXT) | LD_BIT(LD_SNIFF_TIMEOUT_MS))

#define RULE_KEYS_TEXT                                                                 \
	"match, keyfile, certfile, cert_reqs, ssl_version, ca_certs, "                 \
	"do_handshake_on_connect, suppress_ragged_eofs, server_hostname, ciphers, "   \
	"alpn, passthrough, handshake_timeout, release_buffers, session_cache, "       \
	"allow_names, pin_sha256, allow_plaintext, sniff_timeout_ms or crl_file"
#define DEFAULT_KEYS_TEXT                                                              \
	"keyfile, certfile, cert_reqs, ssl_version, ca_certs, "                        \
	"do_handshake_on_connect, suppress_ragged_eofs, ciphers, alpn, "               \
	"handshake_timeout, release_buffers, session_cache, allow_names, pin_sha256 "  \
	"or crl_file"

/* The longest sniff_timeout_ms: a client that has said nothing for a
 * minute is not about to send a ClientHello. */
#define MAX_SNIFF_MS 60000

/* The longest handshake_timeout: a day, well inside an int of ms. */
#define MAX_TIMEOUT_S 86400.0

const char *ld_key_name(int key)
{
	return key >= 0 && key < LD_KEY_COUNT ? key_names[key] : "?";
}

/* The core's option for each key that has one (struct sslsocket_error
 * names it, struct cfg_error passes it on). */
static const int key_options[LD_KEY_COUNT] = {
	[LD_KEYFILE] = SSLSOCKET_OPT_KEYFILE,
	[LD_CERTFILE] = SSLSOCKET_OPT_CERTFILE,
	[LD_CA_CERTS] = SSLSOCKET_OPT_CA_CERTS,
	[LD_CRL_FILE] = SSLSOCKET_OPT_CRL_FILE,
	[LD_CERT_REQS] = SSLSOCKET_OPT_CERT_REQS,
	[LD_SSL_VERSION] = SSLSOCKET_OPT_SSL_VERSION,
	[LD_CIPHERS] = SSLSOCKET_OPT_CIPHERS,
	[LD_ALPN] = SSLSOCKET_OPT_ALPN,
	[LD_ALLOW_NAMES] = SSLSOCKET_OPT_ALLOW_NAMES,
	[LD_PIN_SHA256] = SSLSOCKET_OPT_PIN_SHA256,
	[LD_HANDSHAKE_TIMEOUT] = SSLSOCKET_OPT_HANDSHAKE_TIMEOUT,
};

int ld_option_of_key(int key)
{
	return key >= 0 && key < LD_KEY_COUNT ? key_options[key] : SSLSOCKET_OPT_NONE;
}

/* The file a key names in o, NULL when it names none. */
static const char *key_file(const struct sslsocket_options *o, int key)
{
	switch (key) {
	case LD_KEYFILE: return o->keyfile;
	case LD_CERTFILE: return o->certfile;
	case LD_CA_CERTS: return o->ca_certs;
	case LD_CRL_FILE: return o->crl_file;
	default: return NULL;
	}
}

int ld_fail_key(struct loader *L, const struct ld_optset *os, int k, const char *fmt, ...)
{
	const struct ld_origin *at = &os->at[k];
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	cfg_error_at(L->err, at->file ? at->source : CFG_ERR_NOWHERE,
	             at->file ? at->file : "(built-in)", at->line, "%s", what);
	cfg_error_option(L->err, ld_option_of_key(k), key_file(&os->o, k));
	return -1;
}

/* ---- values ---------------------------------------------------------------- */

static char *pool_dup(struct loader *L, const char *s)
{
	char *d = cfg_pool_strdup(&L->ri->pool, s);
	if (!d)
		cfg_errorf(L->err, "out of memory");
	return d;
}

/*
 * A file name made absolute against the directory of the file that names
 * it (the current directory for TLSSHIM_CONFIG_STRING): contexts are built
 * lazily, at the first connect, after the program may have changed
 * directory. The file must be a readable regular file now: a FIFO or a
 * device would be read once, or forever, at every context build.
 */
static const char *file_value(struct loader *L, const struct source *src,
                              const config_setting_t *s, int k, const char *v)
{
	char e[128], q[CFG_QUOTE_BUF];
	char *joined = NULL;
	const char *path = v, *key = key_names[k];

	if (!*v) {
		ld_fail(L, src, s, "%s: empty file name", key);
		return NULL;
	}
	if (v[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		if (!cwd) {
			ld_fail(L, src, s, "%s: cannot find the current directory for \"%s\": %s", key,
			        cfg_quote(q, v), strerror_r(errno, e, sizeof e));
			return NULL;
		}
		const char *f = ld_from_file(src, s) ? ld_file_of(L, src, s) : NULL;
		const char *slash = f ? strrchr(f, '/') : NULL;
		int n;
		if (!slash) /* the string, or a file in the current directory */
			n = asprintf(&joined, "%s/%s", cwd, v);
		else if (f[0] == '/')
			n = asprintf(&joined, "%.*s/%s", (int)(slash - f), f, v);
		else
			n = asprintf(&joined, "%s/%.*s/%s", cwd, (int)(slash - f), f, v);
		free(cwd);
		if (n < 0) {
			cfg_errorf(L->err, "out of memory");
			return NULL;
		}
		path = joined;
	}
	struct stat st;
	const char *out = NULL;
	for (size_t i = 0; i < L->n_files_ok; i++) {
		if (strcmp(L->files_ok[i], path) == 0) {
			free(joined);
			return L->files_ok[i];
		}
	}
	if (stat(path, &st) < 0 || (S_ISREG(st.st_mode) && access(path, R_OK) < 0)) {
		ld_fail(L, src, s, "%s: cannot open \"%s\": %s", key, cfg_quote(q, path),
		        strerror_r(errno, e, sizeof e));
		cfg_error_option(L->err, ld_option_of_key(k), path);
	} else if (!S_ISREG(st.st_mode)) {
		ld_fail(L, src, s, "%s: \"%s\" is not a regular file", key, cfg_quote(q, path));
		cfg_error_option(L->err, ld_option_of_key(k), path);
	} else if ((out = pool_dup(L, path)) != NULL) {
		if (L->n_files_ok == L->cap_files_ok) {
			size_t cap = L->cap_files_ok ? 2 * L->cap_files_ok : 8;
			const char **n = realloc(L->files_ok, cap * sizeof *n);
			if (n != NULL) { /* else: looked at again next time */
				L->files_ok = n;
				L->cap_files_ok = cap;
			}
		}
		if (L->n_files_ok < L->cap_files_ok)
			L->files_ok[L->n_files_ok++] = out;
	}
	free(joined);
	return out;
}

static int cert_reqs_value(const char *v, enum sslsocket_cert_reqs *out)
{
	static const struct { const char *name; enum sslsocket_cert_reqs v; } t[] = {
		{ "CERT_NONE", SSLSOCKET_CERT_NONE },
		{ "CERT_OPTIONAL", SSLSOCKET_CERT_OPTIONAL },
		{ "CERT_REQUIRED", SSLSOCKET_CERT_REQUIRED },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (strcmp(v, t[i].name) == 0) {
			*out = t[i].v;
			return 0;
		}
	}
	return -1;
}

/* The seed's names, and the same without "PROTOCOL_" (the launcher's
 * --ssl-version TLSv1_2). Case matters, as in Python. */
static int ssl_version_value(const char *v, enum sslsocket_protocol *out)
{
	static const struct { const char *name; enum sslsocket_protocol v; } t[] = {
		{ "SSLv23", SSLSOCKET_PROTOCOL_SSLv23 },   { "TLS", SSLSOCKET_PROTOCOL_SSLv23 },
		{ "TLSv1", SSLSOCKET_PROTOCOL_TLSv1 },     { "TLSv1_1", SSLSOCKET_PROTOCOL_TLSv1_1 },
		{ "TLSv1_2", SSLSOCKET_PROTOCOL_TLSv1_2 }, { "TLSv1_3", SSLSOCKET_PROTOCOL_TLSv1_3 },
		{ "SSLv3", SSLSOCKET_PROTOCOL_SSLv3 },     { "SSLv2", SSLSOCKET_PROTOCOL_SSLv2 },
	};
	const char *n = strncmp(v, "PROTOCOL_", 9) == 0 ? v + 9 : v;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (strcmp(n, t[i].name) == 0) {
			*out = t[i].v;
			return 0;
		}
	}
	return -1;
}

static int alpn_value(struct loader *L, const struct source *src, const config_setting_t *s,
                      struct ld_optset *os)
{
	char q[CFG_QUOTE_BUF];
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY)
		return ld_fail(L, src, s, "alpn: expected a list of strings such as "
		               "[\"h2\", \"http/1.1\"], got %s", ld_type_name(s));
	int n = config_setting_length(s);
	if (n == 0)
		return ld_fail(L, src, s, "alpn: empty list (leave alpn out to offer none)");
	const char **list = cfg_pool_alloc(&L->ri->pool, (size_t)n * sizeof *list);
	if (!list) {
		cfg_errorf(L->err, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return ld_fail(L, src, s, "alpn: element %d is %s, expected a string", i + 1,
			               ld_type_name(e));
		const char *v = config_setting_get_string(e);
		size_t len = strlen(v);
		if (len == 0 || len > 255)
			return ld_fail(L, src, s, "alpn: \"%s\" must be 1 to 255 bytes long",
			               cfg_quote(q, v));
		if (!(list[i] = pool_dup(L, v)))
			return -1;
	}
	os->o.alpn = list;
	os->o.alpn_count = (size_t)n;
	return 0;
}

/* allow_names and pin_sha256: a non-empty list of strings, each checked
 * by the core's own parser; a bad entry is blamed on its own line. */
static int identity_list_value(struct loader *L, const struct source *src,
                               const config_setting_t *s, int key, struct ld_optset *os)
{
	char q[CFG_QUOTE_BUF];
	const char *name = key_names[key];
	const char *example = key == LD_ALLOW_NAMES ? "[\"spiffe://example.org/web\", \"*.example.com\"]"
	                                            : "[\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"]";
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY)
		return ld_fail(L, src, s, "%s: expected a list of strings such as %s, got %s", name,
		               example, ld_type_name(s));
	int n = config_setting_length(s);
	if (n == 0)
		return ld_fail(L, src, s, "%s: empty list (it would accept no peer)", name);
	const char **list = cfg_pool_alloc(&L->ri->pool, (size_t)n * sizeof *list);
	if (!list) {
		cfg_errorf(L->err, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return ld_fail(L, src, s, "%s: element %d is %s, expected a string", name, i + 1,
			               ld_type_name(e));
		const char *v = config_setting_get_string(e);
		struct sslsocket_error why;
		memset(&why, 0, sizeof why);
		int bad = key == LD_ALLOW_NAMES ? sslsocket_allow_name_parse(v, &why)
		                                : sslsocket_pin_sha256_parse(v, NULL, &why);
		if (bad < 0)
			return ld_fail(L, src, ld_line_of(e) > 0 ? e : s, "%s: \"%s\": %s", name,
			               cfg_quote(q, v), why.reason);
		if (!(list[i] = pool_dup(L, v)))
			return -1;
	}
	if (key == LD_ALLOW_NAMES) {
		os->o.allow_names = list;
		os->o.allow_names_count = (size_t)n;
	} else {
		os->o.pin_sha256 = list;
		os->o.pin_sha256_count = (size_t)n;
	}
	return 0;
}

static int timeout_value(struct loader *L, const struct source *src, const config_setting_t *s,
                         struct ld_optset *os)
{
	int type = config_setting_type(s);
	double v;
	if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
		v = (double)config_setting_get_int64(s);
	else if (type == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else
		return ld_fail(L, src, s, "handshake_timeout: expected a number of seconds, got %s",
		               ld_type_name(s));
	if (!(v > 0) || v > MAX_TIMEOUT_S)
		return ld_fail(L, src, s, "handshake_timeout: %g is out of range (expected seconds, "
		               "more than 0 and at most %g)", v, MAX_TIMEOUT_S);
	/* Rounded up: 0.0001 s must not become "no deadline" (0 ms). By hand,
	 * not ceil(): the Makefile does not link libm. */
	double ms = v * 1000.0;
	int whole = (int)ms;
	os->o.handshake_timeout_ms = (double)whole < ms ? whole + 1 : whole;
	return 0;
}

static int hostname_value(struct loader *L, const struct source *src, const config_setting_t *s,
                          const char *v, struct ld_optset *os)
{
	char q[CFG_QUOTE_BUF];
	unsigned char buf[16];
	struct cfg_error why;
	/* An IP literal is allowed: it is checked against the certificate's
	 * IP addresses (and never sent as SNI, RFC 6066 section 3). */
	if (inet_pton(AF_INET, v, buf) != 1 && inet_pton(AF_INET6, v, buf) != 1 &&
	    cfg_hostname_check(v, strlen(v), &why) < 0)
		return ld_fail(L, src, s, "server_hostname: \"%s\" is not a host name: %s",
		               cfg_quote(q, v), why.msg);
	os->o.server_hostname = pool_dup(L, v);
	return os->o.server_hostname ? 0 : -1;
}

static int expect(struct loader *L, const struct source *src, const config_setting_t *s,
                  const char *key, int type)
{
	if (config_setting_type(s) == type)
		return 0;
	return ld_fail(L, src, s, "%s: expected %s, got %s", key,
	               type == CONFIG_TYPE_BOOL ? "true or false" : "a string", ld_type_name(s));
}

/* The value of the setting s, key k, into os. */
static int key_value(struct loader *L, const struct source *src, config_setting_t *s, int k,
                     struct ld_optset *os)
{
	char q[CFG_QUOTE_BUF];
	const char *name = key_names[k];
	const char *v = NULL;
	switch (k) {
	case LD_MATCH:
	case LD_KEYFILE:
	case LD_CERTFILE:
	case LD_CERT_REQS:
	case LD_SSL_VERSION:
	case LD_CA_CERTS:
	case LD_CRL_FILE:
	case LD_SERVER_HOSTNAME:
	case LD_CIPHERS:
		if (expect(L, src, s, name, CONFIG_TYPE_STRING) < 0)
			return -1;
		v = config_setting_get_string(s);
		break;
	case LD_DO_HANDSHAKE_ON_CONNECT:
	case LD_SUPPRESS_RAGGED_EOFS:
	case LD_PASSTHROUGH:
	case LD_RELEASE_BUFFERS:
	case LD_SESSION_CACHE:
	case LD_ALLOW_PLAINTEXT:
		if (expect(L, src, s, name, CONFIG_TYPE_BOOL) < 0)
			return -1;
		break;
	default:
		break;
	}

	switch (k) {
	case LD_MATCH: {
		struct cfg_error why;
		if (cfg_match_parse(v, &os->match, &why) < 0)
			return ld_fail(L, src, s, "%s", why.msg);
		os->match_text = v;
		break;
	}
	case LD_KEYFILE:
		if (!(os->o.keyfile = file_value(L, src, s, k, v)))
			return -1;
		break;
	case LD_CERTFILE:
		if (!(os->o.certfile = file_value(L, src, s, k, v)))
			return -1;
		break;
	case LD_CA_CERTS:
		if (!(os->o.ca_certs = file_value(L, src, s, k, v)))
			return -1;
		break;
	case LD_CRL_FILE:
		if (!(os->o.crl_file = file_value(L, src, s, k, v)))
			return -1;
		break;
	case LD_CERT_REQS:
		if (cert_reqs_value(v, &os->o.cert_reqs) < 0)
			return ld_fail(L, src, s, "cert_reqs: \"%s\" is not one of CERT_NONE, "
			               "CERT_OPTIONAL, CERT_REQUIRED", cfg_quote(q, v));
		break;
	case LD_SSL_VERSION: {
		struct sslsocket_error why;
		if (ssl_version_value(v, &os->o.ssl_version) < 0)
			return ld_fail(L, src, s, "ssl_version: \"%s\" is not one of "
			               "PROTOCOL_SSLv23, PROTOCOL_TLS, PROTOCOL_TLSv1, "
			               "PROTOCOL_TLSv1_1, PROTOCOL_TLSv1_2, PROTOCOL_TLSv1_3, "
			               "PROTOCOL_SSLv3, PROTOCOL_SSLv2", cfg_quote(q, v));
		memset(&why, 0, sizeof why);
		if (L->chk->protocol_supported(os->o.ssl_version, &why) < 0)
			return ld_fail(L, src, s, "ssl_version: %s", why.reason);
		break;
	}
	case LD_SERVER_HOSTNAME:
		if (hostname_value(L, src, s, v, os) < 0)
			return -1;
		break;
	case LD_CIPHERS:
		if (!*v)
			return ld_fail(L, src, s, "ciphers: empty cipher string (leave ciphers out "
			               "for OpenSSL's default)");
		if (!(os->o.ciphers = pool_dup(L, v)))
			return -1;
		break;
	case LD_ALPN:
		if (alpn_value(L, src, s, os) < 0)
			return -1;
		break;
	case LD_HANDSHAKE_TIMEOUT:
		if (timeout_value(L, src, s, os) < 0)
			return -1;
		break;
	case LD_ALLOW_NAMES:
	case LD_PIN_SHA256:
		if (identity_list_value(L, src, s, k, os) < 0)
			return -1;
		break;
	case LD_DO_HANDSHAKE_ON_CONNECT:
		os->o.do_handshake_on_connect = config_setting_get_bool(s);
		break;
	case LD_SUPPRESS_RAGGED_EOFS:
		os->o.suppress_ragged_eofs = config_setting_get_bool(s);
		break;
	case LD_PASSTHROUGH:
		os->passthrough = config_setting_get_bool(s);
		break;
	case LD_RELEASE_BUFFERS:
		os->o.release_buffers = config_setting_get_bool(s);
		break;
	case LD_SESSION_CACHE:
		os->o.session_cache = config_setting_get_bool(s);
		break;
	case LD_ALLOW_PLAINTEXT:
		os->allow_plaintext = config_setting_get_bool(s);
		break;
	case LD_SNIFF_TIMEOUT_MS: {
		int type = config_setting_type(s);
		long long ms;

		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			return ld_fail(L, src, s, "sniff_timeout_ms: expected a whole number of "
			               "milliseconds, got %s", ld_type_name(s));
		ms = config_setting_get_int64(s);
		if (ms < 1 || ms > MAX_SNIFF_MS)
			return ld_fail(L, src, s, "sniff_timeout_ms: %lld is out of range (expected "
			               "1 to %d)", ms, MAX_SNIFF_MS);
		os->sniff_timeout_ms = (int)ms;
		break;
	}
	default:
		break;
	}
	return 0;
}

int ld_read_key(struct loader *L, const struct source *src, config_setting_t *s, int side,
                struct ld_optset *os)
{
	char q[CFG_QUOTE_BUF];
	const char *name = config_setting_name(s);
	int k = 0;

	while (k < LD_KEY_COUNT && strcmp(name, key_names[k]) != 0)
		k++;
	if (k == LD_KEY_COUNT) {
		if (side == LD_IN_DEFAULTS)
			return ld_fail(L, src, s, "unknown key \"%s\" in defaults (expected "
			               DEFAULT_KEYS_TEXT ")", cfg_quote(q, name));
		return ld_fail(L, src, s, "unknown key \"%s\" in %s rule (expected "
		               RULE_KEYS_TEXT ")", cfg_quote(q, name),
		               side == CFG_ACCEPT ? "an accept" : "a connect");
	}
	if (side == LD_IN_DEFAULTS && (RULE_ONLY & LD_BIT(k)))
		return ld_fail(L, src, s, "%s belongs in a rule, not in defaults", name);
	if (key_value(L, src, s, k, os) < 0) {
		/* file_value named the file already */
		if (L->err && L->err->option == SSLSOCKET_OPT_NONE)
			cfg_error_option(L->err, ld_option_of_key(k), NULL);
		return -1;
	}
	os->set |= LD_BIT(k);
	os->at[k].file = ld_file_of(L, src, s);
	os->at[k].line = ld_line_of(s);
	os->at[k].source = ld_from_file(src, s) ? CFG_ERR_FILE : CFG_ERR_STRING;
	return 0;
}

void ld_overlay(struct ld_optset *dst, const struct ld_optset *src)
{
	for (int k = 0; k < LD_KEY_COUNT; k++) {
		if (!(src->set & LD_BIT(k)))
			continue;
		dst->set |= LD_BIT(k);
		dst->at[k] = src->at[k];
		switch (k) {
		case LD_KEYFILE: dst->o.keyfile = src->o.keyfile; break;
		case LD_CERTFILE: dst->o.certfile = src->o.certfile; break;
		case LD_CERT_REQS: dst->o.cert_reqs = src->o.cert_reqs; break;
		case LD_SSL_VERSION: dst->o.ssl_version = src->o.ssl_version; break;
		case LD_CA_CERTS: dst->o.ca_certs = src->o.ca_certs; break;
		case LD_CRL_FILE: dst->o.crl_file = src->o.crl_file; break;
		case LD_DO_HANDSHAKE_ON_CONNECT:
			dst->o.do_handshake_on_connect = src->o.do_handshake_on_connect;
			break;
		case LD_SUPPRESS_RAGGED_EOFS:
			dst->o.suppress_ragged_eofs = src->o.suppress_ragged_eofs;
			break;
		case LD_SERVER_HOSTNAME: dst->o.server_hostname = src->o.server_hostname; break;
		case LD_CIPHERS: dst->o.ciphers = src->o.ciphers; break;
		case LD_ALPN:
			dst->o.alpn = src->o.alpn;
			dst->o.alpn_count = src->o.alpn_count;
			break;
		case LD_HANDSHAKE_TIMEOUT:
			dst->o.handshake_timeout_ms = src->o.handshake_timeout_ms;
			break;
		case LD_RELEASE_BUFFERS: dst->o.release_buffers = src->o.release_buffers; break;
		case LD_SESSION_CACHE: dst->o.session_cache = src->o.session_cache; break;
		case LD_PASSTHROUGH: dst->passthrough = src->passthrough; break;
		case LD_ALLOW_NAMES:
			dst->o.allow_names = src->o.allow_names;
			dst->o.allow_names_count = src->o.allow_names_count;
			break;
		case LD_PIN_SHA256:
			dst->o.pin_sha256 = src->o.pin_sha256;
			dst->o.pin_sha256_count = src->o.pin_sha256_count;
			break;
		default: break; /* match is the rule's own, never overlaid */
		}
	}
}

/* ---- the core's check ------------------------------------------------------ */

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The same configuration (config_new) for both: rules that share
 * defaults would otherwise read and check the same files again and again.
 * Everything a context is built from counts; the per-socket options do
 * not. */
static int same_check(const struct sslsocket_options *a, const struct sslsocket_options *b)
{
	if (a->server_side != b->server_side || a->cert_reqs != b->cert_reqs ||
	    a->ssl_version != b->ssl_version || a->ca_certs_default != b->ca_certs_default ||
	    a->release_buffers != b->release_buffers || a->session_cache != b->session_cache ||
	    a->alpn_count != b->alpn_count || !str_eq(a->keyfile, b->keyfile) ||
	    !str_eq(a->certfile, b->certfile) || !str_eq(a->ca_certs, b->ca_certs) ||
	    !str_eq(a->crl_file, b->crl_file) || !str_eq(a->keylog_file, b->keylog_file) ||
	    !str_eq(a->ciphers, b->ciphers))
		return 0;
	for (size_t i = 0; i < a->alpn_count; i++)
		if (!str_eq(a->alpn[i], b->alpn[i]))
			return 0;
	/* identity policies are the context's too (sessions are per context) */
	if (a->allow_names_count != b->allow_names_count ||
	    a->pin_sha256_count != b->pin_sha256_count)
		return 0;
	for (size_t i = 0; i < a->allow_names_count; i++)
		if (!str_eq(a->allow_names[i], b->allow_names[i]))
			return 0;
	for (size_t i = 0; i < a->pin_sha256_count; i++)
		if (!str_eq(a->pin_sha256[i], b->pin_sha256[i]))
			return 0;
	return 1;
}

/* The rule key the core's error is about (struct sslsocket_error's
 * option); -1 when it names none. */
static int key_of_option(int option)
{
	for (int k = 0; k < LD_KEY_COUNT; k++)
		if (option != SSLSOCKET_OPT_NONE && key_options[k] == option)
			return k;
	return -1;
}

/* A rule weaker than the defaults (an old version pinned, a cipher string
 * that admits suites without forward secrecy or AEAD) is honoured, and
 * said at start, naming the rule. 0, or -1 out of memory. */
static int weak_warning(struct loader *L, const struct source *src, const config_setting_t *elem,
                        enum cfg_side side, unsigned nth, const struct ld_optset *fin)
{
	char w[320], q[CFG_QUOTE_BUF];
	if (L->chk->options_weakness(&fin->o, w, sizeof w) <= 0)
		return 0;
	if (cfg_warnf(L->ri, "%s:%d: %s rule %u (\"%s\"): weaker than the defaults, as configured: %s",
	              ld_file_of(L, src, elem), ld_line_of(elem), side == CFG_ACCEPT ? "accept" : "connect",
	              nth, cfg_quote(q, fin->match_text ? fin->match_text : ""), w) < 0) {
		cfg_errorf(L->err, "out of memory");
		return -1;
	}
	return 0;
}

/* A warning about the file of key k, at its FILE:LINE. */
static int warn_at(struct loader *L, const struct ld_optset *fin, int k, const char *w)
{
	if (cfg_warnf(L->ri, "%s:%d: %s: %s", fin->at[k].file ? fin->at[k].file : "(built-in)",
	              fin->at[k].line, key_names[k], w) < 0) {
		cfg_errorf(L->err, "out of memory");
		return -1;
	}
	return 0;
}

int ld_check_options(struct loader *L, const struct source *src, const config_setting_t *elem,
                     enum cfg_side side, unsigned nth, const struct ld_optset *fin,
                     sslsocket_config **out)
{
	char q[CFG_QUOTE_BUF];
	struct sslsocket_error e;

	*out = NULL;
	for (size_t i = 0; i < L->n_checked; i++) {
		if (same_check(sslsocket_config_options(L->checked[i]), &fin->o)) {
			*out = sslsocket_config_ref(L->checked[i]);
			return weak_warning(L, src, elem, side, nth, fin);
		}
	}
	/* The configuration keeps the files' bytes and belongs to the rule: a
	 * server that drops its privileges before its first accept still has
	 * its key. */
	memset(&e, 0, sizeof e);
	sslsocket_config *c = L->chk->config_new(&fin->o, &e);
	if (c == NULL) {
		int k = key_of_option(e.option);
		if (k >= 0 && fin->at[k].file)
			ld_fail_key(L, fin, k, "%s: %s", key_names[k], e.reason);
		else
			ld_fail(L, src, elem, "%s rule %u (\"%s\"): %s",
			        side == CFG_ACCEPT ? "accept" : "connect", nth,
			        cfg_quote(q, fin->match_text ? fin->match_text : ""), e.reason);
		cfg_error_option(L->err, e.option, e.file);
		return -1;
	}
	*out = c;
	if (weak_warning(L, src, elem, side, nth, fin) < 0)
		return -1;
	char w[600];
	if (cfg_keyfile_warning(c, w, sizeof w) &&
	    warn_at(L, fin, fin->o.keyfile ? LD_KEYFILE : LD_CERTFILE, w) < 0)
		return -1;
	if (cfg_trustfile_warning(c, SSLSOCKET_OPT_CA_CERTS, w, sizeof w) &&
	    warn_at(L, fin, LD_CA_CERTS, w) < 0)
		return -1;
	if (cfg_trustfile_warning(c, SSLSOCKET_OPT_CRL_FILE, w, sizeof w) &&
	    warn_at(L, fin, LD_CRL_FILE, w) < 0)
		return -1;
	if (L->n_checked == L->cap_checked) {
		size_t cap = L->cap_checked ? L->cap_checked * 2 : 8;
		sslsocket_config **n = realloc(L->checked, cap * sizeof *n);
		if (!n)
			return 0; /* only a cache: reading again is correct */
		L->checked = n;
		L->cap_checked = cap;
	}
	L->checked[L->n_checked++] = sslsocket_config_ref(c);
	return 0;
}

void ld_checked_free(struct loader *L)
{
	for (size_t i = 0; i < L->n_checked; i++)
		sslsocket_config_free(L->checked[i]);
	free(L->checked);
	L->checked = NULL;
	L->n_checked = L->cap_checked = 0;
	free(L->files_ok);
	L->files_ok = NULL;
	L->n_files_ok = L->cap_files_ok = 0;
}
