#!/bin/sh
# nginx (master + 1 worker, epoll, sendfile on, keep-alive) under
# `tlsshim --accept`:
#  - a 10 MiB random file to curl --cacert 20 times over one keep-alive
#    connection, sha256 equal;
#  - 4 rate-limited curls at once (full socket buffers under sendfile) and
#    3 more on a limit_rate location, all through a recording relay that
#    must never see the marker the files carry every 64 KiB (no plaintext);
#  - a plain-HTTP curl --parallel under a connect rule (both ends wrapped);
#  - IPv6 ([::1]), and a reload (SIGHUP: a new worker) that still serves.
# When run as root the workers run as nobody with a cleared environment and
# the server key is readable by root only: the interposer must have loaded
# it in the master.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
sanitizer_skip_wraps curl
ev_need_launcher
ev_need_preload

N=20
P=$(free_port)
R=$(free_port)
MARK="tlsshim-nginx-plaintext-marker-$$-$P"
mkdir -p "$T/www" "$T/tmp"
ev_marker_file "$T/www/f" 10 "$MARK"
ev_marker_file "$T/www/g" 3 "$MARK"
# Workers (nobody when root) must reach the document root.
chmod 755 "$T" "$T/www" && chmod 644 "$T/www/f" "$T/www/g"

user_line=""
if [ "$(id -u)" = 0 ]; then
	grp=$(id -gn nobody 2>/dev/null || echo nogroup)
	user_line="user nobody $grp;"
	# The point of the test: a worker cannot open the key itself.
	[ "$(stat -c %a "$CERTS/server.key")" = 600 ] || chmod 600 "$CERTS/server.key"
	"$EVPY" -c 'import os, pwd, sys
os.setgid(pwd.getpwnam("nobody").pw_gid); os.setuid(pwd.getpwnam("nobody").pw_uid)
try:
    open(sys.argv[1]).close()
except PermissionError:
    sys.exit(0)
sys.exit(1)' "$CERTS/server.key" || fail "test bug: nobody can read the server key"
fi

cat > "$T/nginx.conf" <<EOF
$user_line
daemon off;
master_process on;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/error.log info;
events { use epoll; worker_connections 64; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 30;
	keepalive_requests 1000;
	client_body_temp_path $T/tmp/body;
	proxy_temp_path $T/tmp/proxy;
	fastcgi_temp_path $T/tmp/fastcgi;
	uwsgi_temp_path $T/tmp/uwsgi;
	scgi_temp_path $T/tmp/scgi;
	server {
		listen 127.0.0.1:$P;
		listen [::1]:$P;
		root $T/www;
		# nginx's own rate limit: sendfile in 64 KiB pieces on timers,
		# retried after EAGAIN with whatever the limit allows then.
		location /limited/ {
			alias $T/www/;
			limit_rate 3m;
			sendfile_max_chunk 64k;
		}
	}
}
EOF

start_bg 120 "$TLSSHIM" --accept "*:$P" --certfile "$CERTS/server.pem" --keyfile "$CERTS/server.key" \
	-- nginx -p "$T" -c "$T/nginx.conf" -e "$T/error.log"
NGINX=$BG_PID
wait_port "$P"
kill -0 "$NGINX" 2>/dev/null || { cat "$T/error.log" >&2; fail "nginx exited"; }

urls=""
i=0
while [ $i -lt $N ]; do urls="$urls https://localhost:$P/f"; i=$((i + 1)); done

# shellcheck disable=SC2086
timeout 120 curl -sS --fail --cacert "$CERTS/ca.pem" -w '%{stderr}%{num_connects} %{http_code} %{size_download}\n' \
	$urls > "$T/got" 2> "$T/curl.err"
rc=$?
[ $rc -eq 0 ] || { cat "$T/curl.err" "$T/error.log" >&2; fail "curl exited $rc"; }

want=$(i=0; while [ $i -lt $N ]; do cat "$T/www/f"; i=$((i + 1)); done | sha256sum | cut -d' ' -f1)
got=$(sha256sum < "$T/got" | cut -d' ' -f1)
rm -f "$T/got"
assert_eq "$want" "$got" "sha256 of $N downloads of the 10 MiB file"
assert_eq "$N" "$(grep -c ' 200 10485760$' "$T/curl.err")" "responses with status 200 and the full size"
connects=$(awk '{ s += $1 } END { print s }' "$T/curl.err")
assert_eq 1 "$connects" "TCP connections for $N requests (keep-alive)"
echo "nginx: $N x 10 MiB over one keep-alive TLS connection, sha256 equal"

# Both ends wrapped: plain-HTTP curl (non-blocking connects, poll) under a
# connect rule, 4 transfers in parallel on 4 connections.
timeout 120 "$TLSSHIM" --connect "127.0.0.1:$P" --ca-certs "$CERTS/ca.pem" -- \
	curl -sS --no-progress-meter --fail --parallel --parallel-max 4 -w '%{stderr}%{num_connects} %{http_code} %{size_download}\n' \
	-o "$T/p1" -o "$T/p2" -o "$T/p3" -o "$T/p4" \
	"http://127.0.0.1:$P/f" "http://127.0.0.1:$P/f" "http://127.0.0.1:$P/f" "http://127.0.0.1:$P/f" \
	2> "$T/pcurl.err" || { cat "$T/pcurl.err" >&2; fail "wrapped plain-HTTP curl --parallel failed"; }
assert_eq 4 "$(grep -c -E '^[0-9]+ 200 10485760$' "$T/pcurl.err")" "wrapped curl --parallel: complete 200 responses"
for i in 1 2 3 4; do
	cmp -s "$T/www/f" "$T/p$i" || fail "wrapped curl --parallel transfer $i differs"
	rm -f "$T/p$i"
done
echo "wrapped curl (plain HTTP) --parallel: 4 x 10 MiB over TLS intact"

# Master and worker are distinct processes (timeout -> nginx master -> worker).
master=$(ev_children "$NGINX" | head -n 1)
worker=$(ev_children "$master" | head -n 1)
[ -n "$worker" ] || fail "no nginx worker process"
if [ -n "$user_line" ]; then
	assert_eq nobody "$(stat -c %U "/proc/$worker")" "user of the nginx worker"
fi

# The wire: curl -> relay (records every byte) -> nginx.
start_bg 120 "$EVPY" "$EV" relay --port "$R" --to "$P" --record "$T/wire"
wait_port "$R"
timeout 60 curl -sS --fail --cacert "$CERTS/ca.pem" --resolve "localhost:$R:127.0.0.1" \
	-o "$T/got1" -o "$T/got2" "https://localhost:$R/f" "https://localhost:$R/f" 2> "$T/curl2.err" \
	|| { cat "$T/curl2.err" >&2; fail "curl through the relay failed"; }
cmp -s "$T/www/f" "$T/got1" && cmp -s "$T/www/f" "$T/got2" || fail "file through the relay differs"
# Slow readers, 4 at once, through the relay: nginx's non-blocking sendfile
# meets full socket buffers (partial writes, EAGAIN, EPOLLOUT) on several
# TLS connections at the same time.
pids=""
for i in 1 2 3 4; do
	timeout 60 curl -sS --fail --cacert "$CERTS/ca.pem" --resolve "localhost:$R:127.0.0.1" \
		--limit-rate 1500k -o "$T/slow$i" "https://localhost:$R/g" 2> "$T/slow$i.err" &
	pids="$pids $!"
done
i=0
for p in $pids; do
	i=$((i + 1))
	wait "$p" || { cat "$T/slow$i.err" >&2; fail "slow reader $i failed"; }
	cmp -s "$T/www/g" "$T/slow$i" || fail "slow reader $i got different bytes"
done
echo "4 slow readers at once: 3 MiB each, intact"
pids=""
for i in 1 2 3; do
	timeout 60 curl -sS --fail --cacert "$CERTS/ca.pem" --resolve "localhost:$R:127.0.0.1" \
		--limit-rate $((i * 700))k -o "$T/lim$i" "https://localhost:$R/limited/g" 2> "$T/lim$i.err" &
	pids="$pids $!"
done
i=0
for p in $pids; do
	i=$((i + 1))
	wait "$p" || { cat "$T/lim$i.err" >&2; fail "rate-limited reader $i failed"; }
	cmp -s "$T/www/g" "$T/lim$i" || fail "rate-limited reader $i got different bytes"
done
echo "3 readers of nginx's limit_rate location at once: intact"
size=$(stat -c %s "$T/wire")
[ "$size" -ge $((2 * 10485760 + 7 * 3145728)) ] || fail "the relay recorded only $size bytes"
grep -q -a -F "$MARK" "$T/www/f" || fail "the marker is not in the file (test bug)"
if grep -q -a -F "$MARK" "$T/wire"; then
	fail "file bytes went out in plaintext: the marker is on the wire (sendfile not wrapped?)"
fi
echo "wire: $size bytes recorded, no plaintext marker"

# IPv6: the same rule (*:P) wraps nginx's [::1] listener.
timeout 60 curl -sS --fail --cacert "$CERTS/ca.pem" -o "$T/got6" "https://[::1]:$P/g" 2> "$T/curl6.err" \
	|| { cat "$T/curl6.err" >&2; fail "curl over IPv6 failed"; }
cmp -s "$T/www/g" "$T/got6" || fail "file over IPv6 differs"
echo "IPv6 [::1]:$P: served over TLS"

# Reload (SIGHUP): the master starts a new worker, forked after the
# reload, which must serve TLS as the first one did.
kill -HUP "$master"
i=0
while :; do
	new=$(ev_children "$master" | grep -v -x "$worker" | head -n 1)
	[ -n "$new" ] && ! kill -0 "$worker" 2>/dev/null && break
	i=$((i + 1)); [ $i -lt 200 ] || fail "no new nginx worker after SIGHUP"
	sleep 0.05
done
timeout 60 curl -sS --fail --cacert "$CERTS/ca.pem" -o "$T/got7" "https://localhost:$P/g" 2> "$T/curl7.err" \
	|| { cat "$T/curl7.err" >&2; fail "curl after nginx reload failed"; }
cmp -s "$T/www/g" "$T/got7" || fail "file after reload differs"
echo "after SIGHUP: new worker $new (old $worker gone) serves TLS"

kill -0 "$NGINX" 2>/dev/null || fail "nginx died"
if grep -E '\[(alert|emerg|crit)\]' "$T/error.log"; then fail "nginx logged alerts"; fi
echo "nginx error.log:"; tail -n 5 "$T/error.log"
exit 0
