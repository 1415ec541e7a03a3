/*
 * tls.c — the serving TLS context: TLS 1.2 and later, ALPN http/1.1,
 * client certificates requested but not required, and a reload that swaps
 * in a new context when cert-manager renews the serving certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "k8s/tls.h"

enum { F_CERT, F_KEY, F_CA, F__MAX };

struct zp_tls {
    char *files[F__MAX]; /* F_CA may be NULL */
    struct zp_file_stamp stamps[F__MAX];
    SSL_CTX *ctx; /* the context new connections get */
    int http2;    /* offer h2 in ALPN */
};

/* Ciphers for TLS 1.2: forward secrecy and AEAD only; TLS 1.3 suites are fixed. */
static const char tls12_ciphers[] = "ECDHE+AESGCM:ECDHE+CHACHA20";
static const unsigned char alpn_http11[] = "\x08http/1.1";
/* In our order of preference: SSL_select_next_proto takes the first the client also offers. */
static const unsigned char alpn_h2_http11[] = "\x02h2\x08http/1.1";

void zp_file_stamp_get(const char *path, struct zp_file_stamp *st)
{
    struct stat sb;

    memset(st, 0, sizeof(*st));
    if (path == NULL || stat(path, &sb) != 0)
        return;
    st->ok = 1;
    st->dev = sb.st_dev;
    st->ino = sb.st_ino;
    st->size = sb.st_size;
    st->mtime = sb.st_mtim;
    st->ctime = sb.st_ctim;
}

int zp_file_stamp_same(const struct zp_file_stamp *a, const struct zp_file_stamp *b)
{
    return a->ok == b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/*
 * The handshake must succeed with any client certificate, or none: the
 * chain is checked against the request-header CA for each request under
 * /apis, where a failure can be answered with a 401 Status instead of a
 * handshake alert that kubelet probes and humans cannot read.
 */
static int accept_any_peer(int preverify_ok, X509_STORE_CTX *ctx)
{
    (void)preverify_ok;
    (void)ctx;
    return 1;
}

/*
 * h2 when the client offers it and HTTP/2 is on (arg non-NULL), else
 * http/1.1 when offered; otherwise no ALPN (Go clients then speak HTTP/1.1).
 * kube-apiserver's aggregator offers both and multiplexes on h2 (h2.h).
 */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    const unsigned char *ours = arg != NULL ? alpn_h2_http11 : alpn_http11;
    unsigned int n = arg != NULL ? sizeof(alpn_h2_http11) - 1 : sizeof(alpn_http11) - 1;
    unsigned char *sel = NULL;

    (void)ssl;
    if (SSL_select_next_proto(&sel, outlen, ours, n, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* The most specific OpenSSL reason, then an empty queue for the next caller. */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();

    if (e == 0)
        zp_strlcpy(buf, "unknown error", len);
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

static struct zp_metric m_serving =
    ZP_GAUGE("zoneproof_serving_certificate_expiry_timestamp_seconds",
             "When the webhook's serving certificate expires, in seconds since the epoch.", "");
static struct zp_metric m_client_ca = ZP_GAUGE(
    "zoneproof_client_ca_expiry_timestamp_seconds",
    "When the first certificate of the front-proxy CA bundle expires, in seconds since the epoch.",
    "");

/* Seconds since the epoch of t; 0 when it cannot be read. */
static double epoch_of(const ASN1_TIME *t)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (double)timegm(&tm);
}

void zp_tls_expiry_serving(const X509 *x)
{
    if (x != NULL)
        zp_metric_set(&m_serving, epoch_of(X509_get0_notAfter(x)), ZP_NOLABEL);
}

void zp_tls_expiry_client_ca(X509_STORE *store)
{
    STACK_OF(X509_OBJECT) *objs = store ? X509_STORE_get0_objects(store) : NULL;
    double first = 0;

    for (int i = 0; objs != NULL && i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        double t = x ? epoch_of(X509_get0_notAfter(x)) : 0;
        if (t > 0 && (first == 0 || t < first))
            first = t;
    }
    if (first > 0)
        zp_metric_set(&m_client_ca, first, ZP_NOLABEL);
}

static void log_cert(SSL_CTX *ctx, const char *file)
{
    X509 *x = SSL_CTX_get0_certificate(ctx);
    char subject[256] = "", serial[128] = "", not_after[64] = "";
    BIGNUM *bn;
    char *hex;
    BIO *mem;

    if (x == NULL)
        return;
    zp_tls_expiry_serving(x);
    X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
    if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) != NULL) {
        if ((hex = BN_bn2hex(bn)) != NULL) {
            zp_strlcpy(serial, hex, sizeof(serial));
            OPENSSL_free(hex);
        }
        BN_free(bn);
    }
    if ((mem = BIO_new(BIO_s_mem())) != NULL) {
        if (ASN1_TIME_print(mem, X509_get0_notAfter(x)) == 1) {
            int n = BIO_read(mem, not_after, (int)sizeof(not_after) - 1);
            not_after[n > 0 ? n : 0] = '\0';
        }
        BIO_free(mem);
    }
    zp_log(ZP_LOG_INFO, "serving certificate loaded", ZP_S("file", file), ZP_S("subject", subject),
           ZP_S("serial", serial), ZP_S("not_after", not_after), ZP_END);
}

static SSL_CTX *build_ctx(char *const files[F__MAX], int http2, struct zp_err *err)
{
    static const unsigned char sid_ctx[] = "zoneproof";
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method()), *ret = NULL;
    STACK_OF(X509_NAME) * cas;
    char why[256];

    if (ctx == NULL) {
        zp_err_set(err, ZP_EINTERNAL, "cannot create a TLS context: %s",
                   ssl_reason(why, sizeof(why)));
        goto out;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /*
     * No resumption at all. Stateless tickets would lose the peer's
     * intermediates, which authn needs to verify the front proxy again; and
     * the stateful cache kept about a kilobyte per handshake from anyone,
     * for a day, while no session ever resumed (connections end without
     * close_notify). The aggregator keeps its connections open, so a full
     * handshake is rare where it matters.
     */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot set the TLS 1.2 ciphers: %s",
                   ssl_reason(why, sizeof(why)));
        goto out;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_peer);
    /* Unused while resumption is off; without it, turning resumption on would fail every resume. */
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, http2 ? (void *)alpn_h2_http11 : NULL);

    /* OpenSSL would block on a FIFO; refuse anything but a file first. */
    if (zp_file_check_regular(files[F_CERT], "--tls-cert-file", err) == -1 ||
        zp_file_check_regular(files[F_KEY], "--tls-private-key-file", err) == -1)
        goto out;
    if (SSL_CTX_use_certificate_chain_file(ctx, files[F_CERT]) != 1) {
        zp_err_set(err, ZP_ECONFIG, "cannot load --tls-cert-file %s: %s", files[F_CERT],
                   ssl_reason(why, sizeof(why)));
        goto out;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, files[F_KEY], SSL_FILETYPE_PEM) != 1) {
        zp_err_set(err, ZP_ECONFIG, "cannot load --tls-private-key-file %s: %s", files[F_KEY],
                   ssl_reason(why, sizeof(why)));
        goto out;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        zp_err_set(err, ZP_ECONFIG,
                   "--tls-private-key-file %s does not belong to --tls-cert-file %s: %s",
                   files[F_KEY], files[F_CERT], ssl_reason(why, sizeof(why)));
        goto out;
    }
    /* Only a hint for the client; a missing CA file is reported by authn. */
    if (files[F_CA] != NULL && (cas = SSL_load_client_CA_file(files[F_CA])) != NULL)
        SSL_CTX_set_client_CA_list(ctx, cas);
    ret = ctx;
    ctx = NULL;
out:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return ret;
}

struct zp_tls *zp_tls_new(const char *cert_file, const char *key_file, const char *client_ca_file,
                          int http2, struct zp_err *err)
{
    struct zp_tls *t = NULL;

    if (cert_file == NULL || *cert_file == '\0' || key_file == NULL || *key_file == '\0') {
        zp_err_set(err, ZP_ECONFIG, "--tls-cert-file and --tls-private-key-file are required");
        goto out;
    }
    t = zp_xcalloc(1, sizeof(*t));
    t->files[F_CERT] = zp_xstrdup(cert_file);
    t->files[F_KEY] = zp_xstrdup(key_file);
    t->http2 = http2;
    if (client_ca_file != NULL && *client_ca_file != '\0')
        t->files[F_CA] = zp_xstrdup(client_ca_file);
    zp_file_warn_readable(key_file, "--tls-private-key-file");
    if (zp_tls_reload(t, 1, err) == -1) {
        zp_tls_free(t);
        t = NULL;
    }
out:
    return t;
}

void zp_tls_free(struct zp_tls *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->ctx);
    for (int i = 0; i < F__MAX; i++)
        free(t->files[i]);
    free(t);
}

int zp_tls_reload(struct zp_tls *t, int force, struct zp_err *err)
{
    struct zp_file_stamp now[F__MAX];
    int changed = 0;
    SSL_CTX *ctx;

    for (int i = 0; i < F__MAX; i++) {
        zp_file_stamp_get(t->files[i], &now[i]);
        if (!zp_file_stamp_same(&now[i], &t->stamps[i]))
            changed = 1;
    }
    if (!changed && !force && t->ctx != NULL)
        return 0;
    /*
     * Remember what was tried, good or bad: a broken file is reported once,
     * not every minute, and the next change is tried again. A certificate
     * written before its key fails once and then succeeds on the key's turn.
     */
    memcpy(t->stamps, now, sizeof(now));
    if ((ctx = build_ctx(t->files, t->http2, err)) == NULL)
        return -1;
    log_cert(ctx, t->files[F_CERT]);
    /* Open connections hold their own reference; this drops only ours. */
    SSL_CTX_free(t->ctx);
    t->ctx = ctx;
    return 1;
}

SSL *zp_tls_ssl_new(struct zp_tls *t)
{
    SSL *ssl = SSL_new(t->ctx);

    /*
     * Only memory exhaustion makes SSL_new fail. Returning NULL would make
     * evhttp fall back to a plain-text connection on the TLS port, so stop
     * here, as every other allocation failure does (base/mem.h).
     */
    if (ssl == NULL) {
        zp_log(ZP_LOG_ERROR, "cannot allocate a TLS connection", ZP_END);
        abort();
    }
    return ssl;
}
