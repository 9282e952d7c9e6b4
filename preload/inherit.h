/*
 * inherit.h - wrapped descriptors a program meant its exec'd child to
 * inherit (inherit.c).
 */
#ifndef TLSSHIM_INHERIT_H
#define TLSSHIM_INHERIT_H

struct ts_conn;

/* The program asked that fd (naming connection c) survive exec: cleared
 * close-on-exec (F_SETFD, FIONCLEX) or dup2'ed it onto 0, 1 or 2. The flag
 * stays set; the exec that then closes fd says so (ts_inherit_warn). */
void ts_inherit_want(int fd, struct ts_conn *c);
/* The program set close-on-exec on fd again. */
void ts_inherit_drop(int fd);
/* Before exec or posix_spawn of `what`: a warn line for each wrapped
 * descriptor the program meant the new program to inherit (marked above,
 * or sitting on 0, 1 or 2), which exec will close. No allocation, no
 * lock (may run in a vfork child). */
void ts_inherit_warn(const char *what);

#endif
