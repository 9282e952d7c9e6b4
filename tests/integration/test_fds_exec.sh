#!/bin/sh
# Across exec. A program that clears close-on-exec on a wrapped socket
# (ioctl FIONCLEX as Python's os.set_inheritable does, fcntl F_SETFD) or
# dup2s it onto stdout for a child (inetd, git daemon) succeeds, but the
# flag stays set: the exec'd child cannot write into the TLS stream in
# plaintext (a recording plain listener sees nothing of it), and a warn
# line says which descriptor exec closed and why. exec of a script whose
# "#!" interpreter is setuid is refused like exec of a setuid program.
# system() and popen() after the program removed LD_PRELOAD (or its whole
# environment) still run a wrapped child.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fds_lib.sh"

for how in fionclex setfd dup2; do
	P=$(free_port)
	recorder $P "$T/rec"; REC=$BG_PID
	wait_port $P
	TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; do_handshake_on_connect = false; });" \
		LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/fdsprog" inherit 127.0.0.1 $P $how >"$T/out" 2>"$T/log" ||
		fail "$how: $(cat "$T/out" "$T/log")"
	wait $REC
	assert_tls_or_nothing "$T/rec" "$how"
	case $how in
	fionclex|setfd) assert_contains "$T/out" "^$how=0" "$how: the call succeeds" ;;
	esac
	assert_contains "$T/out" "cloexec=1" "$how: close-on-exec stays set"
	assert_not_contains "$T/out" "child_exit=0" "$how: the child could not write"
	assert_contains "$T/log" "exec /bin/sh: descriptor [0-9]* (TLS connection, connect 127.0.0.1:$P) is closed in the new program: TLS state cannot cross exec" "$how: warn line"
done

# a script whose interpreter is setuid, and one whose interpreter is such a
# script (the kernel follows up to 4 levels)
cp /bin/sh "$T/suid-sh"
chmod u+s "$T/suid-sh"
printf '#!%s\necho ran\n' "$T/suid-sh" >"$T/script"
printf '#! %s -x\necho ran\n' "$T/script" >"$T/script2"
printf '#!/bin/sh\necho ran\n' >"$T/plain-script"
chmod +x "$T/script" "$T/script2" "$T/plain-script"
export TLSSHIM_CONFIG_STRING='connect = ({ match = "127.0.0.1:1"; });'
for s in script script2; do
	LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" exec "$T/$s" >"$T/out" 2>"$T/log"
	assert_eq "execv=-1 errno=EPERM
execl=-1 errno=EPERM" "$(cat "$T/out")" "$s refused"
	assert_contains "$T/log" "exec $T/$s: refused: the program is a script whose interpreter is setuid" "$s: warn line"
done
LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" exec "$T/plain-script" >"$T/out" 2>&1 ||
	fail "plain script"
assert_eq "ran" "$(cat "$T/out")" "a script with a plain interpreter runs"
unset TLSSHIM_CONFIG_STRING

# system() and popen() with LD_PRELOAD removed, or the environment cleared:
# the child's connection is TLS
for call in system popen; do
	for how in unset clear; do
		P=$(free_port)
		recorder $P "$T/rec"; REC=$BG_PID
		wait_port $P
		TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
			LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/fdsprog" $call 127.0.0.1 $P $how >"$T/out" 2>"$T/log" ||
			fail "$call $how: $(cat "$T/out" "$T/log")"
		wait $REC
		[ -s "$T/rec" ] || fail "$call $how: the recorder saw nothing"
		assert_tls_or_nothing "$T/rec" "$call $how"
		assert_contains "$T/out" "connect=-1 errno=EPROTO" "$call $how: the child's connect went through TLS"
		assert_contains "$T/out" "_exit=0" "$call $how: the child's status"
	done
done
