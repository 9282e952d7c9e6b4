#!/bin/sh
# Every byte path of a wrapped socket goes through TLS (issue 4, item 6).
# evprog_bytepaths, a plain C client under a connect rule, sends a 4 MiB
# file (a marker string every 64 KiB) with write, sendfile (with and without
# an offset pointer, the file offset kept as the kernel keeps it), splice,
# copy_file_range, sendmmsg, writev and sendmsg, and reads the answer with
# read, recv, recvfrom, recvmsg, readv and recvmmsg, by which it also reads
# the file echoed back (IOV_MAX buffers per readv/recvmsg, 8 messages of 64
# buffers per recvmmsg). The peer is a Python TLS server that checks size
# and sha256; between them a relay records every byte on the wire, which
# must never contain the marker (in either direction).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_bytepaths

P=$(free_port)
R=$(free_port)
MARK="tlsshim-bytepaths-plaintext-marker-$$-$P"
mkdir -p "$T/sink"
ev_marker_file "$T/data" 4 "$MARK"
SUM=$(sha256sum < "$T/data" | cut -d' ' -f1)
start_bg 170 "$EVPY" "$EV" sink-server --port "$P" --dir "$T/sink" --echo > "$T/server.log" 2>&1
start_bg 170 "$EVPY" "$EV" relay --port "$R" --to "$P" --record "$T/wire"
wait_port "$P"
wait_port "$R"
# The rule is for the relay's port: the client's TLS goes through the relay.
CFG=$(ev_connect_cfg "$R")

bad=""
n=0
set -- write:read sendfile:recv sendfile-nulloff:read splice:recvfrom copy_file_range:recvmsg \
	sendmmsg:readv writev:recvmmsg sendmsg:read
for pair in "$@"; do
	send=${pair%%:*} recv=${pair#*:}
	timeout 60 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$CFG" \
		"$PROGS/evprog_bytepaths" 127.0.0.1 "$R" "$send" "$recv" "$T/data" echo > "$T/out" 2>&1
	rc=$?
	cat "$T/out"
	n=$((n + 1))
	if [ $rc -ne 0 ] || ! grep -q "^$send/$recv answer: ok 4194304 $SUM\$" "$T/out" ||
		! grep -q "^$recv: echo of 4194304 bytes intact\$" "$T/out"; then
		bad="$bad $send/$recv"
	fi
	if grep -q -a -F "$MARK" "$T/wire"; then
		fail "$send: file bytes went out in plaintext (the marker is on the wire)"
	fi
done
[ -z "$bad" ] || { tail -n 20 "$T/server.log" >&2; fail "wrong bytes at the TLS peer through:$bad"; }
size=$(stat -c %s "$T/wire")
[ "$size" -ge $((2 * n * 4194304)) ] || fail "the relay recorded only $size bytes for $n transfers and echoes"
echo "$n transfers and their echoes, $size bytes on the wire, all intact, no plaintext marker"
exit 0
