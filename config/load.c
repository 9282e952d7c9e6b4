/*
 * load.c - a libconfig text (TLSSHIM_CONFIG_STRING) and a libconfig file
 * (TLSSHIM_CONFIG) into one immutable rule set.
 *
 * Order of precedence, lowest first: the built-in defaults of each side,
 * the file's `defaults`, the string's `defaults`, the rule's own keys. The
 * string's rules come before the file's, side by side; the string's
 * top-level settings (log_level, allow_setuid_exec) win over the file's,
 * because the string is the per-process (command-line) configuration.
 *
 * Every problem is reported as "FILE:LINE: what is wrong", where LINE is
 * the line of the offending setting, so the user can go straight there.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "config_int.h"
#include "load_int.h"

#define STRING_SOURCE "TLSSHIM_CONFIG_STRING"
#define MAX_RULES 10000

struct source {
	char *name;         /* the path as given, or STRING_SOURCE (pool) */
	int is_file;
	config_t cfg;
	int inited;
	char *include_dir;  /* malloc: libconfig keeps the pointer */
	/* top-level settings, once validated */
	config_setting_t *defaults, *lists[2];
	int log_level_set, log_level, setuid_set, setuid;
};

static const char *const side_name[2] = { "connect", "accept" };

static int grow_rules(struct loader *L)
{
	struct cfg_ruleset *rs = &L->ri->pub;
	if (rs->count < L->cap)
		return 0;
	size_t cap = L->cap ? L->cap * 2 : 8;
	struct cfg_rule *r = realloc(rs->rules, cap * sizeof *r);
	if (!r) {
		cfg_errorf(L->err, "out of memory");
		return -1;
	}
	rs->rules = r;
	L->cap = cap;
	return 0;
}

/* ---- reading the sources ------------------------------------------------ */

/* The path libconfig opened for an @include'd NAME (as it names the file of
 * a setting, of an error, in its list of files read), as the user can find
 * it: libconfig 1.5 opens include_dir "/" NAME, for nested includes too
 * (relative to the top file's directory, not the including file's) and even
 * when NAME starts with '/'. Without include_dir (the string), NAME as
 * opened, relative to the current directory. A pool copy, because rules
 * keep it (cfg_rule.file); NULL out of memory. */
static char *included_path(struct loader *L, const struct source *src, const char *name)
{
	char *d;
	if (src->include_dir) {
		size_t a = strlen(src->include_dir), b = strlen(name);
		d = cfg_pool_alloc(&L->ri->pool, a + b + 2);
		if (d) {
			memcpy(d, src->include_dir, a);
			d[a] = '/';
			memcpy(d + a + 1, name, b + 1);
		}
	} else {
		d = cfg_pool_strdup(&L->ri->pool, name);
	}
	return d;
}

/* libconfig's own words for a syntax error, with its file and line. */
static int libconfig_error(struct loader *L, struct source *src)
{
	const char *file = config_error_file(&src->cfg);
	const char *text = config_error_text(&src->cfg);
	/* libconfig names a file only for an @included one, or the file it
	 * was given */
	int source = src->is_file || (file && strcmp(file, src->name) != 0) ? CFG_ERR_FILE
	                                                                   : CFG_ERR_STRING;
	if (config_error_type(&src->cfg) == CONFIG_ERR_FILE_IO) {
		cfg_error_in(L->err, source, file ? file : src->name, "%s",
		             text ? text : "cannot read");
		return -1;
	}
	if (!file)
		file = src->name;
	else if (strcmp(file, src->name) != 0) {
		const char *p = included_path(L, src, file);
		if (p)
			file = p;
	}
	cfg_error_at(L->err, source, file, config_error_line(&src->cfg), "%s",
	             text ? text : "syntax error");
	return -1;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* A config file chooses the peers this program trusts and the key it
 * proves itself with: anyone who may write it (group or others, or its
 * owner when that is another user than the effective one, and not root)
 * has that choice too. Readable by others is normal: it holds no secret
 * (keys are files of their own). Seen through the stream read. 0, or -1
 * out of memory. */
static int config_file_warnings(struct loader *L, const char *path, const struct stat *st)
{
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) &&
	    cfg_warnf(L->ri, "%s: writable by group or others (mode %04o: chmod go-w it): whoever "
	              "may write it chooses whom this program trusts", path,
	              (unsigned)st->st_mode & 07777) < 0)
		return -1;
	if (st->st_uid != 0 && st->st_uid != geteuid() &&
	    cfg_warnf(L->ri, "%s: owned by uid %lu, neither this user (uid %lu) nor root: that "
	              "user chooses whom this program trusts", path, (unsigned long)st->st_uid,
	              (unsigned long)geteuid()) < 0)
		return -1;
	return 0;
}

/* An @include'd file decides the rules as much as the file that includes
 * it, so it gets the same warnings. libconfig 1.5 has no include hook; its
 * config_t lists every file it opened for an @include (nested ones too,
 * each name once), and that list is the sound source: a file that defines
 * no setting is missed by config_setting_source_file, and scanning the
 * text for @include lines would duplicate its scanner (comments, strings
 * spanning lines, escapes). libconfig 1.7 changed the list (and added
 * config_set_include_func): refuse to build rather than miss a file.
 * Checked by path after libconfig read it (it keeps no descriptor): a
 * file that vanished since is not warned about. 0, or -1 out of memory. */
#if LIBCONFIG_VER_MAJOR != 1 || LIBCONFIG_VER_MINOR < 4 || LIBCONFIG_VER_MINOR > 5
#error "include_warnings reads libconfig 1.4/1.5's config_t.filenames: port it to this libconfig"
#endif
static int include_warnings(struct loader *L, struct source *src)
{
	for (unsigned i = 0; i < src->cfg.num_filenames; i++) {
		const char *path = included_path(L, src, src->cfg.filenames[i]);
		struct stat st;
		if (!path)
			return -1;
		if (stat(path, &st) == 0 && config_file_warnings(L, path, &st) < 0)
			return -1;
	}
	return 0;
}

static int read_file_source(struct loader *L, struct source *src, const char *path)
{
	char e[128];
	src->name = cfg_pool_strdup(&L->ri->pool, path);
	src->is_file = 1;
	cfg_libconfig_stdio();
	config_init(&src->cfg);
	src->inited = 1;
	if (!src->name) {
		cfg_errorf(L->err, "out of memory");
		return -1;
	}
	/* Opened here for errno's words: libconfig says only "file I/O
	 * error". fopen, not open: inside the interposer, glibc's internal
	 * open and close do not re-enter the hooks. libconfig reads this
	 * stream, so what fstat saw is what is read. */
	FILE *f = fopen(path, "re");
	if (!f) {
		cfg_error_in(L->err, CFG_ERR_FILE, path, "cannot open: %s",
		             strerror_r(errno, e, sizeof e));
		return -1;
	}
	struct stat st;
	int have_st = fstat(fileno(f), &st) == 0;
	if (have_st && S_ISDIR(st.st_mode)) {
		fclose(f);
		cfg_error_in(L->err, CFG_ERR_FILE, path, "is a directory, expected a libconfig file");
		return -1;
	}
	/* @include "x" in the file is relative to the file, like every path. */
	src->include_dir = dir_of(path);
	if (!src->include_dir || (have_st && config_file_warnings(L, path, &st) < 0)) {
		fclose(f);
		cfg_errorf(L->err, "out of memory");
		return -1;
	}
	config_set_include_dir(&src->cfg, src->include_dir);
	int ok = config_read(&src->cfg, f);
	fclose(f);
	if (!ok)
		return libconfig_error(L, src);
	if (include_warnings(L, src) < 0) {
		cfg_errorf(L->err, "out of memory");
		return -1;
	}
	return 0;
}

static int read_string_source(struct loader *L, struct source *src, const char *text)
{
	src->name = cfg_pool_strdup(&L->ri->pool, STRING_SOURCE);
	src->is_file = 0;
	cfg_libconfig_stdio();
	config_init(&src->cfg);
	src->inited = 1;
	if (!src->name) {
		cfg_errorf(L->err, "out of memory");
		return -1;
	}
	if (!config_read_string(&src->cfg, text))
		return libconfig_error(L, src);
	if (include_warnings(L, src) < 0) {
		cfg_errorf(L->err, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- helpers for settings ----------------------------------------------- */

char *ld_file_of(struct loader *L, const struct source *src, const config_setting_t *s)
{
	const char *f = config_setting_source_file(s);
	if (!f || strcmp(f, src->name) == 0)
		return src->name;
	char *d = included_path(L, src, f);
	return d ? d : src->name;
}

int ld_line_of(const config_setting_t *s)
{
	return (int)config_setting_source_line(s);
}

int ld_from_file(const struct source *src, const config_setting_t *s)
{
	return src->is_file || config_setting_source_file(s) != NULL;
}

const char *ld_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a floating-point number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "nothing";
	}
}

int ld_fail(struct loader *L, const struct source *src, const config_setting_t *s,
            const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	cfg_error_at(L->err, ld_from_file(src, s) ? CFG_ERR_FILE : CFG_ERR_STRING,
	             ld_file_of(L, src, s), ld_line_of(s), "%s", what);
	return -1;
}

/* ---- top level ----------------------------------------------------------- */

static int read_top(struct loader *L, struct source *src)
{
	config_setting_t *root = config_root_setting(&src->cfg);
	char q[CFG_QUOTE_BUF];
	int n = config_setting_length(root);

	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		int type = config_setting_type(s);

		if (strcmp(name, "version") == 0) {
			if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
				return ld_fail(L, src, s, "version: expected the integer 1, got %s",
				               ld_type_name(s));
			long long v = config_setting_get_int64(s);
			if (v != 1)
				return ld_fail(L, src, s, "version: %lld is not supported "
				               "(expected version = 1)", v);
		} else if (strcmp(name, "log_level") == 0) {
			if (type != CONFIG_TYPE_STRING)
				return ld_fail(L, src, s, "log_level: expected a string, got %s",
				               ld_type_name(s));
			enum cfg_log_level lv;
			const char *v = config_setting_get_string(s);
			if (cfg_log_level_parse(v, &lv) < 0)
				return ld_fail(L, src, s, "log_level: \"%s\" is not one of error, "
				               "warn, info, debug", cfg_quote(q, v));
			src->log_level_set = 1;
			src->log_level = (int)lv;
		} else if (strcmp(name, "allow_setuid_exec") == 0) {
			if (type != CONFIG_TYPE_BOOL)
				return ld_fail(L, src, s, "allow_setuid_exec: expected true or false, "
				               "got %s", ld_type_name(s));
			src->setuid_set = 1;
			src->setuid = config_setting_get_bool(s);
		} else if (strcmp(name, "defaults") == 0) {
			if (type != CONFIG_TYPE_GROUP)
				return ld_fail(L, src, s, "defaults: expected a group { ... }, got %s",
				               ld_type_name(s));
			src->defaults = s;
		} else if (strcmp(name, "connect") == 0 || strcmp(name, "accept") == 0) {
			/* An empty ( ) or [ ] is fine: no rules of that side. */
			int side = name[0] == 'a' ? CFG_ACCEPT : CFG_CONNECT;
			if (type != CONFIG_TYPE_LIST &&
			    !(type == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0))
				return ld_fail(L, src, s, "%s: expected a list of rules "
				               "( { match = \"HOST:PORT\"; ... }, ... ), got %s",
				               name, ld_type_name(s));
			src->lists[side] = s;
		} else {
			return ld_fail(L, src, s, "unknown setting \"%s\" (expected version, "
			               "log_level, allow_setuid_exec, defaults, connect or accept)",
			               cfg_quote(q, name));
		}
	}
	return 0;
}

/* ---- rules --------------------------------------------------------------- */

static void builtin_options(struct ld_optset *os, enum cfg_side side)
{
	memset(os, 0, sizeof *os);
	sslsocket_options_init(&os->o);
	if (side == CFG_CONNECT) {
		/* Not the seed's CERT_NONE: a retrofit that trusts every peer
		 * is not a security product (CONTRACT.md). */
		os->o.cert_reqs = SSLSOCKET_CERT_REQUIRED;
	} else {
		os->o.server_side = 1;
		os->o.cert_reqs = SSLSOCKET_CERT_NONE;
	}
	/* A blocking accept() must not wait forever for a client that never
	 * speaks; the same bound on connect keeps a stuck server from hanging
	 * the program. */
	os->o.handshake_timeout_ms = 10000;
}

static int rule_check(struct loader *L, const struct source *src, const config_setting_t *elem,
                      enum cfg_side side, unsigned nth, const struct ld_optset *own,
                      struct ld_optset *fin, sslsocket_config **tls)
{
	char q[CFG_QUOTE_BUF];
	const char *m = cfg_quote(q, own->match_text);

	if (side == CFG_CONNECT && (own->set & LD_BIT(LD_ALLOW_PLAINTEXT)))
		return ld_fail_key(L, own, LD_ALLOW_PLAINTEXT, "allow_plaintext is for accept "
		                   "rules only (a client never falls back to plaintext)");
	if (side == CFG_CONNECT && (own->set & LD_BIT(LD_SNIFF_TIMEOUT_MS)))
		return ld_fail_key(L, own, LD_SNIFF_TIMEOUT_MS, "sniff_timeout_ms is for "
		                   "accept rules only (with allow_plaintext)");
	if (side == CFG_ACCEPT && (own->set & LD_BIT(LD_SERVER_HOSTNAME)))
		return ld_fail_key(L, own, LD_SERVER_HOSTNAME, "server_hostname is for "
		                   "connect rules only (an accept rule presents its certfile)");
	if (own->passthrough) {
		for (int k = 0; k < LD_KEY_COUNT; k++)
			if (k != LD_MATCH && k != LD_PASSTHROUGH && (own->set & LD_BIT(k)))
				return ld_fail_key(L, own, k, "%s: a passthrough rule leaves the "
				                   "socket plain and takes no TLS keys", ld_key_name(k));
		return 0;
	}
	if (fin->o.keyfile && !fin->o.certfile)
		return ld_fail_key(L, fin, LD_KEYFILE, "keyfile needs certfile (the "
		                   "certificate that goes with the key)");
	if (side == CFG_ACCEPT && !fin->o.certfile) {
		ld_fail(L, src, elem, "%s rule %u (\"%s\") needs certfile (the server's "
		        "certificate chain, PEM)", side_name[side], nth, m);
		cfg_error_option(L->err, SSLSOCKET_OPT_CERTFILE, NULL);
		return -1;
	}
	if (side == CFG_ACCEPT && fin->o.cert_reqs != SSLSOCKET_CERT_NONE && !fin->o.ca_certs)
		return ld_fail_key(L, fin, LD_CERT_REQS, "cert_reqs: %s on an accept rule "
		                   "needs ca_certs (the CAs that issue client certificates)",
		                   fin->o.cert_reqs == SSLSOCKET_CERT_REQUIRED ? "CERT_REQUIRED"
		                                                               : "CERT_OPTIONAL");
	if (fin->o.cert_reqs == SSLSOCKET_CERT_NONE &&
	    (fin->o.allow_names_count || fin->o.pin_sha256_count)) {
		int k = fin->o.allow_names_count ? LD_ALLOW_NAMES : LD_PIN_SHA256;
		return ld_fail_key(L, fin, k, "%s needs cert_reqs = \"CERT_REQUIRED\" (or "
		                   "CERT_OPTIONAL)%s: with CERT_NONE the peer's certificate is not "
		                   "verified", ld_key_name(k),
		                   side == CFG_ACCEPT ? " and ca_certs on an accept rule" : "");
	}
	if (side == CFG_CONNECT && !fin->o.ca_certs)
		fin->o.ca_certs_default = 1;
	return ld_check_options(L, src, elem, side, nth, fin, tls);
}

static int read_rule(struct loader *L, struct source *src, config_setting_t *elem,
                     enum cfg_side side, unsigned nth)
{
	struct ld_optset own, fin;
	struct cfg_ruleset *rs = &L->ri->pub;
	sslsocket_config *tls = NULL;

	if (config_setting_type(elem) != CONFIG_TYPE_GROUP)
		return ld_fail(L, src, elem, "%s: rule %u is %s, expected a group "
		               "{ match = \"HOST:PORT\"; ... }", side_name[side], nth,
		               ld_type_name(elem));
	memset(&own, 0, sizeof own);
	int n = config_setting_length(elem);
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(elem, (unsigned)i);
		if (ld_read_key(L, src, s, (int)side, &own) < 0)
			goto fail;
	}
	if (!(own.set & LD_BIT(LD_MATCH))) {
		ld_fail(L, src, elem, "%s rule %u has no match (expected "
		        "match = \"HOST:PORT\")", side_name[side], nth);
		goto fail;
	}
	if (rs->count >= MAX_RULES) {
		ld_fail(L, src, elem, "more than %d rules", MAX_RULES);
		goto fail;
	}
	builtin_options(&fin, side);
	ld_overlay(&fin, &L->defaults);
	ld_overlay(&fin, &own);
	fin.match_text = own.match_text;
	if (rule_check(L, src, elem, side, nth, &own, &fin, &tls) < 0 || grow_rules(L) < 0)
		goto fail;

	struct cfg_rule *r = &rs->rules[rs->count];
	memset(r, 0, sizeof *r);
	r->side = side;
	r->index = (unsigned)rs->count;
	r->file = ld_file_of(L, src, elem); /* pool-owned */
	r->line = ld_line_of(elem);
	r->match_text = cfg_pool_strdup(&L->ri->pool, own.match_text);
	r->match = own.match; /* moved: cfg_ruleset_free clears it */
	r->passthrough = own.passthrough;
	r->allow_plaintext = own.allow_plaintext;
	r->sniff_timeout_ms = (own.set & LD_BIT(LD_SNIFF_TIMEOUT_MS)) ? own.sniff_timeout_ms
	                                                              : CFG_SNIFF_TIMEOUT_MS;
	r->opts = fin.o;
	r->handshake_timeout_set = (fin.set & LD_BIT(LD_HANDSHAKE_TIMEOUT)) != 0;
	r->tls = tls; /* the rule's reference */
	rs->count++;
	if (!r->match_text) {
		cfg_errorf(L->err, "out of memory");
		return -1;
	}
	return 0;
fail:
	sslsocket_config_free(tls);
	cfg_match_clear(&own.match);
	return -1;
}

static int read_rules(struct loader *L, struct source *src, enum cfg_side side)
{
	config_setting_t *list = src->lists[side];
	if (!list)
		return 0;
	int n = config_setting_length(list);
	for (int i = 0; i < n; i++)
		if (read_rule(L, src, config_setting_get_elem(list, (unsigned)i), side,
		              (unsigned)i + 1) < 0)
			return -1;
	return 0;
}

static int read_defaults(struct loader *L, struct source *src)
{
	if (!src->defaults)
		return 0;
	int n = config_setting_length(src->defaults);
	for (int i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(src->defaults, (unsigned)i);
		/* Later sources override earlier ones key by key. */
		if (ld_read_key(L, src, s, LD_IN_DEFAULTS, &L->defaults) < 0)
			return -1;
	}
	return 0;
}

/* ---- entry --------------------------------------------------------------- */

static void source_done(struct source *src)
{
	if (src->inited)
		config_destroy(&src->cfg);
	free(src->include_dir);
}

struct cfg_ruleset *cfg_load(const char *config_string, const char *path,
                             const struct cfg_checks *chk, struct cfg_error *err)
{
	struct source srcs[2];
	struct source *str = NULL, *file = NULL;
	struct loader L;
	int ok = 0;

	memset(srcs, 0, sizeof srcs);
	memset(&L, 0, sizeof L);
	if (err)
		memset(err, 0, sizeof *err);
	L.err = err;
	L.chk = chk;
	L.ri = calloc(1, sizeof *L.ri);
	if (!L.ri) {
		cfg_errorf(err, "out of memory");
		return NULL;
	}
	L.ri->pub.log_level = CFG_LOG_WARN;

	if (config_string) {
		str = &srcs[0];
		if (read_string_source(&L, str, config_string) < 0)
			goto out;
	}
	if (path) {
		file = &srcs[1];
		if (read_file_source(&L, file, path) < 0)
			goto out;
	}
	/* The string is read first so that its errors come first, but its
	 * top-level settings and defaults are applied last: they win. */
	if ((str && read_top(&L, str) < 0) || (file && read_top(&L, file) < 0))
		goto out;
	struct source *by_precedence[2] = { file, str };
	for (int i = 0; i < 2; i++) {
		struct source *s = by_precedence[i];
		if (!s)
			continue;
		if (s->log_level_set) {
			L.ri->pub.log_level = (enum cfg_log_level)s->log_level;
			L.ri->pub.log_level_set = 1;
		}
		if (s->setuid_set)
			L.ri->pub.allow_setuid_exec = s->setuid;
		if (read_defaults(&L, s) < 0)
			goto out;
	}
	struct source *by_order[2] = { str, file };
	for (int i = 0; i < 2; i++)
		if (by_order[i] && (read_rules(&L, by_order[i], CFG_CONNECT) < 0 ||
		                    read_rules(&L, by_order[i], CFG_ACCEPT) < 0))
			goto out;
	ok = 1;
out:
	source_done(&srcs[0]);
	source_done(&srcs[1]);
	ld_checked_free(&L);
	if (!ok) {
		if (err && !err->msg[0])
			cfg_errorf(err, "cannot load the configuration");
		cfg_ruleset_free(&L.ri->pub);
		return NULL;
	}
	return &L.ri->pub;
}
