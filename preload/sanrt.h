/*
 * sanrt.h - what a sanitizer build preloads with libtlsshim.so.
 *
 * A libtlsshim.so built with ASan or TSan (make asan, make tsan) runs only
 * with its sanitizer's runtime loaded before libc (the runtime's malloc and
 * interceptors must win). The Makefile passes the runtime's path
 * (TLSSHIM_SAN_RUNTIME) and whether it goes first. ASan's goes first: ASan
 * refuses to start when its runtime is not the first library. TSan's goes
 * after libtlsshim.so: TSan's interceptors of blocking calls (read, poll,
 * epoll_wait...) ignore what the functions they call do, so hooks called
 * from inside them would have their locks unseen and every access they
 * guard reported as a race; in this order the program calls the hook and
 * the hook's real calls go through TSan. Used by the launcher and by the
 * exec hooks that give a cleared environment its LD_PRELOAD back.
 */
#ifndef TLSSHIM_SANRT_H
#define TLSSHIM_SANRT_H

#include <stddef.h>

/* lib, with the runtime before or after it in a sanitizer build, in
 * LD_PRELOAD's order; NULL-terminated. Returns how many. */
static inline size_t ts_preload_entries(const char *lib, const char *out[3])
{
	size_t n = 0;

#ifdef TLSSHIM_SAN_RUNTIME
	if (TLSSHIM_SAN_RUNTIME_FIRST)
		out[n++] = TLSSHIM_SAN_RUNTIME;
#endif
	out[n++] = lib;
#ifdef TLSSHIM_SAN_RUNTIME
	if (!TLSSHIM_SAN_RUNTIME_FIRST)
		out[n++] = TLSSHIM_SAN_RUNTIME;
#endif
	out[n] = NULL;
	return n;
}

#endif
