/*
 * conn_open.h - connect: matching a client rule and wrapping the socket
 * (conn_open.c). Accept is listener.h's.
 */
#ifndef TLSSHIM_CONN_OPEN_H
#define TLSSHIM_CONN_OPEN_H

#include <sys/socket.h>
#include <sys/types.h>

int ts_connect(int fd, const struct sockaddr *addr, socklen_t len);
/* sendto, sendmsg and sendmmsg with MSG_FASTOPEN in *flags and an address
 * (sendmmsg: its first message's) on an unwrapped socket: the data would
 * ride in the SYN, in clear. When a rule matches the destination, the
 * socket is connected through ts_connect instead. Returns 1 when the call
 * failed (*ret = -1, errno set); else 0, the caller goes on with *flags
 * (MSG_FASTOPEN taken out once the socket is wrapped: it then writes
 * through the connection). */
int ts_fastopen(int fd, const struct sockaddr *addr, socklen_t len, int *flags, ssize_t *ret);

#endif /* TLSSHIM_CONN_OPEN_H */
