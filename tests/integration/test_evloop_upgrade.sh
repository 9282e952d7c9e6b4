#!/bin/sh
# Fail closed across exec (CONTRACT "Fail closed"; issue 4, item 5: exec
# never carries a half-alive TLS connection). nginx's binary upgrade:
# SIGUSR2 makes the master exec a new master that inherits the listening
# socket (its number in the NGINX variable) with a cleared environment (no
# LD_PRELOAD, no TLSSHIM_*); SIGQUIT then retires the old master. Whatever
# tlsshim does (carry itself into the new image, or refuse the exec), the
# port that the accept rule matched must never answer in plaintext, and
# TLS must still be served (by the new master, or by the old one if the
# upgrade was refused). nginx allows the upgrade only as a daemon, so the
# masters are followed through the pid file and killed by PID.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_launcher
ev_need_preload

# An absolute path: nginx execs its own argv[0] for the upgrade.
NGINX=$(command -v nginx) || fail "nginx is not installed"
P=$(free_port)
MARK="tlsshim-upgrade-page-$$-$P"
mkdir -p "$T/www" "$T/tmp"
echo "$MARK" > "$T/www/i.html"
chmod 755 "$T" "$T/www" && chmod 644 "$T/www/i.html"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user nobody $(id -gn nobody 2>/dev/null || echo nogroup);"
cat > "$T/nginx.conf" <<CONF
$user_line
daemon on;
master_process on;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/error.log info;
events { use epoll; worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $T/tmp/body;
	proxy_temp_path $T/tmp/proxy;
	fastcgi_temp_path $T/tmp/fastcgi;
	uwsgi_temp_path $T/tmp/uwsgi;
	scgi_temp_path $T/tmp/scgi;
	server { listen 127.0.0.1:$P; root $T/www; }
}
CONF

# Daemons escape start_bg: kill every master this test saw at exit.
masters=""
kill_masters() { for m in $masters; do kill -TERM "$m" 2>/dev/null; done; }
trap 'kill_masters; _cleanup' EXIT

timeout 20 "$TLSSHIM" --accept "*:$P" --certfile "$CERTS/server.pem" --keyfile "$CERTS/server.key" \
	-- "$NGINX" -p "$T" -c "$T/nginx.conf" -e "$T/error.log" || fail "nginx did not start"
ev_wait_file "$T/nginx.pid" "[0-9]" 10
OLD=$(cat "$T/nginx.pid")
masters="$OLD"
wait_port "$P"
fetch_tls() { timeout 10 curl -sS --cacert "$CERTS/ca.pem" "https://localhost:$P/i.html" 2>&1; }
fetch_plain() { timeout 10 curl -sS "http://127.0.0.1:$P/i.html" 2>&1; }
assert_eq "$MARK" "$(fetch_tls)" "TLS before the upgrade"

kill -USR2 "$OLD"
i=0
while [ ! -e "$T/nginx.pid.oldbin" ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i + 1)); done
if [ -e "$T/nginx.pid.oldbin" ]; then
	ev_wait_file "$T/nginx.pid" "[0-9]" 10
	NEW=$(cat "$T/nginx.pid")
	masters="$masters $NEW"
	echo "upgrade: new master $NEW started; retiring the old one ($OLD)"
	kill -QUIT "$OLD"
	i=0
	while kill -0 "$OLD" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	kill -0 "$OLD" 2>/dev/null && fail "the old master did not exit"
	kill -0 "$NEW" 2>/dev/null || { tail -n 20 "$T/error.log" >&2; fail "the new master died"; }
else
	echo "upgrade: no new master (the exec was refused); the old one serves on"
	grep -iE 'crit|alert|emerg|exec' "$T/error.log" | tail -n 5
fi
out=$(fetch_plain)
case $out in *"$MARK"*)
	fail "after nginx's binary upgrade the port answers in PLAINTEXT: the new master runs without tlsshim (LD_PRELOAD dropped by the exec) on the inherited listener";;
esac
assert_eq "$MARK" "$(fetch_tls)" "TLS after the upgrade"
echo "after the upgrade: TLS served, no plaintext answer"
exit 0
