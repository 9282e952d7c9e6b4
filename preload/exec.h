/*
 * exec.h - the exec and posix_spawn policy: what is privileged
 * (execcheck.c: setuid, setgid, file capabilities), what may go on (exec.c),
 * and LD_PRELOAD and the rules carried across exec (envkeep.c).
 */
#ifndef TLSSHIM_EXEC_H
#define TLSSHIM_EXEC_H

#include <spawn.h>
#include <stddef.h>

/* ---- execcheck.c ------------------------------------------------------- */

/* Why an exec of path would lose LD_PRELOAD: "setuid", "setgid",
 * "file capabilities", or NULL when it is an ordinary program (or does not
 * exist: exec itself reports that). */
const char *ts_exec_privileged_path(const char *path);
const char *ts_exec_privileged_fd(int fd);
/* As execvp and posix_spawnp find `file` in PATH (envp's PATH when envp is
 * given, else the process's): the full path into buf, or NULL when not
 * found. A file containing '/' is itself. */
const char *ts_exec_search(const char *file, char *const envp[], char *buf, size_t cap);

/* ---- exec.c ------------------------------------------------------------ */

/* 0 when exec may go on; -1 (a warn line written) when the target is
 * privileged, a configuration is loaded and allow_setuid_exec is false. */
int ts_exec_check_path(const char *path);
int ts_exec_check_file(const char *file);   /* searched in PATH */
int ts_exec_check_fd(int fd);
int ts_exec_check_at(int dirfd, const char *path, int flags);
/* -1 (a warn line written) when posix_spawn's file actions would dup2 a
 * wrapped connection into the child. */
int ts_spawn_check_actions(const posix_spawn_file_actions_t *fa);

/* ---- envkeep.c --------------------------------------------------------- */

/* The exec family hands the new image this library and the rules
 * (LD_PRELOAD, TLSSHIM_*) even when the program cleared its environment.
 * ts_envkeep_size: 0 when envp needs nothing (or the process is inert),
 * else the entries of the merged array to allocate (on the stack);
 * ts_envkeep_ldcap: the bytes of the LD_PRELOAD entry it may build;
 * ts_envkeep_merge: the environment to exec with (out, or envp when it
 * cannot be built). Nothing is allocated: exec runs in fork's child. */
size_t ts_envkeep_size(char *const envp[]);
size_t ts_envkeep_ldcap(char *const envp[]);
char *const *ts_envkeep_merge(char *const envp[], char **out, size_t cap, char *ld, size_t ldcap);

#endif /* TLSSHIM_EXEC_H */
