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

#include "ts.h"

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
