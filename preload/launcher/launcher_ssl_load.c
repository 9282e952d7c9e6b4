/*
 * launcher_ssl_load.c - the full launcher's way to OpenSSL: it loads
 * libsslsocket.so (next to the launcher, else in ../lib, else in
 * launch_libdir, as libtlsshim.so is found) on the first call that needs
 * it, and runs the modes that need it (--check, --getcert, --peercert)
 * itself. Linked into build/tlsshim-full, and into build/tlsshim when
 * that one cannot be linked statically (launcher_ssl_handoff.c).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "launcher.h"

#define CORE_LIB_NAME "libsslsocket.so"

static void *core_lib;
static char core_lib_why[LAUNCH_ERRLEN];

void launch_ssl_start(char **argv)
{
	(void)argv;
}

int launch_ssl_mode(const struct launch_opts *o, int nargs, char **argv)
{
	(void)argv;
	return o->check ? launch_run_check(o, nargs) : launch_run_cert_mode(o, nargs);
}

void *launch_core_sym(const char *name)
{
	if (!core_lib && !core_lib_why[0]) {
		char err[LAUNCH_ERRLEN];
		char *path = launch_find_lib(CORE_LIB_NAME, err, sizeof err);
		if (!path) {
			snprintf(core_lib_why, sizeof core_lib_why, "%s", err);
		} else {
			core_lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
			if (!core_lib)
				snprintf(core_lib_why, sizeof core_lib_why, "%s", dlerror());
			free(path);
		}
	}
	void *p = core_lib ? dlsym(core_lib, name) : NULL;
	if (core_lib && !p)
		snprintf(core_lib_why, sizeof core_lib_why, "%s lacks %s", CORE_LIB_NAME, name);
	return p;
}

const char *launch_core_why(void)
{
	return core_lib_why;
}
