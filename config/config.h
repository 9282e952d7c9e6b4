/*
 * config.h - rules from a libconfig file, TLSSHIM_CONFIG_STRING and the
 * launcher's flags (which reach the process as TLSSHIM_CONFIG_STRING).
 *
 * Internal to tlsshim (not installed). This is the only module that
 * includes <libconfig.h>. No sockets, no handshakes: a rule set is built
 * once, is immutable afterwards and answers "which rule matches".
 */
#ifndef TLSSHIM_CONFIG_H
#define TLSSHIM_CONFIG_H

#include <stddef.h>
#include <sys/socket.h>

#include "sslsocket.h"

enum cfg_side { CFG_CONNECT = 0, CFG_ACCEPT = 1 };

/* sniff_timeout_ms when the rule does not say. */
#define CFG_SNIFF_TIMEOUT_MS 300

enum cfg_log_level { CFG_LOG_ERROR = 0, CFG_LOG_WARN = 1, CFG_LOG_INFO = 2, CFG_LOG_DEBUG = 3 };

enum cfg_host_kind {
	CFG_HOST_ANY,      /* "*" */
	CFG_HOST_ADDR,     /* "127.0.0.1", "[::1]" */
	CFG_HOST_CIDR,     /* "10.0.0.0/8", "[fd00::/8]" */
	CFG_HOST_NAME,     /* "db.internal" (lower case) */
	CFG_HOST_WILDCARD  /* "*.example.com": name holds ".example.com" */
};

/* A parsed `match = "HOST:PORT"`. */
struct cfg_match {
	enum cfg_host_kind host_kind;
	int family;                /* AF_INET or AF_INET6 for ADDR and CIDR */
	unsigned char addr[16];    /* network order; 4 bytes used for AF_INET */
	unsigned prefix;           /* CIDR prefix length (32/128 for ADDR) */
	char *name;                /* NAME and WILDCARD, lower case */
	unsigned port_lo, port_hi; /* inclusive; "*" is 0..65535 */
};

struct cfg_rule {
	enum cfg_side side;
	unsigned index;            /* 0.. over all rules of the set, both sides */
	char *file;                /* where it was written: a path,
	                              "TLSSHIM_CONFIG_STRING" */
	int line;
	char *match_text;          /* as written, for logs */
	struct cfg_match match;
	int passthrough;           /* match, but leave the socket plain */
	/* Accept rules: a client whose first bytes are not a TLS ClientHello,
	 * or that says nothing for sniff_timeout_ms, is served in plaintext
	 * (a permissive migration). */
	int allow_plaintext;
	int sniff_timeout_ms;
	/* The wrap_socket options: built-in defaults, then `defaults`, then the
	 * rule's keys. server_side is set for accept rules. Client rules without
	 * ca_certs have ca_certs_default = 1 (the system store). Relative file
	 * names are resolved against the directory of the config file (the
	 * current directory for TLSSHIM_CONFIG_STRING). Strings are owned by the
	 * rule set. */
	struct sslsocket_options opts;
	int handshake_timeout_set; /* handshake_timeout given explicitly */
	/* The configuration of a TLS rule (NULL for passthrough): its options
	 * and its files' bytes as read and checked at load time, owned by the
	 * rule set (a reference; rules with the same context options share
	 * one). Whoever builds contexts from it takes its own reference. */
	sslsocket_config *tls;
};

struct cfg_ruleset {
	struct cfg_rule *rules;    /* TLSSHIM_CONFIG_STRING's rules first */
	size_t count;
	enum cfg_log_level log_level; /* default warn; TLSSHIM_LOG overrides */
	int log_level_set;
	int allow_setuid_exec;
	char *log_file;            /* TLSSHIM_LOG_FILE, or NULL (stderr) */
	/* What the files read deserve a warning for, one line each: a
	 * private key file that group or others may read, or that another
	 * user than the effective one (or root) owns ("FILE:LINE: keyfile:
	 * ..."), a config file that group or others may write, or that such
	 * another user owns ("FILE: ..."). Whoever loaded the set shows them:
	 * the interposer logs them at warn, tlsshim --check prints them. */
	const char *const *warnings;
	size_t n_warnings;
};

/* Where a configuration error is (struct cfg_error's source). */
enum cfg_error_source {
	CFG_ERR_NOWHERE = 0, /* no place in particular: out of memory, a
	                        built-in value */
	CFG_ERR_STRING,      /* the TLSSHIM_CONFIG_STRING text */
	CFG_ERR_FILE,        /* a file: TLSSHIM_CONFIG's, or one @included */
	CFG_ERR_ENV          /* an environment variable (TLSSHIM_LOG, ...) */
};

/*
 * Why loading failed. msg is the line shown to users: "FILE:LINE: what is
 * wrong" (no "tlsshim: " prefix, no newline). The other fields say the same
 * as data, for callers that act on it (the launcher names the option that
 * made a rule of its TLSSHIM_CONFIG_STRING): nobody parses msg.
 */
struct cfg_error {
	char msg[512];
	int source;               /* enum cfg_error_source */
	char where[512];          /* the source as msg names it: the file's
	                             path (an @included file's own), the
	                             variable, "TLSSHIM_CONFIG_STRING",
	                             "(built-in)"; "" when msg names none
	                             (cut at 511 bytes) */
	int line;                 /* in that source, from 1; 0 when none */
	size_t what;              /* msg + what: the problem alone, without
	                             "FILE:LINE: " */
	int option;               /* enum sslsocket_option the problem is
	                             about (SSLSOCKET_OPT_NONE when none) */
	char option_file[512];    /* the file of that option ("" when it
	                             names none; cut at 511 bytes) */
};

/*
 * The checks the loader runs on a rule's options, given by its caller:
 * cfg_core_checks (core_checks.c: the core's own functions) in the tests
 * and the fuzz targets; the launcher's and the interposer's, which reach
 * the core without mapping OpenSSL until it must answer
 * (preload/launcher/launcher_ssl.c, preload/ossl_lazy.c). All say the
 * same.
 */
struct cfg_checks {
	/* 0 when this OpenSSL can speak v; -1 with the reason in err
	 * (sslsocket_protocol_supported) */
	int (*protocol_supported)(enum sslsocket_protocol v, struct sslsocket_error *err);
	/* the options' files read and checked, a configuration the caller
	 * owns; NULL with the reason in err (sslsocket_config_new) */
	sslsocket_config *(*config_new)(const struct sslsocket_options *o,
	                                struct sslsocket_error *err);
	/* what in o is weaker than the defaults, in buf: 1, 0 (nothing) or
	 * -1 (sslsocket_options_weakness) */
	int (*options_weakness)(const struct sslsocket_options *o, char *buf, size_t len);
};
extern const struct cfg_checks cfg_core_checks;

/*
 * Builds the rule set from the TLSSHIM_CONFIG_STRING text (may be NULL)
 * and the file at path (may be NULL); the string's rules come first. Every
 * value is checked, including that certificate, key and CA files are
 * well-formed and that ssl_version can be spoken (chk->config_new, whose
 * configuration, with the files' bytes, each rule keeps). Returns NULL
 * with err filled on the first problem. Never prints, never exits.
 */
struct cfg_ruleset *cfg_load(const char *config_string, const char *path,
                             const struct cfg_checks *chk, struct cfg_error *err);

/* As cfg_load, from the process environment: TLSSHIM_CONFIG,
 * TLSSHIM_CONFIG_STRING, TLSSHIM_LOG, TLSSHIM_LOG_FILE. Returns NULL with
 * err->msg empty when neither config variable is set (inert). */
struct cfg_ruleset *cfg_load_env(const struct cfg_checks *chk, struct cfg_error *err);

void cfg_ruleset_free(struct cfg_ruleset *rs);

/*
 * The first rule of side `side` matching the address sa (AF_INET or
 * AF_INET6; IPv4-mapped IPv6 addresses match IPv4 rules). names are the
 * host names the process resolved to this address (for NAME and WILDCARD
 * hosts, compared case-insensitively). NULL when none matches; AF_UNIX and
 * other families never match.
 */
const struct cfg_rule *cfg_match(const struct cfg_ruleset *rs, enum cfg_side side,
                                 const struct sockaddr *sa, socklen_t len,
                                 const char *const *names, size_t n_names);

/* As cfg_match; *which (may be NULL) receives the index in names of the
 * name that made a NAME or WILDCARD rule match, SIZE_MAX for other rules.
 * That name, not any other the process resolved to the same address, is
 * the identity the connection is bound to (SNI and the hostname check). */
const struct cfg_rule *cfg_match_named(const struct cfg_ruleset *rs, enum cfg_side side,
                                       const struct sockaddr *sa, socklen_t len,
                                       const char *const *names, size_t n_names, size_t *which);

/* 1 when r is a NAME or WILDCARD rule whose host part matches name (lower
 * case, no trailing dot; the port is not looked at), else 0. The name
 * cache keeps such names for good: a name rule must never stop matching
 * because a cache filled up. */
int cfg_rule_names_host(const struct cfg_rule *r, const char *name);

/* The warning the private key file of c deserves (see
 * sslsocket_config_keyfile_state), without a location, in buf: 1 when
 * there is one, 0 when none. */
int cfg_keyfile_warning(const sslsocket_config *c, char *buf, size_t n);
/* The same for ca_certs or crl_file (option: SSLSOCKET_OPT_CA_CERTS or
 * SSLSOCKET_OPT_CRL_FILE): writable by group or others, or another user's. */
int cfg_trustfile_warning(const sslsocket_config *c, int option, char *buf, size_t n);

/* Parses one "HOST:PORT" match string; -1 with a reason in err->msg (no
 * location: source CFG_ERR_NOWHERE). */
int cfg_match_parse(const char *text, struct cfg_match *out, struct cfg_error *err);
void cfg_match_clear(struct cfg_match *m);

/* Parses a log level name ("error", "warn", "info", "debug"); -1 if bad. */
int cfg_log_level_parse(const char *name, enum cfg_log_level *out);

#endif /* TLSSHIM_CONFIG_H */
