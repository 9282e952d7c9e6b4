/*
 * ready.h - poll, ppoll, select and pselect over wrapped connections
 * (ready.c, on the readiness engine of readiness.h).
 */
#ifndef TLSSHIM_READY_H
#define TLSSHIM_READY_H

#include <poll.h>
#include <signal.h>
#include <sys/select.h>

/* 1 if any descriptor of the set is in the table (the hooks' fast test). */
int ts_poll_has_wrapped(const struct pollfd *fds, nfds_t n);
int ts_select_has_wrapped(int nfds, const fd_set *rd, const fd_set *wr, const fd_set *ex);
/* poll/ppoll and select/pselect over wrapped sockets (timeout_ms -1:
 * forever; sigmask applied around the kernel wait as ppoll/pselect do). */
int ts_poll(struct pollfd *fds, nfds_t n, int timeout_ms, const sigset_t *sigmask);
int ts_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int timeout_ms,
              const sigset_t *sigmask);

#endif /* TLSSHIM_READY_H */
