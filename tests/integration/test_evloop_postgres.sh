#!/bin/sh
# PostgreSQL, a fork-per-connection server (the postmaster accepts, forks a
# backend that serves, and closes its own copy), under `tlsshim --accept`;
# psql and pgbench (non-blocking libpq connections multiplexed with poll by
# several threads) under `tlsshim --connect`, with sslmode=disable: all the
# TLS is tlsshim's. Then the same server with --lazy-handshake (the forked
# backend handshakes) is not held up by a client that never speaks. When
# run as root, the server runs as the postgres user (PostgreSQL refuses
# root) with its own copy of the key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
sanitizer_skip_wraps "postgres and psql"
ev_need_launcher
ev_need_preload
PGBIN=
for d in /usr/lib/postgresql/*/bin /usr/local/bin /usr/bin; do
	[ -x "$d/initdb" ] && [ -x "$d/postgres" ] && { PGBIN=$d; break; }
done
[ -n "$PGBIN" ] || fail "PostgreSQL (initdb, postgres) is not installed"
command -v psql >/dev/null 2>&1 && command -v pgbench >/dev/null 2>&1 || fail "psql and pgbench are not installed"

PGRUN=
SRV_TLSSHIM=$TLSSHIM
if [ "$(id -u)" = 0 ]; then
	id postgres >/dev/null 2>&1 || fail "running as root needs a postgres user"
	PGRUN="runuser -u postgres --"
	chmod 755 "$T"
	# The build tree may sit where only root can enter (a clone in a
	# mktemp -d directory, as CI makes): the postgres user runs its own copy
	# of the launcher, with the library beside it where the launcher looks.
	mkdir -p "$T/bin"
	cp "$TLSSHIM" "$PRELOAD_SO" "$T/bin/"
	chmod 755 "$T/bin" "$T/bin/tlsshim" "$T/bin/libtlsshim.so"
	SRV_TLSSHIM=$T/bin/tlsshim
fi
mkdir -p "$T/pg" "$T/pgkeys" "$T/pgsock"
cp "$CERTS/server.pem" "$CERTS/server.key" "$T/pgkeys/"
chmod 600 "$T/pgkeys/server.key"
[ -z "$PGRUN" ] || chown -R postgres "$T/pg" "$T/pgkeys" "$T/pgsock"
$PGRUN "$PGBIN/initdb" -D "$T/pg/data" -A trust -U postgres > "$T/initdb.log" 2>&1 \
	|| { cat "$T/initdb.log" >&2; fail "initdb failed"; }

# pg_stop BG_PID: a fast shutdown (SIGINT to the postmaster), then waits
# until it is gone, so that the data directory can be used again.
pg_stop() {
	_pm=$(head -n 1 "$T/pg/data/postmaster.pid" 2>/dev/null)
	[ -n "$_pm" ] && kill -INT "$_pm" 2>/dev/null
	_n=0
	while [ -e "$T/pg/data/postmaster.pid" ] && [ $_n -lt 400 ]; do sleep 0.05; _n=$((_n + 1)); done
	[ ! -e "$T/pg/data/postmaster.pid" ] || fail "postgres did not shut down"
	stop_bg "$1"
}

P=$(free_port)
start_bg 150 $PGRUN "$SRV_TLSSHIM" --accept "*:$P" --certfile "$T/pgkeys/server.pem" \
	--keyfile "$T/pgkeys/server.key" -- "$PGBIN/postgres" -D "$T/pg/data" -p "$P" -k "$T/pgsock" \
	-c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40 -c shared_buffers=16MB \
	> "$T/pg.log" 2>&1
SERVER=$BG_PID
ev_wait_file "$T/pg.log" "ready to accept connections" 30

CONN="host=127.0.0.1 port=$P user=postgres dbname=postgres sslmode=disable connect_timeout=10"
shim() { timeout 90 "$TLSSHIM" --connect "127.0.0.1:$P" --ca-certs "$CERTS/ca.pem" -- "$@"; }

assert_eq 42 "$(shim psql "$CONN" -Atc 'select 6*7' 2>&1)" "psql under a connect rule"
# A plain client gets nothing from the wrapped server.
out=$(timeout 10 psql "$CONN" -Atc 'select 1' 2>&1)
[ "$out" != 1 ] || fail "the wrapped postgres answered a plaintext client"
shim pgbench -i -s 1 "$CONN" > "$T/init.log" 2>&1 || { tail -n 20 "$T/init.log" "$T/pg.log" >&2; fail "pgbench -i failed"; }
shim pgbench -c 8 -j 2 -t 100 "$CONN" > "$T/bench.log" 2>&1
rc=$?
cat "$T/bench.log" | grep -E 'processed|tps|failed'
[ $rc -eq 0 ] || { tail -n 20 "$T/bench.log" "$T/pg.log" >&2; fail "pgbench exited $rc"; }
assert_contains "$T/bench.log" "number of transactions actually processed: 800/800" "pgbench: 8 clients x 100 transactions"
assert_eq 100000 "$(shim psql "$CONN" -Atc 'select count(*) from pgbench_accounts' 2>&1)" "rows seen through a new wrapped connection"
kill -0 "$SERVER" 2>/dev/null || { tail -n 20 "$T/pg.log" >&2; fail "postgres died"; }

# The postmaster select()s on a blocking listener and accepts; with the
# default eager handshake it would run each client's handshake itself, one
# at a time (a silent client holds every login for handshake_timeout).
# With --lazy-handshake the forked backend handshakes: a silent client
# costs nobody else anything.
pg_stop "$SERVER"
P2=$(free_port)
start_bg 120 $PGRUN "$SRV_TLSSHIM" --accept "*:$P2" --lazy-handshake --certfile "$T/pgkeys/server.pem" \
	--keyfile "$T/pgkeys/server.key" -- "$PGBIN/postgres" -D "$T/pg/data" -p "$P2" -k "$T/pgsock" \
	-c listen_addresses=127.0.0.1 -c fsync=off > "$T/pg2.log" 2>&1
LAZY=$BG_PID
ev_wait_file "$T/pg2.log" "ready to accept connections" 30
start_bg 60 nc -d 127.0.0.1 "$P2"
i=0
until ss -Htn state established "( dport = :$P2 )" | grep -q .; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "nc never connected"; sleep 0.05
done
CONN2="host=127.0.0.1 port=$P2 user=postgres dbname=postgres sslmode=disable connect_timeout=10"
assert_eq 100000 "$(timeout 3 "$TLSSHIM" --connect "127.0.0.1:$P2" --ca-certs "$CERTS/ca.pem" -- \
	psql "$CONN2" -Atc 'select count(*) from pgbench_accounts' 2>&1)" \
	"psql within 3 s while a silent client is connected (--lazy-handshake server)"
kill -0 "$LAZY" 2>/dev/null || { tail -n 20 "$T/pg2.log" >&2; fail "postgres (lazy) died"; }
pg_stop "$LAZY"
cp "$T/pg.log" "$T/pg.log.copy"; tail -n 5 "$T/pg.log.copy"
echo "postgres log (errors, resets, bad protocol):"
grep -E 'PANIC|could not receive|could not send|unexpected EOF|invalid length|incomplete startup' "$T/pg.log.copy"
assert_not_contains "$T/pg.log.copy" "could not receive data from client" "connection errors at the server"
assert_not_contains "$T/pg.log.copy" "unexpected EOF on client connection" "clients vanishing without Terminate"
exit 0
