/*
 * compiler.h - the branch hints every layer of the preload uses, and where
 * its large tables lie.
 *
 * Every name of preload/ carries the ts_ prefix and hidden visibility (the
 * Makefile compiles with -fvisibility=hidden and the version script keeps
 * only the hooks, hook.h).
 */
#ifndef TLSSHIM_COMPILER_H
#define TLSSHIM_COMPILER_H

/*
 * TS_LARGE(definition): a large table that start-up does not touch (the
 * descriptor table, the name table, bitmaps, rings). It goes in .lbss,
 * which the x86-64 linker scripts place after .bss: the small variables
 * then lie together, and start-up faults in two or three pages of them
 * instead of one per table they would lie between. gcc marks a .lbss
 * section NOBITS itself; clang 14 does so only for a section its pragma
 * names. Elsewhere the definition is left as it is (a named section that
 * the compiler does not know as bss would be stored in the file).
 */
#if defined(__x86_64__) && defined(__clang__)
#define TS_LARGE(definition)                                           \
	_Pragma("clang section bss=\".lbss.tlsshim\"") definition;   \
	_Pragma("clang section bss=\"\"")
#elif defined(__x86_64__)
#define TS_LARGE(definition) definition __attribute__((section(".lbss.tlsshim")))
#else
#define TS_LARGE(definition) definition
#endif

#define TS_LIKELY(x) __builtin_expect(!!(x), 1)
#define TS_UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif /* TLSSHIM_COMPILER_H */
