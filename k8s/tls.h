/*
 * tls.h — the serving TLS context: built from the certificate and key
 * files, rebuilt when they change, and handed to each new connection.
 *
 * Client certificates are requested, never required: kubelet probes
 * /healthz without one. The handshake accepts any certificate, or none;
 * whether it proves a front-proxy identity is decided per request (authn.h).
 *
 * Threads: every function runs on the server's event-loop thread.
 */
#ifndef ZP_K8S_TLS_H
#define ZP_K8S_TLS_H

#include <sys/types.h>
#include <time.h>

#include <openssl/ssl.h>

struct zp_err;
struct zp_tls;

/* What identifies one version of a file: a Secret volume swaps a symlink. */
struct zp_file_stamp {
    int ok; /* 0 when stat() failed */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct timespec ctime;
};

void zp_file_stamp_get(const char *path, struct zp_file_stamp *st);
int zp_file_stamp_same(const struct zp_file_stamp *a, const struct zp_file_stamp *b);

/*
 * The expiry gauges (zoneproof_serving_certificate_expiry_timestamp_seconds
 * and zoneproof_client_ca_expiry_timestamp_seconds): x's notAfter, or the
 * earliest notAfter in a store of CAs. Set at each load; never fails.
 */
struct x509_st;
struct x509_store_st;
void zp_tls_expiry_serving(const struct x509_st *x);
void zp_tls_expiry_client_ca(struct x509_store_st *store);

/*
 * Loads the certificate chain and key (PEM). client_ca_file may be NULL; when
 * set, its subjects are sent as the acceptable client CAs, which lets a Go
 * client pick its front-proxy certificate. http2: offer h2 in ALPN, before
 * http/1.1 (h2.h).
 */
struct zp_tls *zp_tls_new(const char *cert_file, const char *key_file, const char *client_ca_file,
                          int http2, struct zp_err *err);
void zp_tls_free(struct zp_tls *t);

/*
 * Rebuilds the context when any file changed since the last attempt, or
 * always when force is set. Returns 1 when a new context is in place, 0 when
 * nothing changed, -1 when the new files are unusable: the old context stays
 * and err says why. Connections already open keep the context they started
 * with (each SSL holds a reference to it).
 */
int zp_tls_reload(struct zp_tls *t, int force, struct zp_err *err);

/* A server-side SSL for one new connection, on the current context. */
SSL *zp_tls_ssl_new(struct zp_tls *t);

#endif
