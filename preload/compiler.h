/*
 * compiler.h - the branch hints every layer of the preload uses.
 *
 * Every name of preload/ carries the ts_ prefix and hidden visibility (the
 * Makefile compiles with -fvisibility=hidden and the version script keeps
 * only the hooks, hook.h).
 */
#ifndef TLSSHIM_COMPILER_H
#define TLSSHIM_COMPILER_H



#define TS_LIKELY(x) __builtin_expect(!!(x), 1)
#define TS_UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif /* TLSSHIM_COMPILER_H */
