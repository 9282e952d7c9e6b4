#!/bin/sh
# A rule weaker than the defaults is honoured and said so: a cipher string
# that admits a suite without forward secrecy or AEAD (accept and connect
# rules), and a pinned TLS 1.1 (where OpenSSL's security level lets it be
# spoken), really negotiate what they ask for, and one warn line at start
# names the rule and what is weak, however many connections follow. The
# default rule and a cipher string of the default's kind say nothing.
# tlsshim --check shows the same line.
. "$(dirname "$0")/lib.sh"

cat >"$T/sec0.cnf" <<'CNF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
CipherString = DEFAULT:@SECLEVEL=0
CNF

# serve LOG PORT...: one wrapped python3 server answering "hi" on each port.
serve() {
	_log=$1; shift
	start_bg 60 env LD_PRELOAD="$PRELOAD" python3 -c "
import socket, sys, threading
def loop(l):
    while True:
        try:
            c, _ = l.accept()
        except OSError:
            continue
        try:
            c.sendall(b'hi\n')
        except OSError:
            pass
        c.close()
ls = []
for p in sys.argv[1:]:
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(('127.0.0.1', int(p))); l.listen(16); ls.append(l)
for l in ls[1:]:
    threading.Thread(target=loop, args=(l,), daemon=True).start()
loop(ls[0])" "$@" 2>"$_log"
	for _p in "$@"; do wait_port "$_p"; done
}
# s_client PORT ARGS...: "TLSv1.2 AES128-SHA" when it connected.
s_client() {
	_p=$1; shift
	timeout 10 openssl s_client -brief -connect 127.0.0.1:$_p -CAfile "$CERTS/ca.pem" "$@" </dev/null 2>&1 \
		| sed -n 's/^Protocol version: //p; s/^Ciphersuite: //p' | tr '\n' ' ' | sed 's/ $//'
}
RSA="certfile = \"$CERTS/rsa.pem\"; keyfile = \"$CERTS/rsa.key\";"

echo "== accept rules: ciphers = AES128-SHA, the default, ciphers = ECDHE+AESGCM"
P1=$(free_port); P2=$(free_port); P3=$(free_port)
CONF="accept = ({ match = \"127.0.0.1:$P1\"; $RSA ciphers = \"AES128-SHA\"; },
                { match = \"127.0.0.1:$P2\"; $RSA },
                { match = \"127.0.0.1:$P3\"; $RSA ciphers = \"ECDHE+AESGCM\"; });"
TLSSHIM_CONFIG_STRING=$CONF serve "$T/a.log" $P1 $P2 $P3
SRV=$BG_PID
for i in 1 2; do
	got=$(s_client $P1 -tls1_2 -cipher AES128-SHA)
	assert_eq "TLSv1.2 AES128-SHA" "$got" "AES128-SHA is honoured ($i)"
done
got=$(s_client $P2)
assert_eq "TLSv1.3 TLS_AES_256_GCM_SHA384" "$got" "the default rule"
got=$(s_client $P3 -tls1_2)
assert_eq "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384" "$got" "ECDHE+AESGCM"
stop_bg $SRV
cat "$T/a.log"
assert_eq 1 "$(grep -c 'weaker than the defaults' "$T/a.log")" "one warn line, for rule 1 only"
assert_contains "$T/a.log" "^tlsshim\[[0-9]*\]: TLSSHIM_CONFIG_STRING:1: accept rule 1 (\"127.0.0.1:$P1\"): weaker than the defaults, as configured: ciphers admit 1 suite without forward secrecy (AES128-SHA) and 1 suite without AEAD (CBC) (AES128-SHA)$" \
	"the warn line names the rule and the weak suites"

echo "== tlsshim --check says the same"
TLSSHIM_CONFIG_STRING=$CONF "$TLSSHIM" --check >"$T/check.out" 2>"$T/check.err" || { cat "$T/check.err"; fail "--check"; }
assert_contains "$T/check.err" "^tlsshim: warning: TLSSHIM_CONFIG_STRING:1: accept rule 1 (\"127.0.0.1:$P1\"): weaker than the defaults, as configured: ciphers admit 1 suite without" "--check"
assert_eq 1 "$(grep -c 'weaker than the defaults' "$T/check.err")" "--check: one warn line"

echo "== an accept rule pinned to TLS 1.1 (security level 0 for both ends)"
P4=$(free_port)
OPENSSL_CONF=$T/sec0.cnf TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P4\"; $RSA ssl_version = \"PROTOCOL_TLSv1_1\"; });" \
	serve "$T/b.log" $P4
SRV=$BG_PID
got=$(s_client $P4 -tls1_1 -cipher "DEFAULT:@SECLEVEL=0")
case $got in
"TLSv1.1 "*) ;;
*) cat "$T/b.log"; fail "TLS 1.1 pinned: got [$got]" ;;
esac
stop_bg $SRV
assert_contains "$T/b.log" "accept rule 1 (\"127.0.0.1:$P4\"): weaker than the defaults, as configured: ssl_version PROTOCOL_TLSv1_1 is older than TLS 1.2$" \
	"the warn line names the version"

echo "== a connect rule with ciphers = ECDHE-ECDSA-AES128-SHA (CBC)"
P5=$(free_port)
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P5 -naccept 1 -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA >"$T/s.out" 2>&1
SRV=$BG_PID
wait_port $P5
TLSSHIM_LOG=info TLSSHIM_CONFIG_STRING="connect = ({ match = \"localhost:$P5\"; ca_certs = \"$CERTS/ca.pem\"; ciphers = \"ECDHE-ECDSA-AES128-SHA\"; });" \
	LD_PRELOAD=$PRELOAD timeout 10 "$PROGS/tsprog_client" ghbn localhost $P5 >"$T/out" 2>"$T/c.log"
stop_bg $SRV
assert_eq "connect=0
write=5
read=5
got=gnip" "$(cat "$T/out")" "the CBC suite is honoured"
assert_contains "$T/c.log" "connect 127.0.0.1:$P5 TLSv1.2 ECDHE-ECDSA-AES128-SHA " "negotiated"
assert_contains "$T/c.log" "connect rule 1 (\"localhost:$P5\"): weaker than the defaults, as configured: ciphers admit 1 suite without AEAD (CBC) (ECDHE-ECDSA-AES128-SHA)$" \
	"the warn line (forward secrecy is there)"
echo "weak rules are honoured and named"
