#!/bin/sh
# Every glibc byte path, from glibc's own symbol table (issue 10, items 1,
# 7 and 8). tests/bytepaths/candidates.sh lists this libc's exports that
# can move bytes through a descriptor; tests/bytepaths/glibc-bytepaths.txt
# gives each its treatment. This test:
#  1. fails when the libc here exports a candidate the list does not
#     classify (a new glibc: classify it), or the list names one it lacks;
#  2. checks that libtlsshim.so exports every hooked and refused symbol,
#     and that tlsshim(1) CAVEATS names every caveat symbol;
#  3. calls every hooked, refused, stream and kernel entry on a wrapped
#     socket (bpprog_call, one connection each, plus the item-7 scenarios
#     fdopen-before-connect and a daemon's closed 0-2), through a relay
#     that records the wire to `openssl s_server -rev` (it answers each
#     line reversed: the answer proves it decrypted the line): hooked paths
#     deliver through TLS and read plaintext, refused ones fail with
#     EOPNOTSUPP and a warn line naming them, kernel ones fail with the
#     kernel's errno, and no call's marker is ever on the wire.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs bpprog_call

LIST=$ROOT/tests/bytepaths/glibc-bytepaths.txt
grep -v '^#' "$LIST" | awk 'NF {print $1}' | sort >"$T/listed"
[ "$(sort -u "$T/listed" | wc -l)" -eq "$(wc -l <"$T/listed")" ] || fail "a symbol is listed twice"
sh "$ROOT/tests/bytepaths/candidates.sh" >"$T/cands" || fail "candidates.sh failed"
new=$(comm -13 "$T/listed" "$T/cands")
[ -z "$new" ] || fail "glibc exports byte paths glibc-bytepaths.txt does not classify: $new"
gone=$(comm -23 "$T/listed" "$T/cands")
[ -z "$gone" ] || fail "glibc-bytepaths.txt lists symbols this libc does not export: $gone"
echo "$(wc -l <"$T/cands") candidates from libc's symbol table, all classified"

# 2. exports and CAVEATS
nm -D --defined-only "$PRELOAD_SO" | awk '$2 ~ /^[TW]$/ {print $3}' | sed 's/@.*//' | sort -u >"$T/exports"
MAN=$ROOT/preload/tlsshim.1
sed -n '/^\.Sh CAVEATS/,/^\.Sh /p' "$MAN" >"$T/caveats"
[ -s "$T/caveats" ] || fail "tlsshim.1 has no CAVEATS section"
grep -v '^#' "$LIST" | while read -r s tr; do
	case $tr in
	hooked|refused)
		grep -qx -- "$s" "$T/exports" || echo "$s is $tr but libtlsshim.so does not export it" ;;
	caveat:*)
		grep -q -- "$s" "$T/caveats" || echo "$s is a caveat but tlsshim(1) CAVEATS does not name it" ;;
	hooked|refused|stream|kernel:*|none:?*) ;;
	*)
		echo "$s: unknown treatment [$tr]" ;;
	esac
done >"$T/bad"
[ -s "$T/bad" ] && { cat "$T/bad" >&2; fail "the list and the library disagree"; }

# 3. every call on a wrapped socket
P=$(free_port)
R=$(free_port)
start_bg 170 openssl s_server -accept "127.0.0.1:$P" -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key" -rev -quiet >"$T/server.log" 2>&1
start_bg 170 "$EVPY" "$EV" relay --port "$R" --to "$P" --record "$T/wire"
wait_port "$P"
wait_port "$R"
CFG=$(ev_connect_cfg "$R")
grep -v '^#' "$LIST" | awk '$2 ~ /^(hooked|refused|stream|kernel:)/ {print $1, $2}' >"$T/calls"
printf 'case:fdopen-before-connect hooked\ncase:std-closed stream\ncase:io_uring-warn hooked\ncase:stdout-at-exit stream\ncase:syscall-more hooked\ncase:dup-before-connect hooked\n' >>"$T/calls"
n=0
while read -r s tr; do
	n=$((n + 1))
	: >"$T/log"
	timeout 20 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$CFG" TLSSHIM_LOG_FILE="$T/log" \
		"$PROGS/bpprog_call" 127.0.0.1 "$R" "$s" "$tr" "$T/report" \
		</dev/null >"$T/out" 2>&1
	rc=$?
	if ! grep -q "^PASS $s " "$T/report"; then
		echo "--- $s ($tr), exit $rc:" >&2
		grep "^FAIL $s " "$T/report" >&2
		cat "$T/out" "$T/log" >&2
		echo "FAILED $s" >>"$T/failed"
	fi
	if [ "$tr" = refused ] && ! grep -q "$s on fd [0-9]* (connect .*): refused, EOPNOTSUPP" "$T/log"; then
		cat "$T/log" >&2
		echo "FAILED $s (no warn line)" >>"$T/failed"
	fi
	case $s in
	stderr|_IO_2_1_stderr_|__assert*) want='fd 2 is now a TLS connection' ;;
	case:io_uring-warn) want='io_uring_setup through syscall(): tlsshim does not see' ;;
	*) want= ;;
	esac
	if [ -n "$want" ] && ! grep -q -F "$want" "$T/log"; then
		cat "$T/log" >&2
		echo "FAILED $s (no warn line [$want])" >>"$T/failed"
	fi
done <"$T/calls"
cat "$T/report"
[ -f "$T/failed" ] && { cat "$T/failed" >&2; fail "$(wc -l <"$T/failed") byte paths misbehave"; }
if grep -a -o 'tlsshim-bp-[^ ]*-[0-9]*' "$T/wire" >"$T/leaked"; then
	sort -u "$T/leaked" >&2
	fail "plaintext on the wire (the relay recorded the markers above)"
fi
[ "$(grep -c '^PASS ' "$T/report")" -eq "$n" ] || fail "$n calls, but not as many PASS lines"
size=$(stat -c %s "$T/wire")
[ "$size" -gt $((n * 1000)) ] || fail "the relay recorded only $size bytes for $n connections"
echo "$n calls on wrapped sockets as classified, $size bytes on the wire, no plaintext marker"
exit 0
