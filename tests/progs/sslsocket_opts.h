/* Command-line options shared by sslsocket_client and sslsocket_server
 * (wrap_socket's parameters). */
#ifndef SSLSOCKET_PROGS_OPTS_H
#define SSLSOCKET_PROGS_OPTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sslsocket.h"

#define MAX_ALPN 8

struct prog_opts {
	struct sslsocket_options o;
	const char *alpn[MAX_ALPN];
	int info;
	int nonblocking;
};

/* Consumes the option at argv[*i] (and its value) if it is one of ours.
 * Returns 1 consumed, 0 not ours, -1 bad value (message printed). */
static int prog_opt(struct prog_opts *p, const char *prog, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
#define NEEDV                                                            \
	do {                                                             \
		if (!v) {                                                \
			fprintf(stderr, "%s: %s needs a value\n", prog, a); \
			return -1;                                       \
		}                                                        \
		(*i)++;                                                  \
	} while (0)
	if (strcmp(a, "--cert") == 0) {
		NEEDV;
		p->o.certfile = v;
	} else if (strcmp(a, "--key") == 0) {
		NEEDV;
		p->o.keyfile = v;
	} else if (strcmp(a, "--ca") == 0) {
		NEEDV;
		p->o.ca_certs = v;
	} else if (strcmp(a, "--ca-default") == 0) {
		p->o.ca_certs_default = 1;
	} else if (strcmp(a, "--cert-reqs") == 0) {
		NEEDV;
		if (strcmp(v, "none") == 0)
			p->o.cert_reqs = SSLSOCKET_CERT_NONE;
		else if (strcmp(v, "optional") == 0)
			p->o.cert_reqs = SSLSOCKET_CERT_OPTIONAL;
		else if (strcmp(v, "required") == 0)
			p->o.cert_reqs = SSLSOCKET_CERT_REQUIRED;
		else {
			fprintf(stderr, "%s: --cert-reqs none|optional|required\n", prog);
			return -1;
		}
	} else if (strcmp(a, "--version") == 0) {
		NEEDV;
		if (sslsocket_protocol_from_name(v, &p->o.ssl_version) < 0) {
			fprintf(stderr, "%s: unknown protocol %s\n", prog, v);
			return -1;
		}
	} else if (strcmp(a, "--server-hostname") == 0) {
		NEEDV;
		p->o.server_hostname = v;
	} else if (strcmp(a, "--ciphers") == 0) {
		NEEDV;
		p->o.ciphers = v;
	} else if (strcmp(a, "--alpn") == 0) {
		NEEDV;
		if (p->o.alpn_count == MAX_ALPN) {
			fprintf(stderr, "%s: too many --alpn\n", prog);
			return -1;
		}
		p->alpn[p->o.alpn_count++] = v;
		p->o.alpn = p->alpn;
	} else if (strcmp(a, "--lazy-handshake") == 0) {
		p->o.do_handshake_on_connect = 0;
	} else if (strcmp(a, "--no-suppress-ragged-eofs") == 0) {
		p->o.suppress_ragged_eofs = 0;
	} else if (strcmp(a, "--handshake-timeout") == 0) {
		NEEDV;
		p->o.handshake_timeout_ms = atoi(v);
	} else if (strcmp(a, "--keylog") == 0) {
		NEEDV;
		p->o.keylog_file = v;
	} else if (strcmp(a, "--info") == 0) {
		p->info = 1;
	} else if (strcmp(a, "--nonblocking") == 0) {
		p->nonblocking = 1;
	} else {
		return 0;
	}
	return 1;
#undef NEEDV
}

static const char prog_opts_usage[] =
	"  --cert FILE --key FILE --ca FILE --ca-default\n"
	"  --cert-reqs none|optional|required --version PROTOCOL_TLSv1_2|...\n"
	"  --server-hostname NAME --ciphers STR --alpn PROTO (repeatable)\n"
	"  --lazy-handshake --no-suppress-ragged-eofs --handshake-timeout MS\n"
	"  --keylog FILE --info (connection details on stderr) --nonblocking\n";

/* Connection details on stderr, one "key: value" a line. */
static void prog_print_info(sslsocket *s)
{
	const char *name, *ver;
	int bits;
	if (sslsocket_cipher(s, &name, &ver, &bits) == 0)
		fprintf(stderr, "cipher: %s %s %d\n", name, ver, bits);
	fprintf(stderr, "verify: %s\n", sslsocket_verify_result(s));
	const char *alpn = sslsocket_alpn_selected(s);
	fprintf(stderr, "alpn: %s\n", alpn ? alpn : "(none)");
	fprintf(stderr, "reused: %s\n", sslsocket_session_reused(s) ? "yes" : "no");
	struct sslsocket_certinfo *ci = NULL;
	if (sslsocket_getpeercert(s, &ci) == 0) {
		if (!ci) {
			fprintf(stderr, "peercert: None\n");
		} else {
			char *txt = sslsocket_certinfo_format(ci);
			fprintf(stderr, "peercert: %s\n", txt ? txt : "?");
			free(txt);
			sslsocket_certinfo_free(ci);
		}
	}
}

#endif
