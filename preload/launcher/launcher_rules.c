/*
 * launcher_rules.c - the launcher's command-line rules as libconfig text.
 *
 * The rules reach the interposer in TLSSHIM_CONFIG_STRING, so that the
 * program's children inherit them and config/ parses one schema only. Each
 * rule is written on a line of its own, in command-line order (connect
 * rules, then accept rules), so that the line of a config error in
 * TLSSHIM_CONFIG_STRING (struct cfg_error's line) maps back to the option
 * the user typed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "launcher.h"

void launch_buf_free(struct launch_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static void buf_put(struct launch_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void launch_buf_puts(struct launch_buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

/* libconfig's scanner takes every byte but '"' and '\\' literally inside a
 * string, and knows \\ \" \f \n \r \t \xNN. Control bytes are escaped
 * anyway so that a newline in a value cannot shift the line numbers that
 * launch_explain_error relies on. */
void launch_buf_quote(struct launch_buf *b, const char *s)
{
	buf_put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[5];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			buf_put(b, esc, 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", *p);
			buf_put(b, esc, 4);
		} else {
			buf_put(b, (const char *)p, 1);
		}
	}
	buf_put(b, "\"", 1);
}

char *launch_abspath(const char *path)
{
	if (!path || !*path) {
		errno = EINVAL;
		return NULL;
	}
	if (path[0] == '/')
		return strdup(path);
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	/* "./x" reads better as "x" in the joined path. */
	while (path[0] == '.' && path[1] == '/') {
		path += 2;
		while (*path == '/')
			path++;
	}
	size_t n = strlen(cwd) + 1 + strlen(path) + 1;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", path);
	free(cwd);
	return out;
}

const char *launch_cert_reqs_name(const char *given)
{
	static const char *const names[] = { "CERT_NONE", "CERT_OPTIONAL", "CERT_REQUIRED" };
	if (!given)
		return NULL;
	const char *bare = strncasecmp(given, "CERT_", 5) == 0 ? given + 5 : given;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(bare, names[i] + 5) == 0)
			return names[i];
	return NULL;
}

char *launch_ssl_version_name(const char *given)
{
	if (!given || !*given)
		return NULL;
	const char *bare = strncmp(given, "PROTOCOL_", 9) == 0 ? given + 9 : given;
	if (!*bare)
		return NULL;
	size_t n = strlen(bare) + 10;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "PROTOCOL_%s", bare);
	return out;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* `key = "value"; ` with value made absolute when it is a file name. */
static int put_key(struct launch_buf *b, const char *key, const char *value, int is_path,
                   char *err, size_t errlen)
{
	if (!value)
		return 0;
	char *abs = NULL;
	if (is_path) {
		abs = launch_abspath(value);
		if (!abs) {
			set_err(err, errlen, "--%s %s: %s", key, value, strerror_r(errno, (char[128]){""}, 128));
			return -1;
		}
		value = abs;
	}
	launch_buf_puts(b, key);
	launch_buf_puts(b, " = ");
	launch_buf_quote(b, value);
	launch_buf_puts(b, "; ");
	free(abs);
	return 0;
}

static int put_rule(struct launch_buf *b, const struct launch_opts *o, const char *match,
                    int client, const char *cert_reqs, const char *version,
                    char *err, size_t errlen)
{
	launch_buf_puts(b, "{ match = ");
	launch_buf_quote(b, match);
	launch_buf_puts(b, "; ");
	if (put_key(b, "certfile", o->certfile, 1, err, errlen) < 0 ||
	    put_key(b, "keyfile", o->keyfile, 1, err, errlen) < 0 ||
	    put_key(b, "ca_certs", o->ca_certs, 1, err, errlen) < 0 ||
	    put_key(b, "cert_reqs", cert_reqs, 0, err, errlen) < 0 ||
	    put_key(b, "ssl_version", version, 0, err, errlen) < 0 ||
	    (client && put_key(b, "server_hostname", o->server_hostname, 0, err, errlen) < 0))
		return -1;
	if (o->lazy_handshake)
		launch_buf_puts(b, "do_handshake_on_connect = false; ");
	if (o->no_suppress_ragged_eofs)
		launch_buf_puts(b, "suppress_ragged_eofs = false; ");
	launch_buf_puts(b, "}");
	return 0;
}

static int put_list(struct launch_buf *b, const struct launch_opts *o, const char *name,
                    const char **matches, size_t n, int client, const char *cert_reqs,
                    const char *version, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		if (i == 0) {
			launch_buf_puts(b, name);
			launch_buf_puts(b, " = ( ");
		} else {
			launch_buf_puts(b, ", ");
		}
		if (put_rule(b, o, matches[i], client, cert_reqs, version, err, errlen) < 0)
			return -1;
		launch_buf_puts(b, i + 1 == n ? " );\n" : "\n");
	}
	return 0;
}

int launch_rules_usage(const struct launch_opts *o, char *err, size_t errlen)
{
	const char *key_given = o->certfile ? "--certfile" : o->keyfile ? "--keyfile" :
		o->ca_certs ? "--ca-certs" : o->cert_reqs ? "--cert-reqs" :
		o->ssl_version ? "--ssl-version" : o->server_hostname ? "--server-hostname" :
		o->lazy_handshake ? "--lazy-handshake" :
		o->no_suppress_ragged_eofs ? "--no-suppress-ragged-eofs" : NULL;
	if (o->n_connect + o->n_accept == 0 && key_given) {
		set_err(err, errlen, "%s applies to the command-line rules, "
		        "but there is no --connect or --accept", key_given);
		return -1;
	}
	if (o->server_hostname && o->n_connect == 0) {
		set_err(err, errlen, "--server-hostname applies to client rules, "
		        "but there is no --connect");
		return -1;
	}
	return 0;
}

char *launch_rules_text(const struct launch_opts *o, char *err, size_t errlen)
{
	struct launch_buf b = { 0 };
	char *version = NULL;
	const char *cert_reqs = NULL;

	err[0] = '\0';
	if (launch_rules_usage(o, err, errlen) < 0)
		goto fail;
	if (o->cert_reqs) {
		cert_reqs = launch_cert_reqs_name(o->cert_reqs);
		if (!cert_reqs) {
			set_err(err, errlen, "--cert-reqs %s: expected none, optional or required",
			        o->cert_reqs);
			goto fail;
		}
	}
	if (o->ssl_version) {
		version = launch_ssl_version_name(o->ssl_version);
		if (!version) {
			set_err(err, errlen, "--ssl-version '%s': expected a version such as "
			        "TLSv1_2 or SSLv23", o->ssl_version);
			goto fail;
		}
	}
	launch_buf_puts(&b, "");
	if (put_list(&b, o, "connect", o->connect, o->n_connect, 1, cert_reqs, version,
	             err, errlen) < 0 ||
	    put_list(&b, o, "accept", o->accept, o->n_accept, 0, cert_reqs, version,
	             err, errlen) < 0)
		goto fail;
	if (b.failed) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	/* No newline at the end: the variable prints as the rules alone. */
	if (b.len && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	free(version);
	return b.data;
fail:
	free(version);
	launch_buf_free(&b);
	return NULL;
}

void launch_explain_error(const struct launch_opts *o, const struct cfg_error *e, char *out,
                          size_t outlen)
{
	if (e->source != CFG_ERR_STRING) {
		snprintf(out, outlen, "%s", e->msg);
		return;
	}
	const char *what = e->msg + e->what;
	size_t line = e->line > 0 ? (size_t)e->line : 0;
	if (line >= 1 && line <= o->n_connect)
		snprintf(out, outlen, "--connect '%s': %s", o->connect[line - 1], what);
	else if (line >= 1 && line <= o->n_connect + o->n_accept)
		snprintf(out, outlen, "--accept '%s': %s", o->accept[line - 1 - o->n_connect], what);
	else
		snprintf(out, outlen, "command line: %s", what);
}
