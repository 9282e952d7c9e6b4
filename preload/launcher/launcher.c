/*
 * launcher.c - `tlsshim [OPTIONS] [--] program args...`
 *
 * Turns the options into the environment the interposer reads
 * (TLSSHIM_CONFIG, TLSSHIM_CONFIG_STRING, TLSSHIM_LOG, LD_PRELOAD), checks
 * all of it with config/ exactly as the interposer will, refuses programs
 * that LD_PRELOAD cannot reach, and execs the program. Every problem is
 * reported before the program starts, so that nothing runs half-configured.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "launcher.h"

#ifndef TLSSHIM_VERSION
#define TLSSHIM_VERSION "unknown"
#endif

static const char usage_text[] =
	"usage: tlsshim [OPTIONS] [--] PROGRAM [ARGS...]\n"
	"       tlsshim [--ca-certs FILE] [--ssl-version V] --getcert HOST:PORT\n"
	"       tlsshim --ca-certs FILE [OPTIONS] --peercert HOST:PORT\n"
	"       tlsshim --check [-c FILE] [RULE OPTIONS]\n"
	"\n"
	"Runs PROGRAM with TLS added to the connections that the rules match.\n"
	"\n"
	"  -c, --config FILE          read rules from FILE (sets TLSSHIM_CONFIG)\n"
	"      --connect HOST:PORT    wrap connections to HOST:PORT as a TLS client\n"
	"                             (repeatable; HOST: *, IPv4, [IPv6], CIDR, name)\n"
	"      --accept HOST:PORT     wrap connections accepted on HOST:PORT as a TLS\n"
	"                             server (repeatable)\n"
	"      --certfile FILE        certificate (PEM) for the command-line rules\n"
	"      --keyfile FILE         private key (PEM) for the command-line rules\n"
	"      --ca-certs FILE        trusted CAs (PEM) for the command-line rules\n"
	"      --cert-reqs none|optional|required\n"
	"                             peer certificate checking (client default:\n"
	"                             required against the system CAs; server: none)\n"
	"      --ssl-version V        TLSv1_2, TLSv1_3, SSLv23 (negotiate; default), ...\n"
	"      --server-hostname NAME SNI, and the name checked in the server's\n"
	"                             certificate\n"
	"      --lazy-handshake       handshake on the first read or write, not in\n"
	"                             connect() or accept()\n"
	"      --no-suppress-ragged-eofs\n"
	"                             an EOF without close_notify is ECONNRESET, not 0\n"
	"  -v, --verbose              log every connection (TLSSHIM_LOG=debug)\n"
	"  -q, --quiet                log errors only (TLSSHIM_LOG=error)\n"
	"      --getcert HOST:PORT    print the server's certificate (PEM) and exit\n"
	"      --peercert HOST:PORT   validate the server against --ca-certs and print\n"
	"                             its certificate as Python's getpeercert() does\n"
	"      --check                load the rules and their files as a wrapped\n"
	"                             program would, print them as understood, exit\n"
	"                             0 (or 1 with the error)\n"
	"      --status [--prometheus]\n"
	"                             the counters of the running wrapped processes,\n"
	"                             as a table or in Prometheus' text format\n"
	"  -h, --help                 this text\n"
	"      --version              the version\n"
	"\n"
	"Command-line rules come before the rules of the config file. Exit status:\n"
	"PROGRAM's, or 1 (configuration error), 2 (usage error), 126 (PROGRAM cannot\n"
	"be run, or tlsshim cannot wrap it), 127 (PROGRAM not found).\n"
	"See tlsshim(1) and tlsshim.conf(5).\n";

enum {
	OPT_CONNECT = 256, OPT_ACCEPT, OPT_CERTFILE, OPT_KEYFILE, OPT_CA_CERTS, OPT_CERT_REQS,
	OPT_SSL_VERSION, OPT_SERVER_HOSTNAME, OPT_LAZY, OPT_RAGGED, OPT_GETCERT, OPT_PEERCERT,
	OPT_VERSION, OPT_CHECK, OPT_STATUS, OPT_PROMETHEUS
};

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "accept", required_argument, NULL, OPT_ACCEPT },
	{ "certfile", required_argument, NULL, OPT_CERTFILE },
	{ "keyfile", required_argument, NULL, OPT_KEYFILE },
	{ "ca-certs", required_argument, NULL, OPT_CA_CERTS },
	{ "cert-reqs", required_argument, NULL, OPT_CERT_REQS },
	{ "ssl-version", required_argument, NULL, OPT_SSL_VERSION },
	{ "server-hostname", required_argument, NULL, OPT_SERVER_HOSTNAME },
	{ "lazy-handshake", no_argument, NULL, OPT_LAZY },
	{ "no-suppress-ragged-eofs", no_argument, NULL, OPT_RAGGED },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "getcert", required_argument, NULL, OPT_GETCERT },
	{ "peercert", required_argument, NULL, OPT_PEERCERT },
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "prometheus", no_argument, NULL, OPT_PROMETHEUS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ NULL, 0, NULL, 0 }
};

/* A repeated single-valued option is a mistake worth stopping for (which
 * of two --ca-certs did the user mean?). */
static int set_once(const char **slot, const char *value, const char *name)
{
	if (*slot)
		return launch_usage_error("%s given twice", name);
	*slot = value;
	return 0;
}

static int parse_options(int argc, char **argv, struct launch_opts *o, int *done)
{
	int c, idx;
	*done = 0;
	opterr = 0;
	/* "+": options end at the program's name; its own options are its. */
	while ((c = getopt_long(argc, argv, "+:c:vqh", long_options, &idx)) != -1) {
		int rc = 0;
		switch (c) {
		case 'c': rc = set_once(&o->config_file, optarg, "--config"); break;
		case OPT_CONNECT: o->connect[o->n_connect++] = optarg; break;
		case OPT_ACCEPT: o->accept[o->n_accept++] = optarg; break;
		case OPT_CERTFILE: rc = set_once(&o->certfile, optarg, "--certfile"); break;
		case OPT_KEYFILE: rc = set_once(&o->keyfile, optarg, "--keyfile"); break;
		case OPT_CA_CERTS: rc = set_once(&o->ca_certs, optarg, "--ca-certs"); break;
		case OPT_CERT_REQS: rc = set_once(&o->cert_reqs, optarg, "--cert-reqs"); break;
		case OPT_SSL_VERSION: rc = set_once(&o->ssl_version, optarg, "--ssl-version"); break;
		case OPT_SERVER_HOSTNAME:
			rc = set_once(&o->server_hostname, optarg, "--server-hostname");
			break;
		case OPT_LAZY: o->lazy_handshake = 1; break;
		case OPT_RAGGED: o->no_suppress_ragged_eofs = 1; break;
		case 'v': o->log_level = "debug"; break;
		case 'q': o->log_level = "error"; break;
		case OPT_GETCERT: rc = set_once(&o->getcert, optarg, "--getcert"); break;
		case OPT_PEERCERT: rc = set_once(&o->peercert, optarg, "--peercert"); break;
		case OPT_CHECK: o->check = 1; break;
		case OPT_STATUS: o->status = 1; break;
		case OPT_PROMETHEUS: o->prometheus = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			*done = 1;
			return 0;
		case OPT_VERSION:
			/* An empty define (a Makefile that expands VERSION before
			 * setting it) falls back to the library's version. */
			printf("tlsshim %s\n", sizeof TLSSHIM_VERSION > 1 ? TLSSHIM_VERSION
			                                                  : SSLSOCKET_VERSION);
			*done = 1;
			return 0;
		case ':':
			if (optopt > 0 && optopt < 256)
				return launch_usage_error("option '-%c' needs an argument", optopt);
			return launch_usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				return launch_usage_error("unknown option '-%c'", optopt);
			return launch_usage_error("unknown option '%s'", argv[optind - 1]);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct launch_opts o = { 0 };
	int done = 0, allow_setuid = 0, rc;
	char why[LAUNCH_ERRLEN];

	launch_ssl_start(argv);
	/* Every --connect/--accept is one argv slot at most. */
	o.connect = calloc((size_t)argc + 1, sizeof *o.connect);
	o.accept = calloc((size_t)argc + 1, sizeof *o.accept);
	if (!o.connect || !o.accept)
		return launch_config_error("out of memory");

	rc = parse_options(argc, argv, &o, &done);
	if (rc || done)
		goto out;
	int nargs = argc - optind;
	if (o.prometheus && !o.status) {
		rc = launch_usage_error("%s", "--prometheus goes with --status");
		goto out;
	}
	if (o.status) {
		if (nargs > 0 || o.n_connect || o.n_accept || o.config_file || o.getcert ||
		    o.peercert || o.check)
			rc = launch_usage_error("%s", "--status takes no program, rules or other mode");
		else
			rc = launch_status(o.prometheus);
		goto out;
	}
	if (o.check && (o.getcert || o.peercert)) {
		rc = launch_usage_error("%s", "--check cannot be combined with --getcert or --peercert");
		goto out;
	}
	if (o.check || o.getcert || o.peercert) {
		rc = launch_ssl_mode(&o, nargs, argv);
		goto out;
	}
	if (nargs == 0) {
		rc = launch_usage_error("%s", "no program to run");
		goto out;
	}
	rc = launch_prepare_environment(&o, &allow_setuid, NULL, NULL);
	if (rc)
		goto out;
	if (launch_check_program(argv[optind], allow_setuid, why, sizeof why) < 0) {
		fprintf(stderr, "tlsshim: %s\n", why);
		rc = LAUNCH_EXIT_CANNOT_RUN;
		goto out;
	}
	rc = launch_exec(argv + optind);
out:
	free(o.connect);
	free(o.accept);
	return rc;
}
