/*
 * ossl_int.h - every OpenSSL function the core calls, and the table the
 * core calls them through.
 *
 * Why a table: libtlsshim.so runs inside programs that are not ours, and
 * some export functions with OpenSSL's names (node links a whole OpenSSL
 * 3 into its executable and exports it; any program may define an
 * SSL_read of its own). The executable comes first in the global scope,
 * and a versioned reference (SSL_new@OPENSSL_3.0.0) is still bound to an
 * unversioned definition there, so an interposer that imports OpenSSL
 * by name runs the program's functions. The interposer's copy of the
 * table (ossl_dl.c) is filled from libssl.so.3 opened with RTLD_LOCAL |
 * RTLD_DEEPBIND and dlsym() on that handle, which never searches the
 * executable; libsslsocket (ossl.c) fills it at link time, as an
 * ordinary library that its program chose.
 *
 * Every core file reaches OpenSSL through this header: it includes every
 * OpenSSL header the core uses, then BUILD/gen/ossl_redirect.h, made by
 * the Makefile from the list below, which defines each listed name as
 * its table slot (SSL_new -> (core_ossl.SSL_new)). OpenSSL's macros
 * (SSL_set_tlsext_host_name -> SSL_ctrl, sk_X509_num -> OPENSSL_sk_num)
 * expand to listed names and go through the table too. A core file that
 * includes an OpenSSL header not listed here after it fails to compile
 * (the redirect mangles the declarations): add the header here.
 *
 * A function missing from the list is an undefined symbol of
 * libtlsshim.so, which links without -lssl and with --no-undefined: the
 * build stops. test_fds_capture_openssl.sh checks the built library too.
 */
#ifndef OSSL_INT_H
#define OSSL_INT_H

#include "ossl_load.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* One X(name) a line: the Makefile reads these lines. */
#define CORE_OSSL_FUNCS(X) \
	X(ASN1_INTEGER_set) \
	X(ASN1_STRING_get0_data) \
	X(ASN1_STRING_length) \
	X(ASN1_STRING_to_UTF8) \
	X(ASN1_TIME_print) \
	X(ASN1_TIME_to_tm) \
	X(BIO_clear_flags) \
	X(BIO_ctrl) \
	X(BIO_free) \
	X(BIO_get_data) \
	X(BIO_get_new_index) \
	X(BIO_gets) \
	X(BIO_meth_new) \
	X(BIO_meth_set_create) \
	X(BIO_meth_set_ctrl) \
	X(BIO_meth_set_read) \
	X(BIO_meth_set_write) \
	X(BIO_new) \
	X(BIO_new_bio_pair) \
	X(BIO_new_mem_buf) \
	X(BIO_s_mem) \
	X(BIO_set_data) \
	X(BIO_set_flags) \
	X(BIO_set_init) \
	X(CRYPTO_free) \
	X(CRYPTO_get_ex_new_index) \
	X(ERR_clear_error) \
	X(ERR_peek_error) \
	X(ERR_peek_last_error) \
	X(ERR_reason_error_string) \
	X(EVP_Digest) \
	X(EVP_EncodeBlock) \
	X(EVP_PKEY_Q_keygen) \
	X(EVP_PKEY_free) \
	X(EVP_sha256) \
	X(GENERAL_NAMES_free) \
	X(GENERAL_NAME_print) \
	X(OBJ_obj2txt) \
	X(OPENSSL_cleanse) \
	X(OPENSSL_sk_free) \
	X(OPENSSL_sk_new_null) \
	X(OPENSSL_sk_num) \
	X(OPENSSL_sk_pop_free) \
	X(OPENSSL_sk_push) \
	X(OPENSSL_sk_value) \
	X(OpenSSL_version) \
	X(PEM_X509_INFO_read_bio) \
	X(PEM_read_bio_PrivateKey) \
	X(PEM_read_bio_X509) \
	X(PEM_read_bio_X509_AUX) \
	X(PEM_read_bio_X509_CRL) \
	X(RAND_add) \
	X(RAND_status) \
	X(SSL_CIPHER_get_bits) \
	X(SSL_CIPHER_get_kx_nid) \
	X(SSL_CIPHER_get_name) \
	X(SSL_CIPHER_is_aead) \
	X(SSL_CTX_check_private_key) \
	X(SSL_CTX_ctrl) \
	X(SSL_CTX_free) \
	X(SSL_CTX_get0_certificate) \
	X(SSL_CTX_get_cert_store) \
	X(SSL_CTX_get_ex_data) \
	X(SSL_CTX_get_security_level) \
	X(SSL_CTX_new) \
	X(SSL_CTX_sess_set_new_cb) \
	X(SSL_CTX_set_alpn_protos) \
	X(SSL_CTX_set_alpn_select_cb) \
	X(SSL_CTX_set_cipher_list) \
	X(SSL_CTX_set_client_CA_list) \
	X(SSL_CTX_set_default_verify_paths) \
	X(SSL_CTX_set_ex_data) \
	X(SSL_CTX_set_keylog_callback) \
	X(SSL_CTX_set_options) \
	X(SSL_CTX_set_session_id_context) \
	X(SSL_CTX_set_verify) \
	X(SSL_CTX_use_PrivateKey) \
	X(SSL_CTX_use_certificate) \
	X(SSL_SESSION_free) \
	X(SSL_SESSION_is_resumable) \
	X(SSL_SESSION_up_ref) \
	X(SSL_ctrl) \
	X(SSL_do_handshake) \
	X(SSL_free) \
	X(SSL_get0_alpn_selected) \
	X(SSL_get0_param) \
	X(SSL_get0_peer_certificate) \
	X(SSL_get1_peer_certificate) \
	X(SSL_get1_supported_ciphers) \
	X(SSL_get_SSL_CTX) \
	X(SSL_get_current_cipher) \
	X(SSL_get_error) \
	X(SSL_get_ex_data) \
	X(SSL_get_ex_data_X509_STORE_CTX_idx) \
	X(SSL_get_shutdown) \
	X(SSL_get_verify_result) \
	X(SSL_get_version) \
	X(SSL_has_pending) \
	X(SSL_new) \
	X(SSL_peek_ex) \
	X(SSL_pending) \
	X(SSL_read_ex) \
	X(SSL_select_next_proto) \
	X(SSL_session_reused) \
	X(SSL_set1_host) \
	X(SSL_set_accept_state) \
	X(SSL_set_bio) \
	X(SSL_set_connect_state) \
	X(SSL_set_ex_data) \
	X(SSL_set_hostflags) \
	X(SSL_set_read_ahead) \
	X(SSL_set_session) \
	X(SSL_shutdown) \
	X(SSL_write_ex) \
	X(TLS_client_method) \
	X(TLS_method) \
	X(TLS_server_method) \
	X(X509_CRL_free) \
	X(X509_INFO_free) \
	X(X509_NAME_ENTRY_get_data) \
	X(X509_NAME_ENTRY_get_object) \
	X(X509_NAME_ENTRY_set) \
	X(X509_NAME_add_entry_by_txt) \
	X(X509_NAME_cmp) \
	X(X509_NAME_dup) \
	X(X509_NAME_entry_count) \
	X(X509_NAME_free) \
	X(X509_NAME_get_entry) \
	X(X509_NAME_get_index_by_NID) \
	X(X509_NAME_print_ex) \
	X(X509_STORE_CTX_get_current_cert) \
	X(X509_STORE_CTX_get_error_depth) \
	X(X509_STORE_CTX_get_ex_data) \
	X(X509_STORE_CTX_set_error) \
	X(X509_STORE_add_cert) \
	X(X509_STORE_add_crl) \
	X(X509_STORE_set_flags) \
	X(X509_VERIFY_PARAM_set1_ip_asc) \
	X(X509_check_ip_asc) \
	X(X509_free) \
	X(X509_get0_notAfter) \
	X(X509_get_X509_PUBKEY) \
	X(X509_get_ext_d2i) \
	X(X509_get_serialNumber) \
	X(X509_get_subject_name) \
	X(X509_getm_notAfter) \
	X(X509_getm_notBefore) \
	X(X509_gmtime_adj) \
	X(X509_new) \
	X(X509_set_issuer_name) \
	X(X509_set_pubkey) \
	X(X509_set_version) \
	X(X509_sign) \
	X(X509_verify_cert_error_string) \
	X(d2i_X509) \
	X(i2d_X509) \
	X(i2d_X509_PUBKEY) \
	/* end */

#define CORE_OSSL_SLOT(name) __typeof__(name) *name;
struct core_ossl {
	CORE_OSSL_FUNCS(CORE_OSSL_SLOT)
};
#undef CORE_OSSL_SLOT

extern struct core_ossl core_ossl;

#ifndef CORE_OSSL_NO_REDIRECT
#include "ossl_redirect.h"
#endif

#endif /* OSSL_INT_H */
