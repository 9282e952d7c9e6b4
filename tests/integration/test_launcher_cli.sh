#!/bin/sh
# The launcher's command line: --help, --version, usage errors (exit 2),
# env(1)'s exit statuses (127 not found, 126 cannot run), and the
# program's own exit status passed through.
. "$(dirname "$0")/lib.sh"

run() { # expected-status stderr-needle args...
	_want=$1 _needle=$2; shift 2
	"$TLSSHIM" "$@" >"$T/out" 2>"$T/err"
	_rc=$?
	[ "$_rc" -eq "$_want" ] || { cat "$T/err" >&2; fail "tlsshim $*: exit $_rc, expected $_want"; }
	[ -z "$_needle" ] || assert_contains "$T/err" "$_needle" "tlsshim $*"
}

# --help: the synopsis and every option of CONTRACT.md, on stdout, exit 0.
run 0 "" --help
for opt in --config --connect --accept --certfile --keyfile --ca-certs --cert-reqs \
	--ssl-version --server-hostname --lazy-handshake --no-suppress-ragged-eofs \
	--verbose --quiet --getcert --peercert --help --version; do
	assert_contains "$T/out" "$opt" "--help lists $opt"
done
assert_contains "$T/out" "usage: tlsshim" "--help"
run 0 "" -h
assert_contains "$T/out" "usage: tlsshim" "-h"

run 0 "" --version
grep -Eq '^tlsshim [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" || fail "--version printed [$(cat "$T/out")]"

# Usage errors: exit 2, a message and the hint, and the program never runs.
marker=$T/ran
run 2 "no program to run" --connect 127.0.0.1:1
run 2 "unknown option '--bogus'" --bogus -- touch "$marker"
run 2 "unknown option '-x'" -x touch "$marker"
run 2 "option '--connect' needs an argument" --connect
run 2 "option '-c' needs an argument" -c
run 2 "Try 'tlsshim --help'" --bogus
run 2 "--ca-certs given twice" --connect 127.0.0.1:1 --ca-certs "$CERTS/ca.pem" \
	--ca-certs "$CERTS/other-ca.pem" -- touch "$marker"
run 2 "--certfile applies to the command-line rules" --certfile "$CERTS/server.pem" -- touch "$marker"
run 2 "--server-hostname applies to client rules" --accept '*:1' --certfile "$CERTS/server.pem" \
	--keyfile "$CERTS/server.key" --server-hostname localhost -- touch "$marker"
run 2 "no rules" -- touch "$marker"
run 2 "no rules" -v touch "$marker"
TLSSHIM_CONFIG_STRING='connect = ( { match = "127.0.0.1:2"; } );' \
	run 2 "TLSSHIM_CONFIG_STRING is already set" --connect 127.0.0.1:1 -- touch "$marker"
run 2 "take no program" --getcert 127.0.0.1:1 -- touch "$marker"
run 2 "cannot be combined" --getcert 127.0.0.1:1 --peercert 127.0.0.1:1
run 2 "needs --ca-certs" --peercert 127.0.0.1:1
run 2 "take no rules" --connect 127.0.0.1:1 --getcert 127.0.0.1:1
run 2 "--keyfile is not used by --getcert" --keyfile "$CERTS/server.key" --getcert 127.0.0.1:1
run 2 "expected HOST:PORT" --getcert 127.0.0.1
run 2 "expected \[IPv6\]:PORT" --getcert '[::1'
run 2 "port from 1 to 65535" --getcert 127.0.0.1:70000
[ ! -e "$marker" ] || fail "a program ran after a usage error"

# Options end at the program: its own options are not the launcher's.
run 0 "" --connect 127.0.0.1:1 sh -c 'test "$1" = --bogus' sh --bogus

# env(1)'s statuses and messages.
run 127 "tlsshim: 'no-such-program-tlsshim': No such file or directory" \
	--connect 127.0.0.1:1 -- no-such-program-tlsshim
run 127 "No such file or directory" --connect 127.0.0.1:1 -- "$T/missing/prog"
: > "$T/noexec"
run 126 "tlsshim: '$T/noexec': Permission denied" --connect 127.0.0.1:1 -- "$T/noexec"
run 126 "Permission denied" --connect 127.0.0.1:1 -- "$T"

# The program's status is the launcher's (exec, no fork in between).
run 0 "" --connect 127.0.0.1:1 -- true
run 1 "" --connect 127.0.0.1:1 -- false
run 42 "" --connect 127.0.0.1:1 -- sh -c 'exit 42'
"$TLSSHIM" --connect 127.0.0.1:1 -- sh -c 'echo $$' >"$T/pid" &
launcher_pid=$!
wait $launcher_pid
assert_eq "$launcher_pid" "$(cat "$T/pid")" "the program replaces the launcher (same PID)"
exit 0
