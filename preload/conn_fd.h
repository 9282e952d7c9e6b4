/*
 * conn_fd.h - the descriptor calls on wrapped descriptors (conn_fd.c):
 * close, close_range, dup*, fcntl, ioctl, setsockopt, getsockopt(SO_ERROR).
 */
#ifndef TLSSHIM_CONN_FD_H
#define TLSSHIM_CONN_FD_H

#include <sys/socket.h>

/* The close family: ends fd's use of its connection. */
int ts_close(int fd);
int ts_close_range(unsigned lo, unsigned hi, int flags);
void ts_closefrom(int lo);
int ts_dup(int oldfd);
int ts_dup2(int oldfd, int newfd);
int ts_dup3(int oldfd, int newfd, int flags);
/* fcntl/ioctl/setsockopt on a wrapped descriptor: track what the program
 * asked for, then do it. */
int ts_fcntl(int fd, int cmd, void *arg, int (*real)(int, int, ...));
int ts_ioctl(int fd, unsigned long req, void *arg);
int ts_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
/* getsockopt(SOL_SOCKET, SO_ERROR) on a wrapped descriptor: the error of a
 * non-blocking connect that the core consumed while driving it, once. */
int ts_getsockopt_error(int fd, void *val, socklen_t *len);

#endif /* TLSSHIM_CONN_FD_H */
