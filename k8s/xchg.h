/*
 * xchg.h — one HTTP request and its answer, whichever protocol carried
 * it: HTTP/1.1 through evhttp (h1.c) or a stream of an HTTP/2 connection
 * (h2.c). api.c reads the request and answers through this view only, so
 * both protocols get the same routes, checks, sentences and log lines.
 *
 * Event-loop thread only. The transport owns the exchange: it stays valid
 * until reply() is called (which ends it) or until the peer goes, which
 * the transport reports to the watcher set with watch() just before it
 * frees the exchange. A handler that neither replies nor watches before it
 * returns must not keep the pointer.
 */
#ifndef ZP_K8S_XCHG_H
#define ZP_K8S_XCHG_H

#include <stddef.h>

#include <openssl/ssl.h>

struct evkeyvalq;
struct zp_xchg;

struct zp_xchg_hdr {
    const char *name, *value;
};

struct zp_xchg_ops {
    /*
     * Sends the answer and ends the exchange (x is freed). hdrs are extra
     * response headers; close asks an HTTP/1.1 client to close the
     * connection afterwards (HTTP/2 has no such header: a draining server
     * sends GOAWAY instead). For HEAD the body is not sent.
     */
    void (*reply)(struct zp_xchg *x, int code, const struct zp_xchg_hdr *hdrs, size_t nhdrs,
                  const char *body, size_t len, int close);
    /*
     * gone(arg) runs once if the peer goes before the reply; the exchange
     * is freed right after it. gone = NULL stops watching.
     */
    void (*watch)(struct zp_xchg *x, void (*gone)(void *arg), void *arg);
};

struct zp_xchg {
    const struct zp_xchg_ops *ops;
    const char *method;              /* as sent: "GET", "POST", ... */
    const char *path;                /* without the query string; NULL when the target is bad */
    const struct evkeyvalq *headers; /* the request's, names case-insensitive */
    const char *body;                /* the request body (not NUL-terminated), or NULL */
    size_t body_len;
    int body_too_large; /* it was over ZP_SERVER_MAX_BODY: body is NULL, the answer is a 413 */
    SSL *ssl;           /* the connection's TLS: the client certificate */
    const char *remote; /* the peer's address, for the log */
};

#endif
