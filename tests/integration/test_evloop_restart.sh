#!/bin/sh
# Faults a program must see as the kernel would make them (issue 10 item
# 9): 50 blocking connects under a connect rule while a 200 microsecond
# interval timer fires. With an SA_RESTART handler the kernel restarts a
# plain blocking connect, so none may fail with EINTR (the handshake's
# waits go on with what is left of their deadline), also when the fault
# signals have handlers without SA_RESTART; without SA_RESTART the same
# timer does interrupt them (EINTR seen), which shows the first runs were
# exposed to it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_restart

P=$(free_port)
start_bg 120 openssl s_server -quiet -accept 127.0.0.1:$P -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key" -naccept 130 </dev/null >/dev/null 2>"$T/srv.log"
wait_port $P
cfg="connect = ({ match = \"127.0.0.1:$P\"; ca_certs = \"$CERTS/ca.pem\"; handshake_timeout = 10; });"

TLSSHIM_CONFIG_STRING="$cfg" LD_PRELOAD=$PRELOAD timeout 60 \
	"$PROGS/evprog_restart" 127.0.0.1 $P 50 restart >"$T/restart.out" 2>"$T/restart.err" ||
	{ cat "$T/restart.err" >&2; fail "evprog_restart restart did not finish"; }
cat "$T/restart.out"
grep -q "^connects 50 eintr 0 errors 0 " "$T/restart.out" ||
	{ cat "$T/restart.err" >&2; fail "EINTR (or errors) from blocking connects under an SA_RESTART handler"; }

# Handlers of the fault signals without SA_RESTART (ASan's, node's, Python's
# faulthandler's) do not make the timer's interruptions EINTR: a fault
# never interrupts a wait.
TLSSHIM_CONFIG_STRING="$cfg" LD_PRELOAD=$PRELOAD timeout 60 \
	"$PROGS/evprog_restart" 127.0.0.1 $P 30 restart-faults >"$T/faults.out" 2>"$T/faults.err" ||
	{ cat "$T/faults.err" >&2; fail "evprog_restart restart-faults did not finish"; }
cat "$T/faults.out"
grep -q "^connects 30 eintr 0 errors 0 " "$T/faults.out" ||
	{ cat "$T/faults.err" >&2; fail "EINTR from blocking connects under an SA_RESTART handler, with fault handlers without it"; }

TLSSHIM_CONFIG_STRING="$cfg" LD_PRELOAD=$PRELOAD timeout 60 \
	"$PROGS/evprog_restart" 127.0.0.1 $P 40 norestart >"$T/norestart.out" 2>"$T/norestart.err" ||
	{ cat "$T/norestart.err" >&2; fail "evprog_restart norestart did not finish"; }
cat "$T/norestart.out"
k=$(awk '{print $4}' "$T/norestart.out")
[ "${k:-0}" -gt 0 ] || fail "no EINTR without SA_RESTART: the timer never interrupted a wait"
