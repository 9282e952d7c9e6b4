/*
 * log.h - log lines (log.c: a stack buffer and the real write).
 */
#ifndef TLSSHIM_LOG_H
#define TLSSHIM_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>

#include "config.h"

/* Level from the rule set; fd -1 means stderr. */
void ts_log_setup(enum cfg_log_level level, int fd);
int ts_log_enabled(enum cfg_log_level level);
/* "tlsshim[PID]: " + text + "\n", one write(2) with the real write. No
 * allocation: the line is formatted on the stack and cut at 1 KiB. */
void ts_log(enum cfg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ts_vlog(enum cfg_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Formats a line without writing it (the unit tests check the format). */
size_t ts_log_format(char *buf, size_t cap, int pid, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* "127.0.0.1:4433" / "[::1]:4433" / "?" */
void ts_addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap);

#endif /* TLSSHIM_LOG_H */
