/* config/: every error cfg_load reports, with its exact FILE:LINE: text. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sslsocket.h"
#include "testutil.h"

/* From check_config.c: a temporary directory with copies of the test PKI
 * and a broken PEM, and @CERTS@ / @DIR@ / @FILE@ substitution. */
extern char cfgt_dir[];
void cfgt_setup(void);
void cfgt_teardown(void);
char *cfgt_expand(const char *tmpl);
const char *cfgt_write(const char *name, const char *tmpl);

#define S "TLSSHIM_CONFIG_STRING"
#define RULE_KEYS                                                                      \
	"(expected match, keyfile, certfile, cert_reqs, ssl_version, ca_certs, "       \
	"do_handshake_on_connect, suppress_ragged_eofs, server_hostname, ciphers, "   \
	"alpn, passthrough, handshake_timeout, release_buffers, session_cache, "       \
	"allow_names, pin_sha256, allow_plaintext, sniff_timeout_ms or crl_file)"
#define DEFAULT_KEYS                                                                   \
	"(expected keyfile, certfile, cert_reqs, ssl_version, ca_certs, "              \
	"do_handshake_on_connect, suppress_ragged_eofs, ciphers, alpn, "               \
	"handshake_timeout, release_buffers, session_cache, allow_names, pin_sha256 "  \
	"or crl_file)"
#define RULE_GROUP "expected a group { match = \"HOST:PORT\"; ... }"
#define LIST_OF_RULES "expected a list of rules ( { match = \"HOST:PORT\"; ... }, ... )"
#define SERVER "certfile = \"@CERTS@/server.pem\"; keyfile = \"@CERTS@/server.key\";"
#define C1(body) "connect = ( { match = \"127.0.0.1:1\"; " body " } );"
#define RANGE "(expected seconds, more than 0 and at most 86400)"
#define BOOL_ERR(key, val, type)                                                       \
	{ 0, C1(key " = " val ";"), S ":1: " key ": expected true or false, got " type, 0 }

/* from: 0 = TLSSHIM_CONFIG_STRING, 1 = the file @FILE@. prefix: the message
 * goes on with OpenSSL's words, which are not ours to pin down. */
static const struct err_case {
	int from_file;
	const char *text;
	const char *msg;
	int prefix;
} errs[] = {
	/* top level */
	{ 0, "version = 2;", S ":1: version: 2 is not supported (expected version = 1)", 0 },
	{ 0, "version = \"1\";", S ":1: version: expected the integer 1, got a string", 0 },
	{ 0, "version = 1.0;", S ":1: version: expected the integer 1, got a floating-point number", 0 },
	{ 0, "log_level = \"loud\";",
	  S ":1: log_level: \"loud\" is not one of error, warn, info, debug", 0 },
	{ 0, "log_level = \"INFO\";",
	  S ":1: log_level: \"INFO\" is not one of error, warn, info, debug", 0 },
	{ 0, "log_level = 3;", S ":1: log_level: expected a string, got an integer", 0 },
	{ 0, "allow_setuid_exec = \"yes\";",
	  S ":1: allow_setuid_exec: expected true or false, got a string", 0 },
	{ 0, "version = 1;\ncolour = 1;",
	  S ":2: unknown setting \"colour\" (expected version, log_level, allow_setuid_exec, "
	  "defaults, connect or accept)", 0 },
	{ 0, "defaults = ( );", S ":1: defaults: expected a group { ... }, got a list", 0 },
	{ 0, "connect = { };", S ":1: connect: " LIST_OF_RULES ", got a group", 0 },
	{ 0, "accept = 1;", S ":1: accept: " LIST_OF_RULES ", got an integer", 0 },
	{ 0, "accept = [ 1 ];", S ":1: accept: " LIST_OF_RULES ", got an array", 0 },
	{ 0, "connect = (\n  \"x\" );", S ":2: connect: rule 1 is a string, " RULE_GROUP, 0 },
	{ 0, "accept = ( ( ) );", S ":1: accept: rule 1 is a list, " RULE_GROUP, 0 },
	/* libconfig's own errors */
	{ 0, "connect = ( { match = ; } );", S ":1: syntax error", 0 },
	{ 0, "version = 1;\nversion = 1;", S ":2: duplicate setting name", 0 },
	{ 1, "version = 1;\nconnect = (\n", "@FILE@:3: syntax error", 0 },
	{ 1, "version = 1;\n@include \"nope.conf\"\n", "@FILE@:2: cannot open include file", 0 },
	/* rules */
	{ 0, "connect = (\n { match = \"*:1\"; passthrough = true; },\n"
	     " { cert_reqs = \"CERT_NONE\"; }\n);",
	  S ":3: connect rule 2 has no match (expected match = \"HOST:PORT\")", 0 },
	{ 0, "accept = ( { } );", S ":1: accept rule 1 has no match (expected match = \"HOST:PORT\")", 0 },
	{ 0, "connect = ( { match = \"*:1\";\n foo = 1; } );",
	  S ":2: unknown key \"foo\" in a connect rule " RULE_KEYS, 0 },
	{ 0, "accept = ( { match = \"*:1\";\n Certfile = \"x\"; } );",
	  S ":2: unknown key \"Certfile\" in an accept rule " RULE_KEYS, 0 },
	{ 0, "defaults = {\n bar = true;\n};", S ":2: unknown key \"bar\" in defaults " DEFAULT_KEYS, 0 },
	{ 0, "defaults = { match = \"*:1\"; };", S ":1: match belongs in a rule, not in defaults", 0 },
	{ 0, "defaults = { passthrough = true; };",
	  S ":1: passthrough belongs in a rule, not in defaults", 0 },
	{ 0, "defaults = { server_hostname = \"x\"; };",
	  S ":1: server_hostname belongs in a rule, not in defaults", 0 },
	/* permissive accept rules */
	{ 0, "defaults = { allow_plaintext = true; };",
	  S ":1: allow_plaintext belongs in a rule, not in defaults", 0 },
	{ 0, "defaults = { sniff_timeout_ms = 100; };",
	  S ":1: sniff_timeout_ms belongs in a rule, not in defaults", 0 },
	{ 0, C1("\nallow_plaintext = true;"), S ":2: allow_plaintext is for accept rules only "
	  "(a client never falls back to plaintext)", 0 },
	{ 0, C1("sniff_timeout_ms = 100;"), S ":1: sniff_timeout_ms is for accept rules only "
	  "(with allow_plaintext)", 0 },
	{ 0, "accept = ( { match = \"*:1\"; " SERVER " allow_plaintext = \"yes\"; } );",
	  S ":1: allow_plaintext: expected true or false, got a string", 0 },
	{ 0, "accept = ( { match = \"*:1\"; " SERVER " sniff_timeout_ms = 0; } );",
	  S ":1: sniff_timeout_ms: 0 is out of range (expected 1 to 60000)", 0 },
	{ 0, "accept = ( { match = \"*:1\"; " SERVER " sniff_timeout_ms = 60001; } );",
	  S ":1: sniff_timeout_ms: 60001 is out of range (expected 1 to 60000)", 0 },
	{ 0, "accept = ( { match = \"*:1\"; " SERVER " sniff_timeout_ms = 0.3; } );",
	  S ":1: sniff_timeout_ms: expected a whole number of milliseconds, got a floating-point number", 0 },
	{ 0, "accept = ( { match = \"*:1\"; passthrough = true;\n allow_plaintext = true; } );",
	  S ":2: allow_plaintext: a passthrough rule leaves the socket plain and takes no TLS keys", 0 },
	/* match */
	{ 0, C1("") "\nconnect2 = 1;", S ":2: unknown setting \"connect2\" (expected version, "
	  "log_level, allow_setuid_exec, defaults, connect or accept)", 0 },
	{ 0, "connect = ( { match = \"10.0.0.1\"; } );",
	  S ":1: bad match \"10.0.0.1\": missing :PORT (expected HOST:PORT, e.g. 127.0.0.1:443)", 0 },
	{ 0, "connect = ( { match = \"::1:443\"; } );",
	  S ":1: bad match \"::1:443\": an IPv6 address must be in brackets (e.g. [::1]:443)", 0 },
	{ 0, "connect = ( { match = 443; } );", S ":1: match: expected a string, got an integer", 0 },
	/* cert_reqs */
	{ 0, C1("cert_reqs = \"CERT_MAYBE\";"),
	  S ":1: cert_reqs: \"CERT_MAYBE\" is not one of CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED", 0 },
	{ 0, C1("cert_reqs = \"cert_none\";"),
	  S ":1: cert_reqs: \"cert_none\" is not one of CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED", 0 },
	{ 0, C1("cert_reqs = 2;"), S ":1: cert_reqs: expected a string, got an integer", 0 },
	{ 0, "defaults = {\n cert_reqs = \"NONE\";\n};",
	  S ":2: cert_reqs: \"NONE\" is not one of CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED", 0 },
	/* ssl_version */
	{ 0, C1("ssl_version = \"PROTOCOL_TLSv9\";"),
	  S ":1: ssl_version: \"PROTOCOL_TLSv9\" is not one of PROTOCOL_SSLv23, PROTOCOL_TLS, "
	  "PROTOCOL_TLSv1, PROTOCOL_TLSv1_1, PROTOCOL_TLSv1_2, PROTOCOL_TLSv1_3, PROTOCOL_SSLv3, "
	  "PROTOCOL_SSLv2", 0 },
	{ 0, C1("ssl_version = \"protocol_tlsv1_2\";"),
	  S ":1: ssl_version: \"protocol_tlsv1_2\" is not one of", 1 },
	{ 0, C1("ssl_version = 5;"), S ":1: ssl_version: expected a string, got an integer", 0 },
	{ 0, C1("ssl_version = \"PROTOCOL_SSLv2\";"),
	  S ":1: ssl_version: PROTOCOL_SSLv2 cannot be spoken: OpenSSL removed SSLv2 in 1.1.0", 0 },
	/* booleans, in rules and in defaults */
	BOOL_ERR("do_handshake_on_connect", "\"yes\"", "a string"),
	BOOL_ERR("do_handshake_on_connect", "1", "an integer"),
	BOOL_ERR("suppress_ragged_eofs", "\"true\"", "a string"),
	BOOL_ERR("suppress_ragged_eofs", "0", "an integer"),
	BOOL_ERR("passthrough", "\"true\"", "a string"),
	BOOL_ERR("passthrough", "1", "an integer"),
	BOOL_ERR("release_buffers", "\"false\"", "a string"),
	BOOL_ERR("release_buffers", "0.5", "a floating-point number"),
	BOOL_ERR("session_cache", "\"no\"", "a string"),
	{ 0, "defaults = {\n\n suppress_ragged_eofs = \"no\";\n};",
	  S ":3: suppress_ragged_eofs: expected true or false, got a string", 0 },
	/* server_hostname */
	{ 0, C1("server_hostname = \"bad name\";"),
	  S ":1: server_hostname: \"bad name\" is not a host name: ' ' is not allowed in a host "
	  "name (letters, digits, '-', '_' and '.')", 0 },
	{ 0, C1("server_hostname = \"\";"),
	  S ":1: server_hostname: \"\" is not a host name: empty host name", 0 },
	{ 0, C1("server_hostname = 1;"), S ":1: server_hostname: expected a string, got an integer", 0 },
	{ 0, "accept = ( { match = \"*:8443\"; " SERVER "\n server_hostname = \"x\"; } );",
	  S ":2: server_hostname is for connect rules only (an accept rule presents its certfile)", 0 },
	/* allow_names, pin_sha256 */
	{ 0, C1("allow_names = \"db.internal\";"),
	  S ":1: allow_names: expected a list of strings such as [\"spiffe://example.org/web\", "
	  "\"*.example.com\"], got a string", 0 },
	{ 0, C1("allow_names = [ ];"), S ":1: allow_names: empty list (it would accept no peer)", 0 },
	{ 0, C1("allow_names = [ 1 ];"), S ":1: allow_names: element 1 is an integer, expected a string", 0 },
	{ 0, C1("allow_names = (\n \"db.internal\",\n \"a.*.example.com\" );"),
	  S ":3: allow_names: \"a.*.example.com\": '*' is allowed only as a whole first label "
	  "(\"*.example.com\")", 0 },
	{ 0, C1("allow_names = [ \"spiffe://example.org/ns/**/x\" ];"),
	  S ":1: allow_names: \"spiffe://example.org/ns/**/x\": \"**\" is allowed only as the last "
	  "segment", 0 },
	{ 0, C1("allow_names = [ \"spiffe://example.org/a?b\" ];"),
	  S ":1: allow_names: \"spiffe://example.org/a?b\": '?': a query or fragment is never "
	  "part of an identity", 0 },
	{ 0, C1("\n allow_names = [ \"CN=\" ];"),
	  S ":2: allow_names: \"CN=\": empty common name after \"CN=\"", 0 },
	{ 0, C1("pin_sha256 = [ \"sha256//not base64\" ];"),
	  S ":1: pin_sha256: \"sha256//not base64\": not base64: character 0x20 at 4", 0 },
	{ 0, C1("pin_sha256 = [ \"AAAA\" ];"),
	  S ":1: pin_sha256: \"AAAA\": decodes to 3 bytes; a SHA-256 digest is 32 (44 base64 "
	  "characters)", 0 },
	{ 0, C1("cert_reqs = \"CERT_NONE\";\n pin_sha256 = [ \"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\" ];"),
	  S ":2: pin_sha256 needs cert_reqs = \"CERT_REQUIRED\" (or CERT_OPTIONAL): with CERT_NONE "
	  "the peer's certificate is not verified", 0 },
	{ 0, "accept = ( { match = \"*:8443\"; " SERVER "\n allow_names = [ \"CN=client\" ]; } );",
	  S ":2: allow_names needs cert_reqs = \"CERT_REQUIRED\" (or CERT_OPTIONAL) and ca_certs on "
	  "an accept rule: with CERT_NONE the peer's certificate is not verified", 0 },
	{ 0, C1("passthrough = true;\n allow_names = [ \"db.internal\" ];"),
	  S ":2: allow_names: a passthrough rule leaves the socket plain and takes no TLS keys", 0 },
	/* ciphers */
	{ 0, C1("ciphers = \"\";"),
	  S ":1: ciphers: empty cipher string (leave ciphers out for OpenSSL's default)", 0 },
	{ 0, C1("ciphers = [ \"HIGH\" ];"), S ":1: ciphers: expected a string, got an array", 0 },
	{ 0, C1("\n ciphers = \"NOPE\";"), S ":2: ciphers: invalid cipher string \"NOPE\"", 1 },
	{ 0, "defaults = {\n ciphers = \"NOPE:ALSO-NOPE\";\n};\n" C1(""),
	  S ":2: ciphers: invalid cipher string \"NOPE:ALSO-NOPE\"", 1 },
	/* alpn */
	{ 0, C1("alpn = \"h2\";"),
	  S ":1: alpn: expected a list of strings such as [\"h2\", \"http/1.1\"], got a string", 0 },
	{ 0, C1("alpn = [ ];"), S ":1: alpn: empty list (leave alpn out to offer none)", 0 },
	{ 0, C1("alpn = ( \"h2\", 1 );"), S ":1: alpn: element 2 is an integer, expected a string", 0 },
	{ 0, C1("alpn = ( ( \"h2\" ) );"), S ":1: alpn: element 1 is a list, expected a string", 0 },
	{ 0, C1("alpn = [ \"h2\", \"\" ];"), S ":1: alpn: \"\" must be 1 to 255 bytes long", 0 },
	/* handshake_timeout */
	{ 0, C1("handshake_timeout = 0;"), S ":1: handshake_timeout: 0 is out of range " RANGE, 0 },
	{ 0, C1("handshake_timeout = 0.0;"), S ":1: handshake_timeout: 0 is out of range " RANGE, 0 },
	{ 0, C1("handshake_timeout = -1.5;"),
	  S ":1: handshake_timeout: -1.5 is out of range " RANGE, 0 },
	{ 0, C1("handshake_timeout = 86401;"),
	  S ":1: handshake_timeout: 86401 is out of range " RANGE, 0 },
	{ 0, C1("handshake_timeout = 100000000000L;"),
	  S ":1: handshake_timeout: 1e+11 is out of range " RANGE, 0 },
	{ 0, C1("handshake_timeout = \"5\";"),
	  S ":1: handshake_timeout: expected a number of seconds, got a string", 0 },
	{ 0, "defaults = { handshake_timeout = true; };",
	  S ":1: handshake_timeout: expected a number of seconds, got a boolean", 0 },
	/* files */
	{ 0, C1("certfile = \"@DIR@/missing.pem\";"),
	  S ":1: certfile: cannot open \"@DIR@/missing.pem\": No such file or directory", 0 },
	{ 0, C1("certfile = \"\";"), S ":1: certfile: empty file name", 0 },
	{ 0, C1("certfile = 7;"), S ":1: certfile: expected a string, got an integer", 0 },
	{ 0, C1("certfile = \"@DIR@\";"), S ":1: certfile: \"@DIR@\" is not a regular file", 0 },
	{ 0, C1("certfile = \"/dev/null\";"), S ":1: certfile: \"/dev/null\" is not a regular file", 0 },
	{ 0, C1("certfile = \"@CERTS@/server.pem\";\n keyfile = \"@DIR@/nokey\";"),
	  S ":2: keyfile: cannot open \"@DIR@/nokey\": No such file or directory", 0 },
	{ 0, "defaults = {\n\n ca_certs = \"@DIR@/noca.pem\";\n};",
	  S ":3: ca_certs: cannot open \"@DIR@/noca.pem\": No such file or directory", 0 },
	{ 1, C1("ca_certs = \"nope.pem\";"),
	  "@FILE@:1: ca_certs: cannot open \"@DIR@/nope.pem\": No such file or directory", 0 },
	{ 0, C1("\ncertfile = \"@DIR@/broken.pem\";"),
	  S ":2: certfile: cannot load certificate from @DIR@/broken.pem", 1 },
	{ 0, "defaults = {\n certfile = \"@DIR@/broken.pem\";\n};\n" C1(""),
	  S ":2: certfile: cannot load certificate from @DIR@/broken.pem", 1 },
	{ 0, C1("\nca_certs = \"@DIR@/broken.pem\";"),
	  S ":2: ca_certs: cannot load CA certificates from @DIR@/broken.pem", 1 },
	{ 0, C1("certfile = \"@CERTS@/server.pem\";\n keyfile = \"@DIR@/broken.pem\";"),
	  S ":2: keyfile: cannot load private key from @DIR@/broken.pem", 1 },
	/* two bad files: the line of the one the reason is about (the core's
	 * error names its option), not the first key that fails alone */
	{ 0, C1("\nca_certs = \"@DIR@/broken.pem\"; certfile = \"@CERTS@/server.pem\";\n"
	        " keyfile = \"@CERTS@/server.pem\";"),
	  S ":3: keyfile: cannot load private key from @CERTS@/server.pem", 1 },
	{ 0, C1("\ncrl_file = \"@DIR@/broken.pem\";"),
	  S ":2: crl_file: cannot load CRLs from @DIR@/broken.pem", 1 },
	{ 0, "defaults = {\n crl_file = \"@CERTS@/ca.pem\";\n};\n" C1(""),
	  S ":2: crl_file: cannot load CRLs from @CERTS@/ca.pem: no PEM CRL (X509 CRL) in it", 0 },
	{ 0, "accept = ( { match = \"*:1\"; certfile = \"@CERTS@/server.pem\";\n"
	     " keyfile = \"@CERTS@/client.key\"; } );",
	  S ":2: keyfile: private key in @CERTS@/client.key does not match the certificate in "
	  "@CERTS@/server.pem", 1 },
	{ 0, "accept = ( { match = \"*:1\";\n certfile = \"@CERTS@/server.pem\"; } );",
	  S ":2: certfile: cannot load private key from @CERTS@/server.pem", 1 },
	/* rule-level requirements */
	{ 0, "connect = ( { match = \"*:1\";\n keyfile = \"@CERTS@/client.key\"; } );",
	  S ":2: keyfile needs certfile (the certificate that goes with the key)", 0 },
	{ 0, "accept = (\n { match = \"*:8443\"; }\n);",
	  S ":2: accept rule 1 (\"*:8443\") needs certfile (the server's certificate chain, PEM)", 0 },
	{ 0, "accept = ( { match = \"*:8443\"; " SERVER "\n cert_reqs = \"CERT_REQUIRED\"; } );",
	  S ":2: cert_reqs: CERT_REQUIRED on an accept rule needs ca_certs (the CAs that issue "
	  "client certificates)", 0 },
	{ 0, "defaults = {\n cert_reqs = \"CERT_OPTIONAL\";\n};\n"
	     "accept = ( { match = \"*:8443\"; " SERVER " } );",
	  S ":2: cert_reqs: CERT_OPTIONAL on an accept rule needs ca_certs (the CAs that issue "
	  "client certificates)", 0 },
	{ 0, "connect = ( { match = \"*:1\"; passthrough = true;\n ca_certs = \"@CERTS@/ca.pem\"; } );",
	  S ":2: ca_certs: a passthrough rule leaves the socket plain and takes no TLS keys", 0 },
	{ 0, "accept = ( { match = \"*:1\"; passthrough = true; cert_reqs = \"CERT_NONE\"; } );",
	  S ":1: cert_reqs: a passthrough rule leaves the socket plain and takes no TLS keys", 0 },
	/* the file's name and lines; the string's errors come first */
	{ 1, "version = 1;\n\nconnect = ( { match = \"x\"; } );",
	  "@FILE@:3: bad match \"x\": missing :PORT (expected HOST:PORT, e.g. 127.0.0.1:443)", 0 },
	{ 1, "# a comment\nlog_level = \"loud\";",
	  "@FILE@:2: log_level: \"loud\" is not one of error, warn, info, debug", 0 },
};

static void assert_fields_make_msg(const struct cfg_error *e);
static const char *cfgt_write_path(const char *name);

START_TEST(config_error)
{
	const struct err_case *c = &errs[_i];
	struct cfg_error err;
	struct cfg_ruleset *rs;
	char *want = cfgt_expand(c->msg);

	memset(&err, 'x', sizeof err);
	if (c->from_file) {
		const char *path = cfgt_write("app.conf", c->text);
		rs = cfg_load(NULL, path, &cfg_core_checks, &err);
	} else {
		char *text = cfgt_expand(c->text);
		rs = cfg_load(text, NULL, &cfg_core_checks, &err);
		free(text);
	}
	ck_assert_msg(rs == NULL, "loaded: %s", c->text);
	if (c->prefix)
		ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "got  %s\nwant %s...",
		              err.msg, want);
	else
		ck_assert_str_eq(err.msg, want);
	/* The fields say where, as the text does. */
	ck_assert_int_eq(err.source, c->from_file ? CFG_ERR_FILE : CFG_ERR_STRING);
	ck_assert_str_eq(err.where, c->from_file ? cfgt_write_path("app.conf") : S);
	assert_fields_make_msg(&err);
	free(want);
}
END_TEST

/* where, line and what put together give msg, for every error. */
static void assert_fields_make_msg(const struct cfg_error *e)
{
	char rebuilt[1200];
	ck_assert_uint_lt(e->what, sizeof e->msg);
	ck_assert_ptr_nonnull(memchr(e->where, '\0', sizeof e->where));
	ck_assert_ptr_nonnull(memchr(e->option_file, '\0', sizeof e->option_file));
	if (e->line > 0)
		snprintf(rebuilt, sizeof rebuilt, "%s:%d: %s", e->where, e->line, e->msg + e->what);
	else if (e->where[0])
		snprintf(rebuilt, sizeof rebuilt, "%s: %s", e->where, e->msg + e->what);
	else
		snprintf(rebuilt, sizeof rebuilt, "%s", e->msg + e->what);
	ck_assert_str_eq(rebuilt, e->msg);
}

/* Each version either loads or says why this OpenSSL cannot speak it, in
 * the core's words. */
static const struct {
	const char *name;
	enum sslsocket_protocol v;
} versions[] = {
	{ "PROTOCOL_SSLv2", SSLSOCKET_PROTOCOL_SSLv2 },
	{ "PROTOCOL_SSLv3", SSLSOCKET_PROTOCOL_SSLv3 },
	{ "PROTOCOL_TLSv1", SSLSOCKET_PROTOCOL_TLSv1 },
	{ "PROTOCOL_TLSv1_1", SSLSOCKET_PROTOCOL_TLSv1_1 },
	{ "PROTOCOL_TLSv1_2", SSLSOCKET_PROTOCOL_TLSv1_2 },
	{ "PROTOCOL_TLSv1_3", SSLSOCKET_PROTOCOL_TLSv1_3 },
	{ "PROTOCOL_SSLv23", SSLSOCKET_PROTOCOL_SSLv23 },
};

START_TEST(config_version_supported)
{
	char text[256], want[600];
	struct cfg_error err;
	struct sslsocket_error why;
	memset(&why, 0, sizeof why);
	int can = sslsocket_protocol_supported(versions[_i].v, &why) == 0;
	snprintf(text, sizeof text, "defaults = {\n ssl_version = \"%s\";\n};\n"
	         "connect = ( { match = \"*:1\"; cert_reqs = \"CERT_NONE\"; } );", versions[_i].name);
	struct cfg_ruleset *rs = cfg_load(text, NULL, &cfg_core_checks, &err);
	if (can) {
		ck_assert_msg(rs != NULL, "%s", err.msg);
		ck_assert_int_eq(rs->rules[0].opts.ssl_version, versions[_i].v);
		cfg_ruleset_free(rs);
	} else {
		ck_assert_ptr_null(rs);
		snprintf(want, sizeof want, S ":2: ssl_version: %s", why.reason);
		ck_assert_str_eq(err.msg, want);
		ck_assert_ptr_nonnull(strstr(err.msg, versions[_i].name));
	}
}
END_TEST

START_TEST(config_file_io_errors)
{
	struct cfg_error err;
	char path[400], want[600];

	snprintf(path, sizeof path, "%s/nope.conf", cfgt_dir);
	ck_assert_ptr_null(cfg_load(NULL, path, &cfg_core_checks, &err));
	snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
	ck_assert_str_eq(err.msg, want);

	ck_assert_ptr_null(cfg_load(NULL, cfgt_dir, &cfg_core_checks, &err));
	snprintf(want, sizeof want, "%s: is a directory, expected a libconfig file", cfgt_dir);
	ck_assert_str_eq(err.msg, want);

	/* the string's syntax error is reported before the file's */
	const char *file = cfgt_write("app.conf", "version = 1;\nconnect = (\n");
	ck_assert_ptr_null(cfg_load("version = ;", file, &cfg_core_checks, &err));
	ck_assert_str_eq(err.msg, S ":1: syntax error");

	/* an error inside an @include'd file names that file */
	cfgt_write("inc.conf", "\nconnect = ( { match = \"nope\"; } );\n");
	file = cfgt_write("app.conf", "version = 1;\n@include \"inc.conf\"\n");
	ck_assert_ptr_null(cfg_load(NULL, file, &cfg_core_checks, &err));
	snprintf(want, sizeof want, "%s/inc.conf:2: bad match \"nope\": missing :PORT "
	         "(expected HOST:PORT, e.g. 127.0.0.1:443)", cfgt_dir);
	ck_assert_str_eq(err.msg, want);

	/* err may be NULL */
	ck_assert_ptr_null(cfg_load("version = 2;", NULL, &cfg_core_checks, NULL));
}
END_TEST

static const char *cfgt_write_path(const char *name)
{
	static char path[400];
	snprintf(path, sizeof path, "%s/%s", cfgt_dir, name);
	return path;
}

/* The fields of struct cfg_error, which the launcher reads instead of the
 * text: in the string, ... */
START_TEST(config_error_fields_string)
{
	struct cfg_error err;
	memset(&err, 'x', sizeof err);
	ck_assert_ptr_null(cfg_load("connect = (\n { match = \"*:1\"; passthrough = true; },\n"
	                            " { cert_reqs = \"CERT_NONE\"; }\n);", NULL, &cfg_core_checks,
	                            &err));
	ck_assert_int_eq(err.source, CFG_ERR_STRING);
	ck_assert_str_eq(err.where, S);
	ck_assert_int_eq(err.line, 3);
	ck_assert_str_eq(err.msg + err.what, "connect rule 2 has no match (expected "
	                 "match = \"HOST:PORT\")");
	ck_assert_int_eq(err.option, SSLSOCKET_OPT_NONE);
	ck_assert_str_eq(err.option_file, "");
	assert_fields_make_msg(&err);

	/* libconfig's own (syntax) errors too */
	ck_assert_ptr_null(cfg_load("version = 1;\nconnect = ( { match = ; } );", NULL,
	                            &cfg_core_checks, &err));
	ck_assert_int_eq(err.source, CFG_ERR_STRING);
	ck_assert_str_eq(err.where, S);
	ck_assert_int_eq(err.line, 2);
	ck_assert_str_eq(err.msg + err.what, "syntax error");
	assert_fields_make_msg(&err);
}
END_TEST

/* ... in a file, ... */
START_TEST(config_error_fields_file)
{
	struct cfg_error err;
	const char *path = cfgt_write("app.conf", "version = 1;\n\nconnect = ( { match = \"x\"; } );");
	memset(&err, 'x', sizeof err);
	ck_assert_ptr_null(cfg_load("version = 1;", path, &cfg_core_checks, &err));
	ck_assert_int_eq(err.source, CFG_ERR_FILE);
	ck_assert_str_eq(err.where, path);
	ck_assert_int_eq(err.line, 3);
	ck_assert_str_eq(err.msg + err.what, "bad match \"x\": missing :PORT (expected HOST:PORT, "
	                 "e.g. 127.0.0.1:443)");
	ck_assert_int_eq(err.option, SSLSOCKET_OPT_NONE);
	assert_fields_make_msg(&err);

	/* a file that cannot be read: no line */
	char nope[400];
	snprintf(nope, sizeof nope, "%s/nope.conf", cfgt_dir);
	ck_assert_ptr_null(cfg_load(NULL, nope, &cfg_core_checks, &err));
	ck_assert_int_eq(err.source, CFG_ERR_FILE);
	ck_assert_str_eq(err.where, nope);
	ck_assert_int_eq(err.line, 0);
	ck_assert_str_eq(err.msg + err.what, "cannot open: No such file or directory");
	assert_fields_make_msg(&err);

	/* a file named like the string's source is a file all the same */
	path = cfgt_write("TLSSHIM_CONFIG_STRING:1:x.conf", "version = 1;\nbogus = 1;\n");
	ck_assert_ptr_null(cfg_load(NULL, path, &cfg_core_checks, &err));
	ck_assert_int_eq(err.source, CFG_ERR_FILE);
	ck_assert_str_eq(err.where, path);
	ck_assert_int_eq(err.line, 2);
	assert_fields_make_msg(&err);
}
END_TEST

/* ... in an @include'd file (a bad value, a syntax error, a missing
 * include: the file that has the line), ... */
START_TEST(config_error_fields_include)
{
	struct cfg_error err;
	char inc[400];
	snprintf(inc, sizeof inc, "%s/inc.conf", cfgt_dir);

	cfgt_write("inc.conf", "\nconnect = ( { match = \"nope\"; } );\n");
	const char *file = cfgt_write("app.conf", "version = 1;\n@include \"inc.conf\"\n");
	memset(&err, 'x', sizeof err);
	ck_assert_ptr_null(cfg_load(NULL, file, &cfg_core_checks, &err));
	ck_assert_int_eq(err.source, CFG_ERR_FILE);
	ck_assert_str_eq(err.where, inc);
	ck_assert_int_eq(err.line, 2);
	assert_fields_make_msg(&err);

	cfgt_write("inc.conf", "\n\nconnect = (\n");
	memset(&err, 'x', sizeof err);
	ck_assert_ptr_null(cfg_load(NULL, file, &cfg_core_checks, &err));
	ck_assert_int_eq(err.source, CFG_ERR_FILE);
	ck_assert_str_eq(err.where, inc);
	ck_assert_int_eq(err.line, 4);
	ck_assert_str_eq(err.msg + err.what, "syntax error");
	assert_fields_make_msg(&err);

	/* the string may @include a file (relative to the current directory) */
	char text[600];
	snprintf(text, sizeof text, "@include \"%s\"", inc);
	cfgt_write("inc.conf", "\nconnect = ( { match = \"nope\"; } );\n");
	memset(&err, 'x', sizeof err);
	ck_assert_ptr_null(cfg_load(text, NULL, &cfg_core_checks, &err));
	ck_assert_int_eq(err.source, CFG_ERR_FILE);
	ck_assert_str_eq(err.where, inc);
	ck_assert_int_eq(err.line, 2);
	assert_fields_make_msg(&err);
}
END_TEST

/* ... and the option, with its file, that a problem is about: a file that
 * is not there, one the core cannot load, a rule-level requirement. */
START_TEST(config_error_fields_option)
{
	struct cfg_error err;
	char *text, want[600];

	memset(&err, 'x', sizeof err);
	text = cfgt_expand(C1("\n ca_certs = \"@DIR@/noca.pem\";"));
	ck_assert_ptr_null(cfg_load(text, NULL, &cfg_core_checks, &err));
	free(text);
	ck_assert_int_eq(err.source, CFG_ERR_STRING);
	ck_assert_int_eq(err.line, 2);
	ck_assert_int_eq(err.option, SSLSOCKET_OPT_CA_CERTS);
	snprintf(want, sizeof want, "%s/noca.pem", cfgt_dir);
	ck_assert_str_eq(err.option_file, want);
	assert_fields_make_msg(&err);

	/* the core's error, in a file: the key's line and the core's option */
	const char *path = cfgt_write("app.conf", "accept = ( { match = \"*:1\";\n"
	                              " certfile = \"@CERTS@/server.pem\";\n"
	                              " keyfile = \"@CERTS@/client.key\"; } );");
	memset(&err, 'x', sizeof err);
	ck_assert_ptr_null(cfg_load(NULL, path, &cfg_core_checks, &err));
	ck_assert_int_eq(err.source, CFG_ERR_FILE);
	ck_assert_str_eq(err.where, path);
	ck_assert_int_eq(err.line, 3);
	ck_assert_int_eq(err.option, SSLSOCKET_OPT_KEYFILE);
	ck_assert_str_eq(err.option_file, tu_cert("client.key"));
	assert_fields_make_msg(&err);

	/* a key not in the core's list of options, and a value that is no file */
	memset(&err, 'x', sizeof err);
	ck_assert_ptr_null(cfg_load(C1("\n cert_reqs = \"CERT_MAYBE\";"), NULL, &cfg_core_checks,
	                            &err));
	ck_assert_int_eq(err.option, SSLSOCKET_OPT_CERT_REQS);
	ck_assert_str_eq(err.option_file, "");
	assert_fields_make_msg(&err);
	memset(&err, 'x', sizeof err);
	ck_assert_ptr_null(cfg_load("accept = ( { match = \"*:1\"; passthrough = true;\n"
	                            " allow_plaintext = true; } );", NULL, &cfg_core_checks, &err));
	ck_assert_int_eq(err.line, 2);
	ck_assert_int_eq(err.option, SSLSOCKET_OPT_NONE);
	assert_fields_make_msg(&err);
}
END_TEST

/* The environment's own variables. */
START_TEST(config_error_fields_env)
{
	struct cfg_error err;
	setenv("TLSSHIM_CONFIG_STRING", C1("cert_reqs = \"CERT_NONE\";"), 1);
	setenv("TLSSHIM_LOG", "loud", 1);
	memset(&err, 'x', sizeof err);
	ck_assert_ptr_null(cfg_load_env(&cfg_core_checks, &err));
	unsetenv("TLSSHIM_LOG");
	unsetenv("TLSSHIM_CONFIG_STRING");
	ck_assert_str_eq(err.msg, "TLSSHIM_LOG: \"loud\" is not one of error, warn, info, debug");
	ck_assert_int_eq(err.source, CFG_ERR_ENV);
	ck_assert_str_eq(err.where, "TLSSHIM_LOG");
	ck_assert_int_eq(err.line, 0);
	assert_fields_make_msg(&err);
}
END_TEST

Suite *config_errors_suite(void)
{
	Suite *s = suite_create("config_errors");
	TCase *tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, cfgt_setup, cfgt_teardown);
	tcase_add_loop_test(tc, config_error, 0, (int)(sizeof errs / sizeof errs[0]));
	tcase_add_loop_test(tc, config_version_supported, 0,
	                    (int)(sizeof versions / sizeof versions[0]));
	tcase_add_test(tc, config_file_io_errors);
	tcase_add_test(tc, config_error_fields_string);
	tcase_add_test(tc, config_error_fields_file);
	tcase_add_test(tc, config_error_fields_include);
	tcase_add_test(tc, config_error_fields_option);
	tcase_add_test(tc, config_error_fields_env);
	suite_add_tcase(s, tc);
	return s;
}
