/*
 * load_int.h - shared by load.c (sources, top level, rules) and rule_keys.c
 * (one rule or defaults key, and the final option checks). Includes
 * <libconfig.h>, so only config/ may include it.
 */
#ifndef TLSSHIM_LOAD_INT_H
#define TLSSHIM_LOAD_INT_H

#include <libconfig.h>

#include "config_int.h"

enum ld_key {
	LD_MATCH,
	LD_KEYFILE,
	LD_CERTFILE,
	LD_CERT_REQS,
	LD_SSL_VERSION,
	LD_CA_CERTS,
	LD_DO_HANDSHAKE_ON_CONNECT,
	LD_SUPPRESS_RAGGED_EOFS,
	LD_SERVER_HOSTNAME,
	LD_CIPHERS,
	LD_ALPN,
	LD_PASSTHROUGH,
	LD_HANDSHAKE_TIMEOUT,
	LD_RELEASE_BUFFERS,
	LD_SESSION_CACHE,
	LD_ALLOW_NAMES,
	LD_PIN_SHA256,
	LD_ALLOW_PLAINTEXT,
	LD_SNIFF_TIMEOUT_MS,
	LD_CRL_FILE,
	LD_KEY_COUNT
};
#define LD_BIT(k) (1u << (k))

/* The side argument of ld_read_key for the `defaults` group. */
#define LD_IN_DEFAULTS (-1)

/* Where a value was written; file NULL for a built-in default. */
struct ld_origin {
	const char *file;
	int line;
	int source; /* enum cfg_error_source: CFG_ERR_STRING or CFG_ERR_FILE */
};

/* Options under construction, remembering which keys were given where. */
struct ld_optset {
	struct sslsocket_options o;
	unsigned set; /* LD_BIT(key) for each key given */
	struct ld_origin at[LD_KEY_COUNT];
	const char *match_text; /* libconfig's string, valid while it is loaded */
	struct cfg_match match;
	int passthrough;
	int allow_plaintext;       /* accept rules: serve plaintext clients too */
	int sniff_timeout_ms;      /* ... silent that long: plaintext */
};

struct source;

struct loader {
	struct cfg_ruleset_int *ri;
	struct cfg_error *err;
	const struct cfg_checks *chk;   /* the caller's */
	size_t cap;                     /* of ri->pub.rules */
	struct ld_optset defaults;      /* the merged `defaults` groups */
	sslsocket_config **checked;     /* configurations made so far (a reference each) */
	size_t n_checked, cap_checked;
	/* Files found readable regular files so far (pooled absolute paths):
	 * ten rules naming one CA file cost one stat and one access, not ten
	 * (every wrapped process loads the configuration at its start). */
	const char **files_ok;
	size_t n_files_ok, cap_files_ok;
};

/* load.c */
char *ld_file_of(struct loader *L, const struct source *src, const config_setting_t *s);
int ld_line_of(const config_setting_t *s);
int ld_from_file(const struct source *src, const config_setting_t *s);
const char *ld_type_name(const config_setting_t *s);
int ld_fail(struct loader *L, const struct source *src, const config_setting_t *s,
            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* rule_keys.c */
const char *ld_key_name(int key);
/* Reads the setting s of a rule (side CFG_CONNECT or CFG_ACCEPT) or of
 * defaults (LD_IN_DEFAULTS) into os. */
int ld_read_key(struct loader *L, const struct source *src, config_setting_t *s, int side,
                struct ld_optset *os);
/* Copies into dst every key that src sets, with its origin. */
void ld_overlay(struct ld_optset *dst, const struct ld_optset *src);
/* The sslsocket_option of a key (SSLSOCKET_OPT_NONE when it has none). */
int ld_option_of_key(int key);
/* Reports a problem with key k of os at the place it was given (see
 * ld_origin), about that key's option and file. Returns -1. */
int ld_fail_key(struct loader *L, const struct ld_optset *os, int k, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The configuration (L->chk->config_new) of a rule's final options in
 * *out (a reference the rule owns), blaming the line of the key that
 * fails. */
int ld_check_options(struct loader *L, const struct source *src, const config_setting_t *elem,
                     enum cfg_side side, unsigned nth, const struct ld_optset *fin,
                     sslsocket_config **out);
/* Drops what the load kept to look at each file and configuration once. */
void ld_checked_free(struct loader *L);

#endif /* TLSSHIM_LOAD_INT_H */
