#!/bin/sh
# crl_file: CRLs made with `openssl ca` at test time. A connect rule
# refuses a server whose certificate is revoked (the program gets EPROTO,
# the warn line says "certificate revoked") and accepts one that is not;
# an accept rule with CERT_REQUIRED refuses a revoked client certificate;
# the CRL file rotates like the others (a CRL that revokes the server's
# certificate, renamed over the empty one, refuses it within a second).
. "$(dirname "$0")/lib.sh"

cd "$T"
cat >ca.cnf <<CNF
[ca]
default_ca = crl_ca
[crl_ca]
dir = .
database = index.txt
serial = serial
new_certs_dir = .
certificate = ca.pem
private_key = ca.key
default_md = sha256
default_crl_days = 7
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
CNF
: >index.txt; echo 2000 >serial
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
openssl req -new -x509 -key ca.key -subj "/CN=crl test CA" -days 30 -config "$CERTS/ext.cnf" \
	-extensions ca_ext -out ca.pem 2>/dev/null || fail "CA"
issue() { # NAME
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
	openssl req -new -key "$1.key" -subj "/CN=localhost" -out "$1.csr" 2>/dev/null
	openssl ca -batch -config ca.cnf -in "$1.csr" -out "$1.pem" -notext -days 30 \
		-extfile "$CERTS/ext.cnf" -extensions server_ext >/dev/null 2>&1 || fail "issue $1"
}
issue good; issue bad; issue cligood; issue clibad
openssl ca -batch -config ca.cnf -gencrl -out empty.crl >/dev/null 2>&1 || fail "empty CRL"
openssl ca -batch -config ca.cnf -revoke bad.pem -crl_reason keyCompromise >/dev/null 2>&1 || fail "revoke"
openssl ca -batch -config ca.cnf -revoke clibad.pem >/dev/null 2>&1 || fail "revoke client"
openssl ca -batch -config ca.cnf -gencrl -out revoked.crl >/dev/null 2>&1 || fail "CRL"
cp empty.crl client.crl

# a TLS server for the connect rule: good.pem, then bad.pem
PG=$(free_port); PB=$(free_port)
start_bg 120 openssl s_server -quiet -accept $PG -cert good.pem -key good.key -rev
start_bg 120 openssl s_server -quiet -accept $PB -cert bad.pem -key bad.key -rev
wait_port $PG; wait_port $PB
CLIENT='
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    s.sendall(b"hello\n"); print(s.recv(16).decode().strip())
except OSError as e:
    print("errno", e.errno)'
conf() { echo "connect = ({ match = \"127.0.0.1:*\"; ca_certs = \"$T/ca.pem\"; crl_file = \"$T/$1\"; server_hostname = \"localhost\"; });"; }
run() { TLSSHIM_CONFIG_STRING=$(conf "$2") LD_PRELOAD=$PRELOAD timeout 20 python3 -c "$CLIENT" "$1" 2>>"$T/client.log"; }
assert_eq "olleh" "$(run $PG revoked.crl)" "a certificate the CRL does not list"
r=$(run $PB revoked.crl); [ "$r" = "errno 71" ] || { cat "$T/client.log" >&2; fail "a revoked server certificate: expected EPROTO, got [$r]"; }
assert_contains "$T/client.log" "certificate revoked" "the warn line gives the reason"
assert_eq "olleh" "$(run $PB empty.crl)" "with a CRL that does not list it"

# an accept rule refuses a revoked client certificate
PA=$(free_port)
TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$PA\"; certfile = \"$T/good.pem\"; keyfile = \"$T/good.key\"; cert_reqs = \"CERT_REQUIRED\"; ca_certs = \"$T/ca.pem\"; crl_file = \"$T/revoked.crl\"; });" \
	LD_PRELOAD=$PRELOAD start_bg 60 python3 -c "
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('127.0.0.1', int(sys.argv[1]))); l.listen(8)
while True:
    try:
        c, _ = l.accept()
    except OSError:
        continue
    c.sendall(b'welcome\n'); c.close()" $PA 2>"$T/server.log"
wait_port $PA
out=$(printf '' | timeout 10 openssl s_client -connect 127.0.0.1:$PA -CAfile ca.pem -cert cligood.pem -key cligood.key -quiet 2>/dev/null)
assert_eq "welcome" "$out" "a client certificate that is not revoked"
out=$(printf '' | timeout 10 openssl s_client -connect 127.0.0.1:$PA -CAfile ca.pem -cert clibad.pem -key clibad.key -quiet 2>/dev/null)
[ "$out" != "welcome" ] || fail "a revoked client certificate was served"
n=0; until grep -q "certificate revoked" "$T/server.log"; do n=$((n+1)); [ $n -lt 100 ] || fail "no warn line for the revoked client"; sleep 0.05; done

# the CRL file rotates: a long-lived client process, the CRL renamed over
TLSSHIM_LOG=info TLSSHIM_CONFIG_STRING=$(conf client.crl) LD_PRELOAD=$PRELOAD start_bg 60 python3 -c '
import os, socket, sys, time
out = open(sys.argv[2], "w", buffering=1)
while not os.path.exists(sys.argv[3]):
    t = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
        s.sendall(b"x\n"); s.recv(4); s.close(); out.write("%.6f ok\n" % t)
    except OSError as e:
        out.write("%.6f errno%d\n" % (t, e.errno))
    time.sleep(0.02)' $PB "$T/loop" "$T/stop" 2>"$T/rot.log"
n=0; until grep -q " ok" "$T/loop" 2>/dev/null; do n=$((n+1)); [ $n -lt 200 ] || fail "the loop never connected"; sleep 0.05; done
cp revoked.crl new.crl
t0=$(python3 -c 'import time; print("%.6f" % time.monotonic())')
mv new.crl client.crl
python3 -c 'import sys,time; time.sleep(max(0, float(sys.argv[1]) + 1.5 - time.monotonic()))' "$t0"
n=0; until [ "$(awk -v t="$t0" '$1 >= t + 1.0' "$T/loop" | wc -l)" -ge 3 ]; do n=$((n+1)); [ $n -lt 200 ] || fail "the loop stalled"; sleep 0.05; done
touch "$T/stop"
late_ok=$(awk -v t="$t0" '$1 >= t + 1.0 && $2 == "ok"' "$T/loop" | wc -l)
assert_eq 0 "$late_ok" "connections 1 s after the CRL rotation to a revoking one"
awk -v t="$t0" '$1 >= t + 1.0' "$T/loop" | grep -q errno71 || { tail -5 "$T/loop" >&2; fail "refused with EPROTO"; }
first=$(awk -v t="$t0" '$1 >= t && $2 != "ok" { printf "%d\n", ($1 - t) * 1000; exit }' "$T/loop")
echo "CRL rotation: first refused connection started ${first} ms after the rename"
