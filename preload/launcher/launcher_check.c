/*
 * launcher_check.c - `tlsshim --check`: the rules as config/ understood
 * them, like `nginx -t`.
 *
 * launcher.c loads the rules exactly as it does before running a program
 * (and as the interposer does before main), so a configuration that
 * passes here starts, and one that fails prints the same
 * "tlsshim: FILE:LINE: ..." line. What is printed here comes from the
 * loaded rule set, not from the text: defaults merged, relative paths
 * resolved, the built-in verification of client rules spelled out. The
 * certificates of every file a rule names are shown with their subject,
 * subjectAltName and notAfter (the subject and dates OpenSSL reads, through
 * libsslsocket.so: see launcher_ssl.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "files_int.h"
#include "launcher.h"
#include "log_syslog.h"
#include "sslsocket.h"

/* The CA bundles of a system store hold a hundred certificates and more. */
#define CHECK_CA_SHOWN 3

static const char *short_attr(const char *name)
{
	static const char *const map[][2] = {
		{ "commonName", "CN" }, { "countryName", "C" }, { "organizationName", "O" },
		{ "organizationalUnitName", "OU" }, { "localityName", "L" },
		{ "stateOrProvinceName", "ST" }, { "emailAddress", "emailAddress" },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(name, map[i][0]) == 0)
			return map[i][1];
	return name;
}

static void print_subject(FILE *out, const struct sslsocket_certinfo *ci)
{
	fputs("subject ", out);
	if (ci->subject_count == 0)
		fputs("(empty)", out);
	for (size_t i = 0; i < ci->subject_count; i++) {
		const struct sslsocket_rdn *rdn = &ci->subject[i];
		for (size_t k = 0; k < rdn->count; k++)
			fprintf(out, "%s%s=%s", i || k ? (k ? "+" : ", ") : "",
			        short_attr(rdn->attrs[k].name), rdn->attrs[k].value);
	}
}

/* "expires in 12 days", "EXPIRED 3 days ago": the line an operator reads. */
static void print_expiry(FILE *out, const char *not_after)
{
	time_t t, now = time(NULL);
	if (!not_after || launch_ssl_cert_time_to_seconds(not_after, &t, NULL) != 0)
		return;
	if (t < now)
		fprintf(out, " (EXPIRED %lld days ago)", (long long)((now - t) / 86400));
	else
		fprintf(out, " (in %lld days)", (long long)((t - now) / 86400));
}

static void print_cert(FILE *out, const char *indent, const unsigned char *der, size_t len)
{
	struct sslsocket_error err;
	struct sslsocket_certinfo *ci = launch_ssl_certinfo_from_der(der, len, &err);
	if (!ci) {
		fprintf(out, "%scertificate that cannot be read: %s\n", indent, err.reason);
		return;
	}
	fputs(indent, out);
	print_subject(out, ci);
	fputc('\n', out);
	if (ci->subject_alt_name) {
		fprintf(out, "%s  subjectAltName ", indent);
		for (size_t i = 0; i < ci->san_count; i++)
			fprintf(out, "%s%s:%s", i ? ", " : "", ci->subject_alt_name[i].name,
			        ci->subject_alt_name[i].value);
		fputc('\n', out);
	}
	fprintf(out, "%s  notAfter %s", indent, ci->not_after ? ci->not_after : "(none)");
	print_expiry(out, ci->not_after);
	fputc('\n', out);
	launch_ssl_certinfo_free(ci);
}

/* The certificates of a PEM file (or a single DER certificate), at most
 * `limit` shown (0: all). The loader has already checked that the file
 * loads; a file that changed since is reported, not fatal. */
static void print_file_certs(FILE *out, const char *key, const char *path, size_t limit)
{
	struct core_blob b = { 0 };
	struct sslsocket_error err;
	size_t pos = 0, n = 0;
	struct core_pem blk;

	fprintf(out, "  %-12s%s\n", key, path);
	if (core_blob_read(path, key, 0, &b, &err) < 0) {
		fprintf(out, "      %s\n", err.reason);
		return;
	}
	memset(&blk, 0, sizeof blk);
	while (core_pem_next((const char *)b.data, b.len, &pos, &blk) == 1) {
		if (core_pem_is_cert(blk.label) && !blk.bad) {
			if (!limit || n < limit)
				print_cert(out, "      ", blk.der, blk.der_len);
			n++;
		}
		core_pem_clear(&blk);
	}
	if (n == 0 && b.len > 0 && b.data[0] == 0x30) { /* a DER certificate */
		print_cert(out, "      ", b.data, b.len);
		n = 1;
	}
	if (limit && n > limit)
		fprintf(out, "      ... and %zu more (%zu certificates)\n", n - limit, n);
	core_blob_release(&b);
}

static const char *reqs_name(enum sslsocket_cert_reqs r)
{
	switch (r) {
	case SSLSOCKET_CERT_NONE: return "CERT_NONE";
	case SSLSOCKET_CERT_OPTIONAL: return "CERT_OPTIONAL";
	case SSLSOCKET_CERT_REQUIRED: return "CERT_REQUIRED";
	}
	return "?";
}

/* One sentence on what the peer must show, in the rule's own terms. */
static void print_verification(FILE *out, const struct cfg_rule *r)
{
	const struct sslsocket_options *o = &r->opts;
	const char *cas = o->ca_certs ? "ca_certs" : "the system CA store";
	fprintf(out, "  %-12s%s: ", "verify", reqs_name(o->cert_reqs));
	if (r->side == CFG_CONNECT) {
		if (o->cert_reqs == SSLSOCKET_CERT_NONE)
			fputs("the server's certificate is NOT checked (any server is accepted)\n",
			      out);
		else
			fprintf(out, "the server's certificate must chain to %s%s\n", cas,
			        o->cert_reqs == SSLSOCKET_CERT_OPTIONAL ? " (when it sends one)" : "");
	} else {
		/* allow_names or pin_sha256 make the core require the client's
		 * certificate (core/context.c), CERT_OPTIONAL or not. */
		int required = o->cert_reqs == SSLSOCKET_CERT_REQUIRED || o->allow_names_count ||
		               o->pin_sha256_count;
		if (o->cert_reqs == SSLSOCKET_CERT_NONE)
			fputs("no client certificate is asked for\n", out);
		else
			fprintf(out, "a client certificate %s, and must chain to %s\n",
			        required ? "is required" : "is asked for (optional)", cas);
	}
	fprintf(out, "  %-12s", "identities");
	if (o->cert_reqs == SSLSOCKET_CERT_NONE) {
		fputs("none checked\n", out);
		return;
	}
	if (r->side == CFG_CONNECT && o->server_hostname)
		fprintf(out, "the certificate must name %s (subjectAltName)", o->server_hostname);
	else if (r->side == CFG_CONNECT)
		fputs("the certificate must name the host the program resolved (subjectAltName; "
		      "none when it connected to an address)", out);
	else if (!o->allow_names_count && !o->pin_sha256_count)
		fputs("any certificate from those CAs", out);
	if (o->allow_names_count)
		fprintf(out, "%sthe certificate must carry one of allow_names",
		        r->side == CFG_CONNECT ? ", and " : "");
	if (o->pin_sha256_count)
		fprintf(out, "%sits key must match one of pin_sha256",
		        r->side == CFG_CONNECT || o->allow_names_count ? ", and " : "");
	fputc('\n', out);
}

static void print_rule(FILE *out, const struct cfg_rule *r)
{
	const struct sslsocket_options *o = &r->opts;
	const char *proto = sslsocket_protocol_name(o->ssl_version);

	fprintf(out, "rule %u: %s %s  (%s:%d)\n", r->index + 1,
	        r->side == CFG_CONNECT ? "connect" : "accept", r->match_text, r->file, r->line);
	if (r->passthrough) {
		fprintf(out, "  %-12s%s\n", "passthrough",
		        "the socket is left plain (no TLS)");
		return;
	}
	print_verification(out, r);
	fprintf(out, "  %-12s%s%s\n", "protocol", proto ? proto : "?",
	        o->ssl_version == SSLSOCKET_PROTOCOL_SSLv23 ? " (negotiate the highest: TLS 1.2 or 1.3)" : "");
	if (o->server_hostname)
		fprintf(out, "  %-12s%s\n", "sni", o->server_hostname);
	if (o->ciphers)
		fprintf(out, "  %-12s%s\n", "ciphers", o->ciphers);
	if (o->alpn_count) {
		fprintf(out, "  %-12s", "alpn");
		for (size_t i = 0; i < o->alpn_count; i++)
			fprintf(out, "%s%s", i ? ", " : "", o->alpn[i]);
		fputc('\n', out);
	}
	if (o->allow_names_count) {
		fprintf(out, "  %-12s", "allow_names");
		for (size_t i = 0; i < o->allow_names_count; i++)
			fprintf(out, "%s%s", i ? ", " : "", o->allow_names[i]);
		fputc('\n', out);
	}
	for (size_t i = 0; i < o->pin_sha256_count; i++)
		fprintf(out, "  %-12s%s\n", i ? "" : "pin_sha256", o->pin_sha256[i]);
	fprintf(out, "  %-12shandshake %s, timeout %d ms; ragged EOF %s\n", "behaviour",
	        o->do_handshake_on_connect ? (r->side == CFG_CONNECT ? "in connect()" : "in accept()")
	                                   : "on first I/O",
	        o->handshake_timeout_ms,
	        o->suppress_ragged_eofs ? "reads as EOF" : "is ECONNRESET");
	if (r->allow_plaintext)
		fprintf(out, "  %-12sPLAINTEXT clients are served too (allow_plaintext; silent for "
		        "%d ms: plaintext)\n", "permissive", r->sniff_timeout_ms);
	if (o->certfile)
		print_file_certs(out, "certfile", o->certfile, 0);
	if (o->keyfile)
		fprintf(out, "  %-12s%s (matches certfile)\n", "keyfile", o->keyfile);
	else if (o->certfile)
		fprintf(out, "  %-12s%s\n", "keyfile", "in certfile (matches it)");
	if (o->ca_certs)
		print_file_certs(out, "ca_certs", o->ca_certs, CHECK_CA_SHOWN);
	else if (o->ca_certs_default && o->cert_reqs != SSLSOCKET_CERT_NONE)
		fprintf(out, "  %-12s%s\n", "ca_certs", "the system CA store (OpenSSL's default "
		        "verify paths)");
}

int launch_check_log(const struct cfg_ruleset *rs, char *err, size_t errlen)
{
	const char *f = rs->log_file;
	int fd;

	if (!f || !f[0])
		return 0;
	if (strcmp(f, TS_SYSLOG_NAME) == 0) {
		/* init.c: ts_syslog_open(TS_SYSLOG_PATH) */
		struct sockaddr_un a;
		memset(&a, 0, sizeof a);
		a.sun_family = AF_UNIX;
		snprintf(a.sun_path, sizeof a.sun_path, "%s", TS_SYSLOG_PATH);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
			snprintf(err, errlen, "TLSSHIM_LOG_FILE=syslog: cannot connect to %s: %s",
			         TS_SYSLOG_PATH, strerror_r(errno, (char[128]){""}, 128));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	/* init.c opens it the same way (and so creates it, as nginx -t does). */
	fd = open(f, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "TLSSHIM_LOG_FILE: cannot open %s: %s", f,
		         strerror_r(errno, (char[128]){""}, 128));
		return -1;
	}
	close(fd);
	return 0;
}

int launch_check_print(FILE *out, const struct cfg_ruleset *rs, const char *config_file,
                       int has_string)
{
	static const char *const level[] = { "error", "warn", "info", "debug" };
	size_t n_conn = 0;

	for (size_t i = 0; i < rs->count; i++)
		n_conn += rs->rules[i].side == CFG_CONNECT;
	fprintf(out, "sources:    %s%s%s\n", has_string ? "TLSSHIM_CONFIG_STRING" : "",
	        has_string && config_file ? ", " : "", config_file ? config_file : "");
	fprintf(out, "log:        %s to %s\n",
	        (unsigned)rs->log_level < 4 ? level[rs->log_level] : "?",
	        rs->log_file && rs->log_file[0] ? rs->log_file : "stderr");
	if (rs->allow_setuid_exec)
		fputs("setuid:     allow_setuid_exec = true: set-id programs run UNWRAPPED\n", out);
	for (size_t i = 0; i < rs->count; i++)
		print_rule(out, &rs->rules[i]);
	fprintf(out, "configuration OK: %zu rule%s (%zu connect, %zu accept)\n", rs->count,
	        rs->count == 1 ? "" : "s", n_conn, rs->count - n_conn);
	return 0;
}

/* --check: everything a run would do before exec, then the rules. */
int launch_run_check(const struct launch_opts *o, int nargs)
{
	struct cfg_ruleset *rs = NULL;
	int allow_setuid = 0;

	if (nargs > 0)
		return launch_usage_error("%s", "--check takes no program");
	char *lib = NULL;
	int rc = launch_prepare_environment(o, &allow_setuid, &rs, &lib);
	if (rc)
		return rc;
	char err[LAUNCH_ERRLEN];
	if (launch_check_log(rs, err, sizeof err) < 0) {
		free(lib);
		cfg_ruleset_free(rs);
		return launch_config_error(err);
	}
	/* What the program would log at start, on stderr as the errors are. */
	for (size_t i = 0; i < rs->n_warnings; i++)
		fprintf(stderr, "tlsshim: warning: %s\n", rs->warnings[i]);
	const char *file = getenv("TLSSHIM_CONFIG");
	launch_check_print(stdout, rs, file && file[0] ? file : NULL,
	                   getenv("TLSSHIM_CONFIG_STRING") != NULL);
	printf("library:    %s\n", lib);
	free(lib);
	cfg_ruleset_free(rs);
	return fflush(stdout) == 0 ? 0 : LAUNCH_EXIT_CONFIG;
}
