/*
 * sandbox.h - OpenSSL mapped before the program shuts itself in
 * (hook_sandbox.c).
 */
#ifndef TLSSHIM_SANDBOX_H
#define TLSSHIM_SANDBOX_H

/* Loads OpenSSL now if rules are loaded (errno kept): for chroot,
 * prctl(PR_SET_SECCOMP), seccomp(), which take away what a later load
 * needs. */
void ts_sandbox_prepare(void);

#endif /* TLSSHIM_SANDBOX_H */
