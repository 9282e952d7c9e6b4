# Connections in a row keep memory flat (issue 11, item 7): 10,000 TLS
# connections opened and closed one after another, each a full handshake
# (no session resumption: the connect rule leaves session_cache off) and a one-line exchange, between
# two wrapped plain C programs: evprog_blockserver under an accept rule and
# soakprog_client under a connect rule. The client stops at 0, 1,000 and
# 10,000 connections; there both processes' VmRSS (/proc/PID/status) and
# open descriptors (/proc/PID/fd) are read. RSS may grow by less than
# 1 MiB from 1,000 to 10,000, and each process ends with the descriptors it
# had before the first connection. The figures are printed (the log).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
sanitizer_skip "asan tsan" "measures VmRSS growth; the sanitizer's shadow memory and quarantine are most of the RSS"
ev_need_preload
ev_need_progs evprog_blockserver soakprog_client

N=${SOAK_CONNECTIONS:-10000}
P=$(free_port)
TLSSHIM_CONFIG_STRING=$(ev_accept_cfg "$P") LD_PRELOAD=$PRELOAD \
	start_bg 300 "$PROGS/evprog_blockserver" "$P" $((N + 1)) >"$T/server.out" 2>"$T/server.log"
ev_wait_file "$T/server.out" "^listening"
# start_bg's PID is timeout's: measure the program, its child.
SRV=$(ev_children "$BG_PID")
grep -q evprog_blockserver "/proc/$SRV/cmdline" || fail "the server's PID not found"

# The client's stdin is a FIFO the test writes to (a background command
# of a non-interactive shell gets /dev/null as stdin, so sh -c opens it).
mkfifo "$T/in"
exec 3<>"$T/in"
TLSSHIM_CONFIG_STRING=$(ev_connect_cfg "$P") LD_PRELOAD=$PRELOAD \
	start_bg 300 sh -c 'exec "$@" <"$0"' "$T/in" "$PROGS/soakprog_client" 127.0.0.1 "$P" "$N" 1000 "$N" \
	3>&- >"$T/client.out" 2>"$T/client.log"
CLI_TO=$BG_PID

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
nfd() { ls "/proc/$1/fd" | wc -l; }
# fds_settle PID WANT: the server closes its side just after the client
# read the answer; wait (bounded) until its count is WANT.
fds_settle() {
	_n=100
	while [ "$(nfd "$1")" != "$2" ] && [ $_n -gt 0 ]; do sleep 0.05; _n=$((_n - 1)); done
	nfd "$1"
}

ev_wait_file "$T/client.out" "^at 0$"
CLI=$(ev_children "$CLI_TO")
grep -q soakprog_client "/proc/$CLI/cmdline" || fail "the client's PID not found"
srv_fd0=$(nfd "$SRV"); cli_fd0=$(nfd "$CLI")
echo go >&3
start=$(date +%s.%N)
ev_wait_file "$T/client.out" "^at 1000$" 120
srv_rss1=$(rss "$SRV"); cli_rss1=$(rss "$CLI")
echo go >&3
ev_wait_file "$T/client.out" "^at $N$" 240
secs=$(echo "$start $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}')
srv_rss2=$(rss "$SRV"); cli_rss2=$(rss "$CLI")
cli_fd2=$(nfd "$CLI"); srv_fd2=$(fds_settle "$SRV" "$srv_fd0")
echo go >&3
exec 3>&-
wait "$CLI_TO" || { cat "$T/client.out" "$T/client.log" >&2; fail "the client failed"; }
assert_contains "$T/client.out" "^done $N$" "every connection answered"
assert_contains "$T/server.out" "^served $N$" "the server served every connection"
assert_not_contains "$T/server.out" "failed" "no failed accept, read or write"

echo "connections: $N in $secs s (full handshakes, no resumption)"
echo "server VmRSS: $srv_rss1 kB at 1000, $srv_rss2 kB at $N ($((srv_rss2 - srv_rss1)) kB)"
echo "client VmRSS: $cli_rss1 kB at 1000, $cli_rss2 kB at $N ($((cli_rss2 - cli_rss1)) kB)"
echo "server fds: $srv_fd0 before, $srv_fd2 after; client fds: $cli_fd0 before, $cli_fd2 after"
[ $((srv_rss2 - srv_rss1)) -lt 1024 ] || fail "server RSS grew by $((srv_rss2 - srv_rss1)) kB"
[ $((cli_rss2 - cli_rss1)) -lt 1024 ] || fail "client RSS grew by $((cli_rss2 - cli_rss1)) kB"
assert_eq "$srv_fd0" "$srv_fd2" "server descriptors"
assert_eq "$cli_fd0" "$cli_fd2" "client descriptors"
