/* config/: what cfg_load and cfg_load_env build from good input. The
 * errors are in check_config_errors.c, which shares the helpers below. */
#include <check.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "sslsocket.h"
#include "testutil.h"

/* ---- helpers (also used by check_config_errors.c) ------------------------ */

char cfgt_dir[256];

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	ck_assert_msg(in && out, "copy %s -> %s", from, to);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* A fresh directory holding copies of the PKI files that the rules name
 * relatively, a PEM file that is not one, and a subdirectory. */
void cfgt_setup(void)
{
	static const char *const names[] = { "ca.pem", "server.pem", "server.key",
		                              "client.pem", "client.key" };
	char from[600], to[600];
	snprintf(cfgt_dir, sizeof cfgt_dir, "/tmp/tlsshim-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(cfgt_dir));
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(from, sizeof from, "%s", tu_cert(names[i]));
		snprintf(to, sizeof to, "%s/%s", cfgt_dir, names[i]);
		copy_file(from, to);
	}
	snprintf(to, sizeof to, "%s/broken.pem", cfgt_dir);
	write_file(to, "-----BEGIN CERTIFICATE-----\nthis is not base64!\n"
	               "-----END CERTIFICATE-----\n"
	               "-----BEGIN PRIVATE KEY-----\nnor is this\n-----END PRIVATE KEY-----\n");
	snprintf(to, sizeof to, "%s/sub", cfgt_dir);
	ck_assert_int_eq(mkdir(to, 0700), 0);
}

void cfgt_teardown(void)
{
	char cmd[400];
	if (!cfgt_dir[0])
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", cfgt_dir);
	ck_assert_int_eq(system(cmd), 0);
	cfgt_dir[0] = '\0';
}

/* tmpl with @CERTS@, @DIR@ and @FILE@ (DIR/app.conf) replaced; free() it. */
char *cfgt_expand(const char *tmpl)
{
	char file[400];
	snprintf(file, sizeof file, "%s/app.conf", cfgt_dir);
	const struct { const char *tag, *value; } subs[] = {
		{ "@CERTS@", tu_certs_dir() }, { "@DIR@", cfgt_dir }, { "@FILE@", file },
	};
	size_t cap = strlen(tmpl) * 4 + 4096, n = 0;
	char *out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	for (const char *p = tmpl; *p;) {
		size_t i = 0;
		for (; i < 3; i++) {
			size_t tl = strlen(subs[i].tag);
			if (strncmp(p, subs[i].tag, tl) == 0) {
				size_t vl = strlen(subs[i].value);
				ck_assert(n + vl < cap);
				memcpy(out + n, subs[i].value, vl);
				n += vl;
				p += tl;
				break;
			}
		}
		if (i == 3) {
			ck_assert(n + 1 < cap);
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return out;
}

/* Writes DIR/name with tmpl expanded; returns its path (static). */
const char *cfgt_write(const char *name, const char *tmpl)
{
	static char path[400];
	char *text = cfgt_expand(tmpl);
	snprintf(path, sizeof path, "%s/%s", cfgt_dir, name);
	write_file(path, text);
	free(text);
	return path;
}

static struct cfg_ruleset *load_ok(const char *string_tmpl, const char *file_tmpl)
{
	struct cfg_error err;
	char *text = string_tmpl ? cfgt_expand(string_tmpl) : NULL;
	const char *path = file_tmpl ? cfgt_write("app.conf", file_tmpl) : NULL;
	struct cfg_ruleset *rs = cfg_load(text, path, &cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	free(text);
	return rs;
}

static char *in_dir(const char *base, const char *name)
{
	static char buf[4][600];
	static int slot;
	char *b = buf[slot++ % 4];
	snprintf(b, sizeof buf[0], "%s/%s", base, name);
	return b;
}

/* ---- every key, every value form ----------------------------------------- */

enum field {
	F_CERT_REQS, F_SSL_VERSION, F_DHOC, F_SRE, F_PASSTHROUGH, F_RELEASE, F_TIMEOUT_MS,
	F_TIMEOUT_SET, F_ALPN_COUNT, F_CA_DEFAULT, F_SERVER_SIDE, F_SESSION_CACHE,
	F_ALLOW_PLAINTEXT, F_SNIFF_MS
};

#define SERVER_KEYS "certfile = \"@CERTS@/server.pem\"; keyfile = \"@CERTS@/server.key\"; "

static const struct value_case {
	int accept;        /* an accept rule (with a certificate) instead of connect */
	const char *body;  /* the rule's keys besides match */
	enum field field;
	long want;
} values[] = {
	/* built-in defaults */
	{ 0, "", F_CERT_REQS, SSLSOCKET_CERT_REQUIRED },
	{ 0, "", F_CA_DEFAULT, 1 },
	{ 0, "", F_SERVER_SIDE, 0 },
	{ 0, "", F_SSL_VERSION, SSLSOCKET_PROTOCOL_SSLv23 },
	{ 0, "", F_DHOC, 1 },
	{ 0, "", F_SRE, 1 },
	{ 0, "", F_PASSTHROUGH, 0 },
	{ 0, "", F_RELEASE, 0 },
	{ 0, "", F_TIMEOUT_MS, 10000 },
	{ 0, "", F_TIMEOUT_SET, 0 },
	{ 0, "", F_ALPN_COUNT, 0 },
	{ 0, "", F_SESSION_CACHE, 1 },
	{ 1, "", F_CERT_REQS, SSLSOCKET_CERT_NONE },
	{ 1, "", F_CA_DEFAULT, 0 },
	{ 1, "", F_SERVER_SIDE, 1 },
	{ 1, "", F_TIMEOUT_MS, 10000 },
	{ 1, "", F_DHOC, 1 },
	/* cert_reqs */
	{ 0, "cert_reqs = \"CERT_NONE\";", F_CERT_REQS, SSLSOCKET_CERT_NONE },
	{ 0, "cert_reqs = \"CERT_OPTIONAL\";", F_CERT_REQS, SSLSOCKET_CERT_OPTIONAL },
	{ 0, "cert_reqs = \"CERT_REQUIRED\";", F_CERT_REQS, SSLSOCKET_CERT_REQUIRED },
	{ 0, "cert_reqs = \"CERT_NONE\";", F_CA_DEFAULT, 1 },
	{ 0, "ca_certs = \"@CERTS@/ca.pem\";", F_CA_DEFAULT, 0 },
	{ 1, "cert_reqs = \"CERT_NONE\";", F_CERT_REQS, SSLSOCKET_CERT_NONE },
	{ 1, "cert_reqs = \"CERT_OPTIONAL\"; ca_certs = \"@CERTS@/ca.pem\";", F_CERT_REQS,
	  SSLSOCKET_CERT_OPTIONAL },
	{ 1, "cert_reqs = \"CERT_REQUIRED\"; ca_certs = \"@CERTS@/ca.pem\";", F_CERT_REQS,
	  SSLSOCKET_CERT_REQUIRED },
	/* ssl_version: the seed's names, the alias, and the launcher's short forms */
	{ 0, "ssl_version = \"PROTOCOL_SSLv23\";", F_SSL_VERSION, SSLSOCKET_PROTOCOL_SSLv23 },
	{ 0, "ssl_version = \"PROTOCOL_TLS\";", F_SSL_VERSION, SSLSOCKET_PROTOCOL_SSLv23 },
	{ 0, "ssl_version = \"SSLv23\";", F_SSL_VERSION, SSLSOCKET_PROTOCOL_SSLv23 },
	{ 0, "ssl_version = \"TLS\";", F_SSL_VERSION, SSLSOCKET_PROTOCOL_SSLv23 },
	{ 0, "ssl_version = \"PROTOCOL_TLSv1_2\";", F_SSL_VERSION, SSLSOCKET_PROTOCOL_TLSv1_2 },
	{ 0, "ssl_version = \"TLSv1_2\";", F_SSL_VERSION, SSLSOCKET_PROTOCOL_TLSv1_2 },
	{ 0, "ssl_version = \"PROTOCOL_TLSv1_3\";", F_SSL_VERSION, SSLSOCKET_PROTOCOL_TLSv1_3 },
	{ 1, "ssl_version = \"TLSv1_3\";", F_SSL_VERSION, SSLSOCKET_PROTOCOL_TLSv1_3 },
	/* booleans */
	{ 0, "do_handshake_on_connect = false;", F_DHOC, 0 },
	{ 0, "do_handshake_on_connect = true;", F_DHOC, 1 },
	{ 1, "do_handshake_on_connect = false;", F_DHOC, 0 },
	{ 0, "suppress_ragged_eofs = false;", F_SRE, 0 },
	{ 0, "suppress_ragged_eofs = true;", F_SRE, 1 },
	{ 0, "passthrough = true;", F_PASSTHROUGH, 1 },
	{ 0, "passthrough = false;", F_PASSTHROUGH, 0 },
	{ 1, "passthrough = true;", F_PASSTHROUGH, 1 },
	{ 0, "release_buffers = true;", F_RELEASE, 1 },
	{ 0, "release_buffers = false;", F_RELEASE, 0 },
	{ 0, "session_cache = false;", F_SESSION_CACHE, 0 },
	{ 0, "session_cache = true;", F_SESSION_CACHE, 1 },
	{ 0, "do_handshake_on_connect = TRUE;", F_DHOC, 1 }, /* libconfig's spelling */
	/* handshake_timeout: integer, 64-bit integer, float; rounded up to ms */
	{ 0, "handshake_timeout = 5;", F_TIMEOUT_MS, 5000 },
	{ 0, "handshake_timeout = 5;", F_TIMEOUT_SET, 1 },
	{ 0, "handshake_timeout = 3L;", F_TIMEOUT_MS, 3000 },
	{ 0, "handshake_timeout = 0.25;", F_TIMEOUT_MS, 250 },
	{ 0, "handshake_timeout = 2.5;", F_TIMEOUT_MS, 2500 },
	{ 0, "handshake_timeout = 0.0001;", F_TIMEOUT_MS, 1 },
	{ 0, "handshake_timeout = 86400;", F_TIMEOUT_MS, 86400000 },
	{ 1, "handshake_timeout = 1;", F_TIMEOUT_MS, 1000 },
	/* alpn: array or list */
	{ 0, "alpn = [ \"h2\", \"http/1.1\" ];", F_ALPN_COUNT, 2 },
	{ 0, "alpn = ( \"x\" );", F_ALPN_COUNT, 1 },
	{ 1, "alpn = [ \"h2\" ];", F_ALPN_COUNT, 1 },
	/* permissive accept rules */
	{ 1, "", F_ALLOW_PLAINTEXT, 0 },
	{ 1, "", F_SNIFF_MS, 300 },
	{ 0, "", F_ALLOW_PLAINTEXT, 0 },
	{ 1, "allow_plaintext = true;", F_ALLOW_PLAINTEXT, 1 },
	{ 1, "allow_plaintext = false;", F_ALLOW_PLAINTEXT, 0 },
	{ 1, "allow_plaintext = true;", F_SNIFF_MS, 300 },
	{ 1, "allow_plaintext = true; sniff_timeout_ms = 1500;", F_SNIFF_MS, 1500 },
	{ 1, "sniff_timeout_ms = 60000;", F_SNIFF_MS, 60000 },
	{ 1, "sniff_timeout_ms = 1L;", F_SNIFF_MS, 1 },
};

static long field_of(const struct cfg_rule *r, enum field f)
{
	switch (f) {
	case F_CERT_REQS: return r->opts.cert_reqs;
	case F_SSL_VERSION: return r->opts.ssl_version;
	case F_DHOC: return r->opts.do_handshake_on_connect;
	case F_SRE: return r->opts.suppress_ragged_eofs;
	case F_PASSTHROUGH: return r->passthrough;
	case F_RELEASE: return r->opts.release_buffers;
	case F_TIMEOUT_MS: return r->opts.handshake_timeout_ms;
	case F_TIMEOUT_SET: return r->handshake_timeout_set;
	case F_ALPN_COUNT: return (long)r->opts.alpn_count;
	case F_CA_DEFAULT: return r->opts.ca_certs_default;
	case F_SERVER_SIDE: return r->opts.server_side;
	case F_SESSION_CACHE: return r->opts.session_cache;
	case F_ALLOW_PLAINTEXT: return r->allow_plaintext;
	case F_SNIFF_MS: return r->sniff_timeout_ms;
	}
	return -1;
}

START_TEST(config_value)
{
	const struct value_case *c = &values[_i];
	char text[1024];
	if (c->accept)
		snprintf(text, sizeof text, "accept = ( { match = \"*:8443\"; %s%s } );",
		         strstr(c->body, "passthrough = true") ? "" : SERVER_KEYS, c->body);
	else
		snprintf(text, sizeof text, "connect = ( { match = \"127.0.0.1:1\"; %s } );", c->body);
	struct cfg_ruleset *rs = load_ok(text, NULL);
	ck_assert_uint_eq(rs->count, 1);
	const struct cfg_rule *r = &rs->rules[0];
	ck_assert_int_eq(r->side, c->accept ? CFG_ACCEPT : CFG_CONNECT);
	ck_assert_msg(field_of(r, c->field) == c->want, "%s: field %d is %ld, want %ld", c->body,
	              (int)c->field, field_of(r, c->field), c->want);
	cfg_ruleset_free(rs);
}
END_TEST

/* The string keys, and what a rule records about itself. */
START_TEST(config_strings)
{
	struct cfg_ruleset *rs = load_ok(
		"connect = (\n"
		"  { match = \"Db.Internal:5432\";\n"
		"    certfile = \"@CERTS@/client.pem\"; keyfile = \"@CERTS@/client.key\";\n"
		"    ca_certs = \"@CERTS@/ca.pem\"; server_hostname = \"db.example\";\n"
		"    ciphers = \"HIGH:!aNULL\"; alpn = [ \"h2\", \"http/1.1\" ]; },\n"
		"  { match = \"[::1]:1\"; server_hostname = \"::1\"; },\n"
		"  { match = \"127.0.0.1:2\"; server_hostname = \"10.1.2.3\"; }\n"
		");\n", NULL);
	ck_assert_uint_eq(rs->count, 3);
	const struct cfg_rule *r = &rs->rules[0];
	ck_assert_str_eq(r->file, "TLSSHIM_CONFIG_STRING");
	ck_assert_int_eq(r->line, 2);
	ck_assert_uint_eq(r->index, 0);
	ck_assert_str_eq(r->match_text, "Db.Internal:5432");
	ck_assert_int_eq(r->match.host_kind, CFG_HOST_NAME);
	ck_assert_str_eq(r->match.name, "db.internal");
	ck_assert_str_eq(r->opts.certfile, tu_cert("client.pem"));
	ck_assert_str_eq(r->opts.keyfile, tu_cert("client.key"));
	ck_assert_str_eq(r->opts.ca_certs, tu_cert("ca.pem"));
	ck_assert_int_eq(r->opts.ca_certs_default, 0);
	ck_assert_str_eq(r->opts.server_hostname, "db.example");
	ck_assert_str_eq(r->opts.ciphers, "HIGH:!aNULL");
	ck_assert_uint_eq(r->opts.alpn_count, 2);
	ck_assert_str_eq(r->opts.alpn[0], "h2");
	ck_assert_str_eq(r->opts.alpn[1], "http/1.1");
	ck_assert_ptr_null(r->opts.keylog_file); /* the interposer's, not ours */
	ck_assert_str_eq(rs->rules[1].opts.server_hostname, "::1");
	ck_assert_int_eq(rs->rules[1].line, 6);
	ck_assert_str_eq(rs->rules[2].opts.server_hostname, "10.1.2.3");
	ck_assert_uint_eq(rs->rules[2].index, 2);
	/* the rule set's strings are its own: the text may go away */
	ck_assert_ptr_null(rs->rules[2].opts.certfile);
	cfg_ruleset_free(rs);
	cfg_ruleset_free(NULL);
}
END_TEST

/* allow_names and pin_sha256: lists kept as written, on both rule kinds,
 * from defaults too (a rule's own list replaces it). */
START_TEST(config_identity_keys)
{
	struct cfg_ruleset *rs = load_ok(
		"defaults = { pin_sha256 = [ \"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\" ]; };\n"
		"connect = (\n"
		"  { match = \"db.internal:5432\";\n"
		"    allow_names = ( \"db.internal\", \"*.db.internal\", \"CN=db\" ); },\n"
		"  { match = \"127.0.0.1:1\"; pin_sha256 = [ \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\" ]; }\n"
		");\n"
		"accept = ( { match = \"*:8443\"; certfile = \"@CERTS@/server.pem\";\n"
		"  keyfile = \"@CERTS@/server.key\"; cert_reqs = \"CERT_REQUIRED\";\n"
		"  ca_certs = \"@CERTS@/ca.pem\"; allow_names = [ \"spiffe://example.org/ns/prod/**\" ]; } );\n",
		NULL);
	ck_assert_uint_eq(rs->count, 3);
	const struct sslsocket_options *o = &rs->rules[0].opts;
	ck_assert_uint_eq(o->allow_names_count, 3);
	ck_assert_str_eq(o->allow_names[1], "*.db.internal");
	ck_assert_uint_eq(o->pin_sha256_count, 1);
	ck_assert_str_eq(o->pin_sha256[0], "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	o = &rs->rules[1].opts;
	ck_assert_uint_eq(o->allow_names_count, 0);
	ck_assert_str_eq(o->pin_sha256[0], "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	o = &rs->rules[2].opts;
	ck_assert_uint_eq(o->allow_names_count, 1);
	ck_assert_str_eq(o->allow_names[0], "spiffe://example.org/ns/prod/**");
	ck_assert_uint_eq(o->pin_sha256_count, 1);
	cfg_ruleset_free(rs);
}
END_TEST

/* ---- defaults and precedence --------------------------------------------- */

START_TEST(config_defaults_apply)
{
	struct cfg_ruleset *rs = load_ok(NULL,
		"version = 1;\n"
		"defaults = {\n"
		"  ca_certs = \"ca.pem\"; cert_reqs = \"CERT_OPTIONAL\"; ssl_version = \"PROTOCOL_TLSv1_2\";\n"
		"  do_handshake_on_connect = false; suppress_ragged_eofs = false;\n"
		"  ciphers = \"HIGH\"; alpn = [ \"h2\" ]; handshake_timeout = 3; release_buffers = true;\n"
		"};\n"
		"connect = (\n"
		"  { match = \"*:1\"; },\n"
		"  { match = \"*:2\"; cert_reqs = \"CERT_REQUIRED\"; ssl_version = \"PROTOCOL_TLSv1_3\";\n"
		"    do_handshake_on_connect = true; suppress_ragged_eofs = true; ciphers = \"ALL\";\n"
		"    alpn = [ \"a\", \"b\" ]; handshake_timeout = 7; release_buffers = false; }\n"
		");\n"
		"accept = ( { match = \"*:3\"; certfile = \"server.pem\"; keyfile = \"server.key\"; } );\n");
	ck_assert_uint_eq(rs->count, 3);
	const struct sslsocket_options *d = &rs->rules[0].opts;
	ck_assert_str_eq(d->ca_certs, in_dir(cfgt_dir, "ca.pem"));
	ck_assert_int_eq(d->ca_certs_default, 0);
	ck_assert_int_eq(d->cert_reqs, SSLSOCKET_CERT_OPTIONAL);
	ck_assert_int_eq(d->ssl_version, SSLSOCKET_PROTOCOL_TLSv1_2);
	ck_assert_int_eq(d->do_handshake_on_connect, 0);
	ck_assert_int_eq(d->suppress_ragged_eofs, 0);
	ck_assert_str_eq(d->ciphers, "HIGH");
	ck_assert_uint_eq(d->alpn_count, 1);
	ck_assert_str_eq(d->alpn[0], "h2");
	ck_assert_int_eq(d->handshake_timeout_ms, 3000);
	ck_assert_int_eq(rs->rules[0].handshake_timeout_set, 1); /* explicit, in defaults */
	ck_assert_int_eq(d->release_buffers, 1);

	const struct sslsocket_options *o = &rs->rules[1].opts; /* the rule wins */
	ck_assert_int_eq(o->cert_reqs, SSLSOCKET_CERT_REQUIRED);
	ck_assert_int_eq(o->ssl_version, SSLSOCKET_PROTOCOL_TLSv1_3);
	ck_assert_int_eq(o->do_handshake_on_connect, 1);
	ck_assert_int_eq(o->suppress_ragged_eofs, 1);
	ck_assert_str_eq(o->ciphers, "ALL");
	ck_assert_uint_eq(o->alpn_count, 2);
	ck_assert_int_eq(o->handshake_timeout_ms, 7000);
	ck_assert_int_eq(o->release_buffers, 0);
	ck_assert_str_eq(o->ca_certs, in_dir(cfgt_dir, "ca.pem"));

	/* defaults reach accept rules too, cert_reqs included */
	const struct sslsocket_options *a = &rs->rules[2].opts;
	ck_assert_int_eq(a->server_side, 1);
	ck_assert_int_eq(a->cert_reqs, SSLSOCKET_CERT_OPTIONAL);
	ck_assert_str_eq(a->ca_certs, in_dir(cfgt_dir, "ca.pem"));
	ck_assert_str_eq(a->certfile, in_dir(cfgt_dir, "server.pem"));
	ck_assert_str_eq(a->keyfile, in_dir(cfgt_dir, "server.key"));
	ck_assert_int_eq(a->ssl_version, SSLSOCKET_PROTOCOL_TLSv1_2);
	cfg_ruleset_free(rs);
}
END_TEST

/* The string's rules come first, side by side; its top-level settings and
 * defaults win over the file's, key by key. */
START_TEST(config_string_before_file)
{
	struct cfg_ruleset *rs = load_ok(
		"log_level = \"debug\";\n"
		"allow_setuid_exec = true;\n"
		"defaults = { handshake_timeout = 2; };\n"
		"connect = ( { match = \"127.0.0.1:4433\"; passthrough = true; } );\n"
		"accept = ( { match = \"*:9000\"; passthrough = true; } );\n",
		"log_level = \"error\";\n"
		"allow_setuid_exec = false;\n"
		"defaults = { handshake_timeout = 5; cert_reqs = \"CERT_NONE\"; };\n"
		"connect = (\n"
		"  { match = \"127.0.0.1:4433\"; },\n"
		"  { match = \"*:*\"; }\n"
		");\n"
		"accept = ( { match = \"*:9000\"; certfile = \"server.pem\"; keyfile = \"server.key\"; } );\n");
	ck_assert_uint_eq(rs->count, 5);
	const char *file = in_dir(cfgt_dir, "app.conf");
	static const struct { enum cfg_side side; int from_file; int line; int passthrough; } want[] = {
		{ CFG_CONNECT, 0, 4, 1 }, { CFG_ACCEPT, 0, 5, 1 }, { CFG_CONNECT, 1, 5, 0 },
		{ CFG_CONNECT, 1, 6, 0 }, { CFG_ACCEPT, 1, 8, 0 },
	};
	for (unsigned i = 0; i < 5; i++) {
		const struct cfg_rule *r = &rs->rules[i];
		ck_assert_uint_eq(r->index, i);
		ck_assert_int_eq(r->side, want[i].side);
		ck_assert_str_eq(r->file, want[i].from_file ? file : "TLSSHIM_CONFIG_STRING");
		ck_assert_int_eq(r->line, want[i].line);
		ck_assert_int_eq(r->passthrough, want[i].passthrough);
	}
	/* the string's defaults win; the file's others still apply */
	ck_assert_int_eq(rs->rules[2].opts.handshake_timeout_ms, 2000);
	ck_assert_int_eq(rs->rules[2].opts.cert_reqs, SSLSOCKET_CERT_NONE);
	ck_assert_int_eq(rs->log_level, CFG_LOG_DEBUG);
	ck_assert_int_eq(rs->log_level_set, 1);
	ck_assert_int_eq(rs->allow_setuid_exec, 1);

	/* first match wins: the string's passthrough rule shadows the file's */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(4433),
		                  .sin_addr.s_addr = htonl(0x7f000001) };
	const struct cfg_rule *r = cfg_match(rs, CFG_CONNECT, (struct sockaddr *)&sa, sizeof sa,
	                                     NULL, 0);
	ck_assert_ptr_eq(r, &rs->rules[0]);
	sa.sin_port = htons(4434);
	ck_assert_ptr_eq(cfg_match(rs, CFG_CONNECT, (struct sockaddr *)&sa, sizeof sa, NULL, 0),
	                 &rs->rules[3]);
	sa.sin_port = htons(9000);
	ck_assert_ptr_eq(cfg_match(rs, CFG_ACCEPT, (struct sockaddr *)&sa, sizeof sa, NULL, 0),
	                 &rs->rules[1]);
	cfg_ruleset_free(rs);

	/* the file alone: its own values */
	rs = load_ok(NULL, "log_level = \"error\";\nallow_setuid_exec = true;\n");
	ck_assert_int_eq(rs->log_level, CFG_LOG_ERROR);
	ck_assert_int_eq(rs->allow_setuid_exec, 1);
	cfg_ruleset_free(rs);
}
END_TEST

START_TEST(config_empty)
{
	struct cfg_error err;
	struct cfg_ruleset *rs = cfg_load(NULL, NULL, &cfg_core_checks, &err);
	ck_assert_ptr_nonnull(rs);
	ck_assert_uint_eq(rs->count, 0);
	ck_assert_int_eq(rs->log_level, CFG_LOG_WARN);
	ck_assert_int_eq(rs->log_level_set, 0);
	ck_assert_int_eq(rs->allow_setuid_exec, 0);
	ck_assert_ptr_null(rs->log_file);
	cfg_ruleset_free(rs);

	rs = load_ok("", "# nothing\nversion = 1;\nconnect = ( );\naccept = [ ];\n");
	ck_assert_uint_eq(rs->count, 0);
	cfg_ruleset_free(rs);
}
END_TEST

/* ---- file names ---------------------------------------------------------- */

static int saved_cwd = -1;

static void enter(const char *dir)
{
	saved_cwd = open(".", O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(saved_cwd, 0);
	ck_assert_int_eq(chdir(dir), 0);
}

static void leave(void)
{
	ck_assert_int_eq(fchdir(saved_cwd), 0);
	close(saved_cwd);
	saved_cwd = -1;
}

START_TEST(config_relative_paths)
{
	/* the file's names are relative to the file's directory */
	char sub_conf[600];
	snprintf(sub_conf, sizeof sub_conf, "%s/sub/app.conf", cfgt_dir);
	FILE *f = fopen(sub_conf, "w");
	ck_assert_ptr_nonnull(f);
	fputs("accept = ( { match = \"*:1\"; certfile = \"../server.pem\";\n"
	      "  keyfile = \"../server.key\"; ca_certs = \"" "../ca.pem" "\"; } );\n", f);
	fclose(f);
	struct cfg_error err;
	struct cfg_ruleset *rs = cfg_load(NULL, sub_conf, &cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	ck_assert_str_eq(rs->rules[0].opts.certfile, in_dir(cfgt_dir, "sub/../server.pem"));
	ck_assert_str_eq(rs->rules[0].opts.ca_certs, in_dir(cfgt_dir, "sub/../ca.pem"));
	cfg_ruleset_free(rs);

	/* absolute names stay as written */
	char text[600];
	snprintf(text, sizeof text, "connect = ( { match = \"*:1\"; ca_certs = \"%s\"; } );",
	         tu_cert("ca.pem"));
	rs = cfg_load(text, sub_conf, &cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	ck_assert_str_eq(rs->rules[0].opts.ca_certs, tu_cert("ca.pem"));
	cfg_ruleset_free(rs);

	/* the string's names, and a config named relatively, are made absolute
	 * against the current directory: the program may chdir later */
	enter(cfgt_dir);
	rs = cfg_load("connect = ( { match = \"*:1\"; ca_certs = \"ca.pem\"; } );", "sub/app.conf",
	              &cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	leave();
	ck_assert_str_eq(rs->rules[0].opts.ca_certs, in_dir(cfgt_dir, "ca.pem"));
	ck_assert_str_eq(rs->rules[1].opts.certfile, in_dir(cfgt_dir, "sub/../server.pem"));
	ck_assert_str_eq(rs->rules[1].file, "sub/app.conf");
	cfg_ruleset_free(rs);

	enter(in_dir(cfgt_dir, "sub"));
	rs = cfg_load(NULL, "app.conf", &cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	leave();
	ck_assert_str_eq(rs->rules[0].opts.certfile, in_dir(cfgt_dir, "sub/../server.pem"));
	cfg_ruleset_free(rs);
}
END_TEST

START_TEST(config_include)
{
	/* @include is relative to the including file; names in the included
	 * file are relative to the included file; the rule says where it was */
	char inc[600];
	snprintf(inc, sizeof inc, "%s/sub/more.conf", cfgt_dir);
	FILE *f = fopen(inc, "w");
	ck_assert_ptr_nonnull(f);
	fputs("\nconnect = ( { match = \"*:1\"; ca_certs = \"../ca.pem\"; } );\n", f);
	fclose(f);
	const char *path = cfgt_write("app.conf", "version = 1;\n@include \"sub/more.conf\"\n");
	struct cfg_error err;
	struct cfg_ruleset *rs = cfg_load(NULL, path, &cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	ck_assert_uint_eq(rs->count, 1);
	ck_assert_str_eq(rs->rules[0].file, inc);
	ck_assert_int_eq(rs->rules[0].line, 2);
	ck_assert_str_eq(rs->rules[0].opts.ca_certs, in_dir(cfgt_dir, "sub/../ca.pem"));
	cfg_ruleset_free(rs);
}
END_TEST

/* libconfig 1.5 opens even @include "/x" relative to the file's directory
 * (DIR//x): the rule names the file it opened. */
START_TEST(config_include_leading_slash)
{
	char inc[600];
	snprintf(inc, sizeof inc, "%s/sub/lead.conf", cfgt_dir);
	write_file(inc, "connect = ( { match = \"*:1\"; } );\n");
	const char *path = cfgt_write("app.conf", "version = 1;\n@include \"/sub/lead.conf\"\n");
	struct cfg_error err;
	struct cfg_ruleset *rs = cfg_load(NULL, path, &cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	ck_assert_uint_eq(rs->count, 1);
	snprintf(inc, sizeof inc, "%s//sub/lead.conf", cfgt_dir);
	ck_assert_str_eq(rs->rules[0].file, inc);
	cfg_ruleset_free(rs);
}
END_TEST

/* config/example.conf loads as shipped, next to the test PKI's files. */
START_TEST(config_example)
{
	copy_file("config/example.conf", in_dir(cfgt_dir, "example.conf"));
	struct cfg_error err;
	struct cfg_ruleset *rs = cfg_load(NULL, in_dir(cfgt_dir, "example.conf"), &cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	ck_assert_uint_eq(rs->count, 8);
	ck_assert_int_eq(rs->log_level, CFG_LOG_INFO);
	unsigned n_accept = 0, n_pass = 0;
	for (size_t i = 0; i < rs->count; i++) {
		n_accept += rs->rules[i].side == CFG_ACCEPT;
		n_pass += (unsigned)rs->rules[i].passthrough;
		if (!rs->rules[i].passthrough)
			ck_assert_str_eq(rs->rules[i].opts.ca_certs, in_dir(cfgt_dir, "ca.pem"));
	}
	ck_assert_uint_eq(n_accept, 3);
	ck_assert_int_eq(rs->rules[7].allow_plaintext, 1);
	ck_assert_int_eq(rs->rules[7].sniff_timeout_ms, 300);
	ck_assert_int_eq(rs->rules[6].allow_plaintext, 0);
	ck_assert_uint_eq(n_pass, 1);
	ck_assert_int_eq(rs->rules[0].opts.cert_reqs, SSLSOCKET_CERT_NONE);
	ck_assert_int_eq(rs->rules[1].opts.cert_reqs, SSLSOCKET_CERT_REQUIRED);
	ck_assert_int_eq(rs->rules[6].opts.cert_reqs, SSLSOCKET_CERT_REQUIRED);
	ck_assert_int_eq(rs->rules[5].opts.cert_reqs, SSLSOCKET_CERT_NONE);
	ck_assert_uint_eq(rs->rules[2].opts.allow_names_count, 1);
	ck_assert_str_eq(rs->rules[2].opts.allow_names[0], "spiffe://example.org/ns/*/sa/broker");
	ck_assert_uint_eq(rs->rules[6].opts.allow_names_count, 2);
	ck_assert_str_eq(rs->rules[6].opts.allow_names[1], "CN=tlsshim test client");
	ck_assert_str_eq(rs->rules[6].opts.ciphers, "ECDHE+AESGCM");
	for (size_t i = 0; i < rs->n_warnings; i++) /* nothing weaker than the defaults */
		ck_assert_msg(!strstr(rs->warnings[i], "weaker than the defaults"), "%s", rs->warnings[i]);
	cfg_ruleset_free(rs);
}
END_TEST

/* ---- the environment ----------------------------------------------------- */

static void clear_env(void)
{
	unsetenv("TLSSHIM_CONFIG");
	unsetenv("TLSSHIM_CONFIG_STRING");
	unsetenv("TLSSHIM_LOG");
	unsetenv("TLSSHIM_LOG_FILE");
}

START_TEST(config_env_inert)
{
	struct cfg_error err;
	clear_env();
	memset(&err, 'x', sizeof err);
	ck_assert_ptr_null(cfg_load_env(&cfg_core_checks, &err));
	ck_assert_str_eq(err.msg, "");

	/* the log variables alone do not wake the library; nor do empty values */
	setenv("TLSSHIM_LOG", "debug", 1);
	setenv("TLSSHIM_LOG_FILE", "/tmp/x.log", 1);
	setenv("TLSSHIM_CONFIG", "", 1);
	setenv("TLSSHIM_CONFIG_STRING", "", 1);
	memset(&err, 'x', sizeof err);
	ck_assert_ptr_null(cfg_load_env(&cfg_core_checks, &err));
	ck_assert_str_eq(err.msg, "");
	ck_assert_ptr_null(cfg_load_env(&cfg_core_checks, NULL));
	clear_env();
}
END_TEST

START_TEST(config_env_load)
{
	struct cfg_error err;
	clear_env();
	const char *path = cfgt_write("app.conf", "log_level = \"info\";\n"
	                              "connect = ( { match = \"*:2\"; passthrough = true; } );\n");
	setenv("TLSSHIM_CONFIG", path, 1);
	struct cfg_ruleset *rs = cfg_load_env(&cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	ck_assert_uint_eq(rs->count, 1);
	ck_assert_int_eq(rs->log_level, CFG_LOG_INFO);
	ck_assert_ptr_null(rs->log_file);
	cfg_ruleset_free(rs);

	setenv("TLSSHIM_CONFIG_STRING", "connect = ( { match = \"*:1\"; passthrough = true; } );", 1);
	setenv("TLSSHIM_LOG", "debug", 1);
	setenv("TLSSHIM_LOG_FILE", "/tmp/tlsshim-test.log", 1);
	rs = cfg_load_env(&cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	ck_assert_uint_eq(rs->count, 2);
	ck_assert_str_eq(rs->rules[0].match_text, "*:1"); /* the string's first */
	ck_assert_str_eq(rs->rules[1].match_text, "*:2");
	ck_assert_int_eq(rs->log_level, CFG_LOG_DEBUG); /* TLSSHIM_LOG beats log_level */
	ck_assert_int_eq(rs->log_level_set, 1);
	ck_assert_str_eq(rs->log_file, "/tmp/tlsshim-test.log");
	cfg_ruleset_free(rs);

	/* the string alone */
	unsetenv("TLSSHIM_CONFIG");
	setenv("TLSSHIM_LOG", "error", 1);
	rs = cfg_load_env(&cfg_core_checks, &err);
	ck_assert_msg(rs != NULL, "%s", err.msg);
	ck_assert_uint_eq(rs->count, 1);
	ck_assert_int_eq(rs->log_level, CFG_LOG_ERROR);
	cfg_ruleset_free(rs);

	/* errors */
	setenv("TLSSHIM_LOG", "loud", 1);
	ck_assert_ptr_null(cfg_load_env(&cfg_core_checks, &err));
	ck_assert_str_eq(err.msg, "TLSSHIM_LOG: \"loud\" is not one of error, warn, info, debug");
	setenv("TLSSHIM_LOG", "warn", 1);
	setenv("TLSSHIM_CONFIG_STRING", "version = 3;", 1);
	ck_assert_ptr_null(cfg_load_env(&cfg_core_checks, &err));
	ck_assert_str_eq(err.msg, "TLSSHIM_CONFIG_STRING:1: version: 3 is not supported "
	                          "(expected version = 1)");
	clear_env();
}
END_TEST

START_TEST(config_log_level_parse)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	enum cfg_log_level lv;
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(cfg_log_level_parse(names[i], &lv), 0);
		ck_assert_int_eq(lv, i);
	}
	ck_assert_int_eq(cfg_log_level_parse("warning", &lv), -1);
	ck_assert_int_eq(cfg_log_level_parse("", &lv), -1);
	ck_assert_int_eq(cfg_log_level_parse(NULL, &lv), -1);
}
END_TEST

/* Rules that share their options are checked once, and a rule set loads
 * and frees cleanly many times over (the sanitizer build sees leaks). */
START_TEST(config_many_rules)
{
	size_t cap = 200 * 80 + 64, n = 0;
	char *text = malloc(cap);
	ck_assert_ptr_nonnull(text);
	n += (size_t)snprintf(text + n, cap - n, "connect = (\n");
	for (int i = 1; i <= 200; i++)
		n += (size_t)snprintf(text + n, cap - n, "  { match = \"10.0.%d.%d:%d\"; }%s\n",
		                      i / 256, i % 256, i, i < 200 ? "," : "");
	snprintf(text + n, cap - n, ");\n");
	for (int round = 0; round < 3; round++) {
		struct cfg_ruleset *rs = load_ok(text, NULL);
		ck_assert_uint_eq(rs->count, 200);
		ck_assert_int_eq(rs->rules[199].line, 201);
		ck_assert_uint_eq(rs->rules[199].match.port_lo, 200);
		cfg_ruleset_free(rs);
	}
	free(text);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");
	tcase_add_checked_fixture(tc, cfgt_setup, cfgt_teardown);
	tcase_add_loop_test(tc, config_value, 0, (int)(sizeof values / sizeof values[0]));
	tcase_add_test(tc, config_strings);
	tcase_add_test(tc, config_identity_keys);
	tcase_add_test(tc, config_defaults_apply);
	tcase_add_test(tc, config_string_before_file);
	tcase_add_test(tc, config_empty);
	tcase_add_test(tc, config_relative_paths);
	tcase_add_test(tc, config_include);
	tcase_add_test(tc, config_include_leading_slash);
	tcase_add_test(tc, config_example);
	tcase_add_test(tc, config_env_inert);
	tcase_add_test(tc, config_env_load);
	tcase_add_test(tc, config_log_level_parse);
	tcase_add_test(tc, config_many_rules);
	suite_add_tcase(s, tc);
	return s;
}
