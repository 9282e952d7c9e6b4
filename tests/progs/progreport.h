/* How the test programs print a call's result for the shell tests to
 * match: "what=N" or "what=-1 errno=ENAME", one line, flushed. */
#ifndef PROGREPORT_H
#define PROGREPORT_H

#include <stdio.h>
#include <string.h>

static inline const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "?";
}

static inline void report(const char *what, long r, int e)
{
	if (r < 0)
		printf("%s=-1 errno=%s\n", what, ename(e));
	else
		printf("%s=%ld\n", what, r);
	fflush(stdout);
}

/* The call first, then errno (an argument list has no evaluation order). */
#define REPORT(what, expr)                      \
	do {                                    \
		long r_ = (long)(expr);         \
		int e_ = errno;                 \
		report((what), r_, e_);         \
	} while (0)

#endif
