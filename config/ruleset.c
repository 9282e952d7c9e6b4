/*
 * ruleset.c - the rule set's memory, the environment and the small shared
 * helpers of config/.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_int.h"

struct cfg_pool {
	struct cfg_pool *next;
	max_align_t data[];
};

void *cfg_pool_alloc(struct cfg_pool **pool, size_t n)
{
	if (n > SIZE_MAX - sizeof(struct cfg_pool))
		return NULL;
	struct cfg_pool *p = calloc(1, sizeof *p + n);
	if (!p)
		return NULL;
	p->next = *pool;
	*pool = p;
	return p->data;
}

char *cfg_pool_strdup(struct cfg_pool **pool, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = cfg_pool_alloc(pool, n);
	if (d)
		memcpy(d, s, n);
	return d;
}

void cfg_pool_free(struct cfg_pool *pool)
{
	while (pool) {
		struct cfg_pool *next = pool->next;
		free(pool);
		pool = next;
	}
}

/* line < 0: not shown (and 0 in err). */
static void error_v(struct cfg_error *err, int source, const char *where, int line,
                    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static void error_v(struct cfg_error *err, int source, const char *where, int line,
                    const char *fmt, va_list ap)
{
	int n = 0;
	memset(err, 0, sizeof *err);
	err->source = source;
	err->line = line > 0 ? line : 0;
	if (where) {
		snprintf(err->where, sizeof err->where, "%s", where);
		n = line < 0 ? snprintf(err->msg, sizeof err->msg, "%s: ", where)
		             : snprintf(err->msg, sizeof err->msg, "%s:%d: ", where, line);
		if (n < 0 || (size_t)n >= sizeof err->msg)
			n = (int)strlen(err->msg);
	}
	err->what = (size_t)n;
	vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
}

void cfg_errorf(struct cfg_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	error_v(err, CFG_ERR_NOWHERE, NULL, 0, fmt, ap);
	va_end(ap);
}

void cfg_error_at(struct cfg_error *err, int source, const char *where, int line,
                  const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	error_v(err, source, where, line < 0 ? 0 : line, fmt, ap);
	va_end(ap);
}

void cfg_error_in(struct cfg_error *err, int source, const char *where, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	error_v(err, source, where, -1, fmt, ap);
	va_end(ap);
}

void cfg_error_option(struct cfg_error *err, int option, const char *file)
{
	if (!err)
		return;
	err->option = option;
	snprintf(err->option_file, sizeof err->option_file, "%s", file ? file : "");
}

int cfg_warnf(struct cfg_ruleset_int *ri, const char *fmt, ...)
{
	char line[sizeof ((struct cfg_error *)0)->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (ri->pub.n_warnings == ri->cap_warnings) {
		size_t cap = ri->cap_warnings ? ri->cap_warnings * 2 : 4;
		const char **w = realloc(ri->warnings, cap * sizeof *w);
		if (!w)
			return -1;
		ri->warnings = w;
		ri->cap_warnings = cap;
		ri->pub.warnings = w;
	}
	const char *d = cfg_pool_strdup(&ri->pool, line);
	if (!d)
		return -1;
	ri->warnings[ri->pub.n_warnings++] = d;
	return 0;
}

/* "WHAT PATH is readable/writable ... and owned by ...WHY" for the
 * concerns of one file. */
static void describe_file(char *buf, size_t n, const char *what, const struct sslsocket_keyfile_state *fs,
                          const char *why)
{
	char mode[96] = "", owner[96] = "";

	if (fs->concerns & SSLSOCKET_KEYFILE_READABLE)
		snprintf(mode, sizeof mode, " is readable by group or others (mode %04o: chmod go-r it)",
		         fs->mode);
	if (fs->concerns & SSLSOCKET_FILE_WRITABLE)
		snprintf(mode, sizeof mode, " is writable by group or others (mode %04o: chmod go-w it)",
		         fs->mode);
	if (fs->concerns & SSLSOCKET_KEYFILE_FOREIGN)
		snprintf(owner, sizeof owner, "%s owned by uid %lu, neither this user (uid %lu) nor root",
		         mode[0] ? " and" : " is", fs->uid, (unsigned long)geteuid());
	snprintf(buf, n, "%s %s%s%s%s", what, fs->path, mode, owner, why);
}

int cfg_keyfile_warning(const sslsocket_config *c, char *buf, size_t n)
{
	struct sslsocket_keyfile_state ks;

	if (sslsocket_config_keyfile_state(c, &ks) < 0 || !ks.concerns)
		return 0;
	describe_file(buf, n, "private key file", &ks, "");
	return 1;
}

int cfg_trustfile_warning(const sslsocket_config *c, int option, char *buf, size_t n)
{
	struct sslsocket_keyfile_state fs;

	if (sslsocket_config_trustfile_state(c, option, &fs) < 0 || !fs.concerns)
		return 0;
	describe_file(buf, n, option == SSLSOCKET_OPT_CRL_FILE ? "revocation list" : "CA file", &fs,
	              ": whoever may write it decides whom this program trusts");
	return 1;
}

const char *cfg_quote(char buf[CFG_QUOTE_BUF], const char *s)
{
	size_t i = 0;
	for (; s[i] && i < CFG_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (s[i]) {
		memcpy(buf + i, "...", 4);
	} else {
		buf[i] = '\0';
	}
	return buf;
}

void cfg_ruleset_free(struct cfg_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->count; i++) {
		cfg_match_clear(&rs->rules[i].match);
		sslsocket_config_free(rs->rules[i].tls);
	}
	free(rs->rules);
	struct cfg_ruleset_int *ri = (struct cfg_ruleset_int *)rs;
	free(ri->warnings);
	cfg_pool_free(ri->pool);
	free(ri);
}

int cfg_log_level_parse(const char *name, enum cfg_log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	if (!name)
		return -1;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum cfg_log_level)i;
			return 0;
		}
	}
	return -1;
}

/* secure_getenv: a preloaded set-id program must not take a log file or a
 * config from the environment. An empty value counts as unset, as a shell
 * user who writes `TLSSHIM_CONFIG= prog` expects. */
static const char *env(const char *name)
{
	const char *v = secure_getenv(name);
	return v && *v ? v : NULL;
}

struct cfg_ruleset *cfg_load_env(const struct cfg_checks *chk, struct cfg_error *err)
{
	const char *path = env("TLSSHIM_CONFIG");
	const char *str = env("TLSSHIM_CONFIG_STRING");
	const char *log = env("TLSSHIM_LOG");
	const char *log_file = env("TLSSHIM_LOG_FILE");
	char q[CFG_QUOTE_BUF];

	if (err)
		memset(err, 0, sizeof *err);
	if (!path && !str)
		return NULL;

	enum cfg_log_level level = CFG_LOG_WARN;
	if (log && cfg_log_level_parse(log, &level) < 0) {
		cfg_error_in(err, CFG_ERR_ENV, "TLSSHIM_LOG", "\"%s\" is not one of error, warn, "
		             "info, debug", cfg_quote(q, log));
		return NULL;
	}

	struct cfg_ruleset *rs = cfg_load(str, path, chk, err);
	if (!rs)
		return NULL;
	if (log) {
		rs->log_level = level;
		rs->log_level_set = 1;
	}
	if (log_file) {
		struct cfg_ruleset_int *ri = (struct cfg_ruleset_int *)rs;
		rs->log_file = cfg_pool_strdup(&ri->pool, log_file);
		if (!rs->log_file) {
			cfg_ruleset_free(rs);
			cfg_error_in(err, CFG_ERR_ENV, "TLSSHIM_LOG_FILE", "out of memory");
			return NULL;
		}
	}
	return rs;
}
