/*
 * h2.h — HTTP/2 on one server connection (RFC 9113), through nghttp2.
 *
 * Why: kube-apiserver's aggregator proxies to an APIService over HTTP/2
 * whenever the backend offers "h2" in ALPN, and then multiplexes every
 * concurrent call on a few connections. With HTTP/1.1 each waiting Present
 * holds a TLS connection of its own (about 20 KB in OpenSSL 3 alone); with
 * HTTP/2 it holds a stream.
 *
 * The module does no I/O: the caller feeds it the bytes TLS decrypted
 * (zp_h2_recv) and it appends what it sends to the evbuffer given at
 * creation (the connection's output; a plain evbuffer in tests). Each
 * complete request is handed to cfg.dispatch as a zp_xchg (xchg.h) whose
 * reply may come later, from the loop, while other streams go on.
 *
 * Limits, all advertised in SETTINGS and enforced: concurrent streams,
 * the header list size, the request body (the rest is read and dropped
 * for flow control, and the exchange says body_too_large), and nghttp2's
 * own guards against floods of resets, pings and SETTINGS.
 *
 * Event-loop thread only.
 */
#ifndef ZP_K8S_H2_H
#define ZP_K8S_H2_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "k8s/xchg.h"

struct evbuffer;

/* "h2" in ALPN's wire form */
#define ZP_H2_ALPN "\x02h2"

struct zp_h2_cfg {
    unsigned max_streams;   /* SETTINGS_MAX_CONCURRENT_STREAMS */
    size_t max_header_list; /* SETTINGS_MAX_HEADER_LIST_SIZE: a longer list resets the stream */
    size_t max_body;        /* beyond this the exchange is body_too_large */
    /* A complete request; it answers through x->ops, now or later. */
    void (*dispatch)(struct zp_xchg *x, void *arg);
    void *arg;
    SSL *ssl;           /* copied into every exchange */
    const char *remote; /* copied */
};

struct zp_h2;

/* Queues the server's SETTINGS into out. NULL only when nghttp2 cannot allocate. */
struct zp_h2 *zp_h2_new(const struct zp_h2_cfg *cfg, struct evbuffer *out);
/*
 * Bytes from the peer. Returns 0, or -1 when the connection must end (a
 * protocol error: the GOAWAY is already in out, so write out, then close).
 */
int zp_h2_recv(struct zp_h2 *h, const unsigned char *p, size_t len);
/* Streams open: a request being received or waiting for its answer. */
unsigned zp_h2_streams(const struct zp_h2 *h);
/* A stop: GOAWAY (no new streams); those open are still answered. */
void zp_h2_goaway(struct zp_h2 *h);
/* 1 when nothing is left to read or write: the connection may close. */
int zp_h2_done(const struct zp_h2 *h);
/* The connection is gone: each exchange still waiting sees its gone() first. */
void zp_h2_free(struct zp_h2 *h);

#endif
