#!/bin/sh
# The launcher is a static program where the toolchain can link one (no
# sanitizer; STATIC_LAUNCHER in BUILD/sanitizer.env): no loader, no shared
# library, so every program started through it pays less start-up. What
# needs OpenSSL it hands to tlsshim-full, exec'd with the arguments and the
# environment the launcher started with: the program runs as a dynamic
# launcher would have run it (the command-line rules are not "already
# set", -q still wins over the caller's TLSSHIM_LOG), and only what needs
# OpenSSL pays for the second launcher.
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || fail "strace is not installed (sh tests/deps.sh test)"

if [ "${STATIC_LAUNCHER:-}" != 1 ]; then
	[ -n "${SANITIZER:-}" ] || fail "a build without a sanitizer has a dynamic launcher (STATIC_LAUNCHER=${STATIC_LAUNCHER:-unset}): is libc.a (libc6-dev) or libconfig.a (libconfig-dev) missing?"
	echo "SKIP: $SANITIZER build: the launcher is dynamic (a sanitizer's runtime is a shared library)"
	exit 0
fi
readelf -l "$TLSSHIM" | grep -q INTERP && fail "build/tlsshim asks for a program interpreter: not static"
needed=$(readelf -d "$TLSSHIM" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
[ -z "$needed" ] || fail "the static launcher needs shared libraries: $needed"
[ -x "$BUILD/tlsshim-full" ] || fail "no build/tlsshim-full"
readelf -l "$BUILD/tlsshim-full" | grep -q INTERP || fail "tlsshim-full is not dynamic: it could not load libsslsocket.so"

# the programs a run under strace -f exec'd, in order
execs() {
	sed -n 's/^[0-9]* *execve("\([^"]*\)".* = 0$/\1/p' "$T/st" | tr '\n' ' '
}

# The common path: the launcher, then the program; no second launcher.
strace -f -o "$T/st" -e trace=execve "$TLSSHIM" --connect 127.0.0.1:1 --cert-reqs none -- /bin/true ||
	fail "a plain run"
assert_eq "$TLSSHIM /bin/true " "$(execs)" "a run without OpenSSL's checks"

# A pinned version needs OpenSSL's answer: handed over, and the program runs
# once, with the command-line rules and -q as given.
unset TLSSHIM_CONFIG_STRING TLSSHIM_CONFIG
out=$(TLSSHIM_LOG=debug strace -f -o "$T/st" -e trace=execve \
	"$TLSSHIM" -q --connect 127.0.0.1:1 --cert-reqs none --ssl-version TLSv1_2 -- env 2>"$T/err") ||
	fail "a pinned run: $(cat "$T/err")"
assert_eq "$TLSSHIM $BUILD/tlsshim-full /usr/bin/env " "$(execs)" "a pinned run: the full launcher, then the program"
printf '%s\n' "$out" >"$T/env"
assert_contains "$T/env" "^TLSSHIM_LOG=error\$" "-q in the program's environment"
assert_contains "$T/env" "^TLSSHIM_CONFIG_STRING=.*PROTOCOL_TLSv1_2" "the command-line rules"
assert_eq 1 "$(grep -c '^TLSSHIM_CONFIG_STRING=' "$T/env")" "one set of rules"
assert_not_contains "$T/err" "already set" "no complaint about the launcher's own variables"

# The modes that need OpenSSL go over at once, before printing anything.
strace -f -o "$T/st" -e trace=execve "$TLSSHIM" --check --connect 127.0.0.1:1 --cert-reqs none >"$T/check" ||
	fail "--check"
assert_eq "$TLSSHIM $BUILD/tlsshim-full " "$(execs)" "--check"
assert_eq 1 "$(grep -c '^configuration OK' "$T/check")" "--check printed once"

# Errors that need OpenSSL read as before, exit 1.
"$TLSSHIM" --connect 127.0.0.1:1 --ssl-version TLSv1 -- /bin/true 2>"$T/err"
assert_eq 1 "$?" "a version this OpenSSL cannot speak"
assert_contains "$T/err" "ssl_version: PROTOCOL_TLSv1 cannot be spoken by this OpenSSL" "the pin's error"
echo "static launcher: plain runs in one exec, OpenSSL's needs handed over"
