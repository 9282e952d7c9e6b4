/*
 * config_int.h - what the files of config/ share and nobody else sees.
 */
#ifndef TLSSHIM_CONFIG_INT_H
#define TLSSHIM_CONFIG_INT_H

#include <stdarg.h>
#include <stddef.h>

#include "config.h"

/* Every string a rule set hands out (file names, options, ALPN lists) lives
 * in one pool that cfg_ruleset_free releases at once: the options are
 * `const char *` by design, so freeing them one by one would need casts. */
struct cfg_pool;

void *cfg_pool_alloc(struct cfg_pool **pool, size_t n);
char *cfg_pool_strdup(struct cfg_pool **pool, const char *s);
void cfg_pool_free(struct cfg_pool *pool);

/* The rule set as allocated: the public part first, so that a
 * struct cfg_ruleset * converts back. */
struct cfg_ruleset_int {
	struct cfg_ruleset pub;
	struct cfg_pool *pool;
	const char **warnings;     /* pub.warnings: malloc'ed, strings pooled */
	size_t cap_warnings;
};

/* Adds a line to ri's warnings; 0, or -1 out of memory. */
int cfg_warnf(struct cfg_ruleset_int *ri, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* err->msg = printf(fmt, ...), at no place (CFG_ERR_NOWHERE, no option);
 * err may be NULL. */
void cfg_errorf(struct cfg_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same at line `line` of the source `where` (enum cfg_error_source
 * source): "WHERE:LINE: what", the line shown even when it is 0. */
void cfg_error_at(struct cfg_error *err, int source, const char *where, int line,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The same without a line: "WHERE: what" (line 0). */
void cfg_error_in(struct cfg_error *err, int source, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Adds to err (may be NULL) the option the problem is about and its file
 * (NULL or "" when none). */
void cfg_error_option(struct cfg_error *err, int option, const char *file);

/* A short, printable copy of user text for error messages: at most
 * CFG_QUOTE_MAX bytes, control and non-ASCII bytes as '?', "..." when cut. */
#define CFG_QUOTE_MAX 200
#define CFG_QUOTE_BUF (CFG_QUOTE_MAX + 4)
const char *cfg_quote(char buf[CFG_QUOTE_BUF], const char *s);

/* 0 if s is a valid DNS host name (letters, digits, '-', '_', labels of
 * 1-63 bytes, at most 253 bytes, one trailing dot allowed); -1 with the
 * reason (no prefix) otherwise. */
int cfg_hostname_check(const char *s, size_t len, struct cfg_error *err);

/* Points the standard streams of the libconfig linked into libtlsshim.so
 * at the process's (lcstdio.c); call before libconfig parses anything. */
void cfg_libconfig_stdio(void);

#endif /* TLSSHIM_CONFIG_INT_H */
