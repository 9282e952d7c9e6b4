#!/bin/sh
# Isolation: libtlsshim.so exports exactly the interposed libc names; the
# core, config, OpenSSL glue and tlsshim's internals stay hidden (a program
# with its own OpenSSL or libconfig must never bind to ours).
. "$(dirname "$0")/lib.sh"

nm -D --defined-only "$PRELOAD_SO" | awk '$2 ~ /^[TWDBVRi]$/ {print $3}' | sed 's/@.*//' | sort -u >"$T/got"
sort -u >"$T/want" <<'LIST'
__backtrace_symbols_fd
__connect
__dup2
__fcntl
__libc_fcntl64
__dprintf_chk
__poll_chk
__read
__read_nocancel
__recv
__send
__sendmmsg
__vdprintf_chk
__write
__write_nocancel
_IO_fdopen
aio_read
aio_read64
aio_write
aio_write64
backtrace_symbols_fd
dprintf
lio_listio
lio_listio64
preadv2
preadv64v2
pwritev2
pwritev64v2
syscall
vdprintf
__ppoll_chk
__read_chk
__recv_chk
__recvfrom_chk
_Fork
accept
accept4
listen
close
close_range
closefrom
connect
copy_file_range
dup
dup2
dup3
epoll_create
epoll_create1
epoll_ctl
epoll_pwait
epoll_pwait2
epoll_wait
execl
execle
execlp
execv
execve
execveat
execvp
execvpe
fcntl
fcntl64
fdopen
fexecve
getaddrinfo
gethostbyname
gethostbyname2
gethostbyname2_r
getsockopt
gethostbyname_r
ioctl
pclose
pidfd_getfd
chroot
prctl
poll
popen
posix_spawn
posix_spawnp
ppoll
pselect
read
readv
recv
recvfrom
recvmmsg
recvmsg
select
send
sendfile
sendfile64
sendmmsg
sendmsg
sendto
setsockopt
shutdown
socket
splice
system
write
writev
LIST
diff -u "$T/want" "$T/got" >"$T/diff" || { cat "$T/diff" >&2; fail "exported symbols differ"; }
# nothing of OpenSSL, libconfig or tlsshim's own namespaces, whatever the list says
grep -E '^(SSL_|OPENSSL|sslsocket_|cfg_|ts_|config_)' "$T/got" && fail "an internal symbol is exported"
exit 0
