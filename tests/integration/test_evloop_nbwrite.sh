#!/bin/sh
# Non-blocking writes with EAGAIN and partial writes (issue 4, items 1-2):
# evprog_nbwrite, a plain C client under a connect rule with a 16 KiB send
# buffer, writes 20 MB (with write, send, writev and sendmsg) and, after each EAGAIN, retries from another buffer
# address with a smaller length, as event loops do. OpenSSL alone would
# fail such a retry ("bad write retry"); through the interposer every byte
# must arrive, in order, at a Python TLS sink (sha256 compared with the
# program's own copy of the stream).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_nbwrite

P=$(free_port)
mkdir -p "$T/sink"
start_bg 120 "$EVPY" "$EV" sink-server --port "$P" --dir "$T/sink" --timeout 30 > "$T/server.log" 2>&1
wait_port "$P"

bad=""
for path in write send writev sendmsg; do
	timeout 90 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg "$P")" \
		"$PROGS/evprog_nbwrite" 127.0.0.1 "$P" 20000000 "$T/copy" "$path" > "$T/out" 2>&1
	rc=$?
	cat "$T/out"
	want=$(sha256sum < "$T/copy" | cut -d' ' -f1)
	if [ $rc -ne 0 ] || ! grep -q "^answer: ok 20000000 $want\$" "$T/out"; then
		bad="$bad $path"
		continue
	fi
	eagain=$(sed -n "s/^$path: eagain=\([0-9]*\).*/\1/p" "$T/out")
	[ "${eagain:-0}" -gt 0 ] || fail "$path: no EAGAIN at all: the retry path was not exercised"
done
[ -z "$bad" ] || { tail -n 8 "$T/server.log" >&2; fail "a shorter retry from another buffer after EAGAIN broke the stream through:$bad"; }
assert_not_contains "$T/server.log" "conn-error" "TLS errors at the sink"
exit 0
