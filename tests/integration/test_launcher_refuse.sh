#!/bin/sh
# The launcher refuses programs that LD_PRELOAD cannot reach (their
# connections would go out in plaintext): statically linked, Go, without
# libc, of another ELF machine, setuid/setgid/capabilities, and scripts
# whose interpreter is one of those. Exit 126, a message saying why, and the
# program never runs.
. "$(dirname "$0")/lib.sh"

cat > "$T/mark.c" <<'C'
#include <fcntl.h>
#include <unistd.h>
int main(int argc, char **argv) { return argc > 1 && open(argv[1], O_CREAT | O_WRONLY, 0600) >= 0 ? 0 : 3; }
C
cc -o "$T/dyn" "$T/mark.c" || fail "cc"
cc -static -o "$T/static" "$T/mark.c" || fail "cc -static (glibc's static libraries are in libc6-dev)"
cc -static-pie -o "$T/static-pie" "$T/mark.c" || fail "cc -static-pie"
# A fake Go binary: Go's linker writes a .note.go.buildid section.
printf 'fake go build id\n' > "$T/buildid"
objcopy --add-section .note.go.buildid="$T/buildid" "$T/dyn" "$T/go-note" || fail "objcopy"
objcopy --add-section .go.buildinfo="$T/buildid" "$T/dyn" "$T/go-buildinfo" || fail "objcopy"
# ... and one that keeps only the loaded note (owner "Go", type 4), as a
# binary without section headers would.
cat > "$T/gonote.s" <<'S'
	.section .note.gobid, "a", @note
	.balign 4
	.long 3, 8, 4
	.asciz "Go"
	.balign 4
	.ascii "buildid!"
	.section .note.GNU-stack, "", @progbits
S
cc -o "$T/go-segment" "$T/mark.c" "$T/gonote.s" || fail "cc with a Go note"
# A program of another machine type (the e_machine field says AArch64).
python3 - "$T/dyn" "$T/foreign" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[18:20] = (183).to_bytes(2, 'little')
open(sys.argv[2], 'wb').write(d)
PY
chmod +x "$T/foreign"
# Dynamically linked, but without libc.
printf 'void _start(void) { __asm__ volatile("mov $60, %%eax; xor %%edi, %%edi; syscall"); }\n' > "$T/nolibc.c"
cc -nostdlib -o "$T/nolibc" "$T/nolibc.c" || fail "cc -nostdlib"
# Scripts: the kernel runs the interpreter, so that is what is checked.
printf '#!%s\n' "$T/static" > "$T/script-static"
printf '#!/usr/bin/env -S static -x\n' > "$T/script-env"
printf '#!/bin/sh\n"$(dirname "$0")/dyn" "$1"\n' > "$T/script-sh"
chmod +x "$T/script-static" "$T/script-env" "$T/script-sh"

marker=$T/ran
refused() { # stderr-needle program
	rm -f "$marker"
	PATH="$T:$PATH" "$TLSSHIM" --connect 127.0.0.1:1 -- "$2" "$marker" >"$T/out" 2>"$T/err"
	_rc=$?
	[ "$_rc" -eq 126 ] || { cat "$T/err" >&2; fail "$2: exit $_rc, expected 126"; }
	[ ! -e "$marker" ] || fail "$2 ran"
	assert_contains "$T/err" "^tlsshim: " "$2: prefix"
	assert_contains "$T/err" "$1" "$2"
	assert_contains "$T/err" "plaintext" "$2: says why"
}
runs() { # program
	rm -f "$marker"
	PATH="$T:$PATH" "$TLSSHIM" --connect 127.0.0.1:1 -- "$1" "$marker" 2>"$T/err" \
		|| { cat "$T/err" >&2; fail "$1 was refused"; }
	[ -e "$marker" ] || fail "$1 did not run"
}

# The control: the same program, dynamically linked, runs.
runs "$T/dyn"
runs dyn            # found on PATH
runs "$T/script-sh"

refused "$T/static is statically linked: it does not use libc's socket calls" "$T/static"
refused "static is statically linked" static    # found on PATH
refused "is statically linked" "$T/static-pie"
refused "$T/go-note is a Go program: Go makes its own system calls" "$T/go-note"
refused "is a Go program" "$T/go-buildinfo"
refused "is a Go program" "$T/go-segment"
refused "is a 64-bit program for another machine type" "$T/foreign"
refused "does not link libc" "$T/nolibc"
refused "$T/script-static runs under $T/static, which is statically linked" "$T/script-static"
refused "script-env runs under $T/static, which is statically linked" script-env

# setuid, setgid and file capabilities put the loader into secure mode,
# where it ignores LD_PRELOAD. Making such a file for another user needs root.
if [ "$(id -u)" -eq 0 ]; then
	cp "$T/dyn" "$T/suid" && chown nobody "$T/suid" && chmod 4755 "$T/suid" || fail "setuid copy"
	refused "$T/suid is setuid: the loader ignores LD_PRELOAD" "$T/suid"
	cp "$T/dyn" "$T/sgid" && chgrp nogroup "$T/sgid" && chmod 2755 "$T/sgid" || fail "setgid copy"
	refused "$T/sgid is setgid" "$T/sgid"
	# Setgid without group execute is mandatory locking, not privilege.
	cp "$T/dyn" "$T/sgid-lock" && chgrp nogroup "$T/sgid-lock" && chmod 2745 "$T/sgid-lock" || fail "copy"
	runs "$T/sgid-lock"
	if command -v setcap >/dev/null 2>&1; then
		cp "$T/dyn" "$T/caps" && setcap cap_net_bind_service+ep "$T/caps" || fail "setcap"
		refused "$T/caps has file capabilities" "$T/caps"
	else
		echo "note: setcap is not installed: the file-capability refusal is not tested" >&2
	fi
	# allow_setuid_exec = true lets it run (without TLS, as the user asked).
	printf 'version = 1;\nallow_setuid_exec = true;\nconnect = ( { match = "127.0.0.1:1"; } );\n' > "$T/allow.conf"
	rm -f "$T/ran-suid"
	"$TLSSHIM" -c "$T/allow.conf" -- "$T/sgid" "$T/ran-suid" 2>"$T/err" \
		|| { cat "$T/err" >&2; fail "allow_setuid_exec = true"; }
	[ -e "$T/ran-suid" ] || fail "allow_setuid_exec: the program did not run"
	# A setuid bit on a script means nothing to Linux: not refused.
	chmod 4755 "$T/script-sh"
	runs "$T/script-sh"
else
	echo "note: not root: the setuid, setgid and capability refusals are not tested here" >&2
fi
exit 0
