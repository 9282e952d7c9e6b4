/*
 * launcher_ssl_handoff.c - the static launcher's way to OpenSSL: it hands
 * the whole run to the full launcher.
 *
 * build/tlsshim is linked statically where the toolchain can (the
 * Makefile's STATIC_LAUNCHER): with no loader and no libc to map and
 * relocate it starts in about half a millisecond less on this kind of
 * machine, and every program a wrapped shell starts through it pays that
 * start-up (the start-up row of `make bench`). A static program cannot
 * load libsslsocket.so safely (it would hold two C libraries), so what
 * needs OpenSSL - --check, --getcert, --peercert, and a configuration
 * check that the files' bytes cannot answer (a pinned protocol version, a
 * cipher list, an encrypted key) - is done by tlsshim-full, the same
 * objects linked dynamically with launcher_ssl_load.c: exec'd with the
 * arguments and the environment this process started with, before this
 * one printed anything or set any variable, so that it does exactly what
 * a dynamic launcher would have done from the start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"

#define FULL_NAME "tlsshim-full"

extern char **environ;

static char **start_argv;
static char **start_env; /* a copy of environ's array: setenv replaces entries in place */

void launch_ssl_start(char **argv)
{
	size_t n = 0;

	start_argv = argv;
	while (environ && environ[n])
		n++;
	start_env = malloc((n + 1) * sizeof *start_env);
	if (start_env) {
		if (n)
			memcpy(start_env, environ, n * sizeof *start_env);
		start_env[n] = NULL;
	}
}

static void handoff(void)
{
	char err[LAUNCH_ERRLEN];
	char *full = launch_find_file(FULL_NAME, "tlsshim/" FULL_NAME, err, sizeof err);

	if (!start_env || !start_argv) {
		fprintf(stderr, "tlsshim: out of memory\n");
		exit(LAUNCH_EXIT_CONFIG);
	}
	if (!full) {
		fprintf(stderr, "tlsshim: cannot load libsslsocket.so through the full "
		        "launcher: %s\n", err);
		exit(LAUNCH_EXIT_CONFIG);
	}
	fflush(NULL);
	execve(full, start_argv, start_env);
	fprintf(stderr, "tlsshim: cannot run the full launcher %s: %s\n", full,
	        strerror_r(errno, (char[128]){""}, 128));
	exit(LAUNCH_EXIT_CONFIG);
}

int launch_ssl_mode(const struct launch_opts *o, int nargs, char **argv)
{
	(void)o;
	(void)nargs;
	(void)argv;
	handoff();
	return LAUNCH_EXIT_CONFIG;
}

void *launch_core_sym(const char *name)
{
	(void)name;
	handoff();
	return NULL;
}

const char *launch_core_why(void)
{
	return "";
}
