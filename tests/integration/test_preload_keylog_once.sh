#!/bin/sh
# SSLKEYLOGFILE: one process with two connect rules (two TLS contexts),
# session_cache off (every connection a full handshake), four connections:
# the warning that session secrets are written is logged exactly once, and
# every handshake of both contexts appends its secrets to the one file,
# created 0600 whatever the umask. A process that execs other images says
# it once too.
. "$(dirname "$0")/lib.sh"

P1=$(free_port); P2=$(free_port)
[ "$P1" != "$P2" ] || P2=$(free_port)
for p in $P1 $P2; do
	start_bg 60 openssl s_server -www -accept 127.0.0.1:$p -cert "$CERTS/server.pem" \
		-key "$CERTS/server.key" -quiet >/dev/null 2>&1
done
wait_port $P1; wait_port $P2

# The interpreter itself: a version manager's shim would exec through
# several images in one process, and each image says it once.
PY=$(python3 -c 'import sys; print(sys.executable)')
rules="connect = ("
for p in $P1 $P2; do
	rules="$rules { match = \"127.0.0.1:$p\"; ca_certs = \"$CERTS/ca.pem\"; server_hostname = \"localhost\"; session_cache = false; },"
done
rules="${rules%,} );"
(umask 0; TLSSHIM_LOG=debug SSLKEYLOGFILE=$T/keys.log TLSSHIM_CONFIG_STRING="$rules" \
	LD_PRELOAD=$PRELOAD timeout 30 "$PY" -c '
import socket, sys
for p in (sys.argv[1], sys.argv[1], sys.argv[2], sys.argv[2]):
    s = socket.create_connection(("127.0.0.1", int(p)))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    s.close()
    assert data.startswith(b"HTTP/1.0 200"), data[:100]
print("done")' $P1 $P2 >"$T/out" 2>"$T/log") || { cat "$T/log" >&2; fail "the wrapped client failed"; }
assert_eq "done" "$(cat "$T/out")" "four connections over two rules"

# Two contexts were made in this one process (python3's: `timeout`, also
# wrapped, is another process and says it once too), four full handshakes.
pid=$(sed -n 's/^tlsshim\[\([0-9]*\)\]: connect 127.0.0.1:.*/\1/p' "$T/log" | sort -u)
[ -n "$pid" ] && [ "$(echo "$pid" | wc -l)" -eq 1 ] || { cat "$T/log" >&2; fail "not one connecting process: [$pid]"; }
assert_eq 2 "$(grep -c "^tlsshim\[$pid\]: .*: TLS context ready" "$T/log")" "contexts built"
assert_eq 4 "$(grep -c "^tlsshim\[$pid\]: connect 127.0.0.1:[0-9]* TLSv1.3 " "$T/log")" "connections logged"
assert_eq 1 "$(grep -c "^tlsshim\[$pid\]: SSLKEYLOGFILE is set: session secrets are written to $T/keys.log" "$T/log")" \
	"the key log warning, once per process"
assert_eq 4 "$(grep -c '^CLIENT_HANDSHAKE_TRAFFIC_SECRET ' "$T/keys.log")" \
	"secrets of every handshake of both contexts"
assert_eq 600 "$(stat -c %a "$T/keys.log")" "key log mode under umask 0"

# Once per process also across exec: a shell that runs /bin/true (another
# process: it says it too), then execs env, which execs a shell, which
# execs /bin/true, all in the one process, says it once.
timeout 20 env SSLKEYLOGFILE="$T/keys.log" TLSSHIM_CONFIG_STRING="$rules" LD_PRELOAD="$PRELOAD" \
	sh -c 'echo $$ >"$1"; /bin/true; exec env A=1 sh -c "exec /bin/true"' sh "$T/pid" 2>"$T/log2" ||
	{ cat "$T/log2" >&2; fail "the exec chain failed"; }
chain=$(cat "$T/pid")
assert_eq 1 "$(grep -c "^tlsshim\[$chain\]: SSLKEYLOGFILE is set" "$T/log2")" \
	"the key log warning, once in a process that execs three times"
assert_eq 2 "$(grep -c "SSLKEYLOGFILE is set" "$T/log2")" "the key log warning, once per process"
exit 0
