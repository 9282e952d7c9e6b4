/*
 * hook_sandbox.c - a program about to shut itself in maps OpenSSL first.
 *
 * OpenSSL is loaded on first need (ossl_lazy.c), usually the first wrapped
 * connection. A daemon that calls chroot() or installs a seccomp filter
 * before that connection would take away what the load needs (the
 * library's path; open and mmap): every wrapped connection after it would
 * be refused. So when rules are loaded, chroot(), prctl(PR_SET_SECCOMP)
 * and seccomp() - through syscall() too (hook_syscall.c) - load OpenSSL
 * before they go on. Their own result is libc's, whatever the load gave
 * (a failed load is said again at each connection, which it refuses).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "hook.h"
#include "init.h"
#include "ossl_lazy.h"
#include "sandbox.h"

void ts_sandbox_prepare(void)
{
	int saved = errno;

	if (ts_active())
		(void)ts_ossl_ready(NULL);
	errno = saved;
}

typedef int (*chroot_fn)(const char *);
typedef int (*prctl_fn)(int, unsigned long, unsigned long, unsigned long, unsigned long);

/* Resolved here, not in real.c's table: nothing else in tlsshim calls
 * them. */
static void *next(const char *name, _Atomic(void *) *slot)
{
	void *f = atomic_load_explicit(slot, memory_order_acquire);

	if (f == NULL) {
		f = dlsym(RTLD_NEXT, name);
		atomic_store_explicit(slot, f, memory_order_release);
	}
	return f;
}

TS_EXPORT int chroot(const char *path)
{
	static _Atomic(void *) slot;
	chroot_fn real = (chroot_fn)next("chroot", &slot);

	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	ts_sandbox_prepare();
	return real(path);
}

TS_EXPORT int prctl(int option, ...)
{
	static _Atomic(void *) slot;
	prctl_fn real = (prctl_fn)next("prctl", &slot);
	unsigned long a[4];
	va_list ap;

	va_start(ap, option);
	for (int i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (option == PR_SET_SECCOMP)
		ts_sandbox_prepare();
	return real(option, a[0], a[1], a[2], a[3]);
}
