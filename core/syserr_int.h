/*
 * syserr_int.h - the system's error text, thread-safe. strerror may
 * return a buffer shared by every thread (glibc's does for unknown
 * numbers), and the library promises thread safety: every message uses
 * strerror_r into a buffer of the caller's.
 */
#ifndef SYSERR_INT_H
#define SYSERR_INT_H

#include <string.h>

/* The text of errno value e, in a buffer that lives until the end of the
 * block around the expression: use it only as a function argument (a
 * format's "%s"), never keep the pointer. Needs _GNU_SOURCE (the Makefile
 * sets it): GNU strerror_r returns the text, static or in the buffer. */
#define CORE_STRERROR(e) strerror_r((e), (char[128]){""}, 128)

#endif /* SYSERR_INT_H */
