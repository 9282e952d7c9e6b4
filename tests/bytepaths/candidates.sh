#!/bin/sh
# candidates.sh [LIBC]: the glibc exports through which bytes can reach a
# descriptor (or a stream on one), from the library's own dynamic symbol
# table, one name a line, sorted (versions stripped: aio_read@GLIBC_2.2.5
# and aio_read@@GLIBC_2.34 are one entry). LIBC defaults to the libc.so.6
# that programs on this machine load. glibc-bytepaths.txt must classify
# every name this prints (tests/integration/test_bytepaths_glibc.sh).
#
# The name patterns, and why each is there:
#  io     read/write and their p-, v-, 64, v2 forms, their _chk (fortify),
#         _nocancel (GLIBC_PRIVATE, called by glibc's other libraries) and
#         double-underscore aliases: the system calls that move bytes
#         through any descriptor.
#  sock   send/recv and their to/from/msg/mmsg forms, _chk, aliases.
#  fmt    dprintf, vdprintf and _chk: formatted text straight to a
#         descriptor, written by glibc internally.
#  copy   sendfile, splice, tee, vmsplice, copy_file_range: the kernel
#         moves bytes between descriptors.
#  aio    aio_read/aio_write/lio_listio (in libc.so.6 since 2.34): glibc's
#         helper threads do the I/O. (aio_error, aio_return, aio_suspend,
#         aio_cancel, aio_fsync, aio_init move no bytes.)
#  sys    syscall: any system call, by number.
#  desc   connect, dup, dup2, dup3, fcntl and their aliases: not byte paths
#         themselves, but a connect the hooks miss leaves a matched
#         destination plain, and a second number for a connection that the
#         table does not know is written in clear.
#  vm     process_vm_readv/writev: named so the list says why they are not a
#         descriptor path (they copy between address spaces).
#  trace  backtrace_symbols_fd: text straight to a descriptor.
#  stream what makes a FILE from a descriptor, and the FILE objects glibc
#         starts with on 0, 1 and 2: every stdio function (printf, fwrite,
#         fgets, perror, ...) reaches a descriptor only through one of
#         these, so the stdio functions themselves are not listed one by
#         one. (fopen/freopen take a path: opening /proc/self/fd/N of a
#         socket is ENXIO; popen makes pipes; tmpfile and fmemopen no
#         socket.) _IO_file_attach/_IO_file_write/_IO_file_read and the
#         other libio internals on a FILE are covered by the same rule: a
#         FILE whose descriptor becomes a connection loses it.
#  err    messages libc writes to descriptor 2 itself, with no stream:
#         syslog (LOG_PERROR) and the fatal-error paths (fortify, stack
#         protector, assert, malloc checks), reachable from these exports.
#  r      rcmd/rexec/rresvport and the sunrpc clients: libc makes and
#         connects their sockets itself, with its internal connect.
set -eu
LIBC=${1:-}
if [ -z "$LIBC" ]; then
	LIBC=$(${CC:-cc} -print-file-name=libc.so.6)
	case $LIBC in /*) ;; *) LIBC=/lib/$(${CC:-cc} -dumpmachine)/libc.so.6 ;; esac
fi
[ -r "$LIBC" ] || { echo "candidates.sh: cannot read $LIBC" >&2; exit 2; }
nm -D --defined-only "$LIBC" | awk 'NF >= 3 {print $3}' | sed 's/@.*//' | sort -u | grep -E \
	-e '^_*(libc_)?p?(read|write)v?(64)?(v2)?(_chk|_nocancel)?$' \
	-e '^_*(send|recv)(to|from|msg|mmsg)?(_chk)?$' \
	-e '^_*v?dprintf(_chk)?$' \
	-e '^_*(sendfile(64)?|splice|tee|vmsplice|copy_file_range)$' \
	-e '^_*(aio_(read|write)(64)?|lio_listio(64)?)$' \
	-e '^_*syscall$' \
	-e '^_*(libc_)?(connect|dup[23]?|fcntl(64)?)$' \
	-e '^process_vm_(readv|writev)$' \
	-e '^_*backtrace_symbols_fd$' \
	-e '^(_IO_)?fdopen$' -e '^_IO_file_attach$' -e '^(stdin|stdout|stderr)$' \
	-e '^_IO_2_1_std(in|out|err)_$' \
	-e '^_*v?syslog(_chk)?$' \
	-e '^(__libc_fatal|__fortify_fail|__chk_fail|__stack_chk_fail|__assert_fail|__assert_perror_fail|__assert|abort)$' \
	-e '^(rcmd|rcmd_af|rexec|rexec_af|rresvport|rresvport_af|clnttcp_create|clntudp_create|clntudp_bufcreate|clnt_create|clntunix_create|svcfd_create|svcunixfd_create|xdrrec_create)$'
