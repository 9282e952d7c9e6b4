/*
 * hook_shell.c - system, popen, pclose: the child keeps tlsshim even when
 * the program removed it from its environment (shell.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "hook.h"
#include "shell.h"

TS_EXPORT int system(const char *cmd)
{
	return ts_system(cmd);
}

TS_EXPORT FILE *popen(const char *cmd, const char *mode)
{
	return ts_popen(cmd, mode);
}

TS_EXPORT int pclose(FILE *f)
{
	return ts_pclose(f);
}
