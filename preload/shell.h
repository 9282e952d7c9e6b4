/*
 * shell.h - system(), popen() and pclose() whose child is wrapped
 * (shell.c).
 */
#ifndef TLSSHIM_SHELL_H
#define TLSSHIM_SHELL_H

#include <spawn.h>
#include <stdio.h>

/* hook_exec.c: posix_spawn through tlsshim's checks and kept environment. */
int ts_posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                   const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);

int ts_system(const char *cmd);
FILE *ts_popen(const char *cmd, const char *mode);
int ts_pclose(FILE *f);

#endif
