/*
 * fdadopt.h - descriptors the kernel makes for a wrapped connection behind
 * dup's back: SCM_RIGHTS, pidfd_getfd (fdadopt.c).
 */
#ifndef TLSSHIM_FDADOPT_H
#define TLSSHIM_FDADOPT_H

#include <sys/socket.h>

struct ts_conn;

/* newfd was just made by the kernel (received with SCM_RIGHTS, fetched
 * with pidfd_getfd, by the libc function or a raw syscall). If it is the
 * socket of a wrapped connection of this process, newfd becomes one more
 * name of that connection, as dup would make it (close-on-exec set); if
 * it is the socket of a connection that has already ended here, newfd
 * enters the table as failed (every read and write fails with EPROTO, a
 * warn line says why). Keeps errno. Call with ts_depth == 0 only. */
void ts_fd_adopt(int newfd);
/* ts_fd_adopt for every descriptor in the SCM_RIGHTS messages of m (after
 * a successful recvmsg/recvmmsg). */
void ts_fd_adopt_cmsgs(const struct msghdr *m);
/* Called when a connection object ends (fdtab.c): remembers its socket's
 * identity, so that a copy of the socket still in flight (an SCM_RIGHTS
 * message not received yet) is refused when it arrives. */
void ts_fd_adopt_retire(struct ts_conn *c);

#endif
