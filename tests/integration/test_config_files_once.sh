#!/bin/sh
# Every wrapped process loads its configuration at start, and the launcher
# loads it before that (the start-up bench row: ten rules). A file that
# many rules name is looked at once per load: with five connect rules
# naming one CA file and five accept rules naming one certificate and key,
# the launcher and then the wrapped program each stat, access and open
# each of the three files once. A key is read unbuffered, so no stdio
# buffer holds a copy of its bytes: one fstat per file opened, not two.
# strace counts, split at the program's exec.
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || fail "strace is not installed (sh tests/deps.sh test)"

ten_rules "$T/rules.conf"

# (LeakSanitizer cannot run under ptrace)
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	strace -o "$T/st" -e trace=execve,stat,newfstatat,statx,access,faccessat,faccessat2,openat,fstat,close \
	"$TLSSHIM" -c "$T/rules.conf" -- /bin/true || fail "the run under strace failed"

# count PHASE CALL FILE: calls of CALL naming FILE in the launcher (phase
# 0, before the program's exec) or in the program (1)
count() {
	awk -v phase="$1" -v call="$2" -v file="\"$3\"" '
		/^execve\("\/bin\/true"/ { p = 1; next }
		p == phase && index($0, call "(") == 1 && index($0, file) { n++ }
		END { print n + 0 }' "$T/st"
}
for phase in 0 1; do
	who=$([ $phase = 0 ] && echo "the launcher" || echo "the wrapped program")
	for f in ca.pem server.pem server.key; do
		for call in access openat; do
			n=$(count $phase $call "$CERTS/$f")
			[ "$n" -le 1 ] || fail "$who made $n $call calls on $f (ten rules name it; at most 1)"
		done
		n=$(( $(count $phase stat "$CERTS/$f") + $(count $phase newfstatat "$CERTS/$f") + $(count $phase statx "$CERTS/$f") ))
		[ "$n" -le 1 ] || fail "$who made $n stat calls on $f (at most 1)"
	done
done
n=$(count 1 openat "$CERTS/server.key")
[ "$n" = 1 ] || fail "the wrapped program opened server.key $n times (expected once: the configuration's check)"

# one fstat per certificate or key file opened: the fstat calls that come
# between its openat and its close
awk '/^execve\("\/bin\/true"/ { p = 1 }
	/^openat\(.*\.(pem|key)"/ { fd = $NF; open = 1; k = 0; next }
	open && /^(fstat|newfstatat)\(/ { split($0, a, /[(,]/); if (a[2] == fd) k++ }
	open && /^close\(/ { split($0, a, /[()]/); if (a[2] == fd) { if (k > 1) bad++; open = 0 } }
	END { exit bad ? 1 : 0 }' "$T/st" || fail "a certificate or key file was fstat'ed more than once: $(grep -A3 'server.key' "$T/st" | head -8)"
echo "ten rules naming three files: each looked at once per process"
exit 0
