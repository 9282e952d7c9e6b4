/*
 * stats.c - this process's status file (layout: stats_shm.h), written for
 * `tlsshim --status`.
 *
 * Made once, when the process first uses a rule (ts_rule_ctx: its first
 * wrapped connect, listen or accept), not when the configuration is loaded:
 * the many processes that load rules and never use them (every child of a
 * wrapped shell) pay no file at start. Made under a temporary name, sized,
 * mapped MAP_SHARED and filled with what was counted so far, then renamed
 * into place, so that a reader never sees a half-made file. From then on
 * counting is atomic adds on the mapping. A destructor removes the file at
 * exit; a process that dies without running it (a signal, _exit) leaves a
 * file that the reader recognises as dead and removes. An exec'd wrapped
 * image of the same PID removes its predecessor's file when it loads.
 *
 * Nothing here may fail the program: without a directory or a file the
 * counters go to private memory and a debug line says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "log.h"
#include "real.h"
#include "stats.h"
#include "syserr_int.h"

struct ts_stats_rule *ts_stats_rules;

static struct ts_stats_hdr *map;       /* the mapped file, or NULL */
static size_t map_len;
static uint32_t nrules;
static char dir[PATH_MAX - 32];        /* "" when there is none */
TS_LARGE(static char path[PATH_MAX]); /* this process's file, "" if none */
static pid_t path_pid;
static struct ts_stats_hdr tmpl;       /* the header a file starts from */
/* Set once the file was made or could not be (ts_stats_publish). The lock
 * is only taken under a rule's lock, which fork waits for, so a child
 * never inherits it held. */
static atomic_int published;
static pthread_mutex_t publish_lock = PTHREAD_MUTEX_INITIALIZER;
/* What counted before the file: kept, and kept visible (volatile: a store
 * nothing reads would be dropped, and a leak checker would see no owner). */
static struct ts_stats_rule *volatile before_file;

const char *ts_stats_path(void)
{
	return path;
}

static int64_t boot_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The directory, ours alone: created 0700, or found owned by us, a real
 * directory, not open to others (another user's directory under a shared
 * XDG_RUNTIME_DIR would let them read or forge our counters). */
static int dir_ready(void)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	if (lstat(dir, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* A file for this PID holding `tmpl` (the header's program and the rules'
 * descriptions and open gauges; every other counter 0). Returns the
 * mapping or NULL with errno. */
static struct ts_stats_hdr *make_file(const struct ts_stats_hdr *h0,
                                      const struct ts_stats_rule *rules0, pid_t pid)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	size_t len = ts_stats_file_size(nrules);
	struct ts_stats_hdr *h;
	int fd, e;

	if (snprintf(tmp, sizeof tmp, "%s/.%d.tmp", dir, (int)pid) >= (int)sizeof tmp ||
	    snprintf(final, sizeof final, "%s/%d%s", dir, (int)pid, TS_STATS_SUFFIX) >=
	            (int)sizeof final) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	(void)unlink(tmp); /* a leftover of a dead process with our PID */
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)len) < 0)
		goto fail;
	h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		goto fail;
	TS_REAL(close)(fd);
	memcpy(h, h0, sizeof *h);
	h->pid = (int32_t)pid;
	h->created_boot_ms = boot_ms();
	h->created_unix = (int64_t)time(NULL);
	memcpy(h + 1, rules0, (size_t)nrules * sizeof *rules0);
	if (rename(tmp, final) < 0) {
		e = errno;
		munmap(h, len);
		(void)unlink(tmp);
		errno = e;
		return NULL;
	}
	memcpy(path, final, sizeof final);
	path_pid = pid;
	return h;
fail:
	e = errno;
	TS_REAL(close)(fd);
	(void)unlink(tmp);
	errno = e;
	return NULL;
}

/* Counters into private memory: the program runs on, uncounted on disk. */
static void use_private(struct ts_stats_rule *rules)
{
	__atomic_store_n(&ts_stats_rules, rules, __ATOMIC_RELEASE);
}

void ts_stats_init(const struct cfg_ruleset *rs)
{
	struct ts_stats_rule *rules;
	char prev[PATH_MAX];
	size_t i;
	int saved = errno;

	nrules = (uint32_t)rs->count;
	rules = calloc(nrules ? nrules : 1, sizeof *rules);
	if (rules == NULL)
		return;
	for (i = 0; i < rs->count; i++) {
		const struct cfg_rule *r = &rs->rules[i];
		struct ts_stats_rule *t = &rules[r->index < nrules ? r->index : i];
		char origin[sizeof t->origin];

		copy_str(t->side, sizeof t->side, r->side == CFG_ACCEPT ? "accept" : "connect");
		copy_str(t->match, sizeof t->match, r->match_text);
		snprintf(origin, sizeof origin, "%s:%d", r->file ? r->file : "?", r->line);
		copy_str(t->origin, sizeof t->origin, origin);
	}
	memset(&tmpl, 0, sizeof tmpl);
	tmpl.magic = TS_STATS_MAGIC;
	tmpl.version = TS_STATS_VERSION;
	tmpl.hdr_size = sizeof tmpl;
	tmpl.rule_size = sizeof *rules;
	tmpl.rule_count = nrules;
	copy_str(tmpl.program, sizeof tmpl.program, program_invocation_short_name);
	if (ts_stats_dir(dir, sizeof dir) < 0) {
		ts_log(CFG_LOG_DEBUG, "status: no directory (XDG_RUNTIME_DIR is not set)");
		dir[0] = '\0';
	} else if (snprintf(prev, sizeof prev, "%s/%d%s", dir, (int)getpid(), TS_STATS_SUFFIX) <
	           (int)sizeof prev) {
		/* The image we were exec'd from, if it had a file: its counters
		 * are not ours, and we may never make one of our own. */
		ts_depth++;
		(void)unlink(prev);
		ts_depth--;
	}
	use_private(rules);
	errno = saved;
}

void ts_stats_publish(void)
{
	struct ts_stats_rule *rules;
	int saved;

	if (atomic_load_explicit(&published, memory_order_acquire))
		return;
	saved = errno;
	pthread_mutex_lock(&publish_lock);
	rules = __atomic_load_n(&ts_stats_rules, __ATOMIC_ACQUIRE);
	if (atomic_load_explicit(&published, memory_order_relaxed) || rules == NULL)
		goto out;
	if (dir[0] == '\0')
		goto done;
	ts_depth++;
	if (dir_ready() == 0)
		map = make_file(&tmpl, rules, getpid());
	ts_depth--;
	if (map == NULL) {
		ts_log(CFG_LOG_DEBUG, "status: no file in %s: %s", dir, CORE_STRERROR(errno));
		goto done;
	}
	map_len = ts_stats_file_size(nrules);
	/* The private counters stay allocated: no thread should hold them
	 * (none counts before its rule's first ts_rule_ctx, which waits
	 * here), but a few bytes cost less than a use after free. */
	before_file = rules;
	use_private((struct ts_stats_rule *)(map + 1));
done:
	atomic_store_explicit(&published, 1, memory_order_release);
out:
	pthread_mutex_unlock(&publish_lock);
	errno = saved;
}

void ts_stats_fork_child(void)
{
	struct ts_stats_rule *old = __atomic_load_n(&ts_stats_rules, __ATOMIC_ACQUIRE);
	struct ts_stats_hdr *h, *oldmap = map;
	struct ts_stats_rule *copy;
	uint32_t i;
	int saved = errno;

	pthread_mutex_init(&publish_lock, NULL);
	if (old == NULL)
		return;
	/* The parent's file is the parent's: the child counts in its own,
	 * starting from the connections it holds (it inherited them). */
	copy = calloc(nrules ? nrules : 1, sizeof *copy);
	if (copy == NULL) {
		/* nothing sane to count into: stop counting */
		__atomic_store_n(&ts_stats_rules, NULL, __ATOMIC_RELEASE);
		goto out;
	}
	for (i = 0; i < nrules; i++) {
		memcpy(copy[i].side, old[i].side, sizeof copy[i].side);
		memcpy(copy[i].match, old[i].match, sizeof copy[i].match);
		memcpy(copy[i].origin, old[i].origin, sizeof copy[i].origin);
		copy[i].cert_not_after = old[i].cert_not_after;
		copy[i].open = __atomic_load_n(&old[i].open, __ATOMIC_RELAXED);
	}
	path[0] = '\0';
	h = NULL;
	if (oldmap != NULL) {
		ts_depth++;
		h = make_file(oldmap, copy, getpid());
		ts_depth--;
		munmap(oldmap, map_len);
	}
	map = h;
	if (h != NULL) {
		free(copy);
		copy = (struct ts_stats_rule *)(h + 1);
	} else if (oldmap == NULL || old != (struct ts_stats_rule *)(oldmap + 1)) {
		/* the parent's private copy, duplicated by fork (no file: no
		 * address in one to compare with, NULL + 1 is undefined) */
		free(old);
	}
	__atomic_store_n(&ts_stats_rules, copy, __ATOMIC_RELEASE);
out:
	errno = saved;
}

void ts_stats_rule_ctx(const struct cfg_rule *r, const sslsocket_ctx *ctx)
{
	struct ts_stats_rule *t = ts_stats_of(r);
	time_t na;

	if (t != NULL && r->opts.certfile != NULL && sslsocket_ctx_cert_not_after(ctx, &na) == 0)
		__atomic_store_n(&t->cert_not_after, (int64_t)na, __ATOMIC_RELAXED);
}

/* The counter of a failed handshake: the core's cause of the failure. */
int ts_stats_fail_reason(const struct sslsocket_error *e)
{
	if (e == NULL)
		return TS_FAIL_PROTOCOL;
	switch (e->cause) {
	case SSLSOCKET_CAUSE_TIMEOUT:
		return TS_FAIL_TIMEOUT;
	case SSLSOCKET_CAUSE_IDENTITY:
		return TS_FAIL_IDENTITY;
	case SSLSOCKET_CAUSE_PLAINTEXT:
		return TS_FAIL_PLAINTEXT;
	case SSLSOCKET_CAUSE_VERIFY:
		return TS_FAIL_VERIFY;
	default:
		return e->sys_errno == ETIMEDOUT ? TS_FAIL_TIMEOUT : TS_FAIL_PROTOCOL;
	}
}

void ts_stats_hs_failed(const struct cfg_rule *r, const struct sslsocket_error *e)
{
	struct ts_stats_rule *t = ts_stats_of(r);

	if (t != NULL)
		__atomic_fetch_add(&t->hs_fail[ts_stats_fail_reason(e)], 1, __ATOMIC_RELAXED);
}

/* The file goes with the process (exit, return from main). A child made
 * by fork has its own file; vfork's child shares our memory but not our
 * PID, so the PID decides. */
__attribute__((destructor)) static void stats_fini(void)
{
	/* path_pid first: a process that never made a file (most) does not
	 * touch the page path lies in. */
	if (path_pid != 0 && path_pid == getpid() && path[0] != '\0') {
		(void)unlink(path);
		path[0] = '\0';
	}
}
