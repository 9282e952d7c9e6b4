/*
 * sockprops.h - what both places where sockets become TLS, connect
 * (conn_open.c) and accept (listener.c), ask of a socket or set on it
 * (sockprops.c); close-on-exec also for every other name of a wrapped
 * connection (conn_fd.c, fdadopt.c, siblings.c): one way to set it.
 */
#ifndef TLSSHIM_SOCKPROPS_H
#define TLSSHIM_SOCKPROPS_H

#include <sys/socket.h>

/* sa's address family, -1 when sa is NULL or len too short to hold one. */
int ts_sa_family_of(const struct sockaddr *sa, socklen_t len);
/* 1 when fd is a SOCK_STREAM socket. */
int ts_is_stream(int fd);
/* Marks fd close-on-exec; 1 when this set it (the program did not ask for it). */
int ts_set_cloexec(int fd);

#endif /* TLSSHIM_SOCKPROPS_H */
