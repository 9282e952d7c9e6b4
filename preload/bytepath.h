/*
 * bytepath.h - the rarer ways bytes reach a descriptor (issue 10, items 1,
 * 7 and 8): glibc exports beyond the read/write/send/recv families, the
 * std streams bound to a wrapped socket, and the refusal they share.
 * tests/bytepaths/glibc-bytepaths.txt lists every such export and its
 * treatment.
 */
#ifndef TLSSHIM_BYTEPATH_H
#define TLSSHIM_BYTEPATH_H

#include <stdio.h>

#include <sys/types.h>

/* refuse.c: the call `func` on the wrapped descriptor fd cannot go through
 * TLS: writes a warn line naming it and the connection, sets errno to
 * EOPNOTSUPP and returns -1 (nothing reached the kernel). */
int ts_refuse(int fd, const char *func, const char *why);

/* stdstream.c: the descriptor fd (0, 1 or 2) now names a wrapped
 * connection, or stopped naming one: stdin, stdout or stderr is bound to a
 * stream through TLS, or given back. Called by fdtab.c on every change of
 * 0..2; a no-op when nothing changes. */
void ts_stdio_changed(int fd);

/* stdstream.c: flushes every stream with output buffered (but one another
 * thread holds locked), at exit, before the close_notify: what the
 * program wrote to a stream on a connection goes out before its end. */
void ts_streams_flush_at_exit(void);

/* fdopen_stream.c: fdopen on a wrapped socket: a fopencookie stream. */
FILE *ts_fdopen(int fd, const char *mode);
/* fdopen_stream.c: a stream on a TCP socket that is not connected yet, whose
 * reads and writes look the descriptor up on every call (a later connect
 * that wraps it is honoured). NULL when fd is not such a socket (then the
 * caller uses libc's fdopen). */
FILE *ts_fdopen_unconnected(int fd, const char *mode);
/* The read and write of those streams (the cookie is the descriptor): the
 * connection at fd through TLS, libc's call when fd is not one. */
ssize_t ts_cookie_read(void *cookie, char *buf, size_t n);
ssize_t ts_cookie_write(void *cookie, const char *buf, size_t n);

/* siblings.c: fd was just wrapped by connect; every other descriptor of
 * this process naming the same socket (a dup made before connect) becomes
 * one more name of its connection. Keeps errno. */
void ts_fd_adopt_siblings(int fd);

struct ts_fdobj;
/* siblings.c, at fork (before it, in the parent): every TCP socket made
 * since the last fork and still unconnected becomes a TS_KIND_FORKED
 * entry in both processes. Keeps errno. */
void ts_fd_watch_forked(void);
/* siblings.c, for ts_fd_lookup on a TS_KIND_FORKED entry o at fd: 0 when
 * the socket is not connected (the call is the kernel's), 1 when it is
 * connected to a destination no rule wraps (the entry goes: plain), -1
 * when a rule wraps it (refused: EPROTO; the first says so at warn).
 * Keeps errno. */
int ts_fd_forked_check(int fd, struct ts_fdobj *o);

#endif /* TLSSHIM_BYTEPATH_H */
