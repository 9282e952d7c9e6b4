#!/bin/sh
# exec of a setuid program from a wrapped process (the loader would drop
# LD_PRELOAD there) fails with EPERM and a warn line, through execv,
# execl, posix_spawn and a shell's own exec; allow_setuid_exec = true
# allows it. A plain program is not affected.
. "$(dirname "$0")/lib.sh"

cp /bin/true "$T/suid-true"
chmod u+s "$T/suid-true"
cp /bin/true "$T/plain-true"
export TLSSHIM_CONFIG_STRING='connect = ({ match = "127.0.0.1:1"; });'

LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" exec "$T/suid-true" >"$T/out" 2>"$T/log"
assert_eq "execv=-1 errno=EPERM
execl=-1 errno=EPERM" "$(cat "$T/out")" "exec refused"
assert_contains "$T/log" "exec $T/suid-true: refused: the program is setuid" "warn line"

LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" spawn "$T/suid-true" >"$T/out" 2>/dev/null
assert_eq "posix_spawn=EPERM" "$(cat "$T/out")" "posix_spawn refused"

rc=0
LD_PRELOAD=$PRELOAD timeout 10 sh -c "\"$T/suid-true\"" 2>/dev/null || rc=$?
assert_eq 126 "$rc" "a wrapped shell cannot run it"

chmod g+s,u-s "$T/suid-true"
LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" spawn "$T/suid-true" >"$T/out" 2>/dev/null
assert_eq "posix_spawn=EPERM" "$(cat "$T/out")" "setgid refused too"

# a plain program runs (execv replaces the process: no output at all)
LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" exec "$T/plain-true" >"$T/out" 2>&1 ||
	fail "plain exec"
assert_eq "" "$(cat "$T/out")" "plain program ran"

# allowed by the configuration
TLSSHIM_CONFIG_STRING='allow_setuid_exec = true; connect = ({ match = "127.0.0.1:1"; });' \
	LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" exec "$T/suid-true" >"$T/out" 2>&1 ||
	fail "allowed exec"
assert_eq "" "$(cat "$T/out")" "allow_setuid_exec = true"
