/*
 * fdcopies.h - which descriptor numbers may share a socket with another
 * number of this process. A socket gets a second number only through the
 * dup family, SCM_RIGHTS, pidfd_getfd or inheritance; the hooks mark both
 * sides of each, so that when connect wraps a socket, siblings.c looks at
 * the marked numbers only instead of every open descriptor (a proxy with
 * 10,000 clients would otherwise pay 10,000 fstat calls per upstream
 * connect). Marks are never cleared: a stale one costs one fstat.
 */
#ifndef TLSSHIM_FDCOPIES_H
#define TLSSHIM_FDCOPIES_H

/* fd may name a socket another number of this process names too. Async-
 * signal-safe (one atomic or). Numbers outside the table are ignored. */
void ts_fdcopy_mark(int fd);
/* 1 when fd was marked. */
int ts_fdcopy_marked(int fd);
/* The lowest marked number >= from, or -1. */
int ts_fdcopy_next(int from);
/* The second set: TCP sockets made by socket() and not connected yet,
 * the ones a fork can leave to two processes before either connects
 * (siblings.c). socket() marks, connect clears, the fork's look clears
 * what it finds connected, listening or closed: the set holds what was
 * made since, never the connections the process holds. */
void ts_fdfresh_mark(int fd);
void ts_fdfresh_clear(int fd);
int ts_fdfresh_next(int from);
/* Marks every descriptor open now (the ones inherited across exec). */
void ts_fdcopy_mark_open(void);
/* Calls fn(fd, arg) for every descriptor open in this process (from
 * /proc/self/fd, read into a stack buffer; the directory's own descriptor
 * is left out). */
void ts_fd_each_open(void (*fn)(int fd, void *arg), void *arg);

#endif /* TLSSHIM_FDCOPIES_H */
