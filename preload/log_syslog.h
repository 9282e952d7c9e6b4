/*
 * log_syslog.h - TLSSHIM_LOG_FILE=syslog: log lines to the system log.
 *
 * Our own AF_UNIX datagram socket to /dev/log and RFC 3164 lines, never
 * openlog(3)/syslog(3): their state (ident, option, facility, descriptor)
 * is the program's, shared with every library in the process, and a
 * preload that called openlog would rename the program's own lines.
 */
#ifndef TLSSHIM_LOG_SYSLOG_H
#define TLSSHIM_LOG_SYSLOG_H

#include <stddef.h>

#include "config.h"

/* The TLSSHIM_LOG_FILE value that selects the system log. */
#define TS_SYSLOG_NAME "syslog"
/* Where the system log listens (glibc's _PATH_LOG). */
#define TS_SYSLOG_PATH "/dev/log"

/* Opens the socket (close-on-exec) and connects it to path. Also caches
 * the local time zone offset that the lines' timestamps use. Returns the
 * descriptor, or -1 with errno. Called from the constructor. */
int ts_syslog_open(const char *path);

/* Sends one line (as ts_log_format made it: "tlsshim[PID]: text\n") to the
 * socket fd as "<PRI>Mmm dd hh:mm:ss tlsshim[PID]: text", facility user,
 * the severity from level. Async-signal-safe: no lock, no allocation;
 * never blocks (a full socket drops the line); reconnects once when the
 * log daemon was restarted. */
void ts_syslog_send(int fd, enum cfg_log_level level, const char *line, size_t len);

/* As ts_log_setup (log.h), with fd a socket from ts_syslog_open: lines go
 * out through ts_syslog_send (log.c). */
void ts_log_setup_syslog(enum cfg_log_level level, int fd);

/* Formats the datagram into out (cap bytes) for time t (seconds since the
 * epoch) and the cached offset; returns its length. For the unit tests. */
size_t ts_syslog_format(char *out, size_t cap, enum cfg_log_level level, long long t,
                        long gmtoff, const char *line, size_t len);

#endif /* TLSSHIM_LOG_SYSLOG_H */
