#!/bin/sh
# A wrapped server's certificate and key rotate without a restart while
# clients connect in a loop: a Kubernetes-style `..data` symlink swap, a
# certbot-style rename, and a rewrite in place (a combined key+cert file)
# are each served to new connections within one second (the latency is
# printed); a replacement that does not load (half-written, a key that
# does not match) keeps the old credentials and is logged at warn with
# the reason, and the next good one is picked up. No connection fails,
# and no connection that starts 1 s or more after a replacement gets the
# old certificate (the latency to the first that gets the new one is
# printed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rotation_lib.sh"

cp "$CERTS/ca.pem" "$T/ca1.pem"; cp "$CERTS/ca.key" "$T/ca1.key"
mkca ca2
mkcert gen1 ca1 30
mkcert gen2 ca2 30
mkcert gen3 ca1 30
mkcert gen4 ca2 30
cat "$T/ca1.pem" "$T/ca2.pem" >"$T/trust.pem"

# Kubernetes secret volume: tls.crt -> ..data/tls.crt, ..data -> v1
mkdir "$T/vol" "$T/vol/v1"
cp "$T/gen1.pem" "$T/vol/v1/tls.crt"; cp "$T/gen1.key" "$T/vol/v1/tls.key"
ln -s v1 "$T/vol/..data"
ln -s ..data/tls.crt "$T/vol/tls.crt"; ln -s ..data/tls.key "$T/vol/tls.key"
swap() { # DIR: point ..data at vol/DIR atomically
	ln -s "$1" "$T/vol/..data_tmp" && mv -T "$T/vol/..data_tmp" "$T/vol/..data"
}

P=$(free_port)
TLSSHIM_LOG=info \
TLSSHIM_CONFIG_STRING="accept = ({ match = \"127.0.0.1:$P\"; certfile = \"$T/vol/tls.crt\"; keyfile = \"$T/vol/tls.key\"; });" \
	LD_PRELOAD=$PRELOAD start_bg 120 python3 -c "$ECHO_SERVER" $P 2>"$T/server.log"
wait_port $P
start_bg 120 python3 -c "$TLS_CLIENT_LOOP" $P "$T/trust.pem" "$T/stop" "$T/conns"
wait_served "$T/conns" "rotation gen1" 0 >/dev/null || fail "gen1 never served"

# 1. symlink swap to gen2 (another CA)
mkdir "$T/vol/v2"; cp "$T/gen2.pem" "$T/vol/v2/tls.crt"; cp "$T/gen2.key" "$T/vol/v2/tls.key"
t1=$(now_mono); swap v2
lat1=$(wait_served "$T/conns" "rotation gen2" "$t1") || fail "gen2 not served after the symlink swap"

# 2. a half-written certificate, then a key that does not match: kept
mkdir "$T/vol/v3"; head -c 300 "$T/gen3.pem" >"$T/vol/v3/tls.crt"; cp "$T/gen3.key" "$T/vol/v3/tls.key"
swap v3
n=0; until grep -q "does not load" "$T/server.log"; do n=$((n+1)); [ $n -lt 100 ] || fail "no warning for a half-written certificate"; sleep 0.05; done
mkdir "$T/vol/v4"; cp "$T/gen3.pem" "$T/vol/v4/tls.crt"; cp "$T/gen4.key" "$T/vol/v4/tls.key"
swap v4
n=0; until [ "$(grep -c "does not load" "$T/server.log")" -ge 2 ]; do n=$((n+1)); [ $n -lt 100 ] || fail "no warning for a mismatched key"; sleep 0.05; done
t2=$(now_mono)
sleep 0.6
python3 - "$T/conns" "$t2" <<'PY' || fail "a broken replacement was served"
import sys
since = float(sys.argv[2])
bad = [l for l in open(sys.argv[1]) if float(l.split()[0]) >= since and " ok " in l and "gen2" not in l]
sys.exit(1 if bad else 0)
PY

# 3. certbot: the good pair renamed over the files (here: the links)
cp "$T/gen3.pem" "$T/new.crt"; cp "$T/gen3.key" "$T/new.key"
t3=$(now_mono)
mv "$T/new.key" "$T/vol/tls.key"; mv "$T/new.crt" "$T/vol/tls.crt"
lat3=$(wait_served "$T/conns" "rotation gen3" "$t3") || fail "gen3 not served after rename"

# 4. rewritten in place (same inodes)
t4=$(now_mono)
cat "$T/gen4.key" >"$T/vol/tls.key"; cat "$T/gen4.pem" >"$T/vol/tls.crt"
lat4=$(wait_served "$T/conns" "rotation gen4" "$t4") || fail "gen4 not served after a rewrite in place"
sleep 1.1
touch "$T/stop"
n=0; while ! [ -s "$T/conns" ] || ! python3 -c 'import os,sys,time; sys.exit(0 if time.time()-os.path.getmtime(sys.argv[1])>0.3 else 1)' "$T/conns"; do
	n=$((n+1)); [ $n -lt 100 ] || break; sleep 0.05; done

total=$(wc -l <"$T/conns")
failed=$(grep -c " FAIL " "$T/conns" || true)
[ "$failed" -eq 0 ] || { grep " FAIL " "$T/conns" | head >&2; fail "$failed of $total connections failed"; }
# Within one second of each replacement, only the new certificate.
python3 - "$T/conns" "$t1:gen2:$t2" "$t3:gen3:$t4" "$t4:gen4:1e18" <<'PY' || fail "the old certificate was served more than 1 s after a replacement"
import sys
rows = [l.split() for l in open(sys.argv[1])]
for spec in sys.argv[2:]:
    a, org, b = spec.split(":")
    a, b = float(a), float(b)
    for r in rows:
        t = float(r[0])
        if a + 1.0 <= t < b and r[1] == "ok" and not r[2].endswith(org):
            print("at +%.3f s served %s, expected %s" % (t - a, r[2], org)); sys.exit(1)
PY
assert_contains "$T/server.log" "credentials reloaded" "the reload is logged"
assert_contains "$T/server.log" "cannot load certificate" "the half-written file's reason"
assert_contains "$T/server.log" "does not match the certificate" "the mismatched key's reason"
echo "rotation latency: symlink swap ${lat1} ms, rename ${lat3} ms, in place ${lat4} ms; $total connections, none failed"
