/*
 * h1.c — the HTTP/1.1 side of an exchange: evhttp's request, its reply
 * and its connection's close callback behind xchg.h's two operations.
 *
 * The wrapper lives from the gencb to the reply, or to the close of the
 * connection when the peer goes first (evhttp then frees the request
 * itself). An HTTP/1.1 connection carries one request at a time, so the
 * connection's single close callback is the exchange's.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "base/httpc.h"
#include "base/mem.h"
#include "k8s/conn.h"
#include "k8s/h1.h"
#include "k8s/server.h"
#include "k8s/xchg.h"

struct h1x {
    struct zp_xchg x; /* first: the operations get this pointer back */
    struct evhttp_request *req;
    struct evhttp_connection *evcon;
    void (*gone)(void *arg);
    void *gone_arg;
    char remote[64];
};

/* Every code this server sends has its phrase; anything else is an internal error. */
static const char *phrase(int code)
{
    const char *p = zp_http_reason(code);

    return *p != '\0' ? p : "Internal Server Error";
}

static const char *method_name(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    }
    return "OTHER";
}

static void h1_reply(struct zp_xchg *x, int code, const struct zp_xchg_hdr *hdrs, size_t nhdrs,
                     const char *body, size_t len, int close)
{
    struct h1x *e = (struct h1x *)x;
    struct evkeyvalq *out = evhttp_request_get_output_headers(e->req);

    for (size_t i = 0; i < nhdrs; i++)
        evhttp_add_header(out, hdrs[i].name, hdrs[i].value);
    if (close)
        evhttp_add_header(out, "Connection", "close");
    if (evhttp_request_get_command(e->req) != EVHTTP_REQ_HEAD)
        evbuffer_add(evhttp_request_get_output_buffer(e->req), body, len);
    /* Forget the connection first: the reply may close and free it. */
    if (e->gone != NULL)
        evhttp_connection_set_closecb(e->evcon, NULL, NULL);
    evhttp_send_reply(e->req, code, phrase(code), NULL);
    free(e);
}

static void on_close(struct evhttp_connection *evcon, void *arg)
{
    struct h1x *e = arg;
    void (*gone)(void *arg) = e->gone;
    void *gone_arg = e->gone_arg;

    (void)evcon;
    free(e);
    gone(gone_arg);
}

static void h1_watch(struct zp_xchg *x, void (*gone)(void *arg), void *arg)
{
    struct h1x *e = (struct h1x *)x;

    e->gone = gone;
    e->gone_arg = arg;
    evhttp_connection_set_closecb(e->evcon, gone != NULL ? on_close : NULL,
                                  gone != NULL ? e : NULL);
}

static const struct zp_xchg_ops h1_ops = {h1_reply, h1_watch};

void zp_h1_handle(struct evhttp_request *req, void (*handle)(struct zp_xchg *x, void *arg),
                  void *arg)
{
    struct h1x *e = zp_xcalloc(1, sizeof(*e));
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    char *peer = NULL;
    ev_uint16_t port = 0;

    e->req = req;
    e->evcon = evhttp_request_get_connection(req);
    e->x.ops = &h1_ops;
    e->x.method = method_name(evhttp_request_get_command(req));
    e->x.path = uri ? evhttp_uri_get_path(uri) : NULL;
    e->x.headers = evhttp_request_get_input_headers(req);
    if (n > ZP_SERVER_MAX_BODY) {
        e->x.body_too_large = 1;
    } else if (n > 0) {
        e->x.body = (const char *)evbuffer_pullup(in, -1);
        e->x.body_len = n;
    }
    if (e->evcon != NULL) {
        e->x.ssl = zp_conn_ssl(evhttp_connection_get_bufferevent(e->evcon));
        evhttp_connection_get_peer(e->evcon, &peer, &port);
        zp_strlcpy(e->remote, peer ? peer : "", sizeof(e->remote));
    }
    e->x.remote = e->remote;
    handle(&e->x, arg);
}
