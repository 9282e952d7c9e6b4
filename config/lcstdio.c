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
 */
#include <stdio.h>

#include "config_int.h"

FILE *ts_lc_stdin, *ts_lc_stdout, *ts_lc_stderr;

void cfg_libconfig_stdio(void)
{
	ts_lc_stdin = stdin;
	ts_lc_stdout = stdout;
	ts_lc_stderr = stderr;
}
