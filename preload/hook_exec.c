/*
 * hook_exec.c - the exec family and posix_spawn: no setuid, setgid or
 * file-capability program from a wrapped process (exec.c), and the new
 * image keeps tlsshim and its rules even when the program cleared its
 * environment (envkeep.c). glibc's own
 * internal calls (system(), popen(), execl -> execve inside libc) never
 * pass through here; every public entry point is hooked for that reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "exec.h"
#include "hook.h"
#include "inherit.h"
#include "real.h"
#include "shell.h"

extern char **environ;

/* envp with tlsshim's environment carried over (envkeep.c), as a stack
 * array named `name` in the enclosing block. */
#define KEEP_ENV(name, envp)                                                              \
	size_t name##_n = ts_depth == 0 ? ts_envkeep_size(envp) : 0;                          \
	char *name##_v[name##_n ? name##_n : 1];                                              \
	char name##_ld[name##_n ? ts_envkeep_ldcap(envp) : 1];                                \
	char *const *name = name##_n ? ts_envkeep_merge(envp, name##_v, name##_n, name##_ld,  \
	                                                sizeof name##_ld)                     \
	                             : (envp)

#define DENY_ERRNO()            \
	do {                    \
		errno = EPERM;  \
		return -1;      \
	} while (0)

TS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	if (ts_depth == 0 && ts_exec_check_path(path) < 0)
		DENY_ERRNO();
	ts_inherit_warn(path);
	{
		KEEP_ENV(env, envp);
		return TS_REAL(execve)(path, argv, env);
	}
}

TS_EXPORT int execv(const char *path, char *const argv[])
{
	if (ts_depth == 0 && ts_exec_check_path(path) < 0)
		DENY_ERRNO();
	ts_inherit_warn(path);
	{
		KEEP_ENV(env, environ);
		if (env != environ)
			return TS_REAL(execve)(path, argv, env);
	}
	return TS_REAL(execv)(path, argv);
}

TS_EXPORT int execvp(const char *file, char *const argv[])
{
	if (ts_depth == 0 && ts_exec_check_file(file) < 0)
		DENY_ERRNO();
	ts_inherit_warn(file);
	if (TS_REAL(execvpe) != NULL) {
		KEEP_ENV(env, environ);
		if (env != environ)
			return TS_REAL(execvpe)(file, argv, env);
	}
	return TS_REAL(execvp)(file, argv);
}

TS_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (ts_depth == 0 && ts_exec_check_file(file) < 0)
		DENY_ERRNO();
	ts_inherit_warn(file);
	if (TS_REAL(execvpe) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	{
		KEEP_ENV(env, envp);
		return TS_REAL(execvpe)(file, argv, env);
	}
}

TS_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	if (ts_depth == 0 && ts_exec_check_fd(fd) < 0)
		DENY_ERRNO();
	ts_inherit_warn("(descriptor)");
	if (TS_REAL(fexecve) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	{
		KEEP_ENV(env, envp);
		return TS_REAL(fexecve)(fd, argv, env);
	}
}

TS_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                       int flags)
{
	if (ts_depth == 0 && ts_exec_check_at(dirfd, path, flags) < 0)
		DENY_ERRNO();
	ts_inherit_warn(path);
	if (TS_REAL(execveat) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	{
		KEEP_ENV(env, envp);
		return TS_REAL(execveat)(dirfd, path, argv, env, flags);
	}
}

/* execl, execlp, execle: the list becomes an argv on the stack (no malloc:
 * these run in the child of fork), as glibc builds it. */
static size_t count_args(const char *arg, va_list ap)
{
	va_list aq;
	size_t n = 1;

	if (arg == NULL)
		return 0;
	va_copy(aq, ap);
	while (va_arg(aq, const char *) != NULL)
		n++;
	va_end(aq);
	return n;
}

/* argv[0..n] from arg and the next n - 1 arguments of *ap, NULL-ended. */
static void fill_args(char **argv, size_t n, const char *arg, va_list *ap)
{
	argv[0] = (char *)(uintptr_t)arg;
	for (size_t i = 1; i < n; i++)
		argv[i] = va_arg(*ap, char *);
	argv[n] = NULL;
}

TS_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(arg, ap);
	{
		char *argv[n + 1];

		fill_args(argv, n, arg, &ap);
		va_end(ap);
		return execv(path, argv);
	}
}

TS_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, arg);
	n = count_args(arg, ap);
	{
		char *argv[n + 1];

		fill_args(argv, n, arg, &ap);
		va_end(ap);
		return execvp(file, argv);
	}
}

TS_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;
	char *const *envp;

	va_start(ap, arg);
	n = count_args(arg, ap);
	{
		char *argv[n + 1];

		fill_args(argv, n, arg, &ap);
		if (n > 0)
			(void)va_arg(ap, char *); /* the NULL that ends the list */
		envp = va_arg(ap, char *const *);
		va_end(ap);
		return execve(path, argv, envp);
	}
}

/* posix_spawn's work, for shell.c's system() and popen() (called by this
 * name, not the exported one, which a program's own definition could
 * capture). */
int ts_posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (ts_depth == 0 && (ts_exec_check_path(path) < 0 || ts_spawn_check_actions(fa) < 0))
		return EPERM;
	ts_inherit_warn(path);
	{
		KEEP_ENV(env, envp);
		return TS_REAL(posix_spawn)(pid, path, fa, attr, argv, env);
	}
}

TS_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return ts_posix_spawn(pid, path, fa, attr, argv, envp);
}

TS_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (ts_depth == 0 && (ts_exec_check_file(file) < 0 || ts_spawn_check_actions(fa) < 0))
		return EPERM;
	ts_inherit_warn(file);
	{
		KEEP_ENV(env, envp);
		return TS_REAL(posix_spawnp)(pid, file, fa, attr, argv, env);
	}
}
