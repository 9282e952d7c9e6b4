#!/bin/sh
# Configuration: errors stop the program before main with
# "tlsshim: FILE:LINE: ..." and status 1; a config file (TLSSHIM_CONFIG)
# with relative paths, log_level and TLSSHIM_LOG_FILE works; no config at
# all is inert (plain nc byte for byte).
. "$(dirname "$0")/lib.sh"

# --- errors before main ----------------------------------------------------
check_error() { # label expected-regex
	rc=0
	LD_PRELOAD=$PRELOAD timeout 10 sh -c 'echo MAIN-RAN' >"$T/out" 2>"$T/err" || rc=$?
	assert_eq 1 "$rc" "$1: exit status"
	assert_not_contains "$T/out" "MAIN-RAN" "$1: the program ran"
	grep -Eq "$2" "$T/err" || { cat "$T/err" >&2; fail "$1: message [$2]"; }
}
printf 'version = 1;\nconnect = (\n  { match = "127.0.0.1:1"; bogus_key = 1; }\n);\n' >"$T/bad.conf"
TLSSHIM_CONFIG=$T/bad.conf check_error "unknown key" "^tlsshim: $T/bad.conf:3: .*bogus_key"
unset TLSSHIM_CONFIG
printf 'accept = ({ match = "*:1"; certfile = "nonexistent.pem"; });\n' >"$T/nocert.conf"
TLSSHIM_CONFIG=$T/nocert.conf check_error "missing certificate" "^tlsshim: $T/nocert.conf:1: .*nonexistent.pem"
unset TLSSHIM_CONFIG
TLSSHIM_CONFIG_STRING='connect = ({ match = "127.0.0.1:1" });; ((' check_error "malformed string" \
	"^tlsshim: TLSSHIM_CONFIG_STRING:1: "
TLSSHIM_CONFIG=$T/absent.conf check_error "unreadable file" "^tlsshim: $T/absent.conf"
unset TLSSHIM_CONFIG
TLSSHIM_CONFIG_STRING='log_level = "info";' TLSSHIM_LOG_FILE=/nonexistent/dir/log \
	check_error "log file" "^tlsshim: TLSSHIM_LOG_FILE: cannot open /nonexistent/dir/log"

# --- a config file, relative paths, log file --------------------------------
P=$(free_port)
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key" -naccept 1
wait_port $P
mkdir "$T/etc"
cp "$CERTS/ca.pem" "$T/etc/trust.pem"
cat >"$T/etc/app.conf" <<CONF
version = 1;
log_level = "info";
connect = (
  { match = "127.0.0.1:$P"; ca_certs = "trust.pem"; }
);
CONF
echo "file" | TLSSHIM_CONFIG=$T/etc/app.conf TLSSHIM_LOG_FILE=$T/tls.log LD_PRELOAD=$PRELOAD \
	timeout 10 nc -N 127.0.0.1 $P >"$T/out" 2>"$T/err" || fail "nc with a config file"
assert_eq "elif" "$(cat "$T/out")" "reply with a config file"
assert_contains "$T/tls.log" "connect 127.0.0.1:$P TLSv1.3" "the info line went to TLSSHIM_LOG_FILE"
[ -s "$T/err" ] && { cat "$T/err" >&2; fail "stderr not empty with TLSSHIM_LOG_FILE"; }

# --- inert -------------------------------------------------------------------
P=$(free_port)
head -c 1000000 /dev/urandom >"$T/data"
start_bg 20 sh -c 'exec nc -l 127.0.0.1 $0 >"$1/plain_got"' $P "$T"
SRV=$BG_PID
wait_port $P
LD_PRELOAD=$PRELOAD timeout 10 nc -N 127.0.0.1 $P <"$T/data" 2>"$T/err" || fail "inert nc"
wait $SRV 2>/dev/null
cmp -s "$T/data" "$T/plain_got" || fail "inert: bytes differ"
[ -s "$T/err" ] && fail "inert: something was printed"
# inert means no exec refusal either
cp /bin/true "$T/suid-true"
chmod u+s "$T/suid-true"
LD_PRELOAD=$PRELOAD sh -c "\"$T/suid-true\"" || fail "inert: a setuid program was refused"
exit 0
