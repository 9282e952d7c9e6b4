/*
 * der.c - just enough DER to tell, without OpenSSL's decoders, that a file
 * holds a certificate and whether a private key belongs to it: the
 * certificate's SubjectPublicKeyInfo against the public half that RSA,
 * EC (RFC 5915) and PKCS#8 v2 (RFC 5958) private keys carry.
 *
 * Only definite lengths and one-byte tags, which is all DER certificates
 * and keys use; anything else is "not this structure".
 */
#include <string.h>

#include "files_int.h"

enum {
	T_INTEGER = 0x02,
	T_BITSTRING = 0x03,
	T_OCTETSTRING = 0x04,
	T_OID = 0x06,
	T_SEQUENCE = 0x30,
	T_CTX0 = 0xa0,  /* [0] constructed */
	T_CTX1 = 0xa1,  /* [1] constructed */
	T_CTX1P = 0x81, /* [1] primitive (PKCS#8 v2 publicKey, IMPLICIT) */
};

static const unsigned char OID_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const unsigned char OID_RSAPSS[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
static const unsigned char OID_EC[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const unsigned char OID_ED25519[] = {0x2b, 0x65, 0x70};
static const unsigned char OID_ED448[] = {0x2b, 0x65, 0x71};

struct tlv {
	unsigned tag;
	const unsigned char *v; /* contents */
	size_t len;
};

/* One TLV at *p (before end); moves *p past it. */
static int tlv_next(const unsigned char **p, const unsigned char *end, struct tlv *t)
{
	const unsigned char *q = *p;
	if (end - q < 2)
		return -1;
	t->tag = *q++;
	if ((t->tag & 0x1f) == 0x1f)
		return -1;
	size_t len = *q++;
	if (len & 0x80) {
		size_t n = len & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return -1;
		len = 0;
		while (n--)
			len = (len << 8) | *q++;
	}
	if ((size_t)(end - q) < len)
		return -1;
	t->v = q;
	t->len = len;
	*p = q + len;
	return 0;
}

static int tlv_expect(const unsigned char **p, const unsigned char *end, unsigned tag,
                      struct tlv *t)
{
	return tlv_next(p, end, t) == 0 && t->tag == tag ? 0 : -1;
}

static int oid_is(const struct tlv *t, const unsigned char *oid, size_t n)
{
	return t->len == n && memcmp(t->v, oid, n) == 0;
}

/* An INTEGER's magnitude: its content without sign-padding zeros, so that
 * equal values compare equal however they were padded. */
static void int_value(const struct tlv *t, const unsigned char **v, size_t *n)
{
	*v = t->v;
	*n = t->len;
	while (*n > 1 && **v == 0) {
		(*v)++;
		(*n)--;
	}
}

/* BIT STRING contents after the unused-bits byte (which must be 0). */
static int bits_of(const struct tlv *t, const unsigned char **v, size_t *n)
{
	if (t->len < 1 || t->v[0] != 0)
		return -1;
	*v = t->v + 1;
	*n = t->len - 1;
	return 0;
}

static int rsa_pair(const unsigned char *p, const unsigned char *end, struct core_pubkey *pk)
{
	struct tlv n, e;
	if (tlv_expect(&p, end, T_INTEGER, &n) < 0 || tlv_expect(&p, end, T_INTEGER, &e) < 0)
		return -1;
	pk->kind = CORE_KEY_RSA;
	int_value(&n, &pk->a, &pk->a_len);
	int_value(&e, &pk->b, &pk->b_len);
	return 0;
}

static int spki(const unsigned char *p, const unsigned char *end, struct core_pubkey *pk)
{
	struct tlv alg, oid, bits, inner;
	const unsigned char *bv, *ap;
	size_t bn;

	if (tlv_expect(&p, end, T_SEQUENCE, &alg) < 0 || tlv_expect(&p, end, T_BITSTRING, &bits) < 0 ||
	    p != end)
		return -1;
	ap = alg.v;
	if (tlv_expect(&ap, alg.v + alg.len, T_OID, &oid) < 0 || bits_of(&bits, &bv, &bn) < 0)
		return -1;
	memset(pk, 0, sizeof *pk);
	pk->alg = oid.v;
	pk->alg_len = oid.len;
	if (oid_is(&oid, OID_RSA, sizeof OID_RSA) || oid_is(&oid, OID_RSAPSS, sizeof OID_RSAPSS)) {
		const unsigned char *q = bv;
		if (tlv_expect(&q, bv + bn, T_SEQUENCE, &inner) < 0)
			return -1;
		return rsa_pair(inner.v, inner.v + inner.len, pk);
	}
	if (oid_is(&oid, OID_EC, sizeof OID_EC)) {
		struct tlv curve;
		if (tlv_next(&ap, alg.v + alg.len, &curve) == 0 && curve.tag == T_OID) {
			pk->kind = CORE_KEY_EC;
			pk->a = curve.v;
			pk->a_len = curve.len;
			pk->b = bv;
			pk->b_len = bn;
		}
		return 0; /* explicit curve parameters: cannot tell */
	}
	if (oid_is(&oid, OID_ED25519, sizeof OID_ED25519) || oid_is(&oid, OID_ED448, sizeof OID_ED448)) {
		pk->kind = CORE_KEY_EDDSA;
		pk->a = bv;
		pk->a_len = bn;
	}
	return 0;
}

int core_der_cert(const unsigned char *der, size_t len, int trailing, struct core_pubkey *pk)
{
	const unsigned char *p = der, *end = der + len, *q;
	struct tlv cert, tbs, sigalg, sig, t;

	if (tlv_expect(&p, end, T_SEQUENCE, &cert) < 0 || (!trailing && p != end))
		return -1;
	q = cert.v;
	end = cert.v + cert.len;
	if (tlv_expect(&q, end, T_SEQUENCE, &tbs) < 0 || tlv_expect(&q, end, T_SEQUENCE, &sigalg) < 0 ||
	    tlv_expect(&q, end, T_BITSTRING, &sig) < 0 || q != end)
		return -1;
	q = tbs.v;
	end = tbs.v + tbs.len;
	if (tlv_next(&q, end, &t) < 0)
		return -1;
	if (t.tag == T_CTX0 && tlv_next(&q, end, &t) < 0) /* [0] version */
		return -1;
	if (t.tag != T_INTEGER) /* serialNumber */
		return -1;
	/* signature, issuer, validity, subject */
	for (int i = 0; i < 4; i++)
		if (tlv_expect(&q, end, T_SEQUENCE, &t) < 0)
			return -1;
	if (tlv_expect(&q, end, T_SEQUENCE, &t) < 0)
		return -1;
	return spki(t.v, t.v + t.len, pk);
}

/* ECPrivateKey (RFC 5915); curve from the PKCS#8 algorithm, else its own. */
static int ec_priv(const unsigned char *der, size_t len, const struct tlv *curve,
                   struct core_pubkey *pk)
{
	const unsigned char *p = der, *end = der + len, *q;
	struct tlv seq, t, inner;

	if (tlv_expect(&p, end, T_SEQUENCE, &seq) < 0)
		return -1;
	q = seq.v;
	end = seq.v + seq.len;
	if (tlv_expect(&q, end, T_INTEGER, &t) < 0 || tlv_expect(&q, end, T_OCTETSTRING, &t) < 0)
		return -1;
	pk->kind = CORE_KEY_EC;
	if (curve) {
		pk->a = curve->v;
		pk->a_len = curve->len;
	}
	while (q < end) {
		if (tlv_next(&q, end, &t) < 0)
			return -1;
		const unsigned char *r = t.v;
		if (t.tag == T_CTX0 && !pk->a && tlv_next(&r, t.v + t.len, &inner) == 0 &&
		    inner.tag == T_OID) {
			pk->a = inner.v;
			pk->a_len = inner.len;
		} else if (t.tag == T_CTX1 && tlv_expect(&r, t.v + t.len, T_BITSTRING, &inner) == 0) {
			if (bits_of(&inner, &pk->b, &pk->b_len) < 0)
				return -1;
		}
	}
	return 0;
}

static int rsa_priv(const unsigned char *der, size_t len, struct core_pubkey *pk)
{
	const unsigned char *p = der, *end = der + len, *q;
	struct tlv seq, ver;

	if (tlv_expect(&p, end, T_SEQUENCE, &seq) < 0)
		return -1;
	q = seq.v;
	if (tlv_expect(&q, seq.v + seq.len, T_INTEGER, &ver) < 0)
		return -1;
	return rsa_pair(q, seq.v + seq.len, pk);
}

int core_der_key(const char *label, const unsigned char *der, size_t len, struct core_pubkey *pk)
{
	const unsigned char *p = der, *end = der + len, *q, *ap;
	struct tlv seq, t, alg, oid, priv;

	memset(pk, 0, sizeof *pk);
	if (strcmp(label, "RSA PRIVATE KEY") == 0)
		return rsa_priv(der, len, pk);
	if (strcmp(label, "EC PRIVATE KEY") == 0)
		return ec_priv(der, len, NULL, pk);
	if (strcmp(label, "PRIVATE KEY") != 0)
		return 0; /* DSA, encrypted, ...: cannot tell */

	/* PKCS#8 / OneAsymmetricKey */
	if (tlv_expect(&p, end, T_SEQUENCE, &seq) < 0)
		return -1;
	q = seq.v;
	end = seq.v + seq.len;
	if (tlv_expect(&q, end, T_INTEGER, &t) < 0 || tlv_expect(&q, end, T_SEQUENCE, &alg) < 0 ||
	    tlv_expect(&q, end, T_OCTETSTRING, &priv) < 0)
		return -1;
	ap = alg.v;
	if (tlv_expect(&ap, alg.v + alg.len, T_OID, &oid) < 0)
		return -1;
	pk->alg = oid.v;
	pk->alg_len = oid.len;
	if (oid_is(&oid, OID_RSA, sizeof OID_RSA) || oid_is(&oid, OID_RSAPSS, sizeof OID_RSAPSS))
		return rsa_priv(priv.v, priv.len, pk);
	if (oid_is(&oid, OID_EC, sizeof OID_EC)) {
		struct tlv curve;
		int named = tlv_next(&ap, alg.v + alg.len, &curve) == 0 && curve.tag == T_OID;
		return ec_priv(priv.v, priv.len, named ? &curve : NULL, pk);
	}
	if (oid_is(&oid, OID_ED25519, sizeof OID_ED25519) || oid_is(&oid, OID_ED448, sizeof OID_ED448)) {
		pk->kind = CORE_KEY_EDDSA;
		while (q < end) { /* [0] attributes, [1] publicKey */
			if (tlv_next(&q, end, &t) < 0)
				return -1;
			if (t.tag == T_CTX1P && bits_of(&t, &pk->a, &pk->a_len) < 0)
				return -1;
		}
	}
	return 0;
}

static int same_bytes(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

int core_pubkey_same(const struct core_pubkey *cert, const struct core_pubkey *key)
{
	if (cert->kind == CORE_KEY_UNKNOWN || key->kind == CORE_KEY_UNKNOWN)
		return -1;
	if (cert->kind != key->kind)
		return 0;
	switch (cert->kind) {
	case CORE_KEY_RSA:
		return same_bytes(cert->a, cert->a_len, key->a, key->a_len) &&
		       same_bytes(cert->b, cert->b_len, key->b, key->b_len);
	case CORE_KEY_EC:
		if (!key->a)
			return -1;
		if (!same_bytes(cert->a, cert->a_len, key->a, key->a_len))
			return 0;
		/* Without the point, or in another form (compressed), only
		 * arithmetic could tell. */
		if (!key->b || !cert->b || key->b_len == 0 || cert->b_len == 0 || key->b[0] != cert->b[0])
			return -1;
		return same_bytes(cert->b, cert->b_len, key->b, key->b_len);
	case CORE_KEY_EDDSA:
		if (!same_bytes(cert->alg, cert->alg_len, key->alg, key->alg_len))
			return 0;
		if (!key->a)
			return -1;
		return same_bytes(cert->a, cert->a_len, key->a, key->a_len);
	default:
		return -1;
	}
}
