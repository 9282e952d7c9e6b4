/*
 * shell.c - system() and popen() with a wrapped child.
 *
 * glibc's system() and popen() start "/bin/sh -c" through its internal
 * posix_spawn, which no preload sees, with the process's environment as it
 * is: a program that removed LD_PRELOAD (or cleared its environment) ran
 * the child, and every connection it made, without tlsshim, although the
 * exec family keeps tlsshim and its rules (envkeep.c). When the
 * environment would lose them, system() and popen() are done here, as
 * glibc does them, through tlsshim's posix_spawn, which puts them back.
 * Otherwise glibc's own run (the child is wrapped anyway).
 *
 * system(): SIGINT and SIGQUIT ignored and SIGCHLD blocked in the caller
 * while the child runs (POSIX; counted, so concurrent calls restore them
 * once); the child gets the caller's mask and default SIGINT/SIGQUIT.
 * popen(): a pipe, the child's end on its stdin or stdout, "e" for
 * close-on-exec; the streams this file opened are closed in later
 * children and pclose() waits for their shell. pclose() of any other
 * stream is glibc's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "init.h"
#include "real.h"
#include "shell.h"

extern char **environ;

/* glibc's own, resolved here (no other part of tlsshim calls them). */
static int (*real_system)(const char *);
static FILE *(*real_popen)(const char *, const char *);
static int (*real_pclose)(FILE *);
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

static void resolve(void)
{
	real_system = (int (*)(const char *))dlsym(RTLD_NEXT, "system");
	real_popen = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "popen");
	real_pclose = (int (*)(FILE *))dlsym(RTLD_NEXT, "pclose");
}

/* 1 when a child started with this environment would lose tlsshim. */
static int env_loses_tlsshim(void)
{
	pthread_once(&resolve_once, resolve);
	return ts_depth == 0 && ts_active() && ts_envkeep_size(environ) > 0;
}

/* ---- system ------------------------------------------------------------- */

static pthread_mutex_t sys_lock = PTHREAD_MUTEX_INITIALIZER;
static int sys_refs;
static struct sigaction sys_old_int, sys_old_quit;

static char *sh_argv(const char *cmd, char **argv)
{
	argv[0] = (char *)(uintptr_t) "sh";
	argv[1] = (char *)(uintptr_t) "-c";
	argv[2] = (char *)(uintptr_t)cmd;
	argv[3] = NULL;
	return argv[0];
}

static int do_system(const char *cmd)
{
	struct sigaction ign;
	sigset_t chld, old_mask, def;
	posix_spawnattr_t attr;
	char *argv[4];
	pid_t pid;
	int status = -1, r;

	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	pthread_mutex_lock(&sys_lock);
	if (sys_refs++ == 0) {
		sigaction(SIGINT, &ign, &sys_old_int);
		sigaction(SIGQUIT, &ign, &sys_old_quit);
	}
	pthread_mutex_unlock(&sys_lock);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, &old_mask);

	sigemptyset(&def);
	if (sys_old_int.sa_handler != SIG_IGN)
		sigaddset(&def, SIGINT);
	if (sys_old_quit.sa_handler != SIG_IGN)
		sigaddset(&def, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &old_mask);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	sh_argv(cmd, argv);
	r = ts_posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	if (r == 0) {
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				status = -1;
				break;
			}
	} else {
		status = 127 << 8; /* as glibc: the shell could not run */
	}
	r = errno;
	pthread_mutex_lock(&sys_lock);
	if (--sys_refs == 0) {
		sigaction(SIGINT, &sys_old_int, NULL);
		sigaction(SIGQUIT, &sys_old_quit, NULL);
	}
	pthread_mutex_unlock(&sys_lock);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	errno = r;
	return status;
}

int ts_system(const char *cmd)
{
	if (cmd == NULL || !env_loses_tlsshim())
		return real_system ? real_system(cmd) : (errno = ENOSYS, -1);
	return do_system(cmd);
}

/* ---- popen and pclose ----------------------------------------------------- */

struct popen_node {
	FILE *f;
	int fd;
	pid_t pid;
	struct popen_node *next;
};

static pthread_mutex_t popen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct popen_node *popen_list;

static FILE *do_popen(const char *cmd, const char *mode)
{
	posix_spawn_file_actions_t fa;
	struct popen_node *node, *n;
	int p[2], rd, parent_end, child_end, child_std, r, e;
	char *argv[4];
	pid_t pid;
	FILE *f;

	if (mode == NULL || (mode[0] != 'r' && mode[0] != 'w')) {
		errno = EINVAL;
		return NULL;
	}
	rd = mode[0] == 'r';
	node = malloc(sizeof *node);
	if (node == NULL)
		return NULL;
	if (pipe2(p, O_CLOEXEC) < 0) {
		free(node);
		return NULL;
	}
	parent_end = rd ? p[0] : p[1];
	child_end = rd ? p[1] : p[0];
	child_std = rd ? 1 : 0;
	posix_spawn_file_actions_init(&fa);
	/* the same number: glibc's dup2 action then clears close-on-exec */
	posix_spawn_file_actions_adddup2(&fa, child_end, child_std);
	pthread_mutex_lock(&popen_lock);
	for (n = popen_list; n != NULL; n = n->next) /* POSIX: not in later children */
		if (n->fd != child_std)
			posix_spawn_file_actions_addclose(&fa, n->fd);
	sh_argv(cmd, argv);
	r = ts_posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	TS_REAL(close)(child_end);
	if (r != 0) {
		pthread_mutex_unlock(&popen_lock);
		TS_REAL(close)(parent_end);
		free(node);
		errno = r;
		return NULL;
	}
	if (strchr(mode, 'e') == NULL)
		TS_REAL(fcntl)(parent_end, F_SETFD, 0);
	f = TS_REAL(fdopen)(parent_end, rd ? "r" : "w");
	if (f == NULL) {
		e = errno;
		pthread_mutex_unlock(&popen_lock);
		TS_REAL(close)(parent_end);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		free(node);
		errno = e;
		return NULL;
	}
	node->f = f;
	node->fd = parent_end;
	node->pid = pid;
	node->next = popen_list;
	popen_list = node;
	pthread_mutex_unlock(&popen_lock);
	return f;
}

FILE *ts_popen(const char *cmd, const char *mode)
{
	if (!env_loses_tlsshim())
		return real_popen ? real_popen(cmd, mode) : (errno = ENOSYS, NULL);
	return do_popen(cmd, mode);
}

int ts_pclose(FILE *f)
{
	struct popen_node **pp, *node = NULL;
	int status = -1;
	pid_t pid;

	pthread_once(&resolve_once, resolve);
	pthread_mutex_lock(&popen_lock);
	for (pp = &popen_list; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->f == f) {
			node = *pp;
			*pp = node->next;
			break;
		}
	pthread_mutex_unlock(&popen_lock);
	if (node == NULL)
		return real_pclose ? real_pclose(f) : (errno = ENOSYS, -1);
	pid = node->pid;
	free(node);
	fclose(f);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}
