/*
 * launcher_ssl.c - the launcher's way to the core functions that need
 * OpenSSL. The launcher's common path - options, rules, the
 * configuration's checks, exec - runs on the core's OpenSSL-free files,
 * so that it never maps libssl and libcrypto: every program a wrapped
 * shell starts pays the launcher's start-up. What does need OpenSSL is
 * called here (launch_ssl_*), which loads libsslsocket.so - next to the
 * launcher, else in launch_libdir, as libtlsshim.so is found - on first
 * use and calls the real one: the configuration's full checks (a pinned
 * protocol version, a cipher list, a key whose public half the bytes do
 * not show), --getcert / --peercert and --check's certificate subjects
 * and dates. The configuration loader gets its checks from here
 * (launch_cfg_checks).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "files_int.h"
#include "launcher.h"
#include "sslsocket.h"

#define CORE_LIB_NAME "libsslsocket.so"

static void cannot_load(struct sslsocket_error *err)
{
	if (!err)
		return;
	err->code = SSLSOCKET_ERROR_SSL;
	err->sys_errno = ELIBACC;
	err->ossl_error = 0;
	err->option = SSLSOCKET_OPT_NONE;
	err->file[0] = '\0';
	snprintf(err->reason, sizeof err->reason, "cannot load %s: %.200s", CORE_LIB_NAME,
	         launch_core_why());
	errno = ELIBACC;
}

/* For the functions only reachable through an sslsocket that
 * launch_ssl_wrap made: the library is loaded by then. */
static void *must(const char *name)
{
	void *p = launch_core_sym(name);
	if (!p) {
		fprintf(stderr, "tlsshim: cannot load %s: %s\n", CORE_LIB_NAME, launch_core_why());
		exit(LAUNCH_EXIT_CONFIG);
	}
	return p;
}

#define REAL(name) ((__typeof__(&sslsocket_##name))launch_core_sym("sslsocket_" #name))
#define MUST(name) ((__typeof__(&sslsocket_##name))must("sslsocket_" #name))

int launch_ssl_options_check(const struct sslsocket_options *o, struct sslsocket_error *err)
{
	__typeof__(&sslsocket_options_check) f = REAL(options_check);
	if (!f) {
		cannot_load(err);
		return -1;
	}
	return f(o, err);
}

int launch_ssl_protocol_supported(enum sslsocket_protocol v, struct sslsocket_error *err)
{
	int r = core_protocol_supported_plain(v, err);
	if (r != CORE_ASK_OSSL)
		return r;
	__typeof__(&sslsocket_protocol_supported) f = REAL(protocol_supported);
	if (!f) {
		cannot_load(err);
		return -1;
	}
	return f(v, err);
}

int launch_ssl_options_weakness(const struct sslsocket_options *o, char *buf, size_t len)
{
	/* A pinned version or a cipher string has loaded the library already. */
	int r = core_options_weakness_plain(o, buf, len);
	if (r != CORE_ASK_OSSL)
		return r;
	__typeof__(&sslsocket_options_weakness) f = REAL(options_weakness);
	if (!f)
		return -1;
	return f(o, buf, len);
}

char *launch_ssl_get_server_certificate(const char *host, unsigned short port,
                                        enum sslsocket_protocol v, const char *ca_certs,
                                        struct sslsocket_error *err)
{
	__typeof__(&sslsocket_get_server_certificate) f = REAL(get_server_certificate);
	if (!f) {
		cannot_load(err);
		return NULL;
	}
	return f(host, port, v, ca_certs, err);
}

sslsocket *launch_ssl_wrap(int fd, const struct sslsocket_options *o,
                           const struct sslsocket_io *io, struct sslsocket_error *err)
{
	__typeof__(&sslsocket_wrap) f = REAL(wrap);
	if (!f) {
		cannot_load(err);
		return NULL;
	}
	return f(fd, o, io, err);
}

int launch_ssl_handshake_done(const sslsocket *s) { return MUST(handshake_done)(s); }
int launch_ssl_do_handshake(sslsocket *s) { return MUST(do_handshake)(s); }
const char *launch_ssl_error(const sslsocket *s) { return MUST(error)(s); }
int launch_ssl_getpeercert(sslsocket *s, struct sslsocket_certinfo **out)
{
	return MUST(getpeercert)(s, out);
}
char *launch_ssl_certinfo_format(const struct sslsocket_certinfo *ci)
{
	return MUST(certinfo_format)(ci);
}
void launch_ssl_certinfo_free(struct sslsocket_certinfo *ci) { MUST(certinfo_free)(ci); }
int launch_ssl_close(sslsocket *s) { return MUST(close)(s); }

/* --check: the subject and dates of a rule's certificates. */
struct sslsocket_certinfo *launch_ssl_certinfo_from_der(const unsigned char *der, size_t len,
                                                        struct sslsocket_error *err)
{
	__typeof__(&sslsocket_certinfo_from_der) f = REAL(certinfo_from_der);
	if (!f) {
		cannot_load(err);
		return NULL;
	}
	return f(der, len, err);
}

int launch_ssl_cert_time_to_seconds(const char *timestring, time_t *out,
                                    struct sslsocket_error *err)
{
	__typeof__(&sslsocket_cert_time_to_seconds) f = REAL(cert_time_to_seconds);
	if (!f) {
		cannot_load(err);
		return -1;
	}
	return f(timestring, out, err);
}

/* ---- the configuration's checks -------------------------------------------- */

static const struct core_checks launch_core_checks = {
	.protocol_supported = launch_ssl_protocol_supported,
	.options_check = launch_ssl_options_check,
};

/* The core's reading and quick check of the files (sslconfig.c), which
 * asks libsslsocket.so only what the bytes cannot tell. */
static sslsocket_config *launch_config_new(const struct sslsocket_options *o,
                                           struct sslsocket_error *err)
{
	return core_config_new(o, &launch_core_checks, err);
}

const struct cfg_checks launch_cfg_checks = {
	.protocol_supported = launch_ssl_protocol_supported,
	.config_new = launch_config_new,
	.options_weakness = launch_ssl_options_weakness,
};
