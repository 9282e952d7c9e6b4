#!/bin/sh
# make asan / make tsan fail a test on a sanitizer report in tlsshim's code
# and only there: tests/integration/sanscan.sh on reports as the
# sanitizers write them (ours: an ASan error or leak with a frame in our
# sources or libraries, any UBSan report, a TSan race whose access is in
# our code; not ours: a wrapped program's own leak, a race inside OpenSSL
# with our code only further down the stack). In a sanitizer build, the
# runtime is really loaded in a program run with $PRELOAD and in one run
# by the launcher, and a leak made through our code is reported and
# counted as ours.
. "$(dirname "$0")/lib.sh"

SCAN="sh $ROOT/tests/integration/sanscan.sh"
D=$T/logs
mkdir -p "$D"

cat >"$D/asan.101" <<'EOF'
=================================================================
==101==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 64 byte(s) in 1 object(s) allocated from:
    #0 0x7f0 in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f1  (/usr/bin/python3.11+0x12345)

Direct leak of 24 byte(s) in 1 object(s) allocated from:
    #0 0x7f0 in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f2 in CRYPTO_zalloc (/lib/x86_64-linux-gnu/libcrypto.so.3+0x1c2a5d)
    #2 0x7f3 in ts_conn_new core/conn.c:88
    #3 0x7f4 in connect preload/hook_connect.c:120

SUMMARY: AddressSanitizer: 88 byte(s) leaked in 2 allocation(s).
EOF
$SCAN "$D/asan.101" >"$T/out1" && { cat "$T/out1"; fail "a leak through core/conn.c was not ours"; }
assert_contains "$T/out1" "^sanitizer: 1 report(s) in tlsshim code, 1 elsewhere$" "one leak ours, one the program's"
assert_contains "$T/out1" "ts_conn_new core/conn.c:88" "the report of ours is printed"
assert_not_contains "$T/out1" "python3.11+0x12345" "the program's own leak is not printed"

# Unsymbolized: the module names it.
cat >"$D/asan.102" <<'EOF'
==102==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020 at pc 0x7f bp 0x7f sp 0x7f
READ of size 8 at 0x6020 thread T0
    #0 0x7f5  (/tmp/build-asan/libtlsshim.so+0x4242)
    #1 0x7f6  (/usr/sbin/nginx+0x9999)
SUMMARY: AddressSanitizer: heap-use-after-free (/tmp/build-asan/libtlsshim.so+0x4242)
EOF
$SCAN "$D/asan.102" >"$T/out2" && fail "an error in libtlsshim.so was not ours"
assert_contains "$T/out2" "^sanitizer: 1 report(s) in tlsshim code, 0 elsewhere$" "module frame"

# UBSan (only our code is compiled with it), and a third-party source
# tree's core/ directory is not ours.
cat >"$D/ubsan.103" <<'EOF'
preload/init.c:56:3: runtime error: null pointer passed as argument 2, which is declared to never be null
    #0 0x7f7 in die preload/init.c:56
EOF
cat >"$D/asan.104" <<'EOF'
==104==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 8 byte(s) in 1 object(s) allocated from:
    #0 0x7f0 in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f8 in ngx_alloc /build/nginx/src/core/ngx_alloc.c:22

SUMMARY: AddressSanitizer: 8 byte(s) leaked in 1 allocation(s).
EOF
$SCAN "$D/ubsan.103" "$D/asan.104" >"$T/out3" && fail "a UBSan report was not ours"
assert_contains "$T/out3" "^sanitizer: 1 report(s) in tlsshim code, 1 elsewhere$" "UBSan ours, nginx's core/ not"

cat >"$D/tsan.105" <<'EOF'
==================
WARNING: ThreadSanitizer: data race (pid=105)
  Write of size 8 at 0x7b04 by thread T2:
    #0 memcpy ../../../../src/libsanitizer/sanitizer_common/sanitizer_common_interceptors.inc:827 (libtsan.so.2+0x5e0ca)
    #1 <null> <null> (libcrypto.so.3+0x1a2b3c)
    #2 ts_handshake core/handshake.c:200 (libtlsshim.so+0x1234)

  Previous read of size 8 at 0x7b04 by thread T1:
    #0 <null> <null> (libcrypto.so.3+0x1a2b40)
    #1 ts_read core/io.c:50 (libtlsshim.so+0x2345)

  Location is heap block of size 64 at 0x7b04 allocated by thread T1:
    #0 malloc ../../../../src/libsanitizer/tsan/tsan_interceptors_posix.cpp:647 (libtsan.so.2+0x3fe1b)
    #1 ts_conn_new core/conn.c:88 (libtlsshim.so+0x3456)

SUMMARY: ThreadSanitizer: data race (libcrypto.so.3+0x1a2b3c)
==================
==================
WARNING: ThreadSanitizer: data race (pid=105)
  Read of size 4 at 0x7b08 by thread T3:
    #0 pthread_mutex_lock ../../../../src/libsanitizer/tsan/tsan_interceptors_posix.cpp:1341 (libtsan.so.2+0x4a1b2)
    #1 ts_table_get preload/table.c:77 (libtlsshim.so+0x5678)

  Previous write of size 4 at 0x7b08 by main thread:
    #0 ts_table_put preload/table.c:90 (libtlsshim.so+0x5680)

SUMMARY: ThreadSanitizer: data race preload/table.c:77 in ts_table_get
==================
EOF
$SCAN "$D/tsan.105" >"$T/out4" && fail "a race in preload/table.c was not ours"
assert_contains "$T/out4" "^sanitizer: 1 report(s) in tlsshim code, 1 elsewhere$" "TSan: OpenSSL's race not ours, ours ours"
assert_contains "$T/out4" "ts_table_get preload/table.c:77" "the race of ours is printed"
assert_not_contains "$T/out4" "libcrypto.so.3+0x1a2b3c" "the OpenSSL race is not printed"

$SCAN >"$T/out5" || fail "no logs failed the scan"
assert_contains "$T/out5" "^sanitizer: 0 report(s) in tlsshim code, 0 elsewhere$" "no logs"

if [ -n "$SANITIZER" ]; then
	# The runtime is loaded where tlsshim is, directly and by the launcher.
	rt=$(basename "$SAN_RUNTIME")
	LD_PRELOAD=$PRELOAD timeout 20 cat /proc/self/maps >"$T/maps1" || fail "cat under LD_PRELOAD=$PRELOAD"
	assert_contains "$T/maps1" "/$rt" "the $SANITIZER runtime in a preloaded program"
	assert_contains "$T/maps1" "libtlsshim.so" "libtlsshim.so in a preloaded program"
	timeout 20 "$TLSSHIM" --connect 127.0.0.1:1 -- cat /proc/self/maps >"$T/maps2" || fail "cat under the launcher"
	assert_contains "$T/maps2" "/$rt" "the $SANITIZER runtime in a program the launcher ran"
	if [ "$SANITIZER" = asan ]; then
		# The control: a leak made through our code, in a program that
		# is not ours (python3 asks the sanitized libsslsocket.so for a
		# certificate's fields and never frees them), is found and is
		# ours.
		mkdir -p "$T/san"
		openssl x509 -in "$CERTS/server.pem" -outform DER -out "$T/server.der" || fail "openssl x509"
		# (clang's runtime takes log_path from UBSAN_OPTIONS last: both)
		ASAN_OPTIONS="detect_leaks=1:exitcode=0:log_path=$T/san/asan" \
			UBSAN_OPTIONS="print_stacktrace=1:log_path=$T/san/ubsan" LD_PRELOAD="$PRELOAD" \
			timeout 60 python3 -c '
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.sslsocket_certinfo_from_der.restype = ctypes.c_void_p
der, err = open(sys.argv[2], "rb").read(), ctypes.create_string_buffer(4096)
c = lib.sslsocket_certinfo_from_der(der, len(der), err)
print("certinfo", "made" if c else "refused")
c = None
' "$BUILD/libsslsocket.so" "$T/server.der" >"$T/py.out" 2>&1 || { cat "$T/py.out"; fail "python3 under $PRELOAD"; }
		assert_contains "$T/py.out" "certinfo made" "sslsocket_certinfo_from_der"
		$SCAN "$T"/san/* >"$T/out6" && { cat "$T/out6"; fail "the leaked certinfo was not reported as ours"; }
		assert_contains "$T/out6" "sslsocket_certinfo_from_der .*core/" "the leak's frame in core/"
	fi
fi
echo "sanscan ok"
