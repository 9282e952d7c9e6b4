#!/bin/sh
# Identity without a name: a client rule with neither server_hostname nor a
# name the program resolved still checks the certificate against the
# address it connected to (its IP subjectAltNames). A certificate from the
# trusted CA that names another host fails closed; no SNI is sent for the
# address (RFC 6066 3).
. "$(dirname "$0")/lib.sh"

serve() { # bracketed-host cert key
	P=$(free_port)
	start_bg 20 openssl s_server -rev -accept "$1:$P" -cert "$CERTS/$2" -key "$CERTS/$3" \
		-naccept 1 -tlsextdebug >"$T/server.out" 2>&1
	SRV=$BG_PID
	wait_port $P
}

# A plain client that connects to a literal address (getaddrinfo of a
# numeric host gives no name) and reports what happened.
client() { # host match-host
	TLSSHIM_LOG=info TLSSHIM_CONFIG_STRING="connect = ({ match = \"$2:$P\"; ca_certs = \"$CERTS/ca.pem\"; });" \
		LD_PRELOAD=$PRELOAD timeout 10 python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    s.sendall(b"ping\n")
    print("got=" + s.recv(64).decode().strip())
except OSError as e:
    print("error=" + (socket.errno.errorcode.get(e.errno, str(e.errno)) if e.errno else str(e)))
' "$1" $P >"$T/out" 2>"$T/log"
}

for host in 127.0.0.1 ::1; do
	case $host in *:*) match="[$host]" ;; *) match=$host ;; esac

	# wrong.example: a valid chain, but not this address
	serve "$match" wronghost.pem wronghost.key
	client "$host" "$match"
	assert_eq "error=EPROTO" "$(cat "$T/out")" "$host: certificate for another host"
	assert_contains "$T/log" "IP address mismatch" "$host: the reason names the address check"
	stop_bg $SRV

	# the server certificate lists 127.0.0.1 and ::1
	serve "$match" server.pem server.key
	client "$host" "$match"
	assert_eq "got=gnip" "$(cat "$T/out")" "$host: certificate naming the address"
	assert_contains "$T/log" "verify=ok" "$host: verified"
	stop_bg $SRV
	assert_contains "$T/server.out" "TLS client extension" "$host: s_server printed the extensions"
	assert_not_contains "$T/server.out" '"server name"' "$host: no SNI for an address"
done
echo ok
