/*
 * launcher_cert.c - `tlsshim --getcert HOST:PORT` and `--peercert HOST:PORT`.
 *
 * --getcert is the seed's get_server_certificate(): the PEM of whatever the
 * server presents, validated only when --ca-certs is given. --peercert
 * always validates (a dictionary of an unvalidated certificate would be the
 * seed's {}), then prints getpeercert() as Python's pprint lays it out, so
 * that its output can be compared with Python's byte for byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "launcher.h"
#include "sslsocket.h"

/* A server that accepts and never answers must not hang the launcher. */
#define CERT_TIMEOUT_MS 10000

int launch_split_hostport(const char *text, char **host, unsigned short *port, char *err,
                          size_t errlen)
{
	const char *h = text, *colon;
	size_t hl;
	*host = NULL;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':') {
			snprintf(err, errlen, "%s: expected [IPv6]:PORT", text);
			return -1;
		}
		h = text + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || strchr(text, ':') != colon) {
			snprintf(err, errlen, "%s: expected HOST:PORT (an IPv6 address in brackets)",
			         text);
			return -1;
		}
		hl = (size_t)(colon - text);
	}
	char *end;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (hl == 0 || !colon[1] || *end || errno || p == 0 || p > 65535 || colon[1] == '-' ||
	    colon[1] == '+') {
		snprintf(err, errlen, "%s: expected HOST:PORT with a port from 1 to 65535", text);
		return -1;
	}
	*host = strndup(h, hl);
	if (!*host) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*port = (unsigned short)p;
	return 0;
}

static int is_ip_literal(const char *host)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int parse_version(const struct launch_opts *o, enum sslsocket_protocol *v)
{
	*v = SSLSOCKET_PROTOCOL_SSLv23;
	if (!o->ssl_version)
		return 0;
	struct sslsocket_error err = { 0 };
	if (sslsocket_protocol_from_name(o->ssl_version, v) < 0) {
		fprintf(stderr, "tlsshim: --ssl-version '%s': expected a version such as TLSv1_2 "
		        "or SSLv23\n", o->ssl_version);
		return -1;
	}
	if (launch_ssl_protocol_supported(*v, &err) < 0) {
		fprintf(stderr, "tlsshim: --ssl-version %s: %s\n", o->ssl_version, err.reason);
		return -1;
	}
	return 0;
}

/* The options that mean nothing here are refused rather than ignored. */
static int refuse_unused(const char *mode, const char *name, const void *given)
{
	if (!given)
		return 0;
	fprintf(stderr, "tlsshim: %s is not used by %s\n"
	        "Try 'tlsshim --help' for more information.\n", name, mode);
	return -1;
}

int launch_getcert(const struct launch_opts *o)
{
	char err[LAUNCH_ERRLEN], *host = NULL;
	unsigned short port;
	enum sslsocket_protocol v;
	if (refuse_unused("--getcert", "--certfile", o->certfile) ||
	    refuse_unused("--getcert", "--keyfile", o->keyfile) ||
	    refuse_unused("--getcert", "--cert-reqs", o->cert_reqs) ||
	    refuse_unused("--getcert", "--server-hostname", o->server_hostname) ||
	    refuse_unused("--getcert", "--lazy-handshake", o->lazy_handshake ? "" : NULL) ||
	    refuse_unused("--getcert", "--no-suppress-ragged-eofs",
	                  o->no_suppress_ragged_eofs ? "" : NULL))
		return LAUNCH_EXIT_USAGE;
	if (launch_split_hostport(o->getcert, &host, &port, err, sizeof err) < 0) {
		fprintf(stderr, "tlsshim: --getcert %s\n", err);
		return LAUNCH_EXIT_USAGE;
	}
	if (parse_version(o, &v) < 0) {
		free(host);
		return LAUNCH_EXIT_CONFIG;
	}
	struct sslsocket_error serr = { 0 };
	char *pem = launch_ssl_get_server_certificate(host, port, v, o->ca_certs, &serr);
	free(host);
	if (!pem) {
		fprintf(stderr, "tlsshim: %s: %s\n", o->getcert,
		        serr.reason[0] ? serr.reason : "cannot get the certificate");
		return LAUNCH_EXIT_CONFIG;
	}
	size_t n = strlen(pem);
	fputs(pem, stdout);
	if (n == 0 || pem[n - 1] != '\n')
		putchar('\n');
	free(pem);
	return fflush(stdout) == 0 ? 0 : LAUNCH_EXIT_CONFIG;
}

/* A connected blocking socket to host:port, trying every address. */
static int dial(const char *host, unsigned short port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, },
	                *res = NULL;
	char service[8];
	snprintf(service, sizeof service, "%u", port);
	int rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return -1;
	}
	int fd = -1, last = ECONNREFUSED;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		/* Linux bounds a blocking connect() by SO_SNDTIMEO. */
		struct timeval tv = { CERT_TIMEOUT_MS / 1000, 0 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		last = errno == EINPROGRESS ? ETIMEDOUT : errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "%s", strerror_r(last, (char[128]){""}, 128));
	return fd;
}

int launch_peercert(const struct launch_opts *o)
{
	char err[LAUNCH_ERRLEN], *host = NULL, *text = NULL;
	unsigned short port;
	enum sslsocket_protocol v;
	struct sslsocket_options opts;
	struct sslsocket_error serr = { 0 };
	struct sslsocket_certinfo *ci = NULL;
	sslsocket *s = NULL;
	int fd = -1, rc = LAUNCH_EXIT_CONFIG;

	if (refuse_unused("--peercert", "--cert-reqs", o->cert_reqs) ||
	    refuse_unused("--peercert", "--lazy-handshake", o->lazy_handshake ? "" : NULL) ||
	    refuse_unused("--peercert", "--no-suppress-ragged-eofs",
	                  o->no_suppress_ragged_eofs ? "" : NULL))
		return LAUNCH_EXIT_USAGE;
	if (!o->ca_certs) {
		fprintf(stderr, "tlsshim: --peercert needs --ca-certs FILE (the CAs to validate "
		        "against; --getcert prints a certificate without validating it)\n");
		return LAUNCH_EXIT_USAGE;
	}
	if (launch_split_hostport(o->peercert, &host, &port, err, sizeof err) < 0) {
		fprintf(stderr, "tlsshim: --peercert %s\n", err);
		return LAUNCH_EXIT_USAGE;
	}
	if (parse_version(o, &v) < 0)
		goto out;

	sslsocket_options_init(&opts);
	opts.cert_reqs = SSLSOCKET_CERT_REQUIRED;
	opts.ca_certs = o->ca_certs;
	opts.ssl_version = v;
	opts.certfile = o->certfile;
	opts.keyfile = o->keyfile;
	/* RFC 6066: never an IP literal as SNI; the core then checks the IP
	 * address against the certificate's iPAddress names. */
	opts.server_hostname = o->server_hostname ? o->server_hostname
	                       : is_ip_literal(host) ? NULL : host;
	opts.handshake_timeout_ms = CERT_TIMEOUT_MS;
	if (launch_ssl_options_check(&opts, &serr) < 0) {
		fprintf(stderr, "tlsshim: %s\n", serr.reason);
		goto out;
	}
	fd = dial(host, port, err, sizeof err);
	if (fd < 0) {
		fprintf(stderr, "tlsshim: %s: %s\n", o->peercert, err);
		goto out;
	}
	s = launch_ssl_wrap(fd, &opts, NULL, &serr);
	if (!s) {
		fprintf(stderr, "tlsshim: %s: %s\n", o->peercert, serr.reason);
		goto out;
	}
	if (!launch_ssl_handshake_done(s) && launch_ssl_do_handshake(s) < 0) {
		fprintf(stderr, "tlsshim: %s: %s\n", o->peercert, launch_ssl_error(s));
		goto out;
	}
	if (launch_ssl_getpeercert(s, &ci) < 0 || !ci) {
		fprintf(stderr, "tlsshim: %s: the server sent no certificate\n", o->peercert);
		goto out;
	}
	text = launch_ssl_certinfo_format(ci);
	if (!text) {
		fprintf(stderr, "tlsshim: out of memory\n");
		goto out;
	}
	printf("%s\n", text);
	rc = fflush(stdout) == 0 ? 0 : LAUNCH_EXIT_CONFIG;
out:
	free(text);
	launch_ssl_certinfo_free(ci);
	if (s)
		launch_ssl_close(s); /* closes fd */
	else if (fd >= 0)
		close(fd);
	free(host);
	return rc;
}

/* --getcert or --peercert, after the usage checks. */
int launch_run_cert_mode(const struct launch_opts *o, int nargs)
{
	if (o->getcert && o->peercert)
		return launch_usage_error("%s", "--getcert and --peercert cannot be combined");
	if (nargs > 0)
		return launch_usage_error("%s", "--getcert and --peercert take no program");
	if (o->n_connect || o->n_accept || o->config_file)
		return launch_usage_error("%s", "--getcert and --peercert take no rules "
		                          "(--connect, --accept, --config)");
	return o->getcert ? launch_getcert(o) : launch_peercert(o);
}
