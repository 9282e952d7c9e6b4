#!/bin/sh
# make demo: a plain nc, which knows nothing about TLS, talks TLS to
# `openssl s_server` through tlsshim, with a throwaway CA made here, and
# the demo says what happened. Usage: sh tests/demo.sh BUILD
# Exits non-zero if any step fails. Everything it starts is bounded by
# `timeout` and killed by PID at exit; everything it writes is in a
# temporary directory that it removes.
set -u
BUILD=$(cd "${1:-build}" && pwd) || exit 1
TLSSHIM=$BUILD/tlsshim
work=$(mktemp -d "${TMPDIR:-/tmp}/tlsshim-demo.XXXXXX") || exit 1
server_pid=""
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
die() { printf '\ndemo FAILED: %s\n' "$*" >&2; exit 1; }
indent() { sed 's/^/   | /'; }

for tool in openssl nc python3 timeout ss; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (run: sh tests/deps.sh test)"
done
[ -x "$TLSSHIM" ] || die "$TLSSHIM is missing: run make first"
[ -e "$BUILD/libtlsshim.so" ] || die "$BUILD/libtlsshim.so is missing: run make first"

step "1. A throwaway certificate authority and a server certificate for localhost"
cd "$work" || die "cannot enter $work"
quiet() { "$@" >/dev/null 2>"$work/openssl.err" || { cat "$work/openssl.err" >&2; die "$*"; }; }
quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-keyout ca.key -out ca.pem -subj "/CN=tlsshim demo CA" \
	-addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign"
quiet openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout server.key -out server.csr -subj "/O=tlsshim demo/CN=localhost"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
quiet openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
	-extfile server.ext -out server.pem
say "CA:     $(openssl x509 -in ca.pem -noout -subject)"
say "server: $(openssl x509 -in server.pem -noout -subject), issued by the CA above"
say "(in $work, removed when the demo ends)"

step "2. A TLS server: openssl s_server on 127.0.0.1, replying to each line reversed"
port=$(python3 -c '
import random, socket
for _ in range(200):
    p = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()')
[ -n "$port" ] || die "no free port"
timeout 60 openssl s_server -accept "127.0.0.1:$port" -cert server.pem -key server.key -rev \
	</dev/null >server.log 2>&1 &
server_pid=$!
n=200
until ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; do
	n=$((n - 1))
	[ $n -gt 0 ] && kill -0 "$server_pid" 2>/dev/null || { cat server.log >&2; die "the server did not start"; }
	sleep 0.05
done
say "listening on 127.0.0.1:$port (PID $server_pid)"

step "3. The server's certificate, validated against the demo CA (tlsshim --peercert)"
timeout 20 "$TLSSHIM" --ca-certs ca.pem --server-hostname localhost --peercert "127.0.0.1:$port" \
	>peer.txt 2>peer.err || { cat peer.err >&2; die "--peercert could not validate the server"; }
indent <peer.txt

step "4. nc, unmodified, sends a line through tlsshim"
line="hello from a plain nc"
say "\$ echo '$line' | tlsshim --connect 127.0.0.1:$port --ca-certs ca.pem \\"
say "      --server-hostname localhost -v -- nc -N 127.0.0.1 $port"
printf '%s\n' "$line" | timeout 20 "$TLSSHIM" --connect "127.0.0.1:$port" --ca-certs ca.pem \
	--server-hostname localhost -v -- nc -N 127.0.0.1 "$port" >reply.txt 2>tlsshim.log
rc=$?
say "tlsshim's log:"
indent <tlsshim.log
say "reply:"
indent <reply.txt
[ $rc -eq 0 ] || die "nc under tlsshim exited with status $rc"
want=$(python3 -c 'import sys; print(sys.argv[1][::-1])' "$line")
[ "$(cat reply.txt)" = "$want" ] || die "the reply is not the reversed line [$want]"
conn=$(grep -E "tlsshim\[[0-9]+\]: connect 127\.0\.0\.1:$port " tlsshim.log | head -n 1)
[ -n "$conn" ] || die "tlsshim logged no wrapped connection"
version=$(printf '%s\n' "$conn" | grep -oE 'TLSv1(\.[0-3])?' | head -n 1)
cipher=$(printf '%s\n' "$conn" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^TLSv/) { print $(i + 1); exit } }')
verify=$(printf '%s\n' "$conn" | grep -oE 'verify=[^ ]+' | head -n 1)
[ "$verify" = "verify=ok" ] || die "the server's certificate was not verified ($verify)"
# The server's own view of the same connection.
srv_version=$(sed -n 's/^Protocol version: *//p' server.log | head -n 1)
srv_cipher=$(sed -n 's/^Ciphersuite: *//p' server.log | head -n 1)

step "5. A wrong CA fails closed: nothing is sent in plaintext"
printf 'this must not arrive\n' | timeout 20 "$TLSSHIM" --connect "127.0.0.1:$port" \
	--ca-certs server.pem --server-hostname localhost -- nc -N 127.0.0.1 "$port" \
	>bad.txt 2>bad.log
indent <bad.log
[ ! -s bad.txt ] || die "a reply came back over an unverified connection"
grep -q "this must not arrive" server.log && die "the server received the line in the clear"
grep -q "erif" bad.log || die "tlsshim did not say that verification failed"

step "What happened"
say "nc has no TLS code. tlsshim preloaded libtlsshim.so into it; when nc connected to"
say "127.0.0.1:$port the --connect rule matched, so the socket became a TLS client:"
say "  - negotiated $version with cipher $cipher (the server agrees: $srv_version, $srv_cipher);"
say "  - the server's certificate (CN=localhost) was verified against the demo CA: $verify;"
say "  - nc's line went out encrypted, and s_server sent it back reversed: '$(cat reply.txt)'."
say "With a CA that did not issue the server's certificate, the handshake failed, nc's"
say "reads and writes on that socket failed (EPROTO), and nothing went out in plaintext."
printf '\ndemo OK\n'
