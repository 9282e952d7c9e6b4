#!/bin/sh
# libsslsocket.so's get_server_certificate and getpeercert formatter, called
# from another process through the shared library (python3 ctypes), against
# a real `openssl s_server`, compared with Python's own ssl module.
. "$(dirname "$0")/lib.sh"

port=$(free_port)
start_bg 60 openssl s_server -accept "127.0.0.1:$port" -cert "$CERTS/server.pem" \
	-key "$CERTS/server.key" -quiet </dev/null >"$T/s_server.log" 2>&1
wait_port "$port"

# A sanitizer build's libsslsocket.so loads only after its runtime (TSan's
# cannot be loaded by dlopen at all).
timeout 60 env ${SAN_RUNTIME:+LD_PRELOAD=$SAN_RUNTIME} python3 - "$BUILD/libsslsocket.so" "$port" "$CERTS" <<'PY' || fail "python checks"
import ctypes, pprint, ssl, sys
lib = ctypes.CDLL(sys.argv[1])
port, certs = int(sys.argv[2]), sys.argv[3]

class Err(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("sys_errno", ctypes.c_int),
                ("ossl_error", ctypes.c_ulong), ("reason", ctypes.c_char * 256),
                ("phase", ctypes.c_int), ("cause", ctypes.c_int),
                ("option", ctypes.c_int), ("file", ctypes.c_char * 512)]

lib.sslsocket_get_server_certificate.restype = ctypes.c_void_p
lib.sslsocket_get_server_certificate.argtypes = [ctypes.c_char_p, ctypes.c_ushort,
    ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(Err)]
lib.sslsocket_PEM_cert_to_DER_cert.restype = ctypes.c_void_p
lib.sslsocket_PEM_cert_to_DER_cert.argtypes = [ctypes.c_char_p,
    ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(Err)]
lib.sslsocket_certinfo_from_der.restype = ctypes.c_void_p
lib.sslsocket_certinfo_from_der.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(Err)]
lib.sslsocket_certinfo_format.restype = ctypes.c_void_p
lib.sslsocket_certinfo_format.argtypes = [ctypes.c_void_p]
lib.sslsocket_certinfo_free.argtypes = [ctypes.c_void_p]
libc = ctypes.CDLL(None)
libc.free.argtypes = [ctypes.c_void_p]
SSLv23 = 2

def ours(host, ca):
    e = Err()
    p = lib.sslsocket_get_server_certificate(host.encode(), port, SSLv23,
                                             ca.encode() if ca else None, ctypes.byref(e))
    if not p:
        return None, e.reason.decode()
    s = ctypes.string_at(p).decode()
    libc.free(p)
    return s, None

for host in ("localhost", "127.0.0.1"):
    theirs = ssl.get_server_certificate((host, port))
    mine, why = ours(host, None)
    assert mine == theirs, (host, mine, theirs, why)
    theirs = ssl.get_server_certificate((host, port), ca_certs=certs + "/ca.pem")
    mine, why = ours(host, certs + "/ca.pem")
    assert mine == theirs, (host, why)
mine, why = ours("localhost", certs + "/other-ca.pem")
assert mine is None and "certificate verify failed" in why, why
# The error's last fields, past reason, phase and cause, line up: a CA
# file that cannot be read is named by option (SSLSOCKET_OPT_CA_CERTS, 3)
# and file.
e = Err()
missing = certs + "/missing-ca.pem"
assert not lib.sslsocket_get_server_certificate(b"localhost", port, SSLv23, missing.encode(),
                                                ctypes.byref(e))
assert (e.option, e.file.decode()) == (3, missing), (e.option, e.file, e.reason)
try:
    ssl.get_server_certificate(("localhost", port), ca_certs=certs + "/other-ca.pem")
    raise SystemExit("python accepted the wrong CA")
except ssl.SSLError:
    pass

# The fetched certificate's dictionary, formatted by the library, equals
# what Python's ssl and pprint make of the same certificate.
pem, _ = ours("localhost", None)
n = ctypes.c_size_t()
e = Err()
der = lib.sslsocket_PEM_cert_to_DER_cert(pem.encode(), ctypes.byref(n), ctypes.byref(e))
assert der, e.reason
ci = lib.sslsocket_certinfo_from_der(der, n.value, ctypes.byref(e))
assert ci, e.reason
txt = lib.sslsocket_certinfo_format(ci)
mine = ctypes.string_at(txt).decode()
libc.free(txt); lib.sslsocket_certinfo_free(ci); libc.free(der)
d = ssl._ssl._test_decode_cert(certs + "/server.pem")
theirs = pprint.pformat({k: d[k] for k in ("subject", "notAfter", "subjectAltName") if k in d})
assert mine == theirs, (mine, theirs)
print("ok")
PY
echo PASS
