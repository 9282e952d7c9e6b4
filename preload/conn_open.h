/*
 * conn_open.h - connect and accept: matching a rule and wrapping the
 * socket (conn_open.c).
 */
#ifndef TLSSHIM_CONN_OPEN_H
#define TLSSHIM_CONN_OPEN_H

#include <sys/socket.h>
#include <sys/types.h>

int ts_connect(int fd, const struct sockaddr *addr, socklen_t len);
int ts_accept(int fd, struct sockaddr *addr, socklen_t *len, int flags, int is_accept4);
/* After a successful listen: if an accept rule matches fd, builds its
 * context now. Keeps errno. */
void ts_listen_prepare(int fd);
/* sendto/sendmsg with MSG_FASTOPEN and an address on an unwrapped socket
 * (the data would ride in the SYN, in clear): when a rule matches, connects
 * through ts_connect instead. Returns 0 to pass through, 1 when the call
 * failed (*ret = -1, errno set), -1 when the socket is now wrapped and the
 * caller must write through the connection without MSG_FASTOPEN. */
int ts_fastopen(int fd, const struct sockaddr *addr, socklen_t len, ssize_t *ret);

#endif /* TLSSHIM_CONN_OPEN_H */
