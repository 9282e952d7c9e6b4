/* The launcher's logic (preload/launcher/, but launcher.c's main):
 * libconfig quoting, paths, option names, the rules text and how config/
 * reads it back, error mapping, HOST:PORT, LD_PRELOAD, PATH search and the
 * ELF checks on programs that are at hand.
 *
 * The Makefile links the launcher objects (all of preload/launcher/ but
 * launcher.c) into the unit runner. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "launcher.h"
#include "ossl_lazy.h"
#include "testutil.h"

/* ---- quoting ------------------------------------------------------------- */

static const struct {
	const char *in, *out;
} quotes[] = {
	{ "", "\"\"" },
	{ "plain", "\"plain\"" },
	{ "a\"b", "\"a\\\"b\"" },
	{ "back\\slash", "\"back\\\\slash\"" },
	{ "sp ace", "\"sp ace\"" },
	{ "new\nline\ttab", "\"new\\x0aline\\x09tab\"" },
	{ "del\x7f", "\"del\\x7f\"" },
	{ "\xc3\xa9t\xc3\xa9", "\"\xc3\xa9t\xc3\xa9\"" }, /* UTF-8 as is */
	{ "*:443", "\"*:443\"" },
};

START_TEST(test_quote)
{
	struct launch_buf b = { 0 };
	launch_buf_quote(&b, quotes[_i].in);
	ck_assert(!b.failed);
	ck_assert_str_eq(b.data, quotes[_i].out);
	launch_buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

/* Quoted names read back through libconfig (via config/, which also loads
 * the file) as the original bytes: file names with a quote, a backslash, a
 * space, a newline and UTF-8. */
START_TEST(test_quote_roundtrip)
{
	const char *names[] = { "we\"ird.pem", "back\\slash.pem", "sp ace.pem", "new\nline.pem",
	                        "\xc3\xa9t\xc3\xa9.pem" };
	char dir[] = "/tmp/tlsshim-quote.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		FILE *in = fopen(tu_cert("server-combined.pem"), "rb"), *out = fopen(path, "wb");
		ck_assert_msg(in && out, "%s", path);
		int c;
		while ((c = fgetc(in)) != EOF)
			fputc(c, out);
		fclose(in);
		ck_assert_int_eq(fclose(out), 0);

		struct launch_buf b = { 0 };
		launch_buf_puts(&b, "accept = ( { match = \"*:1\"; certfile = ");
		launch_buf_quote(&b, path);
		launch_buf_puts(&b, "; } );");
		struct cfg_error err = { 0 };
		struct cfg_ruleset *rs = cfg_load(b.data, NULL, &cfg_core_checks, &err);
		ck_assert_msg(rs != NULL, "%s: %s", b.data, err.msg);
		ck_assert_str_eq(rs->rules[0].opts.certfile, path);
		cfg_ruleset_free(rs);
		launch_buf_free(&b);
		ck_assert_int_eq(unlink(path), 0);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ---- paths and names ----------------------------------------------------- */

START_TEST(test_abspath)
{
	char *cwd = getcwd(NULL, 0), want[4096], *p;
	ck_assert_ptr_nonnull(cwd);
	p = launch_abspath("/etc/passwd");
	ck_assert_str_eq(p, "/etc/passwd");
	free(p);
	p = launch_abspath("ca.pem");
	snprintf(want, sizeof want, "%s/ca.pem", cwd);
	ck_assert_str_eq(p, want);
	free(p);
	p = launch_abspath("././/dir/ca.pem");
	snprintf(want, sizeof want, "%s/dir/ca.pem", cwd);
	ck_assert_str_eq(p, want);
	free(p);
	p = launch_abspath("../x");
	snprintf(want, sizeof want, "%s/../x", cwd);
	ck_assert_str_eq(p, want);
	free(p);
	errno = 0;
	ck_assert_ptr_null(launch_abspath(""));
	ck_assert_int_eq(errno, EINVAL);
	free(cwd);
}
END_TEST

START_TEST(test_cert_reqs_names)
{
	ck_assert_str_eq(launch_cert_reqs_name("none"), "CERT_NONE");
	ck_assert_str_eq(launch_cert_reqs_name("NONE"), "CERT_NONE");
	ck_assert_str_eq(launch_cert_reqs_name("optional"), "CERT_OPTIONAL");
	ck_assert_str_eq(launch_cert_reqs_name("Required"), "CERT_REQUIRED");
	ck_assert_str_eq(launch_cert_reqs_name("CERT_REQUIRED"), "CERT_REQUIRED");
	ck_assert_str_eq(launch_cert_reqs_name("cert_optional"), "CERT_OPTIONAL");
	ck_assert_ptr_null(launch_cert_reqs_name("sometimes"));
	ck_assert_ptr_null(launch_cert_reqs_name("CERT_"));
	ck_assert_ptr_null(launch_cert_reqs_name(""));
	ck_assert_ptr_null(launch_cert_reqs_name(NULL));
}
END_TEST

START_TEST(test_ssl_version_names)
{
	char *v = launch_ssl_version_name("TLSv1_2");
	ck_assert_str_eq(v, "PROTOCOL_TLSv1_2");
	free(v);
	v = launch_ssl_version_name("PROTOCOL_SSLv23");
	ck_assert_str_eq(v, "PROTOCOL_SSLv23");
	free(v);
	v = launch_ssl_version_name("TLS");
	ck_assert_str_eq(v, "PROTOCOL_TLS");
	free(v);
	ck_assert_ptr_null(launch_ssl_version_name("PROTOCOL_"));
	ck_assert_ptr_null(launch_ssl_version_name(""));
	ck_assert_ptr_null(launch_ssl_version_name(NULL));
}
END_TEST

/* ---- the rules text ------------------------------------------------------ */

START_TEST(test_rules_text_reads_back)
{
	const char *connect[] = { "127.0.0.1:4433", "[::1]:4433" };
	const char *accept[] = { "*:8443" };
	struct launch_opts o = {
		.connect = connect, .n_connect = 2, .accept = accept, .n_accept = 1,
		.certfile = tu_cert("server.pem"), .keyfile = tu_cert("server.key"),
		.ca_certs = tu_cert("ca.pem"), .cert_reqs = "optional", .ssl_version = "TLSv1_2",
		.server_hostname = "localhost", .lazy_handshake = 1, .no_suppress_ragged_eofs = 1,
	};
	char err[LAUNCH_ERRLEN];
	char *text = launch_rules_text(&o, err, sizeof err);
	ck_assert_msg(text != NULL, "%s", err);
	/* One line per rule, no newline at the end. */
	size_t lines = 1;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	ck_assert_uint_eq(lines, 3);
	ck_assert(text[strlen(text) - 1] != '\n');

	struct cfg_error cerr = { 0 };
	struct cfg_ruleset *rs = cfg_load(text, NULL, &launch_cfg_checks, &cerr);
	ck_assert_msg(rs != NULL, "%s\n%s", cerr.msg, text);
	ck_assert_uint_eq(rs->count, 3);
	for (size_t i = 0; i < 3; i++) {
		const struct cfg_rule *r = &rs->rules[i];
		ck_assert_int_eq(r->side, i < 2 ? CFG_CONNECT : CFG_ACCEPT);
		ck_assert_int_eq(r->line, (int)i + 1);
		ck_assert_str_eq(r->match_text, i == 0 ? "127.0.0.1:4433" : i == 1 ? "[::1]:4433" : "*:8443");
		ck_assert_str_eq(r->opts.certfile, tu_cert("server.pem"));
		ck_assert_str_eq(r->opts.keyfile, tu_cert("server.key"));
		ck_assert_str_eq(r->opts.ca_certs, tu_cert("ca.pem"));
		ck_assert_int_eq(r->opts.cert_reqs, SSLSOCKET_CERT_OPTIONAL);
		ck_assert_int_eq(r->opts.ssl_version, SSLSOCKET_PROTOCOL_TLSv1_2);
		ck_assert_int_eq(r->opts.do_handshake_on_connect, 0);
		ck_assert_int_eq(r->opts.suppress_ragged_eofs, 0);
		if (i < 2)
			ck_assert_str_eq(r->opts.server_hostname, "localhost");
		else
			ck_assert_ptr_null(r->opts.server_hostname);
	}
	cfg_ruleset_free(rs);
	free(text);
}
END_TEST

START_TEST(test_rules_text_defaults_left_to_config)
{
	const char *connect[] = { "127.0.0.1:1" };
	struct launch_opts o = { .connect = connect, .n_connect = 1 };
	char err[LAUNCH_ERRLEN];
	char *text = launch_rules_text(&o, err, sizeof err);
	ck_assert_str_eq(text, "connect = ( { match = \"127.0.0.1:1\"; } );");
	free(text);
	/* No rules: an empty text. */
	struct launch_opts none = { 0 };
	text = launch_rules_text(&none, err, sizeof err);
	ck_assert_str_eq(text, "");
	free(text);
}
END_TEST

START_TEST(test_rules_usage_errors)
{
	char err[LAUNCH_ERRLEN];
	struct launch_opts o = { .ca_certs = "ca.pem" };
	ck_assert_int_eq(launch_rules_usage(&o, err, sizeof err), -1);
	ck_assert_str_eq(err, "--ca-certs applies to the command-line rules, but there is no "
	                 "--connect or --accept");
	ck_assert_ptr_null(launch_rules_text(&o, err, sizeof err));

	const char *accept[] = { "*:1" };
	struct launch_opts s = { .accept = accept, .n_accept = 1, .server_hostname = "x" };
	ck_assert_int_eq(launch_rules_usage(&s, err, sizeof err), -1);
	ck_assert_str_eq(err, "--server-hostname applies to client rules, but there is no --connect");

	struct launch_opts l = { .lazy_handshake = 1 };
	ck_assert_int_eq(launch_rules_usage(&l, err, sizeof err), -1);
	ck_assert(strstr(err, "--lazy-handshake") == err);

	struct launch_opts fine = { .accept = accept, .n_accept = 1, .certfile = "c.pem" };
	ck_assert_int_eq(launch_rules_usage(&fine, err, sizeof err), 0);
}
END_TEST

START_TEST(test_rules_value_errors)
{
	char err[LAUNCH_ERRLEN];
	const char *connect[] = { "127.0.0.1:1" };
	struct launch_opts o = { .connect = connect, .n_connect = 1, .cert_reqs = "sometimes" };
	ck_assert_ptr_null(launch_rules_text(&o, err, sizeof err));
	ck_assert_str_eq(err, "--cert-reqs sometimes: expected none, optional or required");
	struct launch_opts v = { .connect = connect, .n_connect = 1, .ssl_version = "PROTOCOL_" };
	ck_assert_ptr_null(launch_rules_text(&v, err, sizeof err));
	ck_assert(strstr(err, "--ssl-version 'PROTOCOL_'") == err);
}
END_TEST

/* A cfg_error as config/ makes it: "WHERE:LINE: what", or "WHERE: what"
 * when line < 0. */
static struct cfg_error explain_err(int source, const char *where, int line, const char *what)
{
	struct cfg_error e;
	memset(&e, 0, sizeof e);
	e.source = source;
	snprintf(e.where, sizeof e.where, "%s", where);
	int n = line < 0 ? snprintf(e.msg, sizeof e.msg, "%s: ", where)
	                 : snprintf(e.msg, sizeof e.msg, "%s:%d: ", where, line);
	e.what = (size_t)n;
	e.line = line > 0 ? line : 0;
	snprintf(e.msg + n, sizeof e.msg - (size_t)n, "%s", what);
	return e;
}

START_TEST(test_explain_error)
{
	const char *connect[] = { "127.0.0.1:1", "10.0.0.0/8:*" };
	const char *accept[] = { "*:8443" };
	struct launch_opts o = { .connect = connect, .n_connect = 2, .accept = accept, .n_accept = 1 };
	char out[LAUNCH_ERRLEN];
	struct cfg_error e = explain_err(CFG_ERR_STRING, "TLSSHIM_CONFIG_STRING", 1,
	                                 "ca_certs: cannot open");
	launch_explain_error(&o, &e, out, sizeof out);
	ck_assert_str_eq(out, "--connect '127.0.0.1:1': ca_certs: cannot open");
	e = explain_err(CFG_ERR_STRING, "TLSSHIM_CONFIG_STRING", 2, "bad");
	launch_explain_error(&o, &e, out, sizeof out);
	ck_assert_str_eq(out, "--connect '10.0.0.0/8:*': bad");
	e = explain_err(CFG_ERR_STRING, "TLSSHIM_CONFIG_STRING", 3, "needs certfile");
	launch_explain_error(&o, &e, out, sizeof out);
	ck_assert_str_eq(out, "--accept '*:8443': needs certfile");
	e = explain_err(CFG_ERR_STRING, "TLSSHIM_CONFIG_STRING", 9, "odd");
	launch_explain_error(&o, &e, out, sizeof out);
	ck_assert_str_eq(out, "command line: odd");
	e = explain_err(CFG_ERR_STRING, "TLSSHIM_CONFIG_STRING", -1, "no line");
	launch_explain_error(&o, &e, out, sizeof out);
	ck_assert_str_eq(out, "command line: no line");
	e = explain_err(CFG_ERR_FILE, "/etc/app.conf", 4, "unknown key");
	launch_explain_error(&o, &e, out, sizeof out);
	ck_assert_str_eq(out, "/etc/app.conf:4: unknown key");
	/* What the error is about decides, not how its text begins: a file
	 * named like the string, and an environment variable. */
	e = explain_err(CFG_ERR_FILE, "TLSSHIM_CONFIG_STRING:1:x.conf", 2, "unknown key");
	launch_explain_error(&o, &e, out, sizeof out);
	ck_assert_str_eq(out, "TLSSHIM_CONFIG_STRING:1:x.conf:2: unknown key");
	e = explain_err(CFG_ERR_ENV, "TLSSHIM_LOG", -1, "\"loud\" is not one of error, warn, "
	                "info, debug");
	launch_explain_error(&o, &e, out, sizeof out);
	ck_assert_str_eq(out, e.msg);
}
END_TEST

/* The real chain: config/ reports a line of the generated text, which maps
 * back to the option. */
START_TEST(test_explain_real_error)
{
	const char *connect[] = { "127.0.0.1:1" };
	const char *accept[] = { "*:8443" };
	struct launch_opts o = { .connect = connect, .n_connect = 1, .accept = accept, .n_accept = 1 };
	char err[LAUNCH_ERRLEN], out[LAUNCH_ERRLEN];
	char *text = launch_rules_text(&o, err, sizeof err);
	ck_assert_ptr_nonnull(text);
	struct cfg_error cerr = { 0 };
	ck_assert_ptr_null(cfg_load(text, NULL, &launch_cfg_checks, &cerr)); /* the accept rule has no certfile */
	launch_explain_error(&o, &cerr, out, sizeof out);
	ck_assert_str_eq(out, "--accept '*:8443': accept rule 1 (\"*:8443\") needs certfile (the "
	                 "server's certificate chain, PEM)");
	free(text);
}
END_TEST

/* ---- the loader's checks ------------------------------------------------ */

/* The launcher's checks (the core's OpenSSL-free reading and quick check,
 * libsslsocket.so for the rest) and the interposer's (the same, OpenSSL
 * opened on first need: preload/ossl_lazy.c) accept and refuse what the
 * whole core does, with the same words and warnings: a configuration the
 * launcher lets through starts under the interposer. */
static const struct {
	int loads;        /* 1 loads, 0 is refused, -1 up to this OpenSSL */
	const char *text; /* @: the certificates' directory */
} checked_confs[] = {
	{ 1, "accept = ( { match = \"*:1\"; certfile = \"@/server.pem\"; keyfile = \"@/server.key\"; } );" },
	{ 0, "accept = ( { match = \"*:1\"; certfile = \"@/server.pem\"; keyfile = \"@/rsa.key\"; } );" },
	{ 0, "accept = ( { match = \"*:1\"; certfile = \"@/ca.key\"; } );" },
	{ 1, "connect = ( { match = \"*:1\"; ca_certs = \"@/ca.pem\"; } );" },
	{ 0, "connect = ( { match = \"*:1\"; ca_certs = \"@/server.key\"; } );" },
	{ 0, "connect = ( { match = \"*:1\"; ca_certs = \"@/no-such.pem\"; } );" },
	{ 0, "connect = ( { match = \"*:1\"; cert_reqs = \"CERT_NONE\"; ciphers = \"NO-SUCH-CIPHER\"; } );" },
	{ 1, "connect = ( { match = \"*:1\"; cert_reqs = \"CERT_NONE\"; ciphers = \"HIGH\"; } );" },
	{ -1, "connect = ( { match = \"*:1\"; cert_reqs = \"CERT_NONE\"; ssl_version = \"PROTOCOL_TLSv1\"; } );" },
	{ 1, "connect = ( { match = \"*:1\"; cert_reqs = \"CERT_NONE\"; ssl_version = \"PROTOCOL_TLSv1_3\"; } );" },
	{ 0, "connect = ( { match = \"*:1\"; cert_reqs = \"CERT_NONE\"; ssl_version = \"PROTOCOL_SSLv2\"; } );" },
};

START_TEST(test_launcher_checks_as_core)
{
	struct launch_buf b = { 0 };
	char one[2] = { 0 };
	for (const char *p = checked_confs[_i].text; *p; p++) {
		one[0] = *p;
		launch_buf_puts(&b, *p == '@' ? tu_certs_dir() : one);
	}
	ck_assert(!b.failed);
	const char *text = b.data;
	struct cfg_error ecore = { 0 }, elaunch = { 0 };
	struct cfg_ruleset *core = cfg_load(text, NULL, &cfg_core_checks, &ecore);
	struct cfg_ruleset *launch = cfg_load(text, NULL, &launch_cfg_checks, &elaunch);
	struct cfg_error epreload = { 0 };
	struct cfg_ruleset *preload = cfg_load(text, NULL, &ts_cfg_checks, &epreload);
	ck_assert_msg((core != NULL) == (launch != NULL), "%s: core %s, launcher %s", text,
	              core ? "loads" : ecore.msg, launch ? "loads" : elaunch.msg);
	ck_assert_msg((core != NULL) == (preload != NULL), "%s: core %s, interposer %s", text,
	              core ? "loads" : ecore.msg, preload ? "loads" : epreload.msg);
	ck_assert_str_eq(elaunch.msg, ecore.msg);
	ck_assert_str_eq(epreload.msg, ecore.msg);
	if (checked_confs[_i].loads >= 0)
		ck_assert_msg((core != NULL) == checked_confs[_i].loads, "%s: %s", text, ecore.msg);
	if (core) {
		ck_assert_uint_eq(launch->count, core->count);
		ck_assert_uint_eq(preload->count, core->count);
		ck_assert_uint_eq(preload->n_warnings, core->n_warnings);
		ck_assert_uint_eq(launch->n_warnings, core->n_warnings);
		for (size_t i = 0; i < core->n_warnings; i++) {
			ck_assert_str_eq(preload->warnings[i], core->warnings[i]);
			ck_assert_str_eq(launch->warnings[i], core->warnings[i]);
		}
	}
	cfg_ruleset_free(core);
	cfg_ruleset_free(launch);
	cfg_ruleset_free(preload);
	launch_buf_free(&b);
}
END_TEST

/* ---- HOST:PORT ----------------------------------------------------------- */

static const struct {
	const char *in, *host;
	unsigned port; /* 0: an error */
} hostports[] = {
	{ "localhost:443", "localhost", 443 },
	{ "127.0.0.1:1", "127.0.0.1", 1 },
	{ "[::1]:4433", "::1", 4433 },
	{ "[fe80::1%lo]:65535", "fe80::1%lo", 65535 },
	{ "host", NULL, 0 },
	{ "host:", NULL, 0 },
	{ ":443", NULL, 0 },
	{ "host:0", NULL, 0 },
	{ "host:65536", NULL, 0 },
	{ "host:-1", NULL, 0 },
	{ "host:+1", NULL, 0 },
	{ "host:12x", NULL, 0 },
	{ "::1:443", NULL, 0 },
	{ "[::1]443", NULL, 0 },
	{ "[::1", NULL, 0 },
	{ "[]:443", NULL, 0 },
};

START_TEST(test_split_hostport)
{
	char *host = (char *)1, err[LAUNCH_ERRLEN] = "";
	unsigned short port = 0;
	int rc = launch_split_hostport(hostports[_i].in, &host, &port, err, sizeof err);
	if (hostports[_i].port) {
		ck_assert_msg(rc == 0, "%s: %s", hostports[_i].in, err);
		ck_assert_str_eq(host, hostports[_i].host);
		ck_assert_uint_eq(port, hostports[_i].port);
	} else {
		ck_assert_msg(rc == -1, "%s accepted", hostports[_i].in);
		ck_assert_ptr_null(host);
		ck_assert_msg(strstr(err, hostports[_i].in) == err, "%s: [%s]", hostports[_i].in, err);
	}
	free(host);
}
END_TEST

/* ---- LD_PRELOAD, PATH, programs ----------------------------------------- */

START_TEST(test_preload_value)
{
	char err[LAUNCH_ERRLEN];
	const char *lib[] = { "/b/libtlsshim.so", NULL };
	char *v = launch_preload_value(lib, NULL, err, sizeof err);
	ck_assert_str_eq(v, "/b/libtlsshim.so");
	free(v);
	v = launch_preload_value(lib, "", err, sizeof err);
	ck_assert_str_eq(v, "/b/libtlsshim.so");
	free(v);
	v = launch_preload_value(lib, "/x/liba.so /y/libb.so", err, sizeof err);
	ck_assert_str_eq(v, "/b/libtlsshim.so:/x/liba.so:/y/libb.so");
	free(v);
	v = launch_preload_value(lib, "/x/liba.so:/b/libtlsshim.so", err, sizeof err);
	ck_assert_str_eq(v, "/b/libtlsshim.so:/x/liba.so");
	free(v);
	/* A sanitizer build: the runtime listed with the library, and once. */
	const char *san[] = { "/r/libasan.so.8", "/b/libtlsshim.so", NULL };
	v = launch_preload_value(san, "/x/liba.so /b/libtlsshim.so:/r/libasan.so.8", err, sizeof err);
	ck_assert_str_eq(v, "/r/libasan.so.8:/b/libtlsshim.so:/x/liba.so");
	free(v);
	const char *spaced[] = { "/my dir/libtlsshim.so", NULL };
	ck_assert_ptr_null(launch_preload_value(spaced, NULL, err, sizeof err));
	ck_assert(strstr(err, "space or a colon") != NULL);
	const char *coloned[] = { "/r/libasan.so.8", "/a:b/libtlsshim.so", NULL };
	ck_assert_ptr_null(launch_preload_value(coloned, NULL, err, sizeof err));
	ck_assert(strstr(err, "/a:b/libtlsshim.so") != NULL);
}
END_TEST

/* The library, with the sanitizer runtime the build was made with (none in
 * a plain build) before (ASan) or after (TSan) it. */
START_TEST(test_preload_ours)
{
	const char *ours[3];
	size_t n = launch_preload_ours("/b/libtlsshim.so", ours);
	ck_assert_ptr_null(ours[n]);
#ifdef TLSSHIM_SAN_RUNTIME
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ours[TLSSHIM_SAN_RUNTIME_FIRST ? 0 : 1], TLSSHIM_SAN_RUNTIME);
	ck_assert_str_eq(ours[TLSSHIM_SAN_RUNTIME_FIRST ? 1 : 0], "/b/libtlsshim.so");
#else
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(ours[0], "/b/libtlsshim.so");
#endif
}
END_TEST

START_TEST(test_which)
{
	char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	setenv("PATH", "/nonexistent-dir:/bin:/usr/bin", 1);
	char *p = launch_which("sh");
	ck_assert_ptr_nonnull(p);
	ck_assert(strcmp(p, "/bin/sh") == 0 || strcmp(p, "/usr/bin/sh") == 0);
	free(p);
	p = launch_which("./relative/prog");
	ck_assert_str_eq(p, "./relative/prog"); /* with a slash: as given */
	free(p);
	errno = 0;
	ck_assert_ptr_null(launch_which("no-such-program-tlsshim"));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(launch_which(""));
	if (old) {
		setenv("PATH", old, 1);
		free(old);
	} else {
		unsetenv("PATH");
	}
}
END_TEST

START_TEST(test_check_program_at_hand)
{
	char why[LAUNCH_ERRLEN] = "";
	/* The test runner itself and the shell: dynamically linked with libc. */
	ck_assert_msg(launch_check_program("/proc/self/exe", 0, why, sizeof why) == 0, "%s", why);
	ck_assert_msg(launch_check_program("/bin/sh", 0, why, sizeof why) == 0, "%s", why);
	/* Not found or not a regular file: execvp reports it, not the check. */
	ck_assert_int_eq(launch_check_program("/nonexistent/prog", 0, why, sizeof why), 0);
	ck_assert_int_eq(launch_check_program("/tmp", 0, why, sizeof why), 0);
	ck_assert_int_eq(launch_check_program("/dev/null", 0, why, sizeof why), 0);
}
END_TEST

Suite *launcher_suite(void)
{
	Suite *s = suite_create("launcher");
	TCase *tc = tcase_create("rules");
	tcase_add_loop_test(tc, test_quote, 0, (int)(sizeof quotes / sizeof quotes[0]));
	tcase_add_test(tc, test_quote_roundtrip);
	tcase_add_test(tc, test_abspath);
	tcase_add_test(tc, test_cert_reqs_names);
	tcase_add_test(tc, test_ssl_version_names);
	tcase_add_test(tc, test_rules_text_reads_back);
	tcase_add_test(tc, test_rules_text_defaults_left_to_config);
	tcase_add_test(tc, test_rules_usage_errors);
	tcase_add_test(tc, test_rules_value_errors);
	tcase_add_test(tc, test_explain_error);
	tcase_add_test(tc, test_explain_real_error);
	tcase_add_loop_test(tc, test_launcher_checks_as_core, 0,
	                    (int)(sizeof checked_confs / sizeof checked_confs[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("cert");
	tcase_add_loop_test(tc, test_split_hostport, 0, (int)(sizeof hostports / sizeof hostports[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("exec");
	tcase_add_test(tc, test_preload_value);
	tcase_add_test(tc, test_preload_ours);
	tcase_add_test(tc, test_which);
	tcase_add_test(tc, test_check_program_at_hand);
	suite_add_tcase(s, tc);
	return s;
}
