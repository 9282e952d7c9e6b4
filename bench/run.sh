#!/bin/sh
# The benchmark behind `make bench` (bench/README.md says what it measures).
#
#   sh bench/run.sh [BUILD]               full run (< 10 minutes), results in
#                                         bench/results/latest.{md,csv,png}
#   sh bench/run.sh --smoke BUILD OUTDIR  a few seconds: plain, ideal and
#                                         tlsshim carriers, tiny sizes, bulk
#                                         verified byte by byte (make check)
#
# One interleaved run: for each repetition, placement and workload, every
# carrier in turn (A B C A B C ...), because figures on a shared VM drift by
# 20-60 % between runs and only ratios from one run mean anything.
# Every process is bounded by `timeout`, listens on 127.0.0.1 below 32768
# and is killed by PID. Knobs (environment): BENCH_REPS (5), BENCH_BYTES
# (bulk, 268435456), BENCH_SECS (ping-pong and connection loops, 1),
# BENCH_IDLE (1000), BENCH_REDIS_N (requests per redis test, 20000),
# BENCH_SCALE_IDLE (10000), BENCH_SCALE_N (1-client requests, 20000),
# BENCH_OUT (bench/results), BENCH_ONLY (run only these sections, e.g.
# "scale" or "redis memory"; default all: throughput redis memory
# passthrough startup syscalls profile scale).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SMOKE=0
if [ "${1:-}" = --smoke ]; then
	SMOKE=1
	shift
fi
BUILD=$(cd "${1:-$ROOT/build}" && pwd) || exit 1
BIN=$BUILD/bench
if [ $SMOKE = 1 ]; then
	OUT=${2:?usage: run.sh --smoke BUILD OUTDIR}
	REPS=1 BYTES=4194304 SECS=0.2 IDLE=20 REDIS_N=0 VERIFY=--verify SCALE_IDLE=0
	PLACEMENTS=pinned
	CARRIERS="plain ideal tlsshim"
else
	OUT=${BENCH_OUT:-$ROOT/bench/results}
	REPS=${BENCH_REPS:-5} BYTES=${BENCH_BYTES:-268435456} SECS=${BENCH_SECS:-1}
	IDLE=${BENCH_IDLE:-1000} REDIS_N=${BENCH_REDIS_N:-20000} VERIFY=
	SCALE_IDLE=${BENCH_SCALE_IDLE:-10000}
	PLACEMENTS="pinned free"
	CARRIERS="plain ideal tlsshim stunnel socat"
fi
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
CSV=$OUT/latest.csv
META=$OUT/latest.meta
CERTS=$BUILD/bench-certs
TLSSHIM=$BUILD/tlsshim
PRELOAD=$BUILD/libtlsshim.so
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsshim-bench.XXXXXX") || exit 1
START=$(date +%s)
# Benchmarks must not inherit a configuration from the caller.
unset TLSSHIM_CONFIG TLSSHIM_CONFIG_STRING TLSSHIM_LOG TLSSHIM_LOG_FILE SSLKEYLOGFILE LD_PRELOAD || true

PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[bench $(( $(date +%s) - START ))s] $*" >&2; }
die() { log "error: $*"; exit 1; }
# only SECTION: 0 when BENCH_ONLY is unset or names SECTION.
only() {
	[ -z "${BENCH_ONLY:-}" ] && return 0
	case " $BENCH_ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

for b in plain_client plain_server tls_client tls_server passthrough ktls_probe spawntime; do
	[ -x "$BIN/$b" ] || die "$BIN/$b is missing (make BUILD=$BUILD bench builds it)"
done
sh "$ROOT/tests/certs/make-certs.sh" "$CERTS" || die "cannot make certificates"
# The scale section holds 10,000 connections in one server (and as many
# descriptors in the holder): as many descriptors as allowed.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ulimit -c 0 2>/dev/null || true

# ---- processes --------------------------------------------------------------

# bg NAME SECONDS cmd...: starts cmd bounded by timeout, output in
# $W/NAME.out and .err; its PID (timeout's, which forwards TERM) in BG.
bg() {
	_bg_name=$1 _bg_secs=$2
	shift 2
	timeout -k 2 "$_bg_secs" "$@" >"$W/$_bg_name.out" 2>"$W/$_bg_name.err" &
	BG=$!
	PIDS="$PIDS $BG"
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 0; }

# The process that timeout started (timeout's only child).
child_of() {
	_co=$(cat "/proc/$1/task/$1/children" 2>/dev/null)
	echo "${_co%% *}"
}

proc_kb() { # PID FIELD
	sed -n "s/^$2:[[:space:]]*\\([0-9]*\\).*/\\1/p" "/proc/$1/status" 2>/dev/null
}

listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
# wait_port PORT PID: until PORT listens; 1 if PID died first or 10 s passed.
wait_port() {
	_wp_n=200
	while [ $_wp_n -gt 0 ]; do
		listening "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
		_wp_n=$((_wp_n - 1))
	done
	return 1
}

# The words in front of a command for a placement: all processes on CPU 0,
# or wherever the kernel likes (env: a no-op that timeout can exec).
pinpfx() { if [ "$1" = pinned ]; then echo "taskset -c 0"; else echo env; fi; }

# Ports: a block of 200 below the ephemeral range with nothing bound in it
# (BENCH-NOTES: connection loops take ephemeral ports as source ports).
pick_base() {
	_used=$(ss -Htan 2>/dev/null | awk '{n = split($4, a, ":"); print a[n]}')
	for _try in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		_b=$(( 20000 + ($(od -An -N2 -tu2 /dev/urandom) % 60) * 200 ))
		_clash=0
		for _u in $_used; do
			if [ "$_u" -ge "$_b" ] 2>/dev/null && [ "$_u" -lt $((_b + 200)) ]; then _clash=1; fi
		done
		[ $_clash = 0 ] && { echo "$_b"; return 0; }
	done
	return 1
}
BASE=$(pick_base) || die "no free block of ports"
NEXT=0
newport() { PORT=$((BASE + NEXT)); NEXT=$((NEXT + 1)); }

# ---- results ----------------------------------------------------------------

echo "section,rep,placement,workload,carrier,metric,value,unit,status,note" >"$CSV"
: >"$META"
row() { # section rep placement workload carrier metric value unit status note
	_note=$(printf '%s' "${10}" | tr ',\n' ';  ')
	echo "$1,$2,$3,$4,$5,$6,$7,$8,$9,$_note" >>"$CSV"
}
na() { # section placement workload carrier metric reason
	row "$1" - "$2" "$3" "$4" "$5" "" "" na "$6"
}
meta() { echo "$1=$2" >>"$META"; }
field() { # NAME FILE: the value of NAME=... on the RESULT line
	sed -n "s/^RESULT .*\\b$1=\\([^ ]*\\).*/\\1/p" "$2" | head -n 1
}

meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta nproc "$(nproc)"
meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
meta kernel "$(uname -sr)"
meta openssl "$(openssl version 2>/dev/null)"
meta reps "$REPS"
meta bytes "$BYTES"
meta secs "$SECS"
meta smoke "$SMOKE"
meta commit "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
meta only "${BENCH_ONLY:-all}"
KTLS=$("$BIN/ktls_probe")
meta ktls "$KTLS"
log "$KTLS"

# ---- configs ----------------------------------------------------------------

SUITE=TLS_AES_256_GCM_SHA384
stunnel_conf() { # FILE then "accept connect [extra lines]" per service, as NAME|lines
	_f=$1
	shift
	printf 'foreground = quiet\nsyslog = no\npid =\n' >"$_f"
	for _svc in "$@"; do printf '%s\n' "$_svc" | tr '|' '\n' >>"$_f"; done
}
stunnel_server_svc() { # NAME ACCEPT CONNECT
	echo "[$1]|accept = 127.0.0.1:$2|connect = 127.0.0.1:$3|cert = $CERTS/server.pem|key = $CERTS/server.key|sslVersion = TLSv1.3|ciphersuites = $SUITE"
}
stunnel_client_svc() { # NAME ACCEPT CONNECT RESUME(yes|no)
	echo "[$1]|client = yes|accept = 127.0.0.1:$2|connect = 127.0.0.1:$3|CAfile = $CERTS/ca.pem|verifyChain = yes|sslVersion = TLSv1.3|ciphersuites = $SUITE|sessionResume = $4"
}

# tlsshim config files: the carrier itself uses the launcher's flags; the
# variants (no session cache, release_buffers) need rule keys.
tlsshim_conf() { # FILE SIDE MATCH EXTRA-KEYS
	if [ "$2" = connect ]; then
		_k="ca_certs = \"$CERTS/ca.pem\"; ssl_version = \"PROTOCOL_TLSv1_3\"; $4"
	else
		_k="certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; ssl_version = \"PROTOCOL_TLSv1_3\"; $4"
	fi
	printf 'version = 1;\n%s = (\n  { match = "%s"; %s }\n);\n' "$2" "$3" "$_k" >"$1"
}
tls_client_cmd() { # PORT: the launcher line in front of a client
	echo "$TLSSHIM --connect 127.0.0.1:$1 --ca-certs $CERTS/ca.pem --ssl-version TLSv1_3 --"
}
tls_server_cmd() {
	echo "$TLSSHIM --accept 127.0.0.1:$1 --certfile $CERTS/server.pem --keyfile $CERTS/server.key --ssl-version TLSv1_3 --"
}

# ---- is tlsshim there, and does it really speak TLS? ------------------------
# A column with a number must be TLS: the probe crosses tlsshim with the
# ideal pair, which speaks nothing else.
TLSSHIM_OK=0 TLSSHIM_WHY="" TLSSHIM_FULL=0 TLSSHIM_FULL_WHY="" TLSSHIM_RB=0 TLSSHIM_RB_WHY=""
probe_tlsshim() {
	[ -x "$TLSSHIM" ] || { TLSSHIM_WHY="$TLSSHIM not built"; return; }
	[ -f "$PRELOAD" ] || { TLSSHIM_WHY="$PRELOAD not built"; return; }
	newport; _ip=$PORT
	bg probe-ideal 30 "$BIN/tls_server" -p "$_ip" --cert "$CERTS/server.pem" --key "$CERTS/server.key"
	_ipid=$BG
	newport; _sp=$PORT
	# shellcheck disable=SC2046
	bg probe-shim 30 env TLSSHIM_LOG=info $(tls_server_cmd "$_sp") "$BIN/plain_server" -p "$_sp"
	_spid=$BG
	if ! wait_port "$_ip" "$_ipid" || ! wait_port "$_sp" "$_spid"; then
		TLSSHIM_WHY="server under tlsshim did not start: $(tail -n 1 "$W/probe-shim.err" "$W/probe-ideal.err" | tr '\n' ' ')"
		stop "$_ipid"; stop "$_spid"; return
	fi
	# shellcheck disable=SC2046
	if ! TLSSHIM_LOG=info timeout 20 $(tls_client_cmd "$_ip") "$BIN/plain_client" -p "$_ip" \
		-w bulk -n 1048576 --verify >"$W/probe-c1.out" 2>"$W/probe-c1.err"; then
		TLSSHIM_WHY="plain_client under tlsshim cannot talk to the ideal TLS server: $(tail -n 2 "$W/probe-c1.err" | tr '\n' ' ')"
	elif ! timeout 20 "$BIN/tls_client" -p "$_sp" --ca "$CERTS/ca.pem" -w bulk -n 1048576 --verify \
		>"$W/probe-c2.out" 2>"$W/probe-c2.err"; then
		TLSSHIM_WHY="the ideal TLS client cannot talk to plain_server under tlsshim: $(tail -n 2 "$W/probe-c2.err" | tr '\n' ' ')"
	else
		TLSSHIM_OK=1
		_suite=$(grep -ho 'TLS_[A-Z0-9_]*' "$W/probe-c1.err" "$W/probe-shim.err" | sort -u | tr '\n' ' ')
		meta tlsshim_suites "${_suite:-not logged}"
	fi
	stop "$_spid"; stop "$_ipid"
	[ $TLSSHIM_OK = 1 ] || return
	# Rule keys the variants need: an unknown key stops the program.
	tlsshim_conf "$W/full.conf" connect "127.0.0.1:1" "session_cache = false;"
	if "$TLSSHIM" -c "$W/full.conf" -- /bin/true >"$W/probe-full.err" 2>&1; then
		TLSSHIM_FULL=1
	else
		TLSSHIM_FULL_WHY="no rule key turns tlsshim's session cache off: $(sed -n 's/.*\(unknown key "[a-z_]*"\).*/\1/p' "$W/probe-full.err" | head -n 1)"
	fi
	tlsshim_conf "$W/rb.conf" accept "127.0.0.1:1" "release_buffers = true;"
	if "$TLSSHIM" -c "$W/rb.conf" -- /bin/true >"$W/probe-rb.err" 2>&1; then
		TLSSHIM_RB=1
	else
		TLSSHIM_RB_WHY="no release_buffers rule key: $(head -c 160 "$W/probe-rb.err" | head -n 1)"
	fi
}
probe_tlsshim
if [ $TLSSHIM_OK = 1 ]; then log "tlsshim: works (TLS checked against the ideal pair)"
else log "tlsshim: n/a ($TLSSHIM_WHY)"; fi
meta tlsshim "$([ $TLSSHIM_OK = 1 ] && echo ok || echo "n/a ($TLSSHIM_WHY)")"

# ---- servers of every carrier, per placement --------------------------------
# EP_<placement>_<carrier>[_full] is the port a client connects to.
start_carriers() { # PLACEMENT
	_pl=$1
	for _car in $CARRIERS; do
		case $_car in
		plain)
			newport; eval "EP_${_pl}_plain=$PORT"
			bg "$_pl-plain" 900 $(pinpfx "$_pl") "$BIN/plain_server" -p "$PORT"
			wait_port "$PORT" "$BG" || die "plain_server did not start" ;;
		ideal)
			newport; eval "EP_${_pl}_ideal=$PORT"
			bg "$_pl-ideal" 900 $(pinpfx "$_pl") "$BIN/tls_server" -p "$PORT" \
				--cert "$CERTS/server.pem" --key "$CERTS/server.key"
			wait_port "$PORT" "$BG" || die "tls_server did not start"
			# A server that issues no tickets: full handshakes whatever
			# the client caches (tlsshim's full-handshake client side).
			newport; eval "EP_${_pl}_ideal_nt=$PORT"
			bg "$_pl-ideal-nt" 900 $(pinpfx "$_pl") "$BIN/tls_server" -p "$PORT" \
				--cert "$CERTS/server.pem" --key "$CERTS/server.key" --no-tickets
			wait_port "$PORT" "$BG" || die "tls_server did not start" ;;
		tlsshim)
			[ $TLSSHIM_OK = 1 ] || continue
			newport; eval "EP_${_pl}_tlsshim=$PORT"
			# shellcheck disable=SC2046
			bg "$_pl-tlsshim" 900 $(pinpfx "$_pl") $(tls_server_cmd "$PORT") "$BIN/plain_server" -p "$PORT"
			wait_port "$PORT" "$BG" || die "plain_server under tlsshim did not start: $(tail -n 3 "$W/$_pl-tlsshim.err")" ;;
		stunnel)
			newport; _back=$PORT
			bg "$_pl-stunnel-back" 900 $(pinpfx "$_pl") "$BIN/plain_server" -p "$_back"
			wait_port "$_back" "$BG" || die "plain_server did not start"
			newport; _tls=$PORT
			stunnel_conf "$W/$_pl-stunnel-server.conf" "$(stunnel_server_svc srv "$_tls" "$_back")"
			bg "$_pl-stunnel-server" 900 $(pinpfx "$_pl") stunnel "$W/$_pl-stunnel-server.conf"
			wait_port "$_tls" "$BG" || die "stunnel (server) did not start: $(tail -n 3 "$W/$_pl-stunnel-server.err")"
			newport; eval "EP_${_pl}_stunnel=$PORT"; _res=$PORT
			newport; eval "EP_${_pl}_stunnel_full=$PORT"
			stunnel_conf "$W/$_pl-stunnel-client.conf" \
				"$(stunnel_client_svc cli "$_res" "$_tls" yes)" \
				"$(stunnel_client_svc clifull "$PORT" "$_tls" no)"
			bg "$_pl-stunnel-client" 900 $(pinpfx "$_pl") stunnel "$W/$_pl-stunnel-client.conf"
			wait_port "$PORT" "$BG" || die "stunnel (client) did not start: $(tail -n 3 "$W/$_pl-stunnel-client.err")" ;;
		socat)
			newport; _back=$PORT
			bg "$_pl-socat-back" 900 $(pinpfx "$_pl") "$BIN/plain_server" -p "$_back"
			wait_port "$_back" "$BG" || die "plain_server did not start"
			newport; _tls=$PORT
			bg "$_pl-socat-server" 900 $(pinpfx "$_pl") socat \
				"OPENSSL-LISTEN:$_tls,bind=127.0.0.1,reuseaddr,fork,nodelay,cert=$CERTS/server.pem,key=$CERTS/server.key,verify=0,min-version=TLS1.3" \
				"TCP:127.0.0.1:$_back,nodelay"
			wait_port "$_tls" "$BG" || die "socat (server) did not start: $(tail -n 3 "$W/$_pl-socat-server.err")"
			newport; eval "EP_${_pl}_socat=$PORT"
			bg "$_pl-socat-client" 900 $(pinpfx "$_pl") socat \
				"TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork,nodelay" \
				"OPENSSL:127.0.0.1:$_tls,nodelay,cafile=$CERTS/ca.pem,verify=1,min-version=TLS1.3"
			wait_port "$PORT" "$BG" || die "socat (client) did not start: $(tail -n 3 "$W/$_pl-socat-client.err")" ;;
		esac
	done
}

# ---- one measurement --------------------------------------------------------

# The run stays bounded even when a carrier hangs or breaks: a carrier that
# failed twice in a section is skipped from then on, and past BUDGET
# seconds every remaining measurement is skipped (each with an n/a row).
BUDGET=${BENCH_BUDGET:-540}
FAILS=" "
failed_twice() { # SECTION CARRIER
	case $FAILS in *" $1/$2 "*" $1/$2 "*) return 0 ;; esac
	return 1
}
skip_why() { # SECTION CARRIER: prints why to skip, or nothing
	if failed_twice "$1" "$2"; then echo "skipped after 2 failures (see the failed rows)"
	elif [ $(( $(date +%s) - START )) -gt "$BUDGET" ]; then echo "skipped: past the ${BUDGET} s budget"
	fi
}

# measure REP PLACEMENT WORKLOAD CARRIER: one client run, one CSV row.
measure() {
	_rep=$1 _pl=$2 _wl=$3 _car=$4 _ep=$4
	case $_wl in
	bulk) set -- -w bulk -n "$BYTES" $VERIFY ;;
	pingpong) set -- -w pingpong -d "$SECS" ;;
	conn_*) set -- -w connect -d "$SECS" ;;
	esac
	[ "$_car" = stunnel ] && [ "$_wl" = conn_full ] && _ep=stunnel_full
	# One side under tlsshim, full handshakes (see the matrix below).
	[ "$_car" = tlsshim_cli ] && _ep=ideal_nt
	[ "$_car" = tlsshim_srv ] && _ep=tlsshim
	eval "_port=\${EP_${_pl}_${_ep}:-}"
	if [ -z "$_port" ]; then
		[ "$_car" = tlsshim ] && na throughput "$_pl" "$_wl" "$_car" rate "$TLSSHIM_WHY"
		return
	fi
	_skip=$(skip_why throughput "$_car")
	if [ -n "$_skip" ]; then
		row throughput "$_rep" "$_pl" "$_wl" "$_car" rate "" "" na "$_skip"
		return
	fi
	case $_car in
	ideal|ideal_nt|tlsshim_srv)
		[ "$_wl" = conn_resumed ] && set -- "$@" --resume
		set -- "$BIN/tls_client" -p "$_port" --ca "$CERTS/ca.pem" "$@" ;;
	tlsshim_cli)
		# shellcheck disable=SC2046
		set -- $(tls_client_cmd "$_port") "$BIN/plain_client" -p "$_port" "$@" ;;
	tlsshim)
		if [ "$_wl" = conn_full ]; then
			if [ $TLSSHIM_FULL = 0 ]; then
				na throughput "$_pl" "$_wl" "$_car" rate "$TLSSHIM_FULL_WHY"
				return
			fi
			tlsshim_conf "$W/full-$_port.conf" connect "127.0.0.1:$_port" "session_cache = false;"
			set -- "$TLSSHIM" -c "$W/full-$_port.conf" -- "$BIN/plain_client" -p "$_port" "$@"
		else
			# shellcheck disable=SC2046
			set -- $(tls_client_cmd "$_port") "$BIN/plain_client" -p "$_port" "$@"
		fi ;;
	*)
		set -- "$BIN/plain_client" -p "$_port" "$@" ;;
	esac
	if timeout -k 2 30 $(pinpfx "$_pl") "$@" >"$W/m.out" 2>"$W/m.err" && grep -q '^RESULT' "$W/m.out"; then
		_line=$(sed -n 's/^RESULT //p' "$W/m.out" | head -n 1)
		row throughput "$_rep" "$_pl" "$_wl" "$_car" rate "$(field value "$W/m.out")" \
			"$(field unit "$W/m.out")" ok "$_line"
	else
		row throughput "$_rep" "$_pl" "$_wl" "$_car" rate "" "" fail \
			"exit $?: $(tail -n 2 "$W/m.err" | tr '\n' ' ')"
		log "FAILED $_pl $_wl $_car: $(tail -n 2 "$W/m.err" | tr '\n' ' ')"
		FAILS="$FAILS throughput/$_car "
	fi
}

# ---- the interleaved matrix -------------------------------------------------

if only throughput; then
for pl in $PLACEMENTS; do start_carriers "$pl"; done
log "carriers up: $CARRIERS (ports from $BASE)"
WORKLOADS="bulk pingpong conn_full conn_resumed"
# Without a rule key that turns tlsshim's session cache off, its pair
# always resumes; its full-handshake cost is then measured one side at a
# time: the tlsshim client against a server that issues no tickets (next
# to the ideal client against the same server), and the ideal client
# without a session against the tlsshim server (next to the ideal pair).
FULL_SIDES=""
[ $TLSSHIM_OK = 1 ] && FULL_SIDES="ideal_nt tlsshim_cli tlsshim_srv"
rep=1
while [ $rep -le "$REPS" ]; do
	for pl in $PLACEMENTS; do
		for wl in $WORKLOADS; do
			for car in $CARRIERS; do
				case $wl/$car in
				conn_resumed/plain) continue ;;   # no handshake to resume
				conn_resumed/socat)               # a fresh process per connection
					[ $rep = 1 ] && na throughput "$pl" "$wl" socat rate \
						"socat forks a process with a new context per connection: no resumption"
					continue ;;
				esac
				measure "$rep" "$pl" "$wl" "$car"
			done
			if [ "$wl" = conn_full ]; then
				for car in $FULL_SIDES; do measure "$rep" "$pl" "$wl" "$car"; done
			fi
		done
	done
	log "repetition $rep of $REPS done"
	rep=$((rep + 1))
done

# Does each client resume? The ideal server counts resumed handshakes.
resumption_check() { # CARRIER
	newport; _rp=$PORT
	bg "resume-$1" 60 "$BIN/tls_server" -p "$_rp" --cert "$CERTS/server.pem" --key "$CERTS/server.key"
	_srv=$BG
	wait_port "$_rp" "$_srv" || return
	case $1 in
	stunnel)
		newport
		stunnel_conf "$W/resume-stunnel.conf" "$(stunnel_client_svc cli "$PORT" "$_rp" yes)"
		bg resume-stunnel-client 60 stunnel "$W/resume-stunnel.conf"
		_cli=$BG
		wait_port "$PORT" "$_cli" || return
		timeout 30 "$BIN/plain_client" -p "$PORT" -w connect -d "$SECS" >"$W/rc.out" 2>&1
		stop "$_cli" ;;
	socat)
		newport
		bg resume-socat-client 60 socat "TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork,nodelay" \
			"OPENSSL:127.0.0.1:$_rp,nodelay,cafile=$CERTS/ca.pem,verify=1,min-version=TLS1.3"
		_cli=$BG
		wait_port "$PORT" "$_cli" || return
		timeout 30 "$BIN/plain_client" -p "$PORT" -w connect -d "$SECS" >"$W/rc.out" 2>&1
		stop "$_cli" ;;
	tlsshim)
		# shellcheck disable=SC2046
		timeout 30 $(tls_client_cmd "$_rp") "$BIN/plain_client" -p "$_rp" -w connect -d "$SECS" \
			>"$W/rc.out" 2>&1 ;;
	esac
	stop "$_srv"
	_hs=$(sed -n 's/^STATS handshakes=\([0-9]*\).*/\1/p' "$W/resume-$1.out")
	_re=$(sed -n 's/^STATS .*resumed=\([0-9]*\).*/\1/p' "$W/resume-$1.out")
	if [ -n "$_hs" ] && [ "$_hs" -gt 0 ]; then
		row resumption 1 free conn "$1" resumed "$_re" "of $_hs" ok "resumed $_re of $_hs handshakes"
	else
		row resumption 1 free conn "$1" resumed "" "" fail "no handshakes counted"
	fi
}
if [ $SMOKE = 0 ]; then
	for c in stunnel socat; do resumption_check $c; done
fi
if [ $TLSSHIM_OK = 1 ]; then resumption_check tlsshim
else na resumption free conn tlsshim resumed "$TLSSHIM_WHY"; fi
log "throughput done"
fi

# ---- redis --------------------------------------------------------------------

redis_server() { # NAME PLACEMENT PORT [launcher words] -- extra redis args
	_n=$1 _pl=$2 _p=$3
	shift 3
	bg "$_n" 600 $(pinpfx "$_pl") "$@" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
		--logfile "$W/$_n.log" --protected-mode no
	wait_port "$_p" "$BG"
}
start_redis() { # PLACEMENT
	_pl=$1
	newport; eval "RP_${_pl}_plain=$PORT"
	redis_server "redis-$_pl-plain" "$_pl" "$PORT" redis-server --port "$PORT" ||
		die "redis-server did not start"
	newport; eval "RP_${_pl}_native=$PORT"
	redis_server "redis-$_pl-native" "$_pl" "$PORT" redis-server --port 0 --tls-port "$PORT" \
		--tls-cert-file "$CERTS/server.pem" --tls-key-file "$CERTS/server.key" \
		--tls-ca-cert-file "$CERTS/ca.pem" --tls-auth-clients no --tls-protocols TLSv1.3 \
		--tls-ciphersuites "$SUITE" || die "redis-server (native TLS) did not start"
	if [ $TLSSHIM_OK = 1 ]; then
		newport; eval "RP_${_pl}_tlsshim=$PORT"
		# shellcheck disable=SC2046
		redis_server "redis-$_pl-tlsshim" "$_pl" "$PORT" $(tls_server_cmd "$PORT") \
			redis-server --port "$PORT" ||
			{ eval "RP_${_pl}_tlsshim="; log "redis-server under tlsshim did not start"; }
	fi
	newport; _back=$PORT
	redis_server "redis-$_pl-stunnel-back" "$_pl" "$PORT" redis-server --port "$PORT" ||
		die "redis-server did not start"
	newport; _tls=$PORT
	stunnel_conf "$W/redis-$_pl-ss.conf" "$(stunnel_server_svc srv "$_tls" "$_back")"
	bg "redis-$_pl-ss" 600 $(pinpfx "$_pl") stunnel "$W/redis-$_pl-ss.conf"
	wait_port "$_tls" "$BG" || die "stunnel did not start"
	newport; eval "RP_${_pl}_stunnel=$PORT"
	stunnel_conf "$W/redis-$_pl-sc.conf" "$(stunnel_client_svc cli "$PORT" "$_tls" yes)"
	bg "redis-$_pl-sc" 600 $(pinpfx "$_pl") stunnel "$W/redis-$_pl-sc.conf"
	wait_port "$PORT" "$BG" || die "stunnel did not start"
}
redis_measure() { # REP PLACEMENT CARRIER
	_rep=$1 _pl=$2 _car=$3
	eval "_port=\${RP_${_pl}_${_car}:-}"
	if [ -z "$_port" ]; then
		for _t in SET GET; do
			na redis "$_pl" "$_t" "$_car" rate "${TLSSHIM_WHY:-redis-server under tlsshim did not start}"
		done
		return
	fi
	_skip=$(skip_why redis "$_car")
	if [ -n "$_skip" ]; then
		for _t in SET GET; do row redis "$_rep" "$_pl" "$_t" "$_car" rate "" "" na "$_skip"; done
		return
	fi
	set -- redis-benchmark -h 127.0.0.1 -p "$_port" -t set,get -c 50 -P 1 -n "$REDIS_N" --csv
	case $_car in
	native) set -- "$@" --tls --cacert "$CERTS/ca.pem" --tls-ciphersuites "$SUITE" ;;
	# shellcheck disable=SC2046
	tlsshim) set -- $(tls_client_cmd "$_port") "$@" ;;
	esac
	# redis-benchmark spins forever when it cannot connect: always bounded.
	if timeout -k 2 45 $(pinpfx "$_pl") "$@" >"$W/r.out" 2>"$W/r.err"; then
		for _t in SET GET; do
			_v=$(sed -n "s/^\"$_t\",\"\\([0-9.]*\\)\".*/\\1/p" "$W/r.out")
			if [ -n "$_v" ]; then row redis "$_rep" "$_pl" "$_t" "$_car" rate "$_v" req/s ok "-n $REDIS_N -c 50 -P 1"
			else row redis "$_rep" "$_pl" "$_t" "$_car" rate "" "" fail "no $_t line"; fi
		done
	else
		_rc=$?
		for _t in SET GET; do
			row redis "$_rep" "$_pl" "$_t" "$_car" rate "" "" fail "exit $_rc: $(tail -n 1 "$W/r.err")"
		done
		log "FAILED redis $_pl $_car (exit $_rc)"
		FAILS="$FAILS redis/$_car "
	fi
}
if [ "$REDIS_N" -gt 0 ] && only redis; then
	for pl in $PLACEMENTS; do start_redis "$pl"; done
	rep=1
	while [ $rep -le "$REPS" ]; do
		for pl in $PLACEMENTS; do
			for car in plain native tlsshim stunnel; do redis_measure "$rep" "$pl" "$car"; done
		done
		rep=$((rep + 1))
	done
	log "redis done"
fi

# ---- scale: an epoll server at 0 and SCALE_IDLE idle TLS connections ----------------

# redis-server under tlsshim (an accept rule) and with its own TLS, each
# twice: one server that never has an idle connection and one to which
# idle_holder holds SCALE_IDLE idle TLS connections open. Every repetition
# measures all four in turn with one `redis-benchmark --tls -c 1 -t ping`
# client, then the two loaded ones with 50 clients, so that the 0-idle and
# the loaded figures come from the same minutes (measured one phase after
# the other, the drift of a shared VM between the phases was the whole
# ratio: 1.38 one run, 0.93 the next). Also the server's RSS growth per
# idle connection. Every process on CPU 0 but the holders (idle once
# connected). The cost this watches: a readiness engine that visits every
# registration on each epoll_wait.
SCALE_N=${BENCH_SCALE_N:-20000}
SCALE_N50=$((SCALE_N * 5))
SCALE_CARRIERS="native tlsshim"
scale_measure() { # REP WORKLOAD CARRIER CLIENTS SERVER
	_rep=$1 _wl=$2 _car=$3 _cl=$4
	eval "_port=\${SP_$5:-}"
	[ -n "$_port" ] || { na scale pinned "$_wl" "$_car" rate "the server did not start"; return; }
	# its own time, not the budget of the sections before it
	if failed_twice scale "$_car"; then
		row scale "$_rep" pinned "$_wl" "$_car" rate "" "" na "skipped after 2 failures (see the failed rows)"
		return
	fi
	_n=$([ "$_cl" = 1 ] && echo "$SCALE_N" || echo "$SCALE_N50")
	if timeout -k 2 60 taskset -c 0 redis-benchmark -h 127.0.0.1 -p "$_port" -c "$_cl" -t ping \
		-n "$_n" --csv --tls --cacert "$CERTS/ca.pem" --tls-ciphersuites "$SUITE" \
		>"$W/sc.out" 2>"$W/sc.err"; then
		_i=$(sed -n 's/^"PING_INLINE","\([0-9.]*\)".*/\1/p' "$W/sc.out")
		_m=$(sed -n 's/^"PING_MBULK","\([0-9.]*\)".*/\1/p' "$W/sc.out")
		if [ -n "$_i" ] && [ -n "$_m" ]; then
			row scale "$_rep" pinned "$_wl" "$_car" rate "$(echo "$_i $_m" | awk '{printf "%.1f", ($1 + $2) / 2}')" \
				req/s ok "mean of PING_INLINE $_i and PING_MBULK $_m; -c $_cl -n $_n"
			return
		fi
	fi
	row scale "$_rep" pinned "$_wl" "$_car" rate "" "" fail "exit $?: $(tail -n 1 "$W/sc.err")"
	log "FAILED scale $_wl $_car"
	FAILS="$FAILS scale/$_car "
}
scale_server() { # CARRIER SUFFIX MAXCLIENTS: starts one, sets SP_<carrier><suffix> and its PID
	_c=$1 _sfx=$2 _max=$3
	newport
	if [ "$_c" = native ]; then
		redis_server "scale-native$_sfx" pinned "$PORT" redis-server --port 0 --tls-port "$PORT" \
			--tls-cert-file "$CERTS/server.pem" --tls-key-file "$CERTS/server.key" \
			--tls-ca-cert-file "$CERTS/ca.pem" --tls-auth-clients no --tls-protocols TLSv1.3 \
			--tls-ciphersuites "$SUITE" --maxclients "$_max" || { eval "SP_native$_sfx="; return; }
	else
		# shellcheck disable=SC2046
		redis_server "scale-tlsshim$_sfx" pinned "$PORT" $(tls_server_cmd "$PORT") \
			redis-server --port "$PORT" --maxclients "$_max" || { eval "SP_tlsshim$_sfx="; return; }
	fi
	eval "SP_$_c$_sfx=$PORT _pid_$_c$_sfx=$(child_of "$BG")"
	_scale_bgs="$_scale_bgs $BG"
}
scale_run() {
	_max=$((SCALE_IDLE + 200))
	if [ ! -x "$BIN/idle_holder" ]; then
		for _c in $SCALE_CARRIERS; do
			na scale pinned "c1_idle0" "$_c" rate "$BIN/idle_holder is missing (make BUILD=$BUILD bench builds it)"
		done
		return
	fi
	if [ "$(ulimit -n)" -lt $((SCALE_IDLE + 300)) ]; then
		for _c in $SCALE_CARRIERS; do
			na scale pinned "c1_idle$SCALE_IDLE" "$_c" rate "RLIMIT_NOFILE $(ulimit -n) < $((SCALE_IDLE + 300))"
		done
		return
	fi
	_scale_bgs=
	for _c in $SCALE_CARRIERS; do
		if [ "$_c" = tlsshim ] && [ $TLSSHIM_OK = 0 ]; then
			eval "SP_tlsshim0= SP_tlsshim="
			continue
		fi
		scale_server "$_c" 0 "$_max"
		scale_server "$_c" "" "$_max"
	done
	log "scale: opening $SCALE_IDLE idle connections to one server of each kind"
	for _c in $SCALE_CARRIERS; do
		eval "_port=\${SP_$_c:-} _pid=\${_pid_$_c:-}"
		[ -n "$_port" ] || continue
		_r0=$(proc_kb "$_pid" VmRSS)
		bg "scale-hold-$_c" 900 "$BIN/idle_holder" -p "$_port" --ca "$CERTS/ca.pem" -c "$SCALE_IDLE"
		_hp=$BG _scale_bgs="$_scale_bgs $BG"
		_n=0
		while [ $_n -lt 3000 ] && ! grep -q '^RESULT' "$W/scale-hold-$_c.out" 2>/dev/null; do
			kill -0 "$_hp" 2>/dev/null || break
			sleep 0.1; _n=$((_n + 1))
		done
		if grep -q '^RESULT' "$W/scale-hold-$_c.out"; then
			sleep 0.5
			_r1=$(proc_kb "$_pid" VmRSS)
			row scale 1 pinned "idle$SCALE_IDLE" "$_c" rss_per_conn $(( (_r1 - _r0) * 1024 / SCALE_IDLE )) \
				B/conn ok "redis-server VmRSS $_r0 -> $_r1 KiB; $(sed -n 's/^RESULT //p' "$W/scale-hold-$_c.out")"
		else
			na scale pinned "idle$SCALE_IDLE" "$_c" rss_per_conn \
				"the idle holder failed: $(tail -n 1 "$W/scale-hold-$_c.err")"
			stop "$_hp"
			eval "SP_$_c="
		fi
	done
	rep=1
	while [ $rep -le "$REPS" ]; do
		for _c in $SCALE_CARRIERS; do
			scale_measure $rep c1_idle0 "$_c" 1 "${_c}0"
			scale_measure $rep "c1_idle$SCALE_IDLE" "$_c" 1 "$_c"
		done
		for _c in $SCALE_CARRIERS; do scale_measure $rep "c50_idle$SCALE_IDLE" "$_c" 50 "$_c"; done
		rep=$((rep + 1))
	done
	for _p in $_scale_bgs; do stop "$_p"; done
}
meta scale_idle "$SCALE_IDLE"
if [ "$SCALE_IDLE" -gt 0 ] && only scale; then
	scale_run
	log "scale done"
fi

# ---- memory per idle connection --------------------------------------------------

mem_rows() { # CARRIER VARIANT OUTFILE...: the MEM lines of the programs
	_car=$1 _var=$2
	shift 2
	for _f in "$@"; do
		sed -n 's/^MEM //p' "$_f" | while read -r _side _conns _heap _rss _anon; do
			_side=${_side#side=}
			row memory 1 free "idle$_var" "$_car" "heap_$_side" "${_heap#heap_per_conn=}" B/conn ok "${_conns}"
			row memory 1 free "idle$_var" "$_car" "rss_$_side" "${_rss#rss_per_conn=}" B/conn ok "${_conns}"
		done
	done
}
# idle_pair NAME VARIANT SERVER-CMD CLIENT-CMD: commands as strings with
# @PORT@; the programs print their own MEM lines.
idle_pair() {
	_name=$1 _var=$2
	newport
	# shellcheck disable=SC2046
	bg "mem-$_name$_var-s" 120 $(echo "$3" | sed "s/@PORT@/$PORT/g")
	_sp=$BG
	if ! wait_port "$PORT" "$_sp"; then
		na memory free "idle$_var" "$_name" heap_server "server did not start: $(tail -n 1 "$W/mem-$_name$_var-s.err")"
		stop "$_sp"
		return
	fi
	# shellcheck disable=SC2046
	if timeout 120 $(echo "$4" | sed "s/@PORT@/$PORT/g") >"$W/mem-$_name$_var-c.out" \
		2>"$W/mem-$_name$_var-c.err"; then
		sleep 0.2
		mem_rows "$_name" "$_var" "$W/mem-$_name$_var-c.out" "$W/mem-$_name$_var-s.out"
	else
		na memory free "idle$_var" "$_name" heap_client "client failed: $(tail -n 1 "$W/mem-$_name$_var-c.err")"
	fi
	stop "$_sp"
}
if only memory; then
HOLD=0.3
SRVCERT="--cert $CERTS/server.pem --key $CERTS/server.key"
IDLEARGS="-w idle -c $IDLE -d $HOLD"
idle_pair ideal "" "$BIN/tls_server -p @PORT@ $SRVCERT" \
	"$BIN/tls_client -p @PORT@ --ca $CERTS/ca.pem $IDLEARGS"
idle_pair ideal _release_buffers "$BIN/tls_server -p @PORT@ $SRVCERT --release-buffers" \
	"$BIN/tls_client -p @PORT@ --ca $CERTS/ca.pem $IDLEARGS --release-buffers"
idle_pair plain "" "$BIN/plain_server -p @PORT@" "$BIN/plain_client -p @PORT@ $IDLEARGS"
if [ $TLSSHIM_OK = 1 ]; then
	idle_pair tlsshim "" "$(tls_server_cmd @PORT@) $BIN/plain_server -p @PORT@" \
		"$(tls_client_cmd @PORT@) $BIN/plain_client -p @PORT@ $IDLEARGS"
	if [ $TLSSHIM_RB = 1 ]; then
		# The rule needs the port before idle_pair picks it: the next one.
		_rbp=$((BASE + NEXT))
		tlsshim_conf "$W/rbs.conf" accept "127.0.0.1:$_rbp" "release_buffers = true;"
		tlsshim_conf "$W/rbc.conf" connect "127.0.0.1:$_rbp" "release_buffers = true;"
		idle_pair tlsshim _release_buffers "$TLSSHIM -c $W/rbs.conf -- $BIN/plain_server -p @PORT@" \
			"$TLSSHIM -c $W/rbc.conf -- $BIN/plain_client -p @PORT@ $IDLEARGS"
	else
		na memory free idle_release_buffers tlsshim heap_server "$TLSSHIM_RB_WHY"
	fi
else
	na memory free idle tlsshim heap_server "$TLSSHIM_WHY"
	na memory free idle_release_buffers tlsshim heap_server "$TLSSHIM_WHY"
fi
# stunnel: its process's RSS and RssAnon (threads, stacks and heap) while
# IDLE connections through it stay open.
stunnel_memory() {
	newport; _back=$PORT
	bg mem-st-back 120 "$BIN/plain_server" -p "$_back"
	_bp=$BG
	newport; _tls=$PORT
	newport; _acc=$PORT
	stunnel_conf "$W/mem-ss.conf" "$(stunnel_server_svc srv "$_tls" "$_back")"
	stunnel_conf "$W/mem-sc.conf" "$(stunnel_client_svc cli "$_acc" "$_tls" yes)"
	bg mem-ss 120 stunnel "$W/mem-ss.conf"
	_ss=$BG
	bg mem-sc 120 stunnel "$W/mem-sc.conf"
	_sc=$BG
	if ! wait_port "$_back" "$_bp" || ! wait_port "$_tls" "$_ss" || ! wait_port "$_acc" "$_sc"; then
		na memory free idle stunnel rss_server "stunnel did not start"
		return
	fi
	# One connection first, so that one-time costs stay out of the slope.
	timeout 20 "$BIN/plain_client" -p "$_acc" -w connect -d 0.05 >/dev/null 2>&1
	_sps=$(child_of "$_ss") _spc=$(child_of "$_sc")
	_r0s=$(proc_kb "$_sps" VmRSS) _a0s=$(proc_kb "$_sps" RssAnon)
	_r0c=$(proc_kb "$_spc" VmRSS) _a0c=$(proc_kb "$_spc" RssAnon)
	bg mem-st-c 120 "$BIN/plain_client" -p "$_acc" -w idle -c "$IDLE" -d 3
	_cp=$BG
	_n=400
	while [ $_n -gt 0 ] && ! grep -q '^RESULT' "$W/mem-st-c.out" 2>/dev/null; do
		kill -0 "$_cp" 2>/dev/null || break
		sleep 0.05; _n=$((_n - 1))
	done
	if grep -q '^RESULT' "$W/mem-st-c.out"; then
		_r1s=$(proc_kb "$_sps" VmRSS) _a1s=$(proc_kb "$_sps" RssAnon)
		_r1c=$(proc_kb "$_spc" VmRSS) _a1c=$(proc_kb "$_spc" RssAnon)
		row memory 1 free idle stunnel rss_server $(( (_r1s - _r0s) * 1024 / IDLE )) B/conn ok "stunnel server process; VmRSS"
		row memory 1 free idle stunnel anon_server $(( (_a1s - _a0s) * 1024 / IDLE )) B/conn ok "stunnel server process; RssAnon (heap+stacks)"
		row memory 1 free idle stunnel rss_client $(( (_r1c - _r0c) * 1024 / IDLE )) B/conn ok "stunnel client process; VmRSS"
		row memory 1 free idle stunnel anon_client $(( (_a1c - _a0c) * 1024 / IDLE )) B/conn ok "stunnel client process; RssAnon (heap+stacks)"
	else
		na memory free idle stunnel rss_server "the idle client did not finish: $(tail -n 1 "$W/mem-st-c.err")"
	fi
	stop "$_cp"; stop "$_sc"; stop "$_ss"; stop "$_bp"
}
[ $SMOKE = 0 ] && stunnel_memory
log "memory done"
fi

# ---- pass-through cost ------------------------------------------------------------

# Ten rules, certificates and all: an active library, not an inert one.
RULES=$W/rules.conf
{
	echo 'version = 1;'
	echo 'connect = ('
	for i in 1 2 3 4; do echo "  { match = \"10.0.$i.0/24:443\"; ca_certs = \"$CERTS/ca.pem\"; },"; done
	echo "  { match = \"db$i.example:5432\"; ca_certs = \"$CERTS/ca.pem\"; }"
	echo ');'
	echo 'accept = ('
	for i in 1 2 3 4; do echo "  { match = \"*:$((9440 + i))\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; },"; done
	echo "  { match = \"127.0.0.1:9445\"; certfile = \"$CERTS/server.pem\"; keyfile = \"$CERTS/server.key\"; }"
	echo ');'
} >"$RULES"

callgrind_ir() { # ROUNDS [env assignments]: instructions of one passthrough run
	_r=$1
	shift
	rm -f "$W/cg.out"
	if env "$@" timeout 120 valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" \
		"$BIN/passthrough" "$_r" >"$W/cg.stdout" 2>"$W/cg.err" && [ -f "$W/cg.out" ]; then
		sed -n 's/^summary: \([0-9]*\)/\1/p' "$W/cg.out"
	fi
}
passthrough_cost() {
	if [ $SMOKE = 1 ]; then
		# No valgrind in the test dependencies: the program still has to run.
		if [ $TLSSHIM_OK = 0 ]; then
			na passthrough - write+read tlsshim rounds "$TLSSHIM_WHY"
		elif env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG="$RULES" \
			timeout 20 "$BIN/passthrough" 1000 >"$W/pt.out" 2>&1 &&
			grep -q 'rounds=1000' "$W/pt.out"; then
			row passthrough 1 - write+read tlsshim rounds 1000 rounds ok "smoke: no valgrind"
		else
			row passthrough 1 - write+read tlsshim rounds "" "" fail "$(tail -n 1 "$W/pt.out" 2>/dev/null)"
		fi
		return
	fi
	command -v valgrind >/dev/null || { na passthrough - write+read tlsshim extra_ir_per_call "valgrind not installed"; return; }
	_n1=20000 _n2=40000
	_p1=$(callgrind_ir $_n1 X=1) _p2=$(callgrind_ir $_n2 X=1)
	[ -n "$_p1" ] && [ -n "$_p2" ] || { na passthrough - write+read plain ir_per_call "callgrind failed"; return; }
	_plain=$(echo "$_p1 $_p2 $_n1 $_n2" | awk '{printf "%.2f", ($2 - $1) / ($4 - $3) / 2}')
	row passthrough 1 - write+read plain ir_per_call "$_plain" instr ok "per write or read; slope over $_n1..$_n2 rounds"
	if [ $TLSSHIM_OK = 0 ]; then
		na passthrough - write+read tlsshim extra_ir_per_call "$TLSSHIM_WHY"
		return
	fi
	_s1=$(callgrind_ir $_n1 LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG="$RULES")
	_s2=$(callgrind_ir $_n2 LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG="$RULES")
	if [ -z "$_s1" ] || [ -z "$_s2" ]; then
		na passthrough - write+read tlsshim extra_ir_per_call "callgrind with the preload failed: $(tail -n 1 "$W/cg.err")"
		return
	fi
	_shim=$(echo "$_s1 $_s2 $_n1 $_n2" | awk '{printf "%.2f", ($2 - $1) / ($4 - $3) / 2}')
	row passthrough 1 - write+read tlsshim ir_per_call "$_shim" instr ok "with LD_PRELOAD and 10 rules"
	row passthrough 1 - write+read tlsshim extra_ir_per_call \
		"$(echo "$_shim $_plain" | awk '{printf "%.2f", $1 - $2}')" instr ok "tlsshim - plain"
}
if only passthrough; then
	passthrough_cost
	log "pass-through done"
fi

# ---- start-up cost ------------------------------------------------------------------

# spawn_ab TAG CMD_A... ::: CMD_B...: spawntime's medians of the two in
# _a and _b, their difference in _d; 1 (the reason in $W/TAG.err) when a
# command failed.
spawn_ab() {
	_tag=$1
	shift
	timeout 120 "$BIN/spawntime" "$_rounds" "$@" >"$W/$_tag.out" 2>"$W/$_tag.err" || return 1
	_a=$(sed -n 's/^RESULT cmd=A median_ms=\([0-9.]*\).*/\1/p' "$W/$_tag.out")
	_b=$(sed -n 's/^RESULT cmd=B median_ms=\([0-9.]*\).*/\1/p' "$W/$_tag.out")
	_d=$(echo "$_b $_a" | awk '{printf "%.3f", $1 - $2}')
}
startup_cost() {
	_rounds=$([ $SMOKE = 1 ] && echo 5 || echo 60)
	if [ $TLSSHIM_OK = 0 ]; then
		na startup - true tlsshim delta_ms "$TLSSHIM_WHY"
		return
	fi
	if spawn_ab st /bin/true ::: "$TLSSHIM" -c "$RULES" -- /bin/true; then
		row startup 1 - true plain median_ms "$_a" ms ok "/bin/true; $_rounds runs alternating"
		row startup 1 - true tlsshim median_ms "$_b" ms ok "tlsshim -c 10-rule.conf -- /bin/true"
		row startup 1 - true tlsshim delta_ms "$_d" ms ok "launcher + preload"
	else
		na startup - true tlsshim delta_ms "tlsshim -- /bin/true failed: $(tail -n 1 "$W/st.err")"
	fi
	# The anchor for the launcher: any wrapper that runs a program is a
	# second exec (env, nice, a shell's exec). On a VM whose exec costs
	# milliseconds that alone is most of the delta above; what tlsshim
	# adds beyond it is its own.
	if spawn_ab st3 env /bin/true ::: "$TLSSHIM" -c "$RULES" -- /bin/true; then
		row startup 1 - true_env plain median_ms "$_a" ms ok "env /bin/true: a second exec and nothing else"
		row startup 1 - true_env tlsshim delta_ms "$_d" ms ok \
			"tlsshim -c 10-rule.conf -- /bin/true against env /bin/true: what tlsshim adds beyond an exec"
	fi
	# What every child of a wrapped shell pays: the preload alone.
	if spawn_ab st2 /bin/true ::: env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG="$RULES" /bin/true; then
		row startup 1 - true_preload tlsshim delta_ms "$_d" ms ok \
			"env LD_PRELOAD=libtlsshim.so TLSSHIM_CONFIG=10-rule.conf /bin/true (env's exec included)"
	fi
}
if only startup; then
	startup_cost
	log "start-up done"
fi

# ---- syscalls per operation (strace -c) ------------------------------------------------

# SIDE-by-side counts for ideal, plain and tlsshim, client and server: what
# the speed work aims at (no extra syscall on the hot path).
syscall_counts() { # CARRIER WORKLOAD
	_car=$1 _wl=$2
	newport
	case $_wl in
	pingpong) set -- -w pingpong -d 0.5 ;;
	bulk) set -- -w bulk -n 33554432 ;;
	connect) set -- -w connect -d 0.5 ;;
	esac
	case $_car in
	plain)
		_scmd="$BIN/plain_server -p $PORT"
		_ccmd="$BIN/plain_client -p $PORT" ;;
	ideal)
		# Resuming, as tlsshim does by default: like for like.
		_scmd="$BIN/tls_server -p $PORT --cert $CERTS/server.pem --key $CERTS/server.key"
		_ccmd="$BIN/tls_client -p $PORT --ca $CERTS/ca.pem --resume" ;;
	tlsshim)
		_scmd="$(tls_server_cmd $PORT) $BIN/plain_server -p $PORT"
		_ccmd="$(tls_client_cmd $PORT) $BIN/plain_client -p $PORT" ;;
	esac
	# shellcheck disable=SC2086
	bg "sc-$_car-$_wl-s" 60 strace -f -c -o "$W/sc-s.txt" $_scmd
	_sp=$BG
	wait_port "$PORT" "$_sp" || { stop "$_sp"; return; }
	# shellcheck disable=SC2086
	timeout 60 strace -f -c -o "$W/sc-c.txt" $_ccmd "$@" >"$W/sc.out" 2>"$W/sc.err"
	stop "$_sp"
	sleep 0.1
	case $_wl in
	pingpong) _ops=$(field rounds "$W/sc.out") ;;
	bulk) _ops=2048 ;;   # 32 MiB in 16 KiB writes
	connect) _ops=$(field conns "$W/sc.out") ;;
	esac
	[ -n "$_ops" ] && [ "$_ops" -gt 0 ] || return
	for _side in c s; do
		[ -f "$W/sc-$_side.txt" ] || continue
		# strace -c columns: % time, seconds, usecs/call, calls, [errors,] syscall
		_tot=$(awk '$NF == "total" {print $4 + 0}' "$W/sc-$_side.txt")
		_top=$(awk 'NR > 2 && $1 ~ /^[0-9.]+$/ && $NF != "total" {print $NF ":" $4}' \
			"$W/sc-$_side.txt" | sort -t: -k2 -rn | head -n 6 | tr '\n' ' ')
		_name=$([ $_side = c ] && echo client || echo server)
		row syscalls 1 free "$_wl" "$_car" "${_name}_per_op" \
			"$(echo "$_tot $_ops" | awk '{printf "%.2f", $1 / $2}')" calls ok "ops=$_ops; $_top"
		rm -f "$W/sc-$_side.txt"
	done
}
if ! only syscalls; then
	:
elif command -v strace >/dev/null && [ $SMOKE = 0 ]; then
	for wl in pingpong bulk connect; do
		for car in plain ideal tlsshim; do
			[ $car = tlsshim ] && [ $TLSSHIM_OK = 0 ] && continue
			syscall_counts $car $wl
		done
	done
	log "syscall counts done"
elif [ $SMOKE = 0 ]; then
	na syscalls free pingpong tlsshim client_per_op "strace not installed"
	log "strace not installed: no syscall counts"
fi

# ---- profile: user-space instructions per round trip ---------------------------------

# The client side of ping-pong under callgrind, ideal client against the
# plain client under tlsshim, both against the ideal server; bench/profile.py
# turns two durations into a cost per round trip and lists the functions
# where tlsshim spends more than the ideal client.
profile_pingpong() {
	newport
	bg prof-srv 300 "$BIN/tls_server" -p "$PORT" --cert "$CERTS/server.pem" --key "$CERTS/server.key"
	_ps=$BG
	wait_port "$PORT" "$_ps" || { na profile free pingpong tlsshim total_per_rt "server did not start"; return; }
	tlsshim_conf "$W/prof.conf" connect "127.0.0.1:$PORT" ""
	for _d in 1 3; do
		timeout 120 valgrind --tool=callgrind --callgrind-out-file="$W/prof-i$_d.out" \
			"$BIN/tls_client" -p "$PORT" --ca "$CERTS/ca.pem" -w pingpong -d $_d \
			>"$W/prof-i$_d.txt" 2>/dev/null
		timeout 120 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG="$W/prof.conf" valgrind --tool=callgrind \
			--callgrind-out-file="$W/prof-s$_d.out" "$BIN/plain_client" -p "$PORT" -w pingpong -d $_d \
			>"$W/prof-s$_d.txt" 2>/dev/null
	done
	stop "$_ps"
	if ! python3 "$ROOT/bench/profile.py" "$W/prof-i1.out" "$W/prof-i3.out" "$W/prof-s1.out" \
		"$W/prof-s3.out" "$(field rounds "$W/prof-i1.txt")" "$(field rounds "$W/prof-i3.txt")" \
		"$(field rounds "$W/prof-s1.txt")" "$(field rounds "$W/prof-s3.txt")" >"$W/prof.csv" 2>"$W/prof.err"; then
		na profile free pingpong tlsshim total_per_rt "profile failed: $(tail -n 1 "$W/prof.err")"
		return
	fi
	cat "$W/prof.csv" >>"$CSV"
}
if [ $SMOKE = 0 ] && only profile; then
	if [ $TLSSHIM_OK = 0 ]; then
		na profile free pingpong tlsshim total_per_rt "$TLSSHIM_WHY"
	elif ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
		na profile free pingpong tlsshim total_per_rt "valgrind not installed"
	else
		profile_pingpong
		log "profile done"
	fi
fi

# ---- report -------------------------------------------------------------------------

meta elapsed_s "$(( $(date +%s) - START ))"
if [ $SMOKE = 1 ]; then
	log "smoke run done: $CSV"
	exit 0
fi
python3 "$ROOT/bench/report.py" "$CSV" "$META" "$OUT" || die "report failed"
if command -v gnuplot >/dev/null; then
	gnuplot -e "datafile='$OUT/latest.dat'; outfile='$OUT/latest.png'" "$ROOT/bench/chart.gp" \
		2>"$W/gnuplot.err" || log "gnuplot failed: $(tail -n 2 "$W/gnuplot.err")"
else
	log "gnuplot not installed: no chart"
fi
log "done in $(( $(date +%s) - START ))s: $OUT/latest.md"
cat "$OUT/latest.md"
