/*
 * hook.h - what the exported wrappers (hook_*.c) share: the export
 * attribute and the slow path's attribute. Their test is fdtab.h's
 * TS_PLAIN, their lookup ts_fd_lookup.
 */
#ifndef TLSSHIM_HOOK_H
#define TLSSHIM_HOOK_H

/* The exported wrappers (hook_*.c only; the version script lists them). */
#define TS_EXPORT __attribute__((visibility("default")))
/* A hook's work on wrapped descriptors, kept out of the hook itself so
 * that the pass-through path has no stack frame and no canary: a mask, a
 * load, a compare and a jump to libc (bench/: <= 8 instructions). */
#define TS_SLOW_PATH __attribute__((noinline))

#endif /* TLSSHIM_HOOK_H */
