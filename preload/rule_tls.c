/*
 * rule_tls.c - each rule's TLS context: built once, on first use (the
 * process's first one opens OpenSSL: ossl_lazy.c), from the configuration
 * the rule set read at start-up (the files' bytes, so a server that
 * dropped its privileges still has its key), and rebuilt when the rule's
 * files are replaced.
 *
 * Rotation needs no signal, restart or thread of our own: on the connect
 * or accept path of a rule, at most every TS_ROTATE_CHECK_MS, the rule's
 * files (certfile, keyfile, ca_certs, crl_file) are looked up by path
 * (stat follows symlinks) and compared with what was read (device, inode,
 * size, mtime, ctime): certbot's rename, a Kubernetes `..data` symlink
 * swap and a rewrite in place each change one. A changed set is read and
 * checked in full (configuration, then context); only a set that loads
 * replaces the rule's context, so a half-written file or a key that does
 * not match keeps the old credentials, is logged once at warn, and the
 * next change is tried again. The swap happens under the rule's lock,
 * and each connection holds a reference on the context it was made with,
 * so open connections go on undisturbed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ossl_lazy.h"
#include "rule_tls.h"
#include "stats.h"

struct rule_tls {
	pthread_mutex_t lock;
	sslsocket_config *cfg;      /* what the context is (to be) built from */
	sslsocket_ctx *ctx;         /* NULL until first use */
	long long next_check;       /* CLOCK_MONOTONIC ms */
	int failed;                 /* the replacement at failed_stamp did not load */
	unsigned long long failed_stamp;
	time_t not_after;           /* of the rule's own certificate; 0: none */
	time_t next_expiry_warn;    /* wall clock */
};

static struct rule_tls *rule_tls;
static size_t rule_tls_count;

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ts_rule_tls_init(const struct cfg_ruleset *rs, const char *keylog)
{
	size_t i;

	rule_tls = calloc(rs->count ? rs->count : 1, sizeof *rule_tls);
	if (rule_tls == NULL)
		return -1;
	rule_tls_count = rs->count;
	for (i = 0; i < rs->count; i++) {
		const struct cfg_rule *r = &rs->rules[i];
		struct rule_tls *t = &rule_tls[r->index];

		pthread_mutex_init(&t->lock, NULL);
		if (r->tls == NULL)
			continue;
		/* Before any context exists: every context of the process
		 * appends to the one key log. */
		if (keylog != NULL && sslsocket_config_set_keylog_file(r->tls, keylog) < 0)
			return -1;
		t->cfg = sslsocket_config_ref(r->tls);
	}
	return 0;
}

/* The notAfter of the new context's certificate, and a fresh chance to
 * warn about it. */
static void note_cert(const struct cfg_rule *r, struct rule_tls *t)
{
	time_t na;

	ts_stats_rule_ctx(r, t->ctx);
	t->not_after = sslsocket_ctx_cert_not_after(t->ctx, &na) == 0 ? na : 0;
	t->next_expiry_warn = 0;
}

static void expiry_check(const struct cfg_rule *r, struct rule_tls *t)
{
	time_t now;
	long long left;
	char when[64];
	struct tm tm;

	if (t->not_after == 0)
		return;
	now = time(NULL);
	if (now < t->next_expiry_warn)
		return;
	left = (long long)t->not_after - (long long)now;
	if (left >= (long long)TS_EXPIRY_WARN_DAYS * 86400)
		return;
	t->next_expiry_warn = now + 86400;
	gmtime_r(&t->not_after, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (left <= 0)
		ts_log(CFG_LOG_WARN, "rule %s:%d: certificate %s expired on %s", r->file, r->line,
		       r->opts.certfile, when);
	else
		ts_log(CFG_LOG_WARN, "rule %s:%d: certificate %s expires on %s (in %lld days %lld hours)",
		       r->file, r->line, r->opts.certfile, when, left / 86400, left % 86400 / 3600);
}

/* The rule's files changed: read and load them, and swap only what loads
 * (lock held). */
static void rotate(const struct cfg_rule *r, struct rule_tls *t)
{
	struct sslsocket_error err;
	unsigned long long stamp = 0;
	sslsocket_config *nc;
	sslsocket_ctx *nctx = NULL, *old_ctx;
	int changed;
	char why[600];

	changed = sslsocket_config_changed(t->cfg, &stamp);
	if (!changed) {
		t->failed = 0;
		return;
	}
	if (t->failed && stamp == t->failed_stamp)
		return; /* that replacement was tried and logged */
	memset(&err, 0, sizeof err);
	nc = sslsocket_config_new(sslsocket_config_options(t->cfg), &err);
	if (nc != NULL)
		nctx = sslsocket_ctx_new_config(nc, &err);
	if (nctx == NULL) {
		sslsocket_config_free(nc);
		t->failed = 1;
		t->failed_stamp = stamp;
		ts_log(CFG_LOG_WARN, "rule %s:%d \"%s\": a file changed but does not load; keeping "
		       "the credentials in use: %s", r->file, r->line, r->match_text, err.reason);
		return;
	}
	old_ctx = t->ctx;
	sslsocket_config_free(t->cfg);
	t->cfg = nc;
	t->ctx = nctx;
	t->failed = 0;
	note_cert(r, t);
	sslsocket_ctx_free(old_ctx); /* connections made with it keep theirs */
	ts_log(CFG_LOG_INFO, "rule %s:%d \"%s\": credentials reloaded (a file was replaced)", r->file,
	       r->line, r->match_text);
	if (cfg_keyfile_warning(nc, why, sizeof why))
		ts_log(CFG_LOG_WARN, "rule %s:%d \"%s\": the reloaded %s", r->file, r->line,
		       r->match_text, why);
	if (cfg_trustfile_warning(nc, SSLSOCKET_OPT_CA_CERTS, why, sizeof why))
		ts_log(CFG_LOG_WARN, "rule %s:%d \"%s\": the reloaded %s", r->file, r->line,
		       r->match_text, why);
	if (cfg_trustfile_warning(nc, SSLSOCKET_OPT_CRL_FILE, why, sizeof why))
		ts_log(CFG_LOG_WARN, "rule %s:%d \"%s\": the reloaded %s", r->file, r->line,
		       r->match_text, why);
}

sslsocket_ctx *ts_rule_ctx(const struct cfg_rule *r, struct sslsocket_error *err)
{
	struct rule_tls *t;
	sslsocket_ctx *ctx = NULL;
	long long now;

	if (r->index >= rule_tls_count || rule_tls[r->index].cfg == NULL) {
		snprintf(err->reason, sizeof err->reason, "the rule has no TLS configuration");
		return NULL;
	}
	t = &rule_tls[r->index];
	now = mono_ms();
	pthread_mutex_lock(&t->lock);
	/* Under the lock, both: fork waits for a load or a status file in
	 * progress (ossl_lazy.c, stats.c). Every counter of the rule comes
	 * after this call, also when it fails. */
	ts_stats_publish();
	if (ts_ossl_ready(err) < 0) {
		pthread_mutex_unlock(&t->lock);
		return NULL;
	}
	if (t->ctx == NULL) {
		t->ctx = sslsocket_ctx_new_config(t->cfg, err);
		if (t->ctx != NULL) {
			note_cert(r, t);
			t->next_check = now + TS_ROTATE_CHECK_MS;
			ts_log(CFG_LOG_DEBUG, "rule %s:%d: TLS context ready", r->file, r->line);
		}
	}
	if (now >= t->next_check) {
		/* Also when the first build failed: a replaced file may load. */
		t->next_check = now + TS_ROTATE_CHECK_MS;
		rotate(r, t);
	}
	if (t->ctx != NULL) {
		expiry_check(r, t);
		ctx = sslsocket_ctx_ref(t->ctx);
	}
	pthread_mutex_unlock(&t->lock);
	return ctx;
}

void ts_rule_tls_fork_prepare(void)
{
	for (size_t i = 0; i < rule_tls_count; i++)
		pthread_mutex_lock(&rule_tls[i].lock);
}

void ts_rule_tls_fork_parent(void)
{
	for (size_t i = rule_tls_count; i-- > 0;)
		pthread_mutex_unlock(&rule_tls[i].lock);
}

void ts_rule_tls_fork_child(void)
{
	for (size_t i = rule_tls_count; i-- > 0;)
		pthread_mutex_unlock(&rule_tls[i].lock);
}
