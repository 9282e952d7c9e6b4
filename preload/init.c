/*
 * init.c - the constructor: rules, log, contexts, fork handlers.
 *
 * Runs before main (and earlier if a hook gets here first: pthread_once).
 * A configuration error stops the program before main with
 * "tlsshim: FILE:LINE: what" and status 1 (CONTRACT.md). With neither
 * TLSSHIM_CONFIG nor TLSSHIM_CONFIG_STRING set nothing is allocated and
 * every hook passes straight through.
 *
 * No context is built and OpenSSL is not even mapped here: every program a
 * wrapped shell starts pays this constructor, building a context costs
 * milliseconds, and mapping libssl and libcrypto most of the rest
 * (ossl_lazy.c). Loading the rules
 * checks their files and keeps their bytes (each rule's sslsocket_config), so
 * a server that reads its key as root and drops privileges (nginx's
 * workers run as nobody) still has it. A rule's context is built once, when
 * it is first needed: a client rule's on its first matching connect (the
 * seed's lazy client context), an accept rule's when a matching socket
 * starts listening (before a forking server's workers exist, so they share
 * it and its session tickets) or, for an inherited listener, on its first
 * accept (rule_tls.c, which also rebuilds it when the rule's files are
 * replaced).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "fdcopies.h"
#include "fdtab.h"
#include "init.h"
#include "log.h"
#include "log_syslog.h"
#include "ossl_lazy.h"
#include "real.h"
#include "rule_tls.h"
#include "stats.h"
#include "syserr_int.h"

const struct cfg_ruleset *ts_rules;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static atomic_int init_done;
static char *keylog;

/* "tlsshim: " + msg + "\n" on stderr, then exit 1, before main. */
static void die(const char *a, const char *b, const char *c)
{
	char line[1024];
	size_t n = 0;
	const char *parts[4] = {"tlsshim: ", a, b, c};
	int i;
	ssize_t (*w)(int, const void *, size_t) = TS_REAL(write);

	for (i = 0; i < 4; i++) {
		if (!parts[i])
			continue;
		size_t l = strlen(parts[i]);

		if (l > sizeof line - 2 - n)
			l = sizeof line - 2 - n;
		memcpy(line + n, parts[i], l);
		n += l;
	}
	line[n++] = '\n';
	if (w(2, line, n) < 0) {
		/* nowhere else to say it */
	}
	_exit(1);
}

const char *ts_keylog_file(void)
{
	return keylog;
}

static void init_log(const struct cfg_ruleset *rs)
{
	int fd = -1;

	if (rs->log_file != NULL && strcmp(rs->log_file, TS_SYSLOG_NAME) == 0) {
		fd = ts_syslog_open(TS_SYSLOG_PATH);
		if (fd < 0) {
			char why[128];

			snprintf(why, sizeof why, ": %s", CORE_STRERROR(errno));
			die("TLSSHIM_LOG_FILE=syslog: cannot connect to ", TS_SYSLOG_PATH, why);
		}
		ts_log_setup_syslog(rs->log_level, fd);
		return;
	}
	if (rs->log_file != NULL && rs->log_file[0] != '\0') {
		fd = open(rs->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			char why[128];

			snprintf(why, sizeof why, ": %s", strerror_r(errno, (char[128]){""}, 128));
			die("TLSSHIM_LOG_FILE: cannot open ", rs->log_file, why);
		}
	}
	ts_log_setup(rs->log_level, fd);
}

static unsigned long long fnv(unsigned long long h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h ^ '\n';
}

/* The start-up warnings (the files' of the rule set, SSLKEYLOGFILE's) are
 * said once per process, whatever the contexts and connections: this runs
 * once per image. An image exec'd in the same process with the same
 * warnings (a version manager's shim, env, sh -c 'exec ...') stays silent
 * too: the mark TLSSHIM_WARNED=PID:DIGEST goes on in the environment exec
 * passes on. Another process (another PID) says them again. */
static void warn_once(const struct cfg_ruleset *rs, const char *kl)
{
	unsigned long long h = 14695981039346656037ULL;
	char mark[64];
	const char *was;

	if (rs->n_warnings == 0 && kl == NULL)
		return;
	for (size_t i = 0; i < rs->n_warnings; i++)
		h = fnv(h, rs->warnings[i]);
	if (kl != NULL)
		h = fnv(h, kl);
	snprintf(mark, sizeof mark, "%d:%016llx", (int)getpid(), h);
	was = getenv("TLSSHIM_WARNED");
	if (was != NULL && strcmp(was, mark) == 0)
		return;
	for (size_t i = 0; i < rs->n_warnings; i++)
		ts_log(CFG_LOG_WARN, "%s", rs->warnings[i]);
	if (kl != NULL)
		ts_log(CFG_LOG_WARN, "SSLKEYLOGFILE is set: session secrets are written to %s", kl);
	(void)setenv("TLSSHIM_WARNED", mark, 1);
}

static void init_once_fn(void)
{
	struct cfg_error err;
	struct cfg_ruleset *rs;
	const char *kl;
	int saved = errno;

	ts_depth++;
	ts_real_resolve();
	atomic_store(&ts_pid, (int)getpid());
	memset(&err, 0, sizeof err);
	/* OpenSSL is not opened here: the rules' checks load it only when
	 * the options and the files' bytes cannot tell (ossl_lazy.c), and a
	 * rule's first context does otherwise. A rule that needs it where it
	 * cannot be loaded is a config error, as any other. */
	rs = cfg_load_env(&ts_cfg_checks, &err);
	if (rs == NULL) {
		if (err.msg[0] != '\0')
			die(err.msg, NULL, NULL);
		goto out; /* inert */
	}
	init_log(rs);
	kl = getenv("SSLKEYLOGFILE");
	if (kl != NULL && kl[0] != '\0')
		keylog = strdup(kl);
	warn_once(rs, keylog);
	if (ts_rule_tls_init(rs, keylog) < 0)
		die("out of memory", NULL, NULL);
	ts_conn_teardown_hook = ts_conn_teardown;
	ts_fdcopy_mark_open(); /* inherited numbers may share a socket */
	ts_stats_init(rs);
	pthread_atfork(ts_fork_prepare, ts_fork_parent, ts_fork_child);
	pthread_atfork(ts_rule_tls_fork_prepare, ts_rule_tls_fork_parent, ts_rule_tls_fork_child);
	ts_rules = rs;
out:
	atomic_store_explicit(&init_done, 1, memory_order_release);
	ts_depth--;
	errno = saved;
}

void ts_init(void)
{
	if (!atomic_load_explicit(&init_done, memory_order_acquire))
		pthread_once(&init_once, init_once_fn);
}

int ts_active(void)
{
	ts_init();
	return ts_rules != NULL;
}

__attribute__((constructor)) static void ts_constructor(void)
{
	ts_init();
}
