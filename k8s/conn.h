/*
 * conn.h — the server's guard on each connection, between TLS and evhttp:
 * a cap on open connections, a deadline for each phase (TLS handshake,
 * request headers, request body) that the peer cannot stretch by
 * trickling bytes, and a look at every request's headers before evhttp
 * sees them, so that a caller without a verified front-proxy certificate
 * gets its 401 before any body is read, and ambiguous framing (conflicting
 * Content-Length, Content-Length with Transfer-Encoding) a 400.
 *
 * evhttp reads each connection's TLS bufferevent; the guard holds a
 * request's bytes back from it until its header block is complete and
 * checked. A connection whose ALPN chose h2 is handed to h2.c instead.
 * Event-loop thread only.
 */
#ifndef ZP_K8S_CONN_H
#define ZP_K8S_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct bufferevent;
struct event_base;
struct evhttp_request;
struct zp_authn;
struct zp_xchg;

struct zp_conns_cfg {
    struct event_base *base;
    struct zp_authn *authn;  /* the front-proxy CA the early check uses */
    const char *group;       /* for routing: which paths need a certificate */
    const char *solver_name; /* idem */
    unsigned max_conns;      /* at this many, a new one replaces the oldest unverified */
    uint64_t handshake_ms;   /* from accept to the end of the TLS handshake */
    uint64_t header_ms;      /* from the handshake (or a request's first byte) to its last header */
    uint64_t body_ms;        /* from the last header to the last byte of the body */
    size_t max_headers;      /* beyond this without an end, evhttp gets the bytes and refuses */
    uint64_t idle_ms;        /* HTTP/2: an open connection with no stream closes after this */
    unsigned h2_streams;     /* HTTP/2: concurrent streams of a verified peer */
    /* HTTP/2 requests (h2.h); NULL: ALPN never picks h2, so every connection is evhttp's */
    void (*dispatch)(struct zp_xchg *x, void *arg);
    void *dispatch_arg;
};

struct zp_conns;

struct zp_conns *zp_conns_new(const struct zp_conns_cfg *cfg);
/* After evhttp_free: every connection is gone by then. */
void zp_conns_free(struct zp_conns *g);

/*
 * The bufferevent for a connection evhttp has just accepted (its bevcb).
 * ssl is made by the caller and owned by the result. Over the cap, ssl is
 * freed and the connection is closed before any TLS.
 */
struct bufferevent *zp_conns_bev(struct zp_conns *g, SSL *ssl);
/*
 * 1 when a new connection would be over the cap: the caller makes no SSL.
 * At the cap, the oldest connection without a verified client certificate
 * is closed to make room (0); 1 only when every one is verified or busy.
 */
int zp_conns_full(struct zp_conns *g);

/*
 * The request is complete (evhttp's gencb, before the handler): its
 * deadlines stop; the next request's phase starts once this one's reply
 * has been sent.
 */
void zp_conns_request(struct evhttp_request *req);

/* A stop: every HTTP/2 connection gets a GOAWAY; its open streams are still answered. */
void zp_conns_goaway(struct zp_conns *g);

/* The TLS session of an evhttp connection's bufferevent, or NULL. */
SSL *zp_conn_ssl(struct bufferevent *bev);

#endif
