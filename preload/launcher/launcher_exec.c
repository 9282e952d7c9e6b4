/*
 * launcher_exec.c - LD_PRELOAD and the exec of the program.
 *
 * The launcher execs the program itself (no fork), as env(1) does: the
 * program keeps the launcher's PID, signals and terminal, and its exit
 * status is the launcher's.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launcher.h"
#include "sanrt.h"

#define PRELOAD_NAME "libtlsshim.so"

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + 1 + strlen(name) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

char *launch_find_lib(const char *name, char *err, size_t errlen)
{
	return launch_find_file(name, name, err, errlen);
}

char *launch_find_file(const char *name, const char *in_lib, char *err, size_t errlen)
{
	char self[PATH_MAX];
	char *cand;
	const char *selfdir = NULL;
	/* A build tree (build/tlsshim next to build/libtlsshim.so) wins over
	 * an installed copy, so that tests and `make demo` run what was built.
	 * Then PREFIX/lib seen from PREFIX/bin/tlsshim (or from
	 * PREFIX/lib/tlsshim/tlsshim-full): the prefix chosen at
	 * `make install` (or a package, or a moved tree) need not be the one
	 * the launcher was compiled with. /proc/self/exe has the symlinks
	 * resolved, so a link to the launcher finds the real tree. */
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			selfdir = self[0] ? self : "/";
			cand = join(selfdir, name);
			if (cand && access(cand, R_OK) == 0)
				return cand;
			free(cand);
			/* PREFIX/lib: from PREFIX/bin/tlsshim, or from the full
			 * launcher in PREFIX/lib/tlsshim/. */
			size_t dl = strlen(selfdir);
			int in_libdir = dl >= 12 && strcmp(selfdir + dl - 12, "/lib/tlsshim") == 0;
			char *up = join(selfdir, in_libdir ? ".." : "../lib");
			cand = up ? join(up, in_lib) : NULL;
			free(up);
			if (cand && access(cand, R_OK) == 0) {
				char *canon = realpath(cand, NULL);
				if (canon) {
					free(cand);
					return canon;
				}
				return cand;
			}
			free(cand);
		}
	}
	cand = join(launch_libdir, in_lib);
	if (cand && cand[0] == '/' && access(cand, R_OK) == 0)
		return cand;
	free(cand);
	if (strcmp(name, in_lib) == 0)
		snprintf(err, errlen, "cannot find %s: looked next to the launcher (%s), in "
		         "%s/../lib and in %s", name, selfdir ? selfdir : "/proc/self/exe unreadable",
		         selfdir ? selfdir : "?", launch_libdir);
	else
		snprintf(err, errlen, "cannot find %s: looked next to the launcher (%s), and for "
		         "%s in %s/../lib and in %s", name,
		         selfdir ? selfdir : "/proc/self/exe unreadable", in_lib,
		         selfdir ? selfdir : "?", launch_libdir);
	return NULL;
}

char *launch_find_preload(char *err, size_t errlen)
{
	return launch_find_lib(PRELOAD_NAME, err, errlen);
}

size_t launch_preload_ours(const char *lib, const char *ours[3])
{
	return ts_preload_entries(lib, ours);
}

char *launch_preload_value(const char *const ours[], const char *old, char *err, size_t errlen)
{
	struct launch_buf b = { 0 };
	for (size_t i = 0; ours[i]; i++) {
		/* ld.so splits LD_PRELOAD at spaces and colons and has no quoting. */
		if (strpbrk(ours[i], " :\t\n")) {
			launch_buf_free(&b);
			snprintf(err, errlen, "%s: LD_PRELOAD cannot name a path that contains "
			         "a space or a colon", ours[i]);
			return NULL;
		}
		if (i)
			launch_buf_puts(&b, ":");
		launch_buf_puts(&b, ours[i]);
	}
	if (old) {
		char *copy = strdup(old);
		if (!copy) {
			launch_buf_free(&b);
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		char *save = NULL;
		for (char *w = strtok_r(copy, " :", &save); w; w = strtok_r(NULL, " :", &save)) {
			/* Run under tlsshim twice, the library is loaded once. */
			size_t i = 0;
			while (ours[i] && strcmp(w, ours[i]) != 0)
				i++;
			if (ours[i])
				continue;
			launch_buf_puts(&b, ":");
			launch_buf_puts(&b, w);
		}
		free(copy);
	}
	if (b.failed) {
		launch_buf_free(&b);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return b.data;
}

int launch_exec(char *const argv[])
{
	execvp(argv[0], argv);
	int e = errno;
	fprintf(stderr, "tlsshim: '%s': %s\n", argv[0], strerror_r(e, (char[128]){""}, 128));
	return e == ENOENT ? LAUNCH_EXIT_NOT_FOUND : LAUNCH_EXIT_CANNOT_RUN;
}
