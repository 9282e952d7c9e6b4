/*
 * lcstdio.c - the standard streams of the libconfig linked into
 * libtlsshim.so.
 *
 * The interposer links libconfig's archive (Makefile: bound inside the
 * library, so a program exporting config_init cannot capture its calls).
 * Debian's archive is compiled for executables: its references to stdin,
 * stdout and stderr (flex's defaults, libconfig's error printing) cannot
 * be relocated in a shared object, so the build renames them to these
 * variables, which are local to the library and set before libconfig runs.
 * Programs that link libconfig dynamically (the launcher, the tests) never
 * read them.
 *
 * The archive also calls three glibc internals that old headers' inline
 * code named (_IO_getc, __fxstat, __strdup); a program may define
 * functions of those names, and the executable comes first in the global
 * scope. The build renames them to the functions below, local to the
 * library, which call the public ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_int.h"

FILE *ts_lc_stdin, *ts_lc_stdout, *ts_lc_stderr;

void cfg_libconfig_stdio(void)
{
	ts_lc_stdin = stdin;
	ts_lc_stdout = stdout;
	ts_lc_stderr = stderr;
}

int ts_lc_getc(FILE *f);
int ts_lc_fxstat(int ver, int fd, struct stat *st);
char *ts_lc_strdup(const char *s);

int ts_lc_getc(FILE *f)
{
	return getc(f);
}

/* ver is _STAT_VER: fstat's own layout on every architecture glibc kept
 * __fxstat for. */
int ts_lc_fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}

char *ts_lc_strdup(const char *s)
{
	return strdup(s);
}
