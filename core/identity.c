/*
 * identity.c - allow_names and pin_sha256 applied to the peer's certificate
 * inside the handshake: the verify callback refuses a peer whose leaf
 * carries none of the accepted identities, or whose key is not pinned, as
 * it refuses an untrusted chain. So the handshake fails (the program sees
 * EPROTO) before any application byte is exchanged, and the reason names
 * what the peer presented.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ossl_int.h"

#include "identity_int.h"

struct core_identity {
	struct core_name_pattern *names;
	size_t n_names;
	unsigned char (*pins)[CORE_PIN_LEN];
	size_t n_pins;
};

void core_identity_free(struct core_identity *id)
{
	if (!id)
		return;
	for (size_t i = 0; i < id->n_names; i++)
		core_name_pattern_clear(&id->names[i]);
	free(id->names);
	free(id->pins);
	free(id);
}

struct core_identity *core_identity_new(const struct sslsocket_options *o,
                                        struct sslsocket_error *err)
{
	char why[200];

	if (err)
		memset(err, 0, sizeof *err);
	if (core_identity_options_check(o, err) < 0)
		return NULL;
	if (!o->allow_names_count && !o->pin_sha256_count)
		return NULL;
	struct core_identity *id = calloc(1, sizeof *id);
	if (!id)
		goto oom;
	if (o->allow_names_count && !(id->names = calloc(o->allow_names_count, sizeof *id->names)))
		goto oom;
	if (o->pin_sha256_count && !(id->pins = calloc(o->pin_sha256_count, sizeof *id->pins)))
		goto oom;
	for (size_t i = 0; i < o->allow_names_count; i++, id->n_names++) {
		if (core_allow_name_parse(o->allow_names[i], &id->names[i], why, sizeof why) < 0) {
			core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "allow_names entry %zu: %s",
			             i + 1, why);
			core_err_option(err, SSLSOCKET_OPT_ALLOW_NAMES, NULL);
			core_identity_free(id);
			return NULL;
		}
	}
	for (size_t i = 0; i < o->pin_sha256_count; i++, id->n_pins++) {
		if (core_pin_parse(o->pin_sha256[i], id->pins[i], why, sizeof why) < 0) {
			core_err_set(err, SSLSOCKET_ERROR_VALUE, EINVAL, "pin_sha256 entry %zu: %s",
			             i + 1, why);
			core_err_option(err, SSLSOCKET_OPT_PIN_SHA256, NULL);
			core_identity_free(id);
			return NULL;
		}
	}
	return id;
oom:
	core_identity_free(id);
	core_err_set(err, SSLSOCKET_ERROR_SSL, ENOMEM, "out of memory");
	return NULL;
}

/* ---- what the peer presented ------------------------------------------------ */

struct presented {
	char *buf;
	size_t cap, len;
};

static void add_text(struct presented *p, const char *tag, const unsigned char *s, size_t n)
{
	if (p->len + 4 >= p->cap)
		return;
	int w = snprintf(p->buf + p->len, p->cap - p->len, "%s%s", p->len ? ", " : "", tag);
	if (w < 0)
		return;
	p->len += (size_t)w < p->cap - p->len ? (size_t)w : p->cap - p->len - 1;
	/* the peer's bytes, printable ASCII only */
	for (size_t i = 0; i < n && p->len + 1 < p->cap; i++)
		p->buf[p->len++] = s[i] >= ' ' && s[i] < 0x7f ? (char)s[i] : '?';
	if (p->len + 1 >= p->cap && p->cap > 4) {
		memcpy(p->buf + p->cap - 4, "...", 3);
		p->len = p->cap - 1;
	}
	p->buf[p->len] = '\0';
}

static int ip_matches(const struct core_name_pattern *pat, const ASN1_OCTET_STRING *ip)
{
	return ASN1_STRING_length(ip) == pat->iplen &&
	       memcmp(ASN1_STRING_get0_data(ip), pat->ip, (size_t)pat->iplen) == 0;
}

static int cn_matches(const char *want, X509 *leaf, struct presented *p)
{
	const X509_NAME *subj = X509_get_subject_name(leaf);
	int found = 0;

	for (int i = -1; (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0;) {
		const ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
		unsigned char *utf8 = NULL;
		int n = ASN1_STRING_to_UTF8(&utf8, d);
		if (n < 0)
			continue;
		if (p)
			add_text(p, "CN=", utf8, (size_t)n);
		if (want && (size_t)n == strlen(want) && memcmp(utf8, want, (size_t)n) == 0)
			found = 1;
		OPENSSL_free(utf8);
	}
	return found;
}

/* Whether one of the patterns matches the leaf; p (may be NULL) collects
 * what the leaf presents. */
static int names_match(const struct core_identity *id, X509 *leaf, struct presented *p)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	int found = 0;

	for (int g = 0; gens && g < sk_GENERAL_NAME_num(gens); g++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, g);
		const ASN1_STRING *v = NULL;
		int kind = 0;
		const char *tag = NULL;

		if (gn->type == GEN_DNS) {
			v = gn->d.dNSName, kind = CORE_NAME_DNS, tag = "DNS:";
		} else if (gn->type == GEN_URI) {
			v = gn->d.uniformResourceIdentifier, kind = CORE_NAME_URI, tag = "URI:";
		} else if (gn->type == GEN_IPADD) {
			v = gn->d.iPAddress, kind = CORE_NAME_IP, tag = "IP:";
		} else {
			continue;
		}
		const char *s = (const char *)ASN1_STRING_get0_data(v);
		size_t n = (size_t)ASN1_STRING_length(v);
		if (p) {
			if (kind == CORE_NAME_IP) {
				char txt[INET6_ADDRSTRLEN] = "?";
				if (n == 4 || n == 16)
					inet_ntop(n == 4 ? AF_INET : AF_INET6, s, txt, sizeof txt);
				add_text(p, tag, (const unsigned char *)txt, strlen(txt));
			} else {
				add_text(p, tag, (const unsigned char *)s, n);
			}
		}
		for (size_t i = 0; !found && i < id->n_names; i++) {
			const struct core_name_pattern *pat = &id->names[i];
			if ((int)pat->kind != kind)
				continue;
			if (kind == CORE_NAME_DNS)
				found = core_dns_pattern_match(pat->text, s, n);
			else if (kind == CORE_NAME_URI)
				found = core_uri_pattern_match(pat->text, s, n);
			else
				found = ip_matches(pat, v);
		}
		if (found && !p)
			break;
	}
	GENERAL_NAMES_free(gens);
	for (size_t i = 0; !found && i < id->n_names; i++)
		if (id->names[i].kind == CORE_NAME_CN && cn_matches(id->names[i].text, leaf, NULL))
			found = 1;
	if (p)
		cn_matches(NULL, leaf, p);
	return found;
}

static int spki_sha256(X509 *leaf, unsigned char md[CORE_PIN_LEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der);

	if (n <= 0)
		return -1;
	int ok = EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) == 1 &&
	         mdlen == CORE_PIN_LEN;
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

int core_identity_check(const struct core_identity *id, X509 *leaf, char *why, size_t whylen)
{
	char list[200];
	struct presented p = {list, sizeof list, 0};

	list[0] = '\0';
	if (!id)
		return 0;
	if (!leaf) {
		snprintf(why, whylen, "the peer presented no certificate");
		return -1;
	}
	if (id->n_pins) {
		unsigned char md[CORE_PIN_LEN];
		int pinned = 0;
		if (spki_sha256(leaf, md) == 0)
			for (size_t i = 0; !pinned && i < id->n_pins; i++)
				pinned = memcmp(md, id->pins[i], CORE_PIN_LEN) == 0;
		if (!pinned) {
			unsigned char b64[64];
			int n = EVP_EncodeBlock(b64, md, CORE_PIN_LEN);
			snprintf(why, whylen, "peer key not in pin_sha256 (it is sha256//%.*s)",
			         n > 0 ? n : 0, (const char *)b64);
			return -1;
		}
	}
	if (id->n_names && !names_match(id, leaf, NULL)) {
		names_match(id, leaf, &p);
		snprintf(why, whylen, "peer identity not in allow_names (presented: %s)",
		         list[0] ? list : "no name");
		return -1;
	}
	return 0;
}

int core_identity_verify_cb(int ok, X509_STORE_CTX *xs)
{
	/* Only the leaf, once the chain up to it has verified: a failure
	 * already recorded stands, and intermediates carry no identity. */
	if (!ok || X509_STORE_CTX_get_error_depth(xs) != 0)
		return ok;
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	if (!ssl)
		return ok;
	struct sslsocket_ctx *c = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	if (!c || !c->identity)
		return ok;
	struct sslsocket *s = SSL_get_ex_data(ssl, core_ssl_ex_index());
	char why[sizeof s->identity_why];
	if (core_identity_check(c->identity, X509_STORE_CTX_get_current_cert(xs), why,
	                        sizeof why) == 0)
		return 1;
	if (s)
		memcpy(s->identity_why, why, sizeof why);
	X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}
