/*
 * exec.c - the policy around exec and posix_spawn (execcheck.c says what
 * is privileged): refuse with EPERM and a warn line while a configuration
 * is loaded and allow_setuid_exec is not set. Inert processes are never
 * refused anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "exec.h"
#include "fdtab.h"
#include "init.h"
#include "log.h"

static int refuse(const char *shown, const char *why)
{
	ts_log(CFG_LOG_WARN,
	       "exec %s: refused: the program is %s, so the loader would drop LD_PRELOAD and "
	       "its connections would leave in plaintext (allow_setuid_exec = true allows it)",
	       shown, why);
	return -1;
}

static int policy_applies(void)
{
	return ts_active() && !ts_rules->allow_setuid_exec;
}

int ts_exec_check_path(const char *path)
{
	const char *why;

	if (!policy_applies())
		return 0;
	why = ts_exec_privileged_path(path);
	return why ? refuse(path, why) : 0;
}

int ts_exec_check_file(const char *file)
{
	char buf[PATH_MAX];
	const char *path;

	if (!policy_applies())
		return 0;
	/* execvp, execvpe and posix_spawnp search the caller's PATH */
	path = ts_exec_search(file, NULL, buf, sizeof buf);
	return path ? ts_exec_check_path(path) : 0;
}

int ts_exec_check_fd(int fd)
{
	const char *why;
	char shown[32];

	if (!policy_applies())
		return 0;
	why = ts_exec_privileged_fd(fd);
	if (why == NULL)
		return 0;
	snprintf(shown, sizeof shown, "(descriptor %d)", fd);
	return refuse(shown, why);
}

int ts_exec_check_at(int dirfd, const char *path, int flags)
{
	char buf[PATH_MAX];

	if (!policy_applies())
		return 0;
	if (path != NULL && path[0] == '\0' && (flags & AT_EMPTY_PATH))
		return ts_exec_check_fd(dirfd);
	if (path == NULL)
		return 0;
	if (path[0] == '/' || dirfd == AT_FDCWD)
		return ts_exec_check_path(path);
	snprintf(buf, sizeof buf, "/proc/self/fd/%d/%s", dirfd, path);
	return ts_exec_check_path(buf);
}

/* posix_spawn's file actions run in the child inside glibc, past every
 * hook: a dup2 action would hand a wrapped socket to the new program with
 * FD_CLOEXEC cleared, and that program would read ciphertext and write
 * plaintext into a TLS stream. glibc's layout of the actions (stable since
 * 2.2; posix/spawn_int.h) is mirrored to find such an action. */
struct glibc_spawn_action {
	int tag; /* 1: spawn_do_dup2 */
	union {
		struct {
			int fd;
			int newfd;
		} dup2_action;
		void *pad[4];
	} action;
};

struct glibc_spawn_file_actions {
	int allocated;
	int used;
	struct glibc_spawn_action *actions;
};

int ts_spawn_check_actions(const posix_spawn_file_actions_t *fa)
{
#if defined(__GLIBC__)
	const struct glibc_spawn_file_actions *g = (const void *)fa;
	int i;

	if (fa == NULL || !ts_active())
		return 0;
	if (g->used < 0 || g->used > g->allocated || (g->used > 0 && g->actions == NULL))
		return 0;
	for (i = 0; i < g->used; i++) {
		const struct glibc_spawn_action *a = &g->actions[i];
		struct ts_conn *c;

		if (a->tag != 1)
			continue;
		if (ts_conn_lookup(a->action.dup2_action.fd, &c) == TS_FD_OURS) {
			ts_conn_release(c);
			ts_log(CFG_LOG_WARN,
			       "posix_spawn: refused: descriptor %d is a TLS connection and "
			       "cannot be handed to another program (its bytes would leave in "
			       "plaintext)",
			       a->action.dup2_action.fd);
			return -1;
		}
	}
#else
	(void)fa;
#endif
	return 0;
}
