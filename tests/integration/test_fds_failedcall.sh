#!/bin/sh
# A failed call leaves no state behind: accept() on a socket that was
# never bound or listening fails with EINVAL and caches nothing, so a
# later connect() on that socket to a destination a rule matches is TLS
# (a recording plain listener sees a ClientHello, never the program's
# bytes), and a later bind, listen and accept on it serve TLS under the
# accept rule that matches its new address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fds_lib.sh"

# accept (EINVAL), then connect: TLS
P=$(free_port)
recorder $P "$T/rec"; REC=$BG_PID
wait_port $P
TLSSHIM_CONFIG_STRING="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
	LD_PRELOAD=$PRELOAD timeout 20 "$PROGS/fdsprog" acceptconnect 127.0.0.1 $P >"$T/out" 2>"$T/log"
wait $REC
assert_contains "$T/out" "accept=-1 errno=EINVAL" "accept on an unbound socket"
assert_contains "$T/out" "connect=-1 errno=EPROTO" "the connect went through TLS (the recorder speaks none)"
assert_tls_or_nothing "$T/rec" "connect after a failed accept"
[ -s "$T/rec" ] || fail "the recorder saw nothing"

# accept (EINVAL), then bind, listen, accept: the accept rule applies
P=$(free_port)
TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; });" \
	start_bg 20 env LD_PRELOAD=$PRELOAD "$PROGS/fdsprog" acceptlisten $P >"$T/out" 2>"$T/log"
SRV=$BG_PID
wait_port $P
timeout 10 python3 - "$P" "$CERTS/ca.pem" >"$T/client" 2>&1 <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
try:
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    print("tls", s.recv(100).decode().strip())
    s.sendall(b"x")
except ssl.SSLError as e:
    print("no tls:", e)
PY
wait $SRV
assert_eq "tls SECRET" "$(cat "$T/client")" "the server spoke TLS"
assert_eq "accept=-1 errno=EINVAL
bind=0
listen=0
accepted=0
send=7
read=1" "$(cat "$T/out")" "server calls"
