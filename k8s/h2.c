/*
 * h2.c — HTTP/2 on one connection (h2.h): an nghttp2 server session fed
 * from memory, and one struct stream per request, holding the zp_xchg that
 * api.c sees. A stream lives from its HEADERS until nghttp2 closes it,
 * which is once its answer has been sent, not when it is given; the session
 * also keeps them on a list, because nghttp2_session_del closes none.
 *
 * nghttp2 must not be asked to send from inside one of its own callbacks:
 * a reply given there (dispatch answering at once, a gone() answering
 * another stream) is only submitted, and sent when nghttp2 returns.
 */
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <nghttp2/nghttp2.h>

#include "base/log.h"
#include "base/mem.h"
#include "k8s/h2.h"

/* What a header costs in the list's size: name, value and 32 bytes (RFC 9113, 6.5.2). */
#define HDR_OVERHEAD 32
/* Guards set where nghttp2 has a default: SETTINGS entries a frame, ACKs queued, resets. */
#define MAX_SETTINGS 16
#define MAX_OUTBOUND_ACK 256
#define RESET_BURST 1000
#define RESET_RATE 33

struct stream {
    struct zp_xchg x; /* what api.c holds */
    struct zp_h2 *h;
    int32_t id;
    struct evkeyvalq headers;
    char *method, *path, *body;
    size_t body_cap;
    size_t hsize; /* the header list so far, counted as above */
    char *out;    /* the answer's body, sent from out_at */
    size_t out_len, out_at;
    void (*gone)(void *arg);
    void *gone_arg;
    unsigned dispatched : 1;
    unsigned ended : 1;   /* replied, or gone: the exchange is over for api.c */
    unsigned refused : 1; /* reset by us before dispatch: nothing more is kept */
    unsigned host : 1;    /* a host header is kept */
    struct stream *prev, *next;
};

struct zp_h2 {
    nghttp2_session *s;
    struct evbuffer *out;
    struct zp_h2_cfg cfg;
    char *remote;
    struct stream *streams; /* every one alive */
    unsigned n;
    int busy;    /* inside nghttp2: what is submitted is sent when it returns */
    int freeing; /* zp_h2_free: a reply sends nothing */
    int failed;  /* the session cannot go on: the connection ends */
    int warned;
};

static struct stream *stream_of(struct zp_xchg *x)
{
    return (struct stream *)((char *)x - offsetof(struct stream, x));
}

static void link_stream(struct zp_h2 *h, struct stream *st)
{
    st->next = h->streams;
    if (h->streams != NULL)
        h->streams->prev = st;
    h->streams = st;
    h->n++;
}

static void unlink_stream(struct stream *st)
{
    struct zp_h2 *h = st->h;

    if (st->prev != NULL)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    h->n--;
}

/* The request's parts, once nobody reads them: the answer's remain. */
static void forget_request(struct stream *st)
{
    evhttp_clear_headers(&st->headers);
    ZP_FREE(st->method);
    ZP_FREE(st->path);
    ZP_FREE(st->body);
    st->body_cap = 0;
    st->x.method = NULL;
    st->x.path = NULL;
    st->x.body = NULL;
    st->x.body_len = 0;
}

static void stream_free(struct stream *st)
{
    forget_request(st);
    free(st->out);
    free(st);
}

/* One line a connection: the peer's next mistakes say nothing new. */
static void warn_once(struct zp_h2 *h, const char *why)
{
    if (h->warned)
        return;
    h->warned = 1;
    zp_log(ZP_LOG_WARN, "http/2 connection ended on a protocol error", ZP_S("error", why),
           ZP_S("remote", h->remote), ZP_END);
}

/* Everything nghttp2 has to send, into out. */
static void drain(struct zp_h2 *h)
{
    const uint8_t *p;
    ssize_t n;

    h->busy = 1;
    while ((n = nghttp2_session_mem_send(h->s, &p)) > 0) {
        if (evbuffer_add(h->out, p, (size_t)n) == -1)
            abort(); /* allocation only */
    }
    if (n < 0) {
        warn_once(h, nghttp2_strerror((int)n));
        h->failed = 1;
    }
    h->busy = 0;
}

/* ---- The request ------------------------------------------------------------- */

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    struct zp_h2 *h = arg;
    struct stream *st;

    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    st = zp_xcalloc(1, sizeof(*st));
    st->h = h;
    st->id = f->hd.stream_id;
    TAILQ_INIT(&st->headers);
    if (nghttp2_session_set_stream_user_data(s, st->id, st) != 0) {
        free(st);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    link_stream(h, st);
    return 0;
}

/* Over the header list's limit: the stream is reset, and what it had is dropped. */
static void refuse(struct stream *st)
{
    st->refused = 1;
    forget_request(st);
    nghttp2_submit_rst_stream(st->h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_ENHANCE_YOUR_CALM);
    zp_log(ZP_LOG_DEBUG, "http/2 request header list over the limit: stream reset",
           ZP_I("stream", st->id), ZP_I("max_header_list", st->h->cfg.max_header_list),
           ZP_S("remote", st->h->remote), ZP_END);
}

/*
 * nghttp2 has checked the field (names lower case, no CR, LF or NUL, pseudo
 * headers first and once) and ends both strings with a NUL.
 */
static void keep_header(struct stream *st, const char *name, size_t nl, const char *value,
                        size_t vl)
{
    if (nl == 7 && memcmp(name, ":method", 7) == 0) {
        if (st->method == NULL)
            st->method = zp_xstrndup(value, vl);
    } else if (nl == 5 && memcmp(name, ":path", 5) == 0) {
        /* As api.c routes an HTTP/1.1 target: the path alone, and only an absolute one. */
        if (st->path == NULL && vl > 0 && value[0] == '/')
            st->path = zp_xstrndup(value, strcspn(value, "?#"));
    } else if (nl == 10 && memcmp(name, ":authority", 10) == 0) {
        if (!st->host && evhttp_add_header(&st->headers, "host", value) == 0)
            st->host = 1;
    } else if (name[0] == ':') {
        /* :scheme, :protocol: counted, not kept */
    } else if (nl == 4 && memcmp(name, "host", 4) == 0) {
        if (!st->host && evhttp_add_header(&st->headers, "host", value) == 0)
            st->host = 1;
    } else {
        evhttp_add_header(&st->headers, name, value);
    }
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *arg)
{
    struct zp_h2 *h = arg;
    struct stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);

    (void)flags;
    if (st == NULL || st->refused || st->dispatched)
        return 0;
    /* hsize never passes the limit, so the subtraction cannot wrap. */
    if (nl + vl + HDR_OVERHEAD > h->cfg.max_header_list - st->hsize) {
        refuse(st);
        return 0;
    }
    st->hsize += nl + vl + HDR_OVERHEAD;
    /* Trailers count against the limit; nothing reads them. */
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
        keep_header(st, (const char *)name, nl, (const char *)value, vl);
    return 0;
}

/*
 * A body past max_body is dropped as it comes. nghttp2 opens the flow
 * control windows again for what it has handed over (automatic
 * WINDOW_UPDATE), kept or not, so the peer can always send it all.
 */
static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *arg)
{
    struct zp_h2 *h = arg;
    struct stream *st = nghttp2_session_get_stream_user_data(s, id);
    size_t need, max = h->cfg.max_body;

    (void)flags;
    if (st == NULL || st->refused || st->dispatched || st->x.body_too_large || len == 0)
        return 0;
    if (len > max - st->x.body_len) {
        st->x.body_too_large = 1;
        ZP_FREE(st->body);
        st->body_cap = 0;
        st->x.body_len = 0;
        return 0;
    }
    need = st->x.body_len + len;
    if (need > st->body_cap) {
        size_t cap = st->body_cap ? st->body_cap : 1024;

        while (cap < need)
            cap = cap <= max / 2 ? cap * 2 : max;
        if (cap > max)
            cap = max; /* still >= need, which is at most max */
        st->body = zp_xrealloc(st->body, cap);
        st->body_cap = cap;
    }
    memcpy(st->body + st->x.body_len, data, len);
    st->x.body_len = need;
    return 0;
}

static const struct zp_xchg_ops h2_ops;

/* The request is all here: api.c gets it. */
static void complete(struct zp_h2 *h, struct stream *st)
{
    struct zp_xchg *x = &st->x;

    if (st->dispatched || st->refused)
        return;
    if (st->method == NULL) { /* nghttp2 resets such a stream first: this is a second guard */
        st->refused = 1;
        nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_PROTOCOL_ERROR);
        return;
    }
    st->dispatched = 1;
    x->ops = &h2_ops;
    x->method = st->method;
    x->path = st->path;
    x->headers = &st->headers;
    x->body = x->body_len > 0 ? st->body : NULL;
    x->ssl = h->cfg.ssl;
    x->remote = h->remote;
    h->cfg.dispatch(x, h->cfg.arg);
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    struct stream *st;

    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
        return 0;
    if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (st != NULL)
        complete(arg, st);
    return 0;
}

/* nghttp2 ends the connection on its own for most protocol errors: say why, once. */
static int on_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    (void)s;
    if (f->hd.type == NGHTTP2_GOAWAY && f->goaway.error_code != NGHTTP2_NO_ERROR)
        warn_once(arg, nghttp2_http2_strerror(f->goaway.error_code));
    return 0;
}

/* The end of a stream: answered and sent, or reset by either side. */
static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *arg)
{
    struct zp_h2 *h = arg;
    struct stream *st = nghttp2_session_get_stream_user_data(s, id);
    void (*gone)(void *) = NULL;

    if (st == NULL)
        return 0;
    if (code != NGHTTP2_NO_ERROR)
        zp_log(ZP_LOG_DEBUG, "http/2 stream reset", ZP_I("stream", id),
               ZP_S("error", nghttp2_http2_strerror(code)), ZP_S("remote", h->remote), ZP_END);
    unlink_stream(st);
    if (st->dispatched && !st->ended)
        gone = st->gone;
    st->ended = 1; /* a reply from gone() is ignored */
    if (gone != NULL)
        gone(st->gone_arg);
    stream_free(st);
    return 0;
}

/* ---- The answer ----------------------------------------------------------------- */

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *arg)
{
    struct stream *st = src->ptr;
    size_t n = st->out_len - st->out_at;

    (void)s;
    (void)id;
    (void)arg;
    if (n > len)
        n = len;
    if (n > 0)
        memcpy(buf, st->out + st->out_at, n);
    st->out_at += n;
    if (st->out_at == st->out_len) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        ZP_FREE(st->out);
    }
    return (ssize_t)n;
}

/* Whether a header given to reply may go out in HTTP/2 (name already lower case). */
static int sendable(const char *name, const char *value)
{
    static const char *const dropped[] = {
        "connection", "keep-alive", "proxy-connection", "transfer-encoding",
        "upgrade",    "te",         "content-length", /* ours, from the body */
    };

    if (name[0] == '\0' || name[0] == ':' || value == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
        if (strcmp(name, dropped[i]) == 0)
            return 0;
    }
    return nghttp2_check_header_name((const uint8_t *)name, strlen(name)) &&
           nghttp2_check_header_value_rfc9113((const uint8_t *)value, strlen(value));
}

static nghttp2_nv nv_of(const char *name, const char *value)
{
    nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
                     NGHTTP2_NV_FLAG_NONE};
    return nv;
}

/* A status whose answer has no body and no length (RFC 9110, 8.6). */
static int bare(int code)
{
    return code == 204 || code == 304;
}

/* The HEADERS (and DATA, from st->out) of the answer; nghttp2 copies the fields. */
static void submit(struct stream *st, int code, const struct zp_xchg_hdr *hdrs, size_t nhdrs,
                   size_t len)
{
    nghttp2_nv *nv = zp_xcalloc(nhdrs + 2, sizeof(*nv));
    nghttp2_data_provider dp = {.source.ptr = st, .read_callback = read_body};
    char status[8], cl[24];
    size_t n = 0, named;

    snprintf(status, sizeof(status), "%d", code);
    nv[n++] = nv_of(":status", status);
    for (size_t i = 0; i < nhdrs; i++) {
        char *name = zp_xstrdup(hdrs[i].name ? hdrs[i].name : "");

        for (char *c = name; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        if (sendable(name, hdrs[i].value))
            nv[n++] = nv_of(name, hdrs[i].value);
        else
            free(name);
    }
    named = n;
    snprintf(cl, sizeof(cl), "%zu", len);
    if (!bare(code))
        nv[n++] = nv_of("content-length", cl);
    if (nghttp2_submit_response(st->h->s, st->id, nv, n, st->out != NULL ? &dp : NULL))
        nghttp2_submit_rst_stream(st->h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    for (size_t i = 1; i < named; i++)
        free(nv[i].name);
    free(nv);
}

static void x_reply(struct zp_xchg *x, int code, const struct zp_xchg_hdr *hdrs, size_t nhdrs,
                    const char *body, size_t len, int close)
{
    struct stream *st = stream_of(x);
    struct zp_h2 *h = st->h;

    (void)close; /* HTTP/2 ends a connection with GOAWAY: zp_h2_goaway */
    if (st->ended)
        return;
    st->ended = 1;
    st->gone = NULL;
    if (code < 200 || code > 599)
        code = 500; /* a final answer: 1xx are not */
    if (!h->freeing) {
        if (len > 0 && body != NULL && !bare(code) && strcmp(st->method, "HEAD") != 0) {
            st->out = zp_xmalloc(len);
            memcpy(st->out, body, len);
            st->out_len = len;
        }
        submit(st, code, hdrs, nhdrs, len); /* hdrs and body may point into the request */
    }
    forget_request(st);
    if (!h->freeing && !h->busy)
        drain(h);
}

static void x_watch(struct zp_xchg *x, void (*gone)(void *arg), void *arg)
{
    struct stream *st = stream_of(x);

    if (st->ended)
        return;
    st->gone = gone;
    st->gone_arg = arg;
}

static const struct zp_xchg_ops h2_ops = {.reply = x_reply, .watch = x_watch};

/* ---- The session ---------------------------------------------------------------- */

static int session_new(struct zp_h2 *h)
{
    nghttp2_session_callbacks *cb = NULL;
    nghttp2_option *opt = NULL;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, h->cfg.max_streams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
         h->cfg.max_header_list > UINT32_MAX ? UINT32_MAX : (uint32_t)h->cfg.max_header_list},
        /* No priority tree, and no closed streams kept for it. */
        {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
    };
    int rc = -1;

    if (nghttp2_session_callbacks_new(&cb) != 0 || nghttp2_option_new(&opt) != 0)
        goto out;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_option_set_no_closed_streams(opt, 1);
    nghttp2_option_set_max_settings(opt, MAX_SETTINGS);
    nghttp2_option_set_max_outbound_ack(opt, MAX_OUTBOUND_ACK);
    nghttp2_option_set_stream_reset_rate_limit(opt, RESET_BURST, RESET_RATE);
    if (nghttp2_session_server_new2(&h->s, cb, h, opt) != 0) {
        h->s = NULL;
        goto out;
    }
    if (nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) != 0)
        goto out;
    rc = 0;
out:
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    return rc;
}

struct zp_h2 *zp_h2_new(const struct zp_h2_cfg *cfg, struct evbuffer *out)
{
    struct zp_h2 *h = zp_xcalloc(1, sizeof(*h));

    h->cfg = *cfg;
    h->remote = zp_xstrdup(cfg->remote != NULL ? cfg->remote : "");
    h->cfg.remote = h->remote;
    h->out = out;
    if (session_new(h) == -1) {
        nghttp2_session_del(h->s);
        free(h->remote);
        free(h);
        return NULL;
    }
    drain(h);
    return h;
}

int zp_h2_recv(struct zp_h2 *h, const unsigned char *p, size_t len)
{
    ssize_t rv;

    if (h->failed)
        return -1;
    h->busy = 1;
    rv = nghttp2_session_mem_recv(h->s, p, len);
    h->busy = 0;
    if (rv < 0) {
        /* A bad preface, a flood, no memory: nghttp2 leaves the GOAWAY to us. */
        warn_once(h, nghttp2_strerror((int)rv));
        nghttp2_session_terminate_session(
            h->s, rv == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
        h->failed = 1;
    }
    drain(h);
    /* No longer reading: a GOAWAY ended it (ours or the peer's) with nothing open, or an error. */
    return h->failed || !nghttp2_session_want_read(h->s) ? -1 : 0;
}

unsigned zp_h2_streams(const struct zp_h2 *h)
{
    return h->n;
}

void zp_h2_goaway(struct zp_h2 *h)
{
    if (h->failed)
        return;
    nghttp2_submit_goaway(h->s, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h->s),
                          NGHTTP2_NO_ERROR, NULL, 0);
    if (!h->busy)
        drain(h);
}

int zp_h2_done(const struct zp_h2 *h)
{
    return h->failed || (!nghttp2_session_want_read(h->s) && !nghttp2_session_want_write(h->s));
}

void zp_h2_free(struct zp_h2 *h)
{
    struct stream *st, *next;

    if (h == NULL)
        return;
    h->freeing = 1;
    /* A gone() may answer another stream: that one is then ended, and not told. */
    for (st = h->streams; st != NULL; st = st->next) {
        void (*gone)(void *) = st->dispatched && !st->ended ? st->gone : NULL;

        st->ended = 1;
        if (gone != NULL)
            gone(st->gone_arg);
    }
    nghttp2_session_del(h->s); /* calls none of our callbacks */
    for (st = h->streams; st != NULL; st = next) {
        next = st->next;
        stream_free(st);
    }
    free(h->remote);
    free(h);
}
