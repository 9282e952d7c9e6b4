/*
 * exitnotify.h - close_notify at exit (exitnotify.c).
 */
#ifndef TLSSHIM_EXITNOTIFY_H
#define TLSSHIM_EXITNOTIFY_H

/* Called when a connection is wrapped: registers (once) the atexit handler
 * that sends the close_notify of every connection this process owns when
 * it exits. Cheap after the first call. */
void ts_exit_arm(void);

#endif
