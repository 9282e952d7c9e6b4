#!/bin/sh
# Ending connections: close(), close_range() and dup2() onto the
# descriptor send close_notify (the peer sees a clean TLS close, not a
# ragged one, even when the close is abortive), but not from a forked
# child that did no I/O; shutdown(SHUT_WR) half-closes (nc -N gets
# the reply after its close_notify); a dup'ed descriptor shares the
# connection, which ends only with the last close; fdopen's FILE reads and
# writes through TLS and fclose sends close_notify; a ragged EOF from the
# peer is 0, or ECONNRESET with suppress_ragged_eofs = false.
. "$(dirname "$0")/lib.sh"

cat >"$T/server.py" <<'PY'
import socket, ssl, sys
port, mode, report, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.create_server(("127.0.0.1", port))
c, _ = ls.accept()
s = ctx.wrap_socket(c, server_side=True, suppress_ragged_eofs=False)
def until_eof():
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return data, "clean"
            data += b
    except (ssl.SSLEOFError, ConnectionResetError):
        return data, "ragged"
if mode == "collect":
    # reply at once (OpenSSL refuses to write after a close_notify came
    # in), then read to the end and say how it ended
    first = s.recv(65536)
    try:
        s.sendall(b"bye\n")
    except OSError:
        pass
    rest, how = until_eof()
    data = first + rest
    if how == "clean":
        try:
            s.unwrap()
        except OSError:
            pass
elif mode == "line":
    line = b""
    while not line.endswith(b"\n"):
        line += s.recv(1)
    s.sendall(b"echo: " + line)
    rest, how = until_eof()
    data = line + rest
elif mode == "ragged":
    line = s.recv(100)
    s.sendall(b"x" * 5000)
    data, how = line, "-"
    c.close()          # no close_notify: the client sees a ragged EOF
with open(report, "w") as f:
    f.write("%s %s\n" % (how, data.decode().replace("\n", "|")))
PY
serve() { # mode
	P=$(free_port)
	start_bg 20 python3 "$T/server.py" $P "$1" "$T/report" "$CERTS/server.pem" "$CERTS/server.key"
	SRV=$BG_PID
	wait_port $P
	export TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; ${2:-} });"
}
finish() { wait $SRV 2>/dev/null; unset TLSSHIM_CONFIG_STRING; }

# close(): close_notify
serve collect
LD_PRELOAD=$PRELOAD timeout 10 python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'data1')
s.close()" $P || fail "python client"
finish
assert_eq "clean data1" "$(cat "$T/report")" "close() sends close_notify"

# close() right after a small write, with records still unread (the
# session tickets, the reply): the kernel's close is then abortive (RST,
# and what is still queued for sending is dropped), so the close_notify
# must not sit behind Nagle waiting for the ACK of that write, which the
# peer delays (this failed every time when it did)
serve collect
LD_PRELOAD=$PRELOAD timeout 10 python3 -c "
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'a')
time.sleep(0.5)
s.sendall(b'b')
s.close()" $P || fail "python client (unread)"
finish
assert_eq "clean ab" "$(cat "$T/report")" "close() with unread records sends close_notify"

# close_range() (os.closerange) and dup2() onto the descriptor end the
# connection the same way
serve collect
LD_PRELOAD=$PRELOAD timeout 10 python3 -c "
import socket, sys, os, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'ranged')
fd = s.detach()
os.closerange(fd, fd + 1)
time.sleep(0.5)" $P || fail "python client (closerange)"
finish
assert_eq "clean ranged" "$(cat "$T/report")" "close_range sends close_notify"
serve collect
LD_PRELOAD=$PRELOAD timeout 10 python3 -c "
import socket, sys, os, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'replaced')
null = os.open('/dev/null', os.O_RDONLY)
os.dup2(null, s.fileno())
time.sleep(0.5)" $P || fail "python client (dup2)"
finish
assert_eq "clean replaced" "$(cat "$T/report")" "dup2 onto the descriptor sends close_notify"

# fork (and _Fork, which runs no atfork handlers): the child closes its
# copy first; it did no I/O since the fork, so it must not end the
# parent's session; the parent's bytes and close_notify still arrive
for how in forkclose _forkclose; do
	serve collect
	LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" $how 127.0.0.1 $P >"$T/out" || fail "$how"
	finish
	assert_eq "connect=0
write=10
close=0" "$(cat "$T/out")" "$how: calls"
	assert_eq "clean after-fork" "$(cat "$T/report")" "$how: the child's close ended the session"
done

# control: an exit without close() is ragged (the server can tell)
serve collect
LD_PRELOAD=$PRELOAD timeout 10 python3 -c "
import socket, sys, os
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'data2')
os._exit(0)" $P
finish
assert_eq "ragged data2" "$(cat "$T/report")" "exit without close is ragged"

# shutdown(SHUT_WR): half-close, the reply still arrives
serve collect
printf 'half\n' | LD_PRELOAD=$PRELOAD timeout 10 nc -N 127.0.0.1 $P >"$T/out" || fail "nc -N"
finish
assert_eq "clean half|" "$(cat "$T/report")" "nc -N sent close_notify"
assert_eq "bye" "$(cat "$T/out")" "reply after the half-close"

# dup: one connection through two descriptors; the first close is not the end
serve collect
LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" dup 127.0.0.1 $P >"$T/out" || fail "tsprog dup"
finish
assert_eq "clean first|second|" "$(cat "$T/report")" "both writes on one TLS session"
assert_eq "connect=0
write_fd=6
dup=4
close_fd=0
write_dup=7
read_dup=0
reply=bye
close_dup=0" "$(cat "$T/out")" "dup calls"

# fdopen: fprintf/fgets through TLS, fclose sends close_notify
serve line
LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" fdopen 127.0.0.1 $P >"$T/out" || fail "tsprog fdopen"
finish
assert_eq "connect=0
line=echo: hello stdio
fclose=0" "$(cat "$T/out")" "stdio through TLS"
assert_eq "clean hello stdio|" "$(cat "$T/report")" "fclose sent close_notify"

# ragged EOF from the server: suppressed (0) by default...
serve ragged
LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" readall 127.0.0.1 $P >"$T/out" || fail "readall"
finish
assert_eq "connect=0
write=5
total=5000
last_read=0" "$(cat "$T/out")" "ragged EOF suppressed"
# ...and ECONNRESET when suppress_ragged_eofs = false
serve ragged "suppress_ragged_eofs = false;"
LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" readall 127.0.0.1 $P >"$T/out" || fail "readall"
finish
assert_eq "connect=0
write=5
total=5000
last_read=-1 errno=ECONNRESET" "$(cat "$T/out")" "ragged EOF reported"
