#!/bin/sh
# lighttpd exports its own config_init and config_read; tlsshim's calls
# into libconfig used to bind to them (SIGSEGV before main under any
# config). Wrapped with an accept rule, lighttpd serves a file to curl
# over https, and refuses a plain http request on the same port.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fds_lib.sh"

command -v lighttpd >/dev/null || fail "lighttpd is not installed (tests/deps.sh installs it)"
nm -D --defined-only "$(command -v lighttpd)" | grep -qw config_init ||
	echo "note: this lighttpd does not export config_init" >&2

P=$(free_port)
mkdir -p "$T/www"
echo "hello from lighttpd" >"$T/www/index.txt"
cat >"$T/lighttpd.conf" <<CONF
server.document-root = "$T/www"
server.bind = "127.0.0.1"
server.port = $P
server.errorlog = "$T/error.log"
CONF
start_bg 30 "$TLSSHIM" --accept "127.0.0.1:$P" --certfile "$CERTS/server.pem" \
	--keyfile "$CERTS/server.key" -- lighttpd -D -f "$T/lighttpd.conf" 2>"$T/log"
SRV=$BG_PID
wait_port $P
timeout 10 curl -sS --cacert "$CERTS/ca.pem" "https://127.0.0.1:$P/index.txt" >"$T/out" 2>"$T/err" ||
	fail "curl over https: $(cat "$T/err" "$T/log")"
assert_eq "hello from lighttpd" "$(cat "$T/out")" "lighttpd served over TLS"
if timeout 10 curl -sS "http://127.0.0.1:$P/index.txt" >"$T/plain" 2>/dev/null; then
	fail "lighttpd answered plain http: $(cat "$T/plain")"
fi
assert_not_contains "$T/plain" "hello from lighttpd" "plaintext answer"
stop_bg $SRV
