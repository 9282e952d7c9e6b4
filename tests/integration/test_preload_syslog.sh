#!/bin/sh
# TLSSHIM_LOG_FILE=syslog: tlsshim's lines reach /dev/log as RFC 3164
# datagrams with ident "tlsshim[PID]", from our own socket, while the
# program's own openlog("prog")/syslog lines keep their ident and facility
# (tlsshim never calls openlog). Runs in a private mount namespace
# (unshare -m) where /dev is a copy with a test listener bound at /dev/log,
# so the machine's system log is not touched.
. "$(dirname "$0")/lib.sh"

command -v unshare >/dev/null || fail "unshare (util-linux) is needed"
unshare -m true 2>/dev/null || fail "unshare -m is not permitted here (needs root / CAP_SYS_ADMIN)"

P=$(free_port)
start_bg 20 openssl s_server -rev -accept 127.0.0.1:$P -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key" -naccept 1
SRV=$BG_PID
wait_port $P

cat > "$T/listen.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
with open(sys.argv[1], "a") as out:
    out.write("READY\n"); out.flush()
    while True:
        d = s.recv(4096)
        out.write(repr(d.decode("utf-8", "replace")) + "\n"); out.flush()
PY

# A private /dev (in \$D): the few nodes the programs need, and room for /dev/log.
cat > "$T/privdev.sh" <<SH
mount --make-rprivate / || exit 3
mkdir "\$D" || exit 3
for n in null zero full random urandom tty; do
	[ -e /dev/\$n ] || continue
	touch "\$D/\$n" && mount --bind /dev/\$n "\$D/\$n" || exit 3
done
mount --rbind "\$D" /dev || exit 3
SH

cat > "$T/inner.sh" <<SH
D="$T/dev"; . "$T/privdev.sh"
python3 "$T/listen.py" "$T/log.out" &
L=\$!
n=0; until grep -q READY "$T/log.out" 2>/dev/null; do n=\$((n+1)); [ \$n -lt 200 ] || exit 3; sleep 0.05; done
TLSSHIM_LOG=info TLSSHIM_LOG_FILE=syslog \
	TLSSHIM_CONFIG_STRING='connect = ({ match = "127.0.0.1:$P"; ca_certs = "$CERTS/ca.pem"; });' \
	LD_PRELOAD="$PRELOAD" timeout 10 "$PROGS/tsprog_syslog" 127.0.0.1 $P >"$T/prog.out" 2>"$T/prog.err"
rc=\$?
# the program's last line, then the listener stops
n=0; until grep -q "after the connection" "$T/log.out"; do n=\$((n+1)); [ \$n -lt 100 ] || break; sleep 0.05; done
kill \$L
exit \$rc
SH
timeout 30 unshare -m sh "$T/inner.sh"
rc=$?
echo "--- received:"; cat "$T/log.out"
echo "--- program stderr:"; cat "$T/prog.err"
assert_eq 0 "$rc" "the program in the namespace"
assert_contains "$T/prog.out" "^read=5$" "the reply came through TLS"
[ ! -s "$T/prog.err" ] || fail "tlsshim wrote to stderr although TLSSHIM_LOG_FILE=syslog"
# The program's lines: its ident and PID, facility daemon (3) * 8 + notice (5) = 29.
pid=$(sed -n "s/^'<29>[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]\{8\} prog\[\([0-9]*\)\]: before the connection'\$/\1/p" "$T/log.out")
[ -n "$pid" ] || fail "the program's first line with ident prog"
assert_contains "$T/log.out" "^'<29>... .. ..:..:.. prog\[$pid\]: after the connection'\$" \
	"the program's line after tlsshim logged keeps ident prog"
# Ours: ident tlsshim, the program's PID, facility user (1) * 8 + info (6) = 14.
grep -Eq "^'<14>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} tlsshim\[$pid\]: connect 127\.0\.0\.1:$P TLSv1\.3 TLS_[A-Z0-9_]+ verify=ok'\$" \
	"$T/log.out" || fail "tlsshim's connect line with ident tlsshim and the program's PID"
order=$(grep -o "prog\[$pid\]: before\|tlsshim\[$pid\]: connect\|prog\[$pid\]: after" "$T/log.out" |
	cut -d'[' -f1 | tr '\n' ' ')
assert_eq "prog tlsshim prog " "$order" "the order of the lines"
stop_bg $SRV

# Without a system log to talk to, the program is stopped before main, as
# with a log file that cannot be opened.
cat > "$T/inner2.sh" <<SH
D="$T/dev2"; . "$T/privdev.sh"
TLSSHIM_LOG_FILE=syslog TLSSHIM_CONFIG_STRING='connect = ({ match = "127.0.0.1:1"; cert_reqs = "CERT_NONE"; });' \
	LD_PRELOAD="$PRELOAD" /bin/true 2>"$T/err2"
SH
timeout 30 unshare -m sh "$T/inner2.sh"
rc=$?
assert_eq 1 "$rc" "exit status without /dev/log"
assert_contains "$T/err2" "^tlsshim: TLSSHIM_LOG_FILE=syslog: cannot connect to /dev/log: No such file or directory$" \
	"the message"
exit 0
