/*
 * hook_fork.c - _Fork. fork() runs tlsshim's pthread_atfork handlers
 * (fdtab.c: after fork a process owns a connection only once it does I/O
 * on it, so an accept-then-fork server's parent closes its copy without a
 * close_notify). _Fork, the async-signal-safe fork of glibc 2.34, runs no
 * handlers, so the child's side is done here. vfork is deliberately not
 * hooked: a wrapper cannot return twice from one stack frame, and its
 * child may only exec or _exit (tlsshim.1, CAVEATS).
 */
#include <unistd.h>

#include "fdtab.h"
#include "hook.h"
#include "real.h"

pid_t _Fork(void);

TS_EXPORT pid_t _Fork(void)
{
	pid_t r;

	if (TS_REAL(_Fork) == NULL)
		return fork();
	r = TS_REAL(_Fork)();
	if (r == 0)
		ts_fork_child_nolock();
	return r;
}
