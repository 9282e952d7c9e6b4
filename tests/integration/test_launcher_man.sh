#!/bin/sh
# tlsshim(1) and tlsshim.conf(5) render without warnings; tlsshim(1)
# documents every option that --help lists, every environment variable of
# CONTRACT.md and every exit status the launcher uses.
. "$(dirname "$0")/lib.sh"

page=$ROOT/preload/tlsshim.1
command -v groff >/dev/null 2>&1 || fail "groff is needed to check the man page"
groff -mandoc -Tutf8 -ww -z "$page" 2>"$T/warn" || fail "groff failed"
[ ! -s "$T/warn" ] || { cat "$T/warn" >&2; fail "groff warnings in tlsshim.1"; }
groff -mandoc -Tutf8 -ww -z "$ROOT/config/tlsshim.conf.5" 2>"$T/warn5" || fail "groff failed on tlsshim.conf.5"
[ ! -s "$T/warn5" ] || { cat "$T/warn5" >&2; fail "groff warnings in tlsshim.conf.5"; }
groff -mandoc -Tascii -P-c "$page" 2>/dev/null | col -bx >"$T/man.txt"
for section in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT "EXIT STATUS" EXAMPLES CAVEATS "SEE ALSO"; do
	grep -qx "$section" "$T/man.txt" || fail "section $section missing"
done
"$TLSSHIM" --help >"$T/help" || fail "--help"
for opt in $(grep -o -- '--[a-z][a-z-]*' "$T/help" | sort -u); do
	grep -q -- "$opt" "$T/man.txt" || fail "tlsshim.1 does not document $opt"
done
for var in TLSSHIM_CONFIG TLSSHIM_CONFIG_STRING TLSSHIM_LOG TLSSHIM_LOG_FILE SSLKEYLOGFILE LD_PRELOAD; do
	grep -q "^ *$var\$" "$T/man.txt" || fail "ENVIRONMENT does not describe $var"
done
for status in 1 2 126 127; do
	grep -q "^ *$status  " "$T/man.txt" || fail "EXIT STATUS does not list $status"
done
# Joined, so that a phrase broken across lines still matches.
tr '\n' ' ' <"$T/man.txt" | tr -s ' ' | sed 's/- /-/g' >"$T/man.joined"
for caveat in "statically linked" "Go program" "setuid" "system(3)" "popen(3)" "io_uring" \
	"syscall(2)" "close-on-exec" "tlsshim.conf(5)"; do
	grep -q -F "$caveat" "$T/man.joined" || fail "tlsshim.1 does not mention $caveat"
done
exit 0
