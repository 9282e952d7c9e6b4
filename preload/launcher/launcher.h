/*
 * launcher.h - the pieces of the `tlsshim` launcher (build/tlsshim).
 *
 * launcher.c        main(): options, help, version
 * launcher_env.c    the interposer's environment from the options,
 *                   checked; the launcher's error lines
 * launcher_rules.c  the command-line rules as libconfig text
 *                   (TLSSHIM_CONFIG_STRING), absolute paths, escaping
 * launcher_elf.c    can LD_PRELOAD reach this program? (static, Go,
 *                   scripts, foreign ELF class, setuid)
 * launcher_exec.c   LD_PRELOAD, the environment, execvp
 * launcher_cert.c   --getcert and --peercert
 * launcher_check.c  --check: the loaded rules, printed
 * launcher_ssl.c    the core functions that need OpenSSL; the
 *                   configuration loader's checks
 * launcher_ssl_load.c     (build/tlsshim-full) loads libsslsocket.so
 *                   when OpenSSL is needed
 * launcher_ssl_handoff.c  (build/tlsshim, static) execs tlsshim-full
 *                   when OpenSSL is needed
 *
 * Internal to the launcher; nothing here is linked into libtlsshim.so.
 * Functions that can fail write one line (without "tlsshim: " and without
 * a newline) into a caller's buffer; only launcher.c and launcher_env.c
 * print the error lines, and only main() and the hand-off exit.
 */
#ifndef TLSSHIM_LAUNCHER_H
#define TLSSHIM_LAUNCHER_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "sslsocket.h"

/* Exit statuses (documented in tlsshim.1). 126 and 127 are env(1)'s. */
enum {
	LAUNCH_EXIT_CONFIG = 1,   /* bad value, unloadable file, cert failure */
	LAUNCH_EXIT_USAGE = 2,    /* the command line cannot be understood */
	LAUNCH_EXIT_CANNOT_RUN = 126, /* found but cannot be run (or refused) */
	LAUNCH_EXIT_NOT_FOUND = 127
};

#define LAUNCH_ERRLEN 1024

/* What the options asked for, before it becomes text. */
struct launch_opts {
	const char *config_file;   /* -c */
	const char **connect;      /* --connect, in order */
	size_t n_connect;
	const char **accept;       /* --accept, in order */
	size_t n_accept;
	const char *certfile, *keyfile, *ca_certs;
	const char *cert_reqs;     /* as given: none, optional, required */
	const char *ssl_version;   /* as given: TLSv1_2, PROTOCOL_TLSv1_2 */
	const char *server_hostname;
	int lazy_handshake;
	int no_suppress_ragged_eofs;
	const char *log_level;     /* "debug" (-v), "error" (-q) or NULL */
	const char *getcert;       /* HOST:PORT */
	const char *peercert;      /* HOST:PORT */
	int check;                 /* --check */
	int status;                /* --status */
	int prometheus;            /* --prometheus (with --status) */
};

/* ---- launcher_env.c ------------------------------------------------------ */

/* "tlsshim: what" and the --help hint on stderr; LAUNCH_EXIT_USAGE. */
int launch_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "tlsshim: msg" on stderr; LAUNCH_EXIT_CONFIG. */
int launch_config_error(const char *msg);
struct cfg_ruleset;
/* Sets the interposer's environment from the options and checks it the
 * way the interposer will. Returns 0 or an exit status (the error
 * printed). With keep, the loaded rule set is handed over (--check)
 * instead of freed; with libout, the path of libtlsshim.so (owned). */
int launch_prepare_environment(const struct launch_opts *o, int *allow_setuid,
                               struct cfg_ruleset **keep, char **libout);

/* ---- launcher_rules.c ---------------------------------------------------- */

/* Appends s to the growing buffer as a libconfig string literal, quotes
 * included: backslash and double quote are escaped, control bytes become
 * \xNN, everything else (UTF-8 included) is copied. */
struct launch_buf {
	char *data;  /* NUL-terminated; owned */
	size_t len, cap;
	int failed;  /* an allocation failed: data is incomplete */
};
void launch_buf_free(struct launch_buf *b);
void launch_buf_puts(struct launch_buf *b, const char *s);
void launch_buf_quote(struct launch_buf *b, const char *s);

/* path made absolute against the current directory (no symlink
 * resolution, so the error messages show what the user named). Owned;
 * NULL on failure with errno set. */
char *launch_abspath(const char *path);

/* "none" / "CERT_NONE" (any case) -> "CERT_NONE", ...; NULL if unknown. */
const char *launch_cert_reqs_name(const char *given);

/* "TLSv1_2" / "PROTOCOL_TLSv1_2" -> "PROTOCOL_TLSv1_2" (owned), the
 * config checks that the name exists and can be spoken. NULL if empty. */
char *launch_ssl_version_name(const char *given);

/* The usage errors among the rule options: a rule key without a rule,
 * --server-hostname without a client rule. -1 with err. */
int launch_rules_usage(const struct launch_opts *o, char *err, size_t errlen);

/*
 * The command-line rules as libconfig text: one `connect` and one `accept`
 * list, each rule on its own line (line 1 + index, connect rules first) so
 * that a config error's line names the option it came from. The rule keys
 * given on the command line are written into every rule. File names are
 * made absolute. Returns an owned string ("" when there are no rules), or
 * NULL with the reason in err.
 */
char *launch_rules_text(const struct launch_opts *o, char *err, size_t errlen);

/* The line to show for a config error (config.h): one about the
 * generated text (at line 3 of TLSSHIM_CONFIG_STRING) names the option
 * that made the rule instead ("--accept '*:4433': what"; "command line:
 * what" for another line); others are shown as they are (e->msg). */
struct cfg_error;
void launch_explain_error(const struct launch_opts *o, const struct cfg_error *e,
                          char *out, size_t outlen);

/* ---- launcher_elf.c ------------------------------------------------------ */

/*
 * Decides whether LD_PRELOAD can reach the program that execvp would run
 * for `name` (searched on PATH when it has no slash). Returns 0 when it
 * can, or when the program cannot be found or read (execvp reports that),
 * and -1 with the reason in why ("/bin/busybox is statically linked: ...")
 * when it cannot: a statically linked or Go program, one that does not
 * link libc, an ELF of another class or machine than the launcher's, a
 * script whose interpreter is one of those, or (unless allow_setuid) a
 * setuid, setgid or file-capability program.
 */
int launch_check_program(const char *name, int allow_setuid, char *why, size_t whylen);

/* The file execvp would run for name (PATH search as execvp does), owned;
 * NULL with errno ENOENT (or the error of the last candidate). */
char *launch_which(const char *name);

/* ---- launcher_exec.c ----------------------------------------------------- */

/* The library directory the launcher was built for (PREFIX/lib; /usr/lib
 * in the package): a one-line source the Makefile writes (BUILD/gen/), so
 * that the package's launcher is the build's objects linked with another
 * one, not launcher_exec.c compiled again with another meaning. */
extern const char launch_libdir[];

/* The absolute path of the library name: next to the launcher executable,
 * else in ../lib from the launcher's directory (an installed tree, whatever
 * its prefix), else in launch_libdir. Owned; NULL with the reason in err. */
char *launch_find_lib(const char *name, char *err, size_t errlen);
/* The same with another name in the library directories: name next to the
 * launcher (a build tree), in_lib under ../lib and launch_libdir. */
char *launch_find_file(const char *name, const char *in_lib, char *err, size_t errlen);
/* launch_find_lib("libtlsshim.so") */
char *launch_find_preload(char *err, size_t errlen);

/* What the launcher preloads, in order, NULL-terminated: lib, and in a
 * sanitizer build (make asan, make tsan) the sanitizer's runtime before or
 * after it (sanrt.h). Returns how many. */
size_t launch_preload_ours(const char *lib, const char *ours[3]);
/* The new LD_PRELOAD value: ours (NULL-terminated) first, then old (if
 * any, and without a second copy of any of ours). Owned; NULL with the
 * reason in err when one of ours cannot be listed (a space or colon in
 * its path). */
char *launch_preload_value(const char *const ours[], const char *old, char *err, size_t errlen);

/* execvp(argv[0], argv); on failure prints env(1)'s message and returns
 * the exit status (127 not found, 126 otherwise). */
int launch_exec(char *const argv[]);

/* ---- launcher_status.c --------------------------------------------------- */

/* --status (a table) and --status --prometheus (the text exposition
 * format): the live wrapped processes' counters on stdout; the files of
 * dead processes are removed. Returns the exit status. */
int launch_status(int prometheus);
/* 1 when the process that made a status file at created_boot_ms
 * (CLOCK_BOOTTIME) still runs under pid. */
int launch_status_alive(pid_t pid, int64_t created_boot_ms);

/* ---- launcher_cert.c ----------------------------------------------------- */

/* Splits "host:port" or "[v6]:port". host is owned. -1 with err. */
int launch_split_hostport(const char *text, char **host, unsigned short *port,
                          char *err, size_t errlen);

/* --getcert and --peercert: print to stdout; return the exit status. */
int launch_getcert(const struct launch_opts *o);
int launch_peercert(const struct launch_opts *o);
/* Either of them, after their usage checks (nargs: the program's words). */
int launch_run_cert_mode(const struct launch_opts *o, int nargs);

/* ---- launcher_check.c ---------------------------------------------------- */

struct cfg_ruleset;
/* --check: prints the loaded rule set rs to out, as understood (sources,
 * log, then per rule: match, side, verification, identities, protocol,
 * files with their certificates' subjects and notAfter). Returns 0. */
int launch_check_print(FILE *out, const struct cfg_ruleset *rs, const char *config_file,
                       int has_string);
/* --check: the log destination opens as the interposer will open it
 * (TLSSHIM_LOG_FILE: a file appended to, or `syslog`). -1 with the line
 * a wrapped program would print (without "tlsshim: ") in err. */
int launch_check_log(const struct cfg_ruleset *rs, char *err, size_t errlen);
/* --check: everything a run would do before exec, then the rules. */
int launch_run_check(const struct launch_opts *o, int nargs);

/* ---- launcher_ssl_load.c or launcher_ssl_handoff.c ----------------------- */

/* First thing in main(): the hand-off keeps argv and the environment as
 * they were at start. */
void launch_ssl_start(char **argv);
/* --check, --getcert or --peercert (OpenSSL's modes): run here, or by the
 * full launcher. Returns the exit status. */
int launch_ssl_mode(const struct launch_opts *o, int nargs, char **argv);
/* The function name of libsslsocket.so, the library loaded on first use;
 * NULL with launch_core_why() saying why. The static launcher execs the
 * full one instead and does not return. */
void *launch_core_sym(const char *name);
const char *launch_core_why(void);

/* ---- launcher_ssl.c ------------------------------------------------------ */

/* Each behaves as the core function sslsocket_NAME, called in
 * libsslsocket.so, which the first call loads. When it cannot be loaded,
 * those that take an error fail with errno ELIBACC and "cannot load
 * libsslsocket.so: why" in it; the others, reached only through an
 * sslsocket that launch_ssl_wrap made (the library is loaded by then),
 * exit with LAUNCH_EXIT_CONFIG. */
int launch_ssl_options_check(const struct sslsocket_options *o, struct sslsocket_error *err);
/* SSLv23 (negotiate) is answered without the library. */
int launch_ssl_protocol_supported(enum sslsocket_protocol v, struct sslsocket_error *err);
/* SSLv23 without a cipher string is answered without the library. */
int launch_ssl_options_weakness(const struct sslsocket_options *o, char *buf, size_t len);
char *launch_ssl_get_server_certificate(const char *host, unsigned short port,
                                        enum sslsocket_protocol v, const char *ca_certs,
                                        struct sslsocket_error *err);
sslsocket *launch_ssl_wrap(int fd, const struct sslsocket_options *o,
                           const struct sslsocket_io *io, struct sslsocket_error *err);
int launch_ssl_handshake_done(const sslsocket *s);
int launch_ssl_do_handshake(sslsocket *s);
const char *launch_ssl_error(const sslsocket *s);
int launch_ssl_getpeercert(sslsocket *s, struct sslsocket_certinfo **out);
char *launch_ssl_certinfo_format(const struct sslsocket_certinfo *ci);
void launch_ssl_certinfo_free(struct sslsocket_certinfo *ci);
int launch_ssl_close(sslsocket *s);
struct sslsocket_certinfo *launch_ssl_certinfo_from_der(const unsigned char *der, size_t len,
                                                        struct sslsocket_error *err);
int launch_ssl_cert_time_to_seconds(const char *timestring, time_t *out,
                                    struct sslsocket_error *err);

/* The configuration loader's checks (cfg_load_env) in the launcher: the
 * core's OpenSSL-free reading and quick check of the files, and
 * libsslsocket.so for what only OpenSSL can tell. */
struct cfg_checks;
extern const struct cfg_checks launch_cfg_checks;

#endif /* TLSSHIM_LAUNCHER_H */
