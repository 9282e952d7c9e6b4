#!/bin/sh
# Makes the throwaway PKI the tests use, in DIR (created). Idempotent: does
# nothing when DIR/.done exists. ECDSA P-256 keys (fast handshakes).
#
#   ca.pem ca.key            test CA
#   other-ca.pem             a CA nobody's certificate is signed by
#   server.pem server.key    CN=localhost, SAN DNS:localhost IP:127.0.0.1 IP:::1
#   server-combined.pem      key, then certificate (the seed's one-file form)
#   server-chain.pem         server certificate followed by the CA
#   client.pem client.key    a client certificate from the test CA
#   expired.pem expired.key  CN=localhost, valid only in January 2020
#   wronghost.pem .key       CN=wrong.example, SAN DNS:wrong.example
#   selfsigned.pem .key      CN=localhost, self-signed
#   multirdn.pem .key        multi-valued RDN, an OID without a short name,
#                            SAN with DNS, IP and IPv6
#   rsa.pem rsa.key          CN=localhost, RSA 2048
set -eu
dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
[ -e "$dir/.done" ] && exit 0
cd "$dir"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

cat > ext.cnf <<'CNF'
# The OID section lets `req -subj` take an attribute OpenSSL has no name for.
oid_section = oids
[oids]
testAttribute = 1.2.3.4.5.6.7
[req]
distinguished_name = req_dn
[req_dn]
[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
[client_ext]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[wrong_ext]
basicConstraints = CA:false
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
[multi_ext]
basicConstraints = CA:false
extendedKeyUsage = serverAuth
subjectAltName = DNS:multi.example, DNS:*.multi.example, IP:127.0.0.1, IP:::1
CNF

key ca.key
openssl req -new -x509 -key ca.key -out ca.pem -days 3650 -subj "/C=US/O=tlsshim tests/CN=tlsshim test CA" \
	-config ext.cnf -extensions ca_ext 2>/dev/null
key other-ca.key
openssl req -new -x509 -key other-ca.key -out other-ca.pem -days 3650 -subj "/CN=tlsshim other CA" \
	-config ext.cnf -extensions ca_ext 2>/dev/null

sign() { # name subject extensions [extra x509 args]
	name=$1 subj=$2 ext=$3; shift 3
	key "$name.key"
	openssl req -new -config ext.cnf -key "$name.key" -subj "$subj" -multivalue-rdn -out "$name.csr" 2>/dev/null
	openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
		-extfile ext.cnf -extensions "$ext" -out "$name.pem" "$@" 2>/dev/null
	rm -f "$name.csr"
}

sign server "/C=US/ST=Delaware/L=Wilmington/O=tlsshim tests/OU=SSL/CN=localhost" server_ext
cat server.key server.pem > server-combined.pem
cat server.pem ca.pem > server-chain.pem
sign client "/O=tlsshim tests/CN=tlsshim test client" client_ext
sign wronghost "/CN=wrong.example" wrong_ext
sign multirdn "/C=US/O=tlsshim tests/OU=Multi+CN=multi.example/1.3.6.1.4.1.311.60.2.1.3=US/1.2.3.4.5.6.7=custom value/serialNumber=2497886" multi_ext

# An expired certificate needs explicit dates: `openssl ca` takes them.
key expired.key
openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr 2>/dev/null
mkdir -p cadb && : > cadb/index.txt && echo 1000 > cadb/serial
cat > ca.cnf <<CNF
[ca]
default_ca = test_ca
[test_ca]
dir = cadb
database = cadb/index.txt
serial = cadb/serial
new_certs_dir = cadb
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
CNF
openssl ca -batch -config ca.cnf -in expired.csr -out expired.pem -notext \
	-startdate 20200101000000Z -enddate 20200131000000Z \
	-extfile ext.cnf -extensions server_ext >/dev/null 2>&1
rm -f expired.csr

key selfsigned.key
openssl req -new -x509 -key selfsigned.key -out selfsigned.pem -days 825 -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
openssl req -new -key rsa.key -subj "/CN=localhost" -out rsa.csr 2>/dev/null
openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
	-extfile ext.cnf -extensions server_ext -out rsa.pem 2>/dev/null
rm -f rsa.csr

chmod 644 ./*.pem
touch .done
