#ifndef CGNUTLS_SHIM_H
#define CGNUTLS_SHIM_H
// GnuTLS (Debian's libgnutls28-dev), the TLS library libmicrohttpd is built on: the client
// certificate check of a TLS connection it serves (it hands out the session,
// CMicroHTTPD_tls_session, but checks nothing), and HMAC-SHA256 (gnutls_hmac_fast) for basic
// auth's cache keys. Every symbol defined here carries the CGnuTLS_ prefix.
#include <stddef.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

/// What a TLS connection's client certificate proved.
enum {
    CGnuTLS_CLIENT_CERT_NOT_TLS = -1,
    CGnuTLS_CLIENT_CERT_NONE = 0,      // none presented
    CGnuTLS_CLIENT_CERT_INVALID = 1,   // presented, but does not verify against the trust
    CGnuTLS_CLIENT_CERT_VERIFIED = 2,  // presented and verified
};

/// The client certificate of the TLS session `session` (a gnutls_session_t; NULL: not TLS).
static inline int CGnuTLS_client_certificate(void *session) {
    if (session == NULL) return CGnuTLS_CLIENT_CERT_NOT_TLS;
    gnutls_session_t tls = (gnutls_session_t)session;
    unsigned int count = 0;
    if (gnutls_certificate_get_peers(tls, &count) == NULL || count == 0) return CGnuTLS_CLIENT_CERT_NONE;
    unsigned int status = 0;
    if (gnutls_certificate_verify_peers2(tls, &status) != 0 || status != 0) return CGnuTLS_CLIENT_CERT_INVALID;
    return CGnuTLS_CLIENT_CERT_VERIFIED;
}

#endif
