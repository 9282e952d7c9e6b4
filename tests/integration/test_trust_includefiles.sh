#!/bin/sh
# A file pulled in with libconfig's @include decides the rules as much as
# the config file itself: one that group or others may write is warned
# about at start, and by `tlsshim --check`, in the config file's words and
# under the path libconfig opened (relative to the config file's directory,
# for nested includes too). So is one that defines no setting (it only
# includes another) and one included from TLSSHIM_CONFIG_STRING; an
# @include line in a comment includes nothing and names nothing. A clean
# include is not a word.
. "$(dirname "$0")/lib.sh"

mkdir "$T/c" "$T/c/sub"
CONF=$T/c/app.conf
printf 'version = 1;\n@include "sub/rules.conf"\n@include "only-includes.conf"\n' >"$CONF"
printf 'connect = ( { match = "127.0.0.1:1"; cert_reqs = "CERT_NONE"; } );\n' >"$T/c/sub/rules.conf"
# no setting of its own; its @include is relative to the config's directory
printf '/* only an include */\n@include "sub/nested.conf"\n' >"$T/c/only-includes.conf"
printf 'log_level = "warn";\n' >"$T/c/sub/nested.conf"
chmod 644 "$CONF" "$T/c/sub/rules.conf" "$T/c/only-includes.conf" "$T/c/sub/nested.conf"

# start_with: the interposer's start-up in one program that does nothing
# (timeout is not wrapped: each process says its warnings once).
start_with() {
	TLSSHIM_CONFIG=$1 timeout 20 env LD_PRELOAD="$PRELOAD" /bin/true 2>"$T/start.log"
	echo $? >"$T/start.rc"
}
check_with() {
	timeout 20 "$TLSSHIM" --check -c "$1" >"$T/check.out" 2>"$T/check.err"
	echo $? >"$T/check.rc"
}
W='writable by group or others'

# 0. all 0644 and ours: not a word.
start_with "$CONF"
assert_eq 0 "$(cat "$T/start.rc")" "clean includes start"
[ ! -s "$T/start.log" ] || { cat "$T/start.log" >&2; fail "clean includes are warned about"; }
check_with "$CONF"
assert_eq 0 "$(cat "$T/check.rc")" "--check of clean includes"
[ ! -s "$T/check.err" ] || { cat "$T/check.err" >&2; fail "--check warns about clean includes"; }

# 1. each included file, alone writable by others: warned about by name,
# once, not refused; the others are not named.
for f in sub/rules.conf only-includes.conf sub/nested.conf; do
	chmod 646 "$T/c/$f"
	start_with "$CONF"
	assert_eq 0 "$(cat "$T/start.rc")" "a writable $f is not refused"
	assert_contains "$T/start.log" "^tlsshim\[[0-9]*\]: $T/c/$f: $W (mode 0646: chmod go-w it): whoever may write it chooses whom this program trusts\$" \
		"a writable $f warned about at start"
	assert_eq 1 "$(grep -c "$W" "$T/start.log")" "one warning for a writable $f"
	check_with "$CONF"
	assert_eq 0 "$(cat "$T/check.rc")" "--check passes a writable $f"
	assert_contains "$T/check.err" "^tlsshim: warning: $T/c/$f: $W (mode 0646: chmod go-w it)" \
		"--check warns about a writable $f"
	assert_eq 1 "$(grep -c "$W" "$T/check.err")" "--check: one warning for a writable $f"
	assert_contains "$T/check.out" "configuration OK" "--check: the configuration is OK with a writable $f"
	chmod 644 "$T/c/$f"
done

# 2. libconfig's scanner, not a text scan, decides what is included: an
# @include inside a comment opens nothing and is not named.
printf 'version = 1;\n/*\n@include "sub/rules.conf"\n*/\n' >"$T/c/decoy.conf"
chmod 644 "$T/c/decoy.conf"
chmod 666 "$T/c/sub/rules.conf"
start_with "$T/c/decoy.conf"
assert_eq 0 "$(cat "$T/start.rc")" "a config with decoy @include lines"
[ ! -s "$T/start.log" ] || { cat "$T/start.log" >&2; fail "a file that is not included is warned about"; }

# 3. from TLSSHIM_CONFIG_STRING (relative to the current directory).
(cd "$T/c" && TLSSHIM_CONFIG_STRING='@include "sub/rules.conf"' LD_PRELOAD=$PRELOAD timeout 20 /bin/true) 2>"$T/string.log" ||
	{ cat "$T/string.log" >&2; fail "an include from the string"; }
assert_contains "$T/string.log" "^tlsshim\[[0-9]*\]: sub/rules.conf: $W (mode 0666: chmod go-w it)" \
	"a writable file included from the string warned about"
chmod 644 "$T/c/sub/rules.conf"

# 4. owned by another user (root may chown it away).
if [ "$(id -u)" -eq 0 ]; then
	nob=$(id -u nobody) || fail "no user nobody"
	chown nobody "$T/c/sub/nested.conf"
	start_with "$CONF"
	assert_contains "$T/start.log" "^tlsshim\[[0-9]*\]: $T/c/sub/nested.conf: owned by uid $nob, neither this user (uid 0) nor root: that user chooses whom this program trusts\$" \
		"an include owned by another user warned about"
	chown root "$T/c/sub/nested.conf"
else
	echo "NOTE: not root: the owned-by-another-user case needs root (CI runs as root) and was not run"
fi
exit 0
