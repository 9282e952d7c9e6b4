# Sourced by integration tests (after lib.sh) that need certificates made
# at test time, signed by the test CA ($CERTS/ca.pem).
#
# mkleaf NAME SUBJECT [EXT-LINES...]: $T/NAME.pem and $T/NAME.key, an ECDSA
# P-256 leaf from the test CA; each EXT-LINE is an x509v3 line such as
# "subjectAltName = DNS:good.example.com, URI:spiffe://example.org/web".
mkleaf() {
	_n=$1 _s=$2; shift 2
	{
		echo "basicConstraints = CA:false"
		echo "keyUsage = critical, digitalSignature"
		echo "extendedKeyUsage = serverAuth, clientAuth"
		for _l in "$@"; do echo "$_l"; done
	} >"$T/$_n.ext"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$_n.key" 2>/dev/null \
		|| fail "key for $_n"
	openssl req -new -key "$T/$_n.key" -subj "$_s" -out "$T/$_n.csr" 2>/dev/null || fail "csr for $_n"
	openssl x509 -req -in "$T/$_n.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" \
		-set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -days 30 \
		-extfile "$T/$_n.ext" -out "$T/$_n.pem" 2>/dev/null || fail "certificate for $_n"
	rm -f "$T/$_n.csr" "$T/$_n.ext"
}

# spki_pin FILE.pem: the base64 SHA-256 of the certificate's
# SubjectPublicKeyInfo (curl's --pinnedpubkey sha256//...).
spki_pin() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER \
		| openssl dgst -sha256 -binary | openssl base64 -A
}
