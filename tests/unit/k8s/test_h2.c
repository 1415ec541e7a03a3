/*
 * test_h2.c — h2.c as a client sees it: an nghttp2 client session in
 * memory writes to zp_h2_recv and reads the server's out buffer, back and
 * forth until neither has anything left to say. Covers what api.c is
 * given (method, path without its query, headers, body), the answer as it
 * arrives (status, lower-case headers, length, body; none for HEAD; no
 * connection-specific header), streams answered out of order, the limits
 * (body, header list, concurrent streams), gone() on a reset and on
 * zp_h2_free, a peer that does not speak HTTP/2, and GOAWAY.
 */
#include <sys/queue.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <nghttp2/nghttp2.h>

#include "base/mem.h"
#include "k8s/h2.h"

#define MAX_X 16

/* What api.c was given, copied while the exchange is valid. */
struct seen {
    char method[16], path[256], user[64], host[64];
    int no_path;
    size_t body_len;
    int body_null, too_large, body_ok;
};

/* One request of the client, and its answer. */
struct resp {
    const char *send; /* the request body */
    size_t send_len, sent;
    int defer; /* the body is not ready: the request stays open */
    int status;
    char hdrs[2048]; /* "name: value\n" each */
    char *body;
    size_t body_len;
    int closed;
    uint32_t code;
};

struct world {
    struct zp_h2 *h;
    struct evbuffer *out;
    nghttp2_session *client;
    int rc;        /* the last zp_h2_recv; -1 stays */
    int reply_now; /* dispatch answers at once, with the path as the body */
    int watch;     /* dispatch watches the exchange */
    int drip;      /* the client's bytes go in one at a time */
    int n;         /* exchanges dispatched */
    struct zp_xchg *x[MAX_X];
    struct seen seen[MAX_X];
    int gone[MAX_X];
    int goaway;
    uint32_t goaway_code;
};

static const char *const pattern_of = "0123456789abcdefghijklmnopqrstuvwxyz";

static char *pattern(size_t n)
{
    char *p = zp_xmalloc(n);

    for (size_t i = 0; i < n; i++)
        p[i] = pattern_of[(i * 7 + i / 36) % 36];
    return p;
}

static int is_pattern(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != pattern_of[(i * 7 + i / 36) % 36])
            return 0;
    }
    return 1;
}

static void on_gone(void *arg)
{
    (*(int *)arg)++;
}

static void answer(struct world *w, int i, int code, const struct zp_xchg_hdr *hdrs, size_t nhdrs,
                   const char *body)
{
    struct zp_xchg *x = w->x[i];

    assert_non_null(x);
    w->x[i] = NULL;
    x->ops->reply(x, code, hdrs, nhdrs, body, body ? strlen(body) : 0, 0);
}

static void dispatch(struct zp_xchg *x, void *arg)
{
    struct world *w = arg;
    struct seen *s;
    const char *v;
    int i = w->n++;

    assert_true(i < MAX_X);
    s = &w->seen[i];
    w->x[i] = x;
    assert_non_null(x->ops);
    assert_null(x->ssl);
    assert_string_equal(x->remote, "192.0.2.7");
    snprintf(s->method, sizeof(s->method), "%s", x->method);
    s->no_path = x->path == NULL;
    snprintf(s->path, sizeof(s->path), "%s", x->path ? x->path : "");
    if ((v = evhttp_find_header(x->headers, "X-Remote-User")) != NULL)
        snprintf(s->user, sizeof(s->user), "%s", v);
    if ((v = evhttp_find_header(x->headers, "Host")) != NULL)
        snprintf(s->host, sizeof(s->host), "%s", v);
    s->body_len = x->body_len;
    s->body_null = x->body == NULL;
    s->too_large = x->body_too_large;
    s->body_ok = x->body != NULL && is_pattern(x->body, x->body_len);
    if (w->reply_now) {
        struct zp_xchg_hdr ct = {"Content-Type", "text/plain"};
        answer(w, i, 200, &ct, 1, s->path);
    } else if (w->watch) {
        x->ops->watch(x, on_gone, &w->gone[i]);
    }
}

/* ---- the client ------------------------------------------------------------------ */

static int c_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                    const uint8_t *value, size_t vl, uint8_t flags, void *arg)
{
    struct resp *r = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    size_t at;

    (void)flags;
    (void)arg;
    if (r == NULL)
        return 0;
    if (nl == 7 && memcmp(name, ":status", 7) == 0)
        r->status = (int)strtol((const char *)value, NULL, 10);
    at = strlen(r->hdrs);
    snprintf(r->hdrs + at, sizeof(r->hdrs) - at, "%.*s: %.*s\n", (int)nl, (const char *)name,
             (int)vl, (const char *)value);
    return 0;
}

static int c_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                  void *arg)
{
    struct resp *r = nghttp2_session_get_stream_user_data(s, id);

    (void)flags;
    (void)arg;
    if (r == NULL)
        return 0;
    r->body = zp_xrealloc(r->body, r->body_len + len + 1);
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return 0;
}

static int c_close(nghttp2_session *s, int32_t id, uint32_t code, void *arg)
{
    struct resp *r = nghttp2_session_get_stream_user_data(s, id);

    (void)arg;
    if (r != NULL) {
        r->closed++;
        r->code = code;
    }
    return 0;
}

static int c_frame(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    struct world *w = arg;

    (void)s;
    if (f->hd.type == NGHTTP2_GOAWAY) {
        w->goaway++;
        w->goaway_code = f->goaway.error_code;
    }
    return 0;
}

static ssize_t c_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                      nghttp2_data_source *src, void *arg)
{
    struct resp *r = src->ptr;
    size_t n = r->send_len - r->sent;

    (void)s;
    (void)id;
    (void)arg;
    if (r->defer)
        return NGHTTP2_ERR_DEFERRED;
    if (n > len)
        n = len;
    memcpy(buf, r->send + r->sent, n);
    r->sent += n;
    if (r->sent == r->send_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static void feed(struct world *w, const uint8_t *p, size_t n)
{
    if (w->rc == -1)
        return;
    if (!w->drip) {
        w->rc = zp_h2_recv(w->h, p, n);
        return;
    }
    for (size_t i = 0; i < n && w->rc == 0; i++)
        w->rc = zp_h2_recv(w->h, p + i, 1);
}

/* Both ways until nothing moves. */
static void pump(struct world *w)
{
    for (int round = 0; round < 10000; round++) {
        const uint8_t *p;
        ssize_t n;
        size_t len;
        int moved = 0;

        while ((n = nghttp2_session_mem_send(w->client, &p)) > 0) {
            moved = 1;
            feed(w, p, (size_t)n);
        }
        assert_true(n == 0);
        len = evbuffer_get_length(w->out);
        if (len > 0) {
            moved = 1;
            n = nghttp2_session_mem_recv(w->client, evbuffer_pullup(w->out, -1), len);
            assert_int_equal(n, (ssize_t)len);
            evbuffer_drain(w->out, len);
        }
        if (!moved)
            return;
    }
    fail_msg("the two sides never stopped talking");
}

static struct world *world_new(unsigned max_streams, size_t max_header_list, size_t max_body)
{
    struct world *w = zp_xcalloc(1, sizeof(*w));
    char remote[] = "192.0.2.7";
    struct zp_h2_cfg cfg = {
        .max_streams = max_streams,
        .max_header_list = max_header_list,
        .max_body = max_body,
        .dispatch = dispatch,
        .arg = w,
        .remote = remote,
    };
    nghttp2_session_callbacks *cb;

    w->out = evbuffer_new();
    assert_non_null(w->out);
    w->h = zp_h2_new(&cfg, w->out);
    assert_non_null(w->h);
    memset(remote, 'x', sizeof(remote) - 1);      /* the session keeps a copy */
    assert_true(evbuffer_get_length(w->out) > 0); /* its SETTINGS */
    assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
    nghttp2_session_callbacks_set_on_header_callback(cb, c_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, c_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, c_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, c_frame);
    assert_int_equal(nghttp2_session_client_new(&w->client, cb, w), 0);
    nghttp2_session_callbacks_del(cb);
    assert_int_equal(nghttp2_submit_settings(w->client, NGHTTP2_FLAG_NONE, NULL, 0), 0);
    return w;
}

static void world_free(struct world *w, struct resp *r, size_t nr)
{
    zp_h2_free(w->h);
    nghttp2_session_del(w->client);
    evbuffer_free(w->out);
    for (size_t i = 0; i < nr; i++)
        free(r[i].body);
    free(w);
}

static nghttp2_nv nv(const char *name, const char *value)
{
    nghttp2_nv v = {(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
                    NGHTTP2_NV_FLAG_NONE};
    return v;
}

/* A request with extra headers (name, value, ... NULL) and r->send as its body, if any. */
static int32_t request(struct world *w, const char *method, const char *path, struct resp *r, ...)
{
    nghttp2_nv h[32];
    nghttp2_data_provider dp = {.source.ptr = r, .read_callback = c_read};
    size_t n = 0;
    const char *name;
    va_list ap;
    int32_t id;

    h[n++] = nv(":method", method);
    h[n++] = nv(":scheme", "https");
    h[n++] = nv(":authority", "example.test");
    h[n++] = nv(":path", path);
    va_start(ap, r);
    while ((name = va_arg(ap, const char *)) != NULL && n < 32) {
        const char *value = va_arg(ap, const char *);
        h[n++] = nv(name, value);
    }
    va_end(ap);
    id = nghttp2_submit_request(w->client, NULL, h, n, r->send || r->defer ? &dp : NULL, r);
    assert_true(id > 0);
    return id;
}

/* The exchange dispatched for this path. */
static int find(const struct world *w, const char *path)
{
    for (int i = 0; i < w->n; i++) {
        if (strcmp(w->seen[i].path, path) == 0)
            return i;
    }
    fail_msg("no request for %s", path);
    return -1;
}

static int has_header(const struct resp *r, const char *line)
{
    return strstr(r->hdrs, line) != NULL;
}

/* ---- the cases ------------------------------------------------------------------- */

/* Answered inside dispatch: the reply is sent once nghttp2 has returned. */
static void test_get(void **state)
{
    struct world *w = world_new(8, 8192, 1024);
    struct resp r[2] = {0};

    (void)state;
    w->reply_now = 1;
    request(w, "GET", "/apis/acme.example.test/v1alpha1?timeout=32s&x=/y", &r[0], "x-remote-user",
            "alice", "accept", "application/json", NULL);
    request(w, "OPTIONS", "*", &r[1], NULL);
    pump(w);
    assert_int_equal(w->rc, 0);
    assert_int_equal(w->n, 2);
    assert_string_equal(w->seen[0].method, "GET");
    assert_string_equal(w->seen[0].path, "/apis/acme.example.test/v1alpha1");
    assert_string_equal(w->seen[0].user, "alice");
    assert_string_equal(w->seen[0].host, "example.test");
    assert_true(w->seen[0].body_null);
    assert_int_equal(w->seen[0].body_len, 0);
    assert_int_equal(w->seen[0].too_large, 0);
    /* not a path: api.c answers a bad target */
    assert_string_equal(w->seen[1].method, "OPTIONS");
    assert_true(w->seen[1].no_path);

    assert_int_equal(r[0].status, 200);
    assert_true(has_header(&r[0], "content-type: text/plain\n"));
    assert_true(has_header(&r[0], "content-length: 32\n"));
    assert_string_equal(r[0].body, "/apis/acme.example.test/v1alpha1");
    assert_int_equal(r[0].closed, 1);
    assert_int_equal(r[0].code, NGHTTP2_NO_ERROR);
    assert_int_equal(r[1].status, 200);
    assert_int_equal(zp_h2_streams(w->h), 0);
    world_free(w, r, 2);
}

/* A body over several DATA frames and past the first flow-control window; a long answer back. */
static void test_post_body(void **state)
{
    struct world *w = world_new(8, 8192, 256 * 1024);
    struct resp r = {0};
    size_t n = 200000;
    char *body = pattern(n);
    struct zp_xchg_hdr ct = {"Content-Type", "application/octet-stream"};
    struct zp_xchg *x;

    (void)state;
    r.send = body;
    r.send_len = n;
    request(w, "POST", "/apis/x", &r, "content-type", "application/json", NULL);
    pump(w);
    assert_int_equal(w->n, 1);
    assert_int_equal(w->seen[0].body_len, n);
    assert_true(w->seen[0].body_ok);
    assert_int_equal(w->seen[0].too_large, 0);
    assert_int_equal(zp_h2_streams(w->h), 1);
    x = w->x[0];
    x->ops->reply(x, 201, &ct, 1, x->body, x->body_len, 0); /* the request's own body */
    pump(w);
    assert_int_equal(r.status, 201);
    assert_int_equal(r.body_len, n);
    assert_true(is_pattern(r.body, n));
    assert_int_equal(r.closed, 1);
    assert_int_equal(r.code, NGHTTP2_NO_ERROR);
    assert_int_equal(zp_h2_streams(w->h), 0);
    free(body);
    world_free(w, &r, 1);
}

/* The client's bytes one at a time: every frame arrives in pieces. */
static void test_drip(void **state)
{
    struct world *w = world_new(8, 8192, 4096);
    struct resp r = {0};
    char *body = pattern(3000);

    (void)state;
    w->drip = 1;
    w->reply_now = 1;
    r.send = body;
    r.send_len = 3000;
    request(w, "PUT", "/drip?q", &r, "x-remote-user", "bob", NULL);
    pump(w);
    assert_int_equal(w->rc, 0);
    assert_int_equal(w->n, 1);
    assert_string_equal(w->seen[0].path, "/drip");
    assert_string_equal(w->seen[0].user, "bob");
    assert_int_equal(w->seen[0].body_len, 3000);
    assert_true(w->seen[0].body_ok);
    assert_string_equal(r.body, "/drip");
    free(body);
    world_free(w, &r, 1);
}

static void test_body_too_large(void **state)
{
    struct world *w = world_new(8, 8192, 1000);
    struct resp r[3] = {0};
    char *body = pattern(70000);
    int i;

    (void)state;
    r[0].send = body;
    r[0].send_len = 70000;
    request(w, "POST", "/big", &r[0], NULL);
    pump(w);
    assert_int_equal(w->n, 1);
    assert_int_equal(w->seen[0].too_large, 1);
    assert_true(w->seen[0].body_null);
    assert_int_equal(w->seen[0].body_len, 0);
    answer(w, 0, 413, NULL, 0, "too large");
    pump(w);
    assert_int_equal(r[0].status, 413);
    assert_int_equal(r[0].code, NGHTTP2_NO_ERROR);
    /* exactly the limit is not too large; the connection goes on */
    r[1].send = body;
    r[1].send_len = 1000;
    request(w, "POST", "/exact", &r[1], NULL);
    request(w, "GET", "/next", &r[2], NULL);
    pump(w);
    assert_int_equal(w->rc, 0);
    assert_int_equal(w->n, 3);
    i = find(w, "/exact");
    assert_int_equal(w->seen[i].too_large, 0);
    assert_int_equal(w->seen[i].body_len, 1000);
    assert_true(w->seen[i].body_ok);
    answer(w, i, 200, NULL, 0, "exact");
    answer(w, find(w, "/next"), 200, NULL, 0, "next");
    pump(w);
    assert_string_equal(r[1].body, "exact");
    assert_string_equal(r[2].body, "next");
    free(body);
    world_free(w, r, 3);
}

/* Three waiting at once, answered later and in another order. */
static void test_out_of_order(void **state)
{
    struct world *w = world_new(8, 8192, 1024);
    struct resp r[3] = {0};

    (void)state;
    request(w, "GET", "/a", &r[0], NULL);
    request(w, "GET", "/b", &r[1], NULL);
    request(w, "GET", "/c", &r[2], NULL);
    pump(w);
    assert_int_equal(w->n, 3);
    assert_int_equal(zp_h2_streams(w->h), 3);
    answer(w, 2, 200, NULL, 0, w->seen[2].path);
    pump(w);
    assert_string_equal(r[2].body, "/c");
    assert_int_equal(r[0].status, 0);
    assert_int_equal(r[1].status, 0);
    answer(w, 0, 200, NULL, 0, w->seen[0].path);
    answer(w, 1, 404, NULL, 0, w->seen[1].path);
    pump(w);
    assert_string_equal(r[0].body, "/a");
    assert_string_equal(r[1].body, "/b");
    assert_int_equal(r[1].status, 404);
    assert_int_equal(zp_h2_streams(w->h), 0);
    world_free(w, r, 3);
}

static void test_reset_waiting(void **state)
{
    struct world *w = world_new(8, 8192, 1024);
    struct resp r[3] = {0};
    int32_t id, early;

    (void)state;
    w->watch = 1;
    id = request(w, "GET", "/wait", &r[0], NULL);
    request(w, "GET", "/stays", &r[1], NULL);
    r[2].defer = 1; /* its body never comes: not complete, never dispatched */
    early = request(w, "POST", "/early", &r[2], NULL);
    pump(w);
    assert_int_equal(w->n, 2);
    assert_int_equal(zp_h2_streams(w->h), 3);
    nghttp2_submit_rst_stream(w->client, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    nghttp2_submit_rst_stream(w->client, NGHTTP2_FLAG_NONE, early, NGHTTP2_CANCEL);
    pump(w);
    assert_int_equal(w->gone[0], 1);
    assert_int_equal(w->gone[1], 0);
    assert_int_equal(w->n, 2);
    assert_int_equal(zp_h2_streams(w->h), 1);
    answer(w, 1, 200, NULL, 0, "ok");
    pump(w);
    assert_string_equal(r[1].body, "ok");
    assert_int_equal(zp_h2_streams(w->h), 0);
    w->x[0] = NULL;
    zp_h2_free(w->h);
    w->h = NULL;
    assert_int_equal(w->gone[0], 1);
    assert_int_equal(w->gone[1], 0);
    world_free(w, r, 3);
}

/* The connection goes: each waiting exchange hears it once; a stopped watch hears nothing. */
static void test_free_waiting(void **state)
{
    struct world *w = world_new(8, 8192, 1024);
    struct resp r[4] = {0};
    char *big = pattern(100000);

    (void)state;
    w->watch = 1;
    for (int i = 0; i < 4; i++)
        request(w, "GET", "/w", &r[i], NULL);
    pump(w);
    assert_int_equal(w->n, 4);
    w->x[2]->ops->watch(w->x[2], NULL, NULL);
    /* answered, and more than the client's window: not all sent yet */
    w->x[3]->ops->reply(w->x[3], 200, NULL, 0, big, 100000, 0);
    assert_int_equal(zp_h2_streams(w->h), 4);
    zp_h2_free(w->h);
    w->h = NULL;
    assert_int_equal(w->gone[0], 1);
    assert_int_equal(w->gone[1], 1);
    assert_int_equal(w->gone[2], 0);
    assert_int_equal(w->gone[3], 0);
    free(big);
    world_free(w, r, 4);
}

/*
 * Past the advertised limit: the client sends before it has read the
 * server's SETTINGS, as a client may, and the streams over it are refused.
 */
static void test_max_streams(void **state)
{
    struct world *w = world_new(2, 8192, 1024);
    struct resp r[5] = {0};
    const uint8_t *p;
    ssize_t n;

    (void)state;
    for (int i = 0; i < 4; i++)
        request(w, "GET", "/s", &r[i], NULL);
    while ((n = nghttp2_session_mem_send(w->client, &p)) > 0)
        feed(w, p, (size_t)n);
    assert_int_equal(w->rc, 0);
    assert_int_equal(w->n, 2);
    assert_int_equal(zp_h2_streams(w->h), 2);
    pump(w);
    assert_int_equal(r[2].closed, 1);
    assert_int_equal(r[2].code, NGHTTP2_REFUSED_STREAM);
    assert_int_equal(r[3].code, NGHTTP2_REFUSED_STREAM);
    answer(w, 0, 200, NULL, 0, "one");
    answer(w, 1, 200, NULL, 0, "two");
    pump(w);
    assert_string_equal(r[0].body, "one");
    assert_string_equal(r[1].body, "two");
    /* and the connection goes on */
    w->reply_now = 1;
    request(w, "GET", "/later", &r[4], NULL);
    pump(w);
    assert_string_equal(r[4].body, "/later");
    assert_int_equal(zp_h2_streams(w->h), 0);
    world_free(w, r, 5);
}

/*
 * The list counts name + value + 32 a field. The pseudo-headers of
 * request() take 42 (:method GET) + 44 + 54 + 39 (:path /h): 179, and
 * "x-fill" 38 more than its value.
 */
static void test_header_list_limit(void **state)
{
    struct world *w = world_new(8, 1024, 1024);
    struct resp r[4] = {0};
    char *fill = zp_xcalloc(1, 2000);

    (void)state;
    w->reply_now = 1;
    memset(fill, 'f', 808);
    request(w, "GET", "/h", &r[0], "x-fill", fill, NULL); /* 1025 */
    fill[807] = '\0';
    request(w, "GET", "/h", &r[1], "x-fill", fill, NULL); /* 1024 */
    memset(fill, 'g', 1999);
    request(w, "GET", "/h", &r[2], "x-fill", fill, NULL);
    fill[60] = '\0'; /* each small, together too many: 179 + 10 * 93 */
    request(w, "GET", "/h", &r[3], "a", fill, "b", fill, "c", fill, "d", fill, "e", fill, "f", fill,
            "g", fill, "h", fill, "i", fill, "j", fill, NULL);
    pump(w);
    assert_int_equal(w->rc, 0);
    assert_int_equal(w->n, 1);
    assert_int_equal(r[1].status, 200);
    assert_int_equal(r[0].status, 0);
    assert_int_equal(r[0].code, NGHTTP2_ENHANCE_YOUR_CALM);
    assert_int_equal(r[2].code, NGHTTP2_ENHANCE_YOUR_CALM);
    assert_int_equal(r[3].code, NGHTTP2_ENHANCE_YOUR_CALM);
    assert_int_equal(zp_h2_streams(w->h), 0);
    free(fill);
    world_free(w, r, 4);
}

/* The frames in b: 1 if one has this type. */
static int has_frame(struct evbuffer *b, uint8_t type)
{
    size_t len = evbuffer_get_length(b), at = 0;
    const unsigned char *p = evbuffer_pullup(b, -1);

    while (at + 9 <= len) {
        size_t n = (size_t)p[at] << 16 | (size_t)p[at + 1] << 8 | p[at + 2];

        if (p[at + 3] == type)
            return 1;
        at += 9 + n;
    }
    return 0;
}

static void test_not_http2(void **state)
{
    struct world *w = world_new(8, 8192, 1024);
    const char *h1 = "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n";

    (void)state;
    evbuffer_drain(w->out, evbuffer_get_length(w->out));
    assert_int_equal(zp_h2_recv(w->h, (const unsigned char *)h1, strlen(h1)), -1);
    assert_true(has_frame(w->out, NGHTTP2_GOAWAY));
    assert_int_equal(zp_h2_done(w->h), 1);
    assert_int_equal(w->n, 0);
    assert_int_equal(zp_h2_recv(w->h, (const unsigned char *)h1, 1), -1);
    world_free(w, NULL, 0);
}

static void test_head(void **state)
{
    struct world *w = world_new(8, 8192, 1024);
    struct resp r = {0};

    (void)state;
    request(w, "HEAD", "/healthz", &r, NULL);
    pump(w);
    assert_string_equal(w->seen[0].method, "HEAD");
    answer(w, 0, 200, NULL, 0, "hello");
    pump(w);
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "content-length: 5\n"));
    assert_int_equal(r.body_len, 0);
    assert_int_equal(r.closed, 1);
    assert_int_equal(r.code, NGHTTP2_NO_ERROR);
    world_free(w, &r, 1);
}

/* What HTTP/2 forbids in an answer is left out; the client would reset the stream for it. */
static void test_connection_headers(void **state)
{
    struct world *w = world_new(8, 8192, 1024);
    struct resp r = {0};
    struct zp_xchg_hdr hdrs[] = {
        {"Connection", "close"},
        {"Keep-Alive", "timeout=5"},
        {"Transfer-Encoding", "chunked"},
        {"Upgrade", "h2c"},
        {"Content-Length", "999"},
        {"X-Split", "a\r\nb"},
        {"Bad Name", "x"},
        {":status", "500"},
        {"X-Content-Type-Options", "nosniff"},
        {"Cache-Control", "no-cache, private"},
    };

    (void)state;
    request(w, "GET", "/c", &r, NULL);
    pump(w);
    w->x[0]->ops->reply(w->x[0], 200, hdrs, sizeof(hdrs) / sizeof(hdrs[0]), "ok", 2, 1);
    pump(w);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.code, NGHTTP2_NO_ERROR);
    assert_string_equal(r.body, "ok");
    assert_true(has_header(&r, "x-content-type-options: nosniff\n"));
    assert_true(has_header(&r, "cache-control: no-cache, private\n"));
    assert_true(has_header(&r, "content-length: 2\n"));
    assert_false(has_header(&r, "connection"));
    assert_false(has_header(&r, "keep-alive"));
    assert_false(has_header(&r, "transfer-encoding"));
    assert_false(has_header(&r, "upgrade"));
    assert_false(has_header(&r, "x-split"));
    assert_false(has_header(&r, "bad name"));
    assert_false(has_header(&r, "999"));
    world_free(w, &r, 1);
}

/* A stop: the waiting stream is still answered, then nothing is left. */
static void test_goaway(void **state)
{
    struct world *w = world_new(8, 8192, 1024);
    struct resp r[2] = {0};

    (void)state;
    request(w, "GET", "/before", &r[0], NULL);
    pump(w);
    assert_int_equal(zp_h2_done(w->h), 0);
    zp_h2_goaway(w->h);
    pump(w);
    assert_int_equal(w->goaway, 1);
    assert_int_equal(w->goaway_code, NGHTTP2_NO_ERROR);
    assert_int_equal(zp_h2_done(w->h), 0);
    answer(w, 0, 200, NULL, 0, "still answered");
    pump(w);
    assert_string_equal(r[0].body, "still answered");
    assert_int_equal(zp_h2_done(w->h), 1);
    assert_int_equal(zp_h2_streams(w->h), 0);
    world_free(w, r, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_post_body),
        cmocka_unit_test(test_drip),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_reset_waiting),
        cmocka_unit_test(test_free_waiting),
        cmocka_unit_test(test_max_streams),
        cmocka_unit_test(test_header_list_limit),
        cmocka_unit_test(test_not_http2),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_connection_headers),
        cmocka_unit_test(test_goaway),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
