/*
 * conn.c — the guard on each connection (conn.h): the cap, the phase
 * deadlines, and the header check before evhttp reads a body.
 *
 * Phases of a connection: HANDSHAKE (from accept), HEADERS (from the end
 * of the handshake, or from the first byte of a later request), BODY (from
 * the last header to evhttp's gencb), HANDLING (no deadline: a Present may
 * wait for propagation), IDLE (between requests: evhttp's idle timeout),
 * CLOSING (a 400 or 401 is being written). Deadlines are timers armed at
 * the start of a phase; bytes do not move them.
 *
 * How: evhttp reads the TLS bufferevent; a callback on its input buffer
 * takes what TLS decrypts before evhttp's read callback runs, and gives
 * it back once a header block is complete and checked. A conn lives as
 * long as its SSL (ex_data free callback). evhttp frees a connection
 * whenever it likes; a freed bufferevent lingers until its finalizer runs,
 * with its callbacks cleared, so alive() asks that before touching it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netdb.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "k8s/api.h"
#include "k8s/authn.h"
#include "k8s/conn.h"
#include "k8s/conn_int.h"
#include "k8s/h2.h"
#include "k8s/server.h"

/* After a refusal: how long and how much the connection reads before it closes anyway. */
#define ZP_CONN_LINGER_MS 2000
#define ZP_CONN_LINGER_BYTES (256u * 1024)

/* HTTP2: the connection is h2.c's, streams and all; the deadline is for idleness only. */
enum phase { HANDSHAKE, HEADERS, BODY, HANDLING, IDLE, CLOSING, HTTP2 };

static const char *const phase_names[] = {"tls-handshake", "headers", "body", "handling",
                                          "idle",          "closing", "http2"};

/*
 * HTTP/2 from a peer without a verified client certificate: it may only
 * ask for the probes' paths (anything else is a 401), so few small
 * streams, no body, and the connection lives at most header_ms + body_ms.
 */
#define H2_UNTRUSTED_STREAMS 4u
#define H2_UNTRUSTED_HEADERS (8u * 1024u)
/* Replies the peer has not read: past this, its requests wait until they drain. */
#define H2_OUT_MAX (1024u * 1024u)
#define H2_WRITE_TIMEOUT_S 90

struct conn;

struct zp_conns {
    struct zp_conns_cfg cfg;
    unsigned open;       /* conns alive, refused ones not counted */
    unsigned evicted;    /* of those, closed to make room and not yet freed */
    struct conn *oldest; /* every conn, in accept order: eviction takes the first untrusted */
    struct conn *newest;
    uint64_t cap_logged_ms; /* the last "limit reached" line: one a minute */
};

struct conn {
    struct zp_conns *g;
    struct bufferevent *bev; /* TLS; evhttp's */
    SSL *ssl;
    struct evbuffer *held; /* what evhttp may not read yet */
    struct event *deadline;
    struct event *kick; /* work that must run outside libevent's own stack */
    enum phase phase;
    int passing; /* bytes going back to evhttp: on_input lets them be */
    /* evhttp's callbacks while ours are in place (a refusal being written, or HTTP/2) */
    bufferevent_data_cb rcb, wcb;
    bufferevent_event_cb ecb;
    void *cbarg;
    int refusing;
    struct zp_h2 *h2;    /* HTTP/2: the connection's session (h2.h); NULL for HTTP/1.1 */
    int h2_ending;       /* HTTP/2: close once the output is written */
    unsigned h2_streams; /* HTTP/2: streams open when h2_after last looked */
    char remote[64];     /* HTTP/2: the peer, for the log of each exchange */
    int trusted;         /* presented a client certificate the front-proxy CA verifies */
    int decided;         /* trusted is known */
    int evicted;         /* closed to make room for a new connection */
    int lingering;       /* a refusal is written: reading and discarding until the peer goes */
    size_t discarded;    /* bytes read while lingering */
    struct conn *older, *newer;
};

/* A connection over the cap: closed on the next turn of the loop, before any byte is read. */
struct refused {
    struct bufferevent *bev;
    struct event *ev;
};

/* The conn of an SSL; set once per process. */
static int conn_idx = -1;

/* A bufferevent evhttp has freed lingers until its finalizer, with its callbacks cleared. */
static int alive(const struct conn *c)
{
    bufferevent_event_cb ecb = NULL;

    bufferevent_getcb(c->bev, NULL, NULL, &ecb, NULL);
    return ecb != NULL;
}

static void arm(struct conn *c, enum phase p, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

    c->phase = p;
    if (ms == 0)
        event_del(c->deadline);
    else
        event_add(c->deadline, &tv);
}

/* Makes evhttp drop the connection as it does when the peer goes: no reply. */
static void drop(struct conn *c)
{
    event_del(c->deadline);
    c->phase = CLOSING;
    if (!alive(c))
        return;
    if (c->refusing) {
        c->refusing = 0;
        bufferevent_setcb(c->bev, c->rcb, c->wcb, c->ecb, c->cbarg);
    }
    bufferevent_trigger_event(c->bev, BEV_EVENT_ERROR | BEV_EVENT_READING, 0);
}

static void h2_end_after_write(struct conn *c);

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void)fd;
    (void)what;
    if (c->phase == HANDLING || c->phase == IDLE)
        return;
    if (c->phase == HTTP2 && c->h2 != NULL) {
        zp_log(ZP_LOG_DEBUG, "HTTP/2 connection closed at its deadline", ZP_END);
        zp_h2_goaway(c->h2);
        h2_end_after_write(c);
        return;
    }
    zp_log(ZP_LOG_DEBUG, "connection closed at its deadline", ZP_S("phase", phase_names[c->phase]),
           ZP_END);
    drop(c);
}

static void process(struct conn *c);

/*
 * A refusal written out (CLOSING), or held bytes to look at without a
 * read from the socket: the reply to the request before them was just sent.
 */
static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void)fd;
    (void)what;
    if (!alive(c))
        return;
    if (c->phase == CLOSING) {
        drop(c);
        return;
    }
    process(c);
    if (c->phase == BODY && alive(c) && evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        bufferevent_trigger(c->bev, EV_READ, 0);
}

static int cert_ok(struct conn *c, struct zp_err *err);
static void h2_start(struct conn *c);

/*
 * The end of the handshake: the headers' deadline starts, and a peer whose
 * certificate the front-proxy CA verifies is never closed to make room
 * (evict_one).
 */
static void on_tls_info(const SSL *ssl, int where, int ret)
{
    struct conn *c = SSL_get_ex_data(ssl, conn_idx);
    struct zp_err err = {0};

    (void)ret;
    if (c == NULL || !(where & SSL_CB_HANDSHAKE_DONE) || c->phase != HANDSHAKE)
        return;
    c->trusted = SSL_get0_peer_certificate(ssl) != NULL && cert_ok(c, &err) == 0;
    if (c->g->cfg.dispatch != NULL) {
        const unsigned char *p = NULL;
        unsigned int n = 0;

        SSL_get0_alpn_selected(ssl, &p, &n);
        if (n == 2 && memcmp(p, "h2", 2) == 0) {
            h2_start(c);
            return;
        }
    }
    arm(c, HEADERS, c->g->cfg.header_ms);
}

/* ---- The header check ------------------------------------------------------ */

/* Whether the request line's target is a path that needs a client certificate. */
static int needs_cert(const struct zp_conns *g, const char *line, size_t n)
{
    const char *sp = memchr(line, ' ', n), *end;
    char *target;
    struct evhttp_uri *uri;
    enum zp_route r = ZP_ROUTE_NOT_FOUND;

    if (sp == NULL)
        return 1;
    sp++;
    end = memchr(sp, ' ', n - (size_t)(sp - line));
    target = zp_xstrndup(sp, end ? (size_t)(end - sp) : n - (size_t)(sp - line));
    /* As evhttp parses it, so that api.c routes the same path. */
    uri = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
    if (uri != NULL) {
        r = zp_api_route(evhttp_uri_get_path(uri), g->cfg.group, g->cfg.solver_name);
        evhttp_uri_free(uri);
    }
    free(target);
    return !(r == ZP_ROUTE_HEALTH || r == ZP_ROUTE_READY || r == ZP_ROUTE_OPENAPI);
}

static int cert_ok(struct conn *c, struct zp_err *err)
{
    if (SSL_get0_peer_certificate(c->ssl) == NULL)
        return zp_err_set(err, ZP_EAUTH, "no client certificate");
    return zp_authn_verify_ssl(c->g->cfg.authn, c->ssl, err);
}

static void on_refusal_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;

    (void)bev;
    (void)what;
    event_active(c->kick, EV_WRITE, 0);
}

static void on_linger_read(struct bufferevent *bev, void *arg)
{
    (void)arg;
    evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

/*
 * The refusal is written. Closing now, with the rest of the request still
 * arriving, would make the kernel answer with a reset that can destroy the
 * reply before the client reads it; so the connection reads and discards
 * for a while (bytes and time capped) and closes when the peer does.
 */
static void on_refusal_written(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    if (c->lingering)
        return;
    c->lingering = 1;
    bufferevent_setcb(bev, on_linger_read, NULL, on_refusal_event, c);
    bufferevent_enable(bev, EV_READ);
    arm(c, CLOSING, ZP_CONN_LINGER_MS);
}

static void remote_of(const struct conn *c, char *out, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    evutil_socket_t fd = bufferevent_getfd(c->bev);

    out[0] = '\0';
    if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        getnameinfo((struct sockaddr *)&ss, len, out, (socklen_t)n, NULL, 0, NI_NUMERICHOST);
}

/*
 * Answers with a Status and closes once it is written; the rest of the
 * request is never read. Logged like api.c's requests.
 */
static void refuse_with(struct conn *c, struct evbuffer *src, const char *line, size_t n, int code,
                        char *body, const char *why)
{
    char method[16], path[256], remote[64];

    zp_conn_request_line(line, n, method, sizeof(method), path, sizeof(path));
    remote_of(c, remote, sizeof(remote));
    zp_log(ZP_LOG_INFO, "request", ZP_S("method", method), ZP_S("path", path), ZP_I("status", code),
           ZP_S("remote", remote), ZP_S("error", why), ZP_END);
    evbuffer_drain(src, evbuffer_get_length(src));
    /* evhttp's callbacks come back for the close; its write callback would take this for a reply.
     */
    bufferevent_getcb(c->bev, &c->rcb, &c->wcb, &c->ecb, &c->cbarg);
    bufferevent_setcb(c->bev, NULL, on_refusal_written, on_refusal_event, c);
    c->refusing = 1;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_enable(c->bev, EV_WRITE);
    evbuffer_add_printf(bufferevent_get_output(c->bev),
                        "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                        "Cache-Control: no-cache, private\r\nX-Content-Type-Options: nosniff\r\n"
                        "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                        code, zp_http_reason(code), strlen(body), body);
    free(body);
    arm(c, CLOSING, c->g->cfg.body_ms ? c->g->cfg.body_ms : 1000);
}

/* A Status built from its parts (api.c's document), answered as above. */
static void refuse(struct conn *c, struct evbuffer *src, const char *line, size_t n, int code,
                   const char *reason, const char *message, const char *why)
{
    refuse_with(c, src, line, n, code, zp_api_status_json(code, reason, message), why);
}

/*
 * A complete header block of len bytes at the front of src: 0 to pass it
 * on, -1 when refused.
 */
static int check_block(struct conn *c, struct evbuffer *src, size_t len)
{
    const char *line = (const char *)evbuffer_pullup(src, (ev_ssize_t)len);
    struct zp_conn_framing f;
    struct zp_err err = {0};
    const char *why = NULL;

    zp_conn_framing(line, len, &f);
    if (f.conflict)
        why = "conflicting Content-Length headers";
    else if (f.te && f.cl != NULL)
        why = "Content-Length with Transfer-Encoding";
    if (why != NULL) {
        refuse(c, src, line, f.first, 400, "BadRequest", why, why);
        return -1;
    }
    if (needs_cert(c->g, line, f.first) && cert_ok(c, &err) == -1) {
        refuse(c, src, line, f.first, 401, "Unauthorized", "Unauthorized", err.msg);
        return -1;
    }
    /*
     * evhttp would answer a body past its own limit with an HTML page: the same 413 as api.c's.
     * Smaller ones are read, so the client sees the answer rather than a reset mid-body.
     */
    if (f.cl != NULL && (f.cl_len > 9 || f.length > ZP_SERVER_HARD_BODY_MAX)) {
        refuse_with(c, src, line, f.first, 413, zp_api_too_large_json(), "body too large");
        return -1;
    }
    return 0;
}

/* The end of the header block (just past its empty line), or 0 when it is not all here. */
static size_t block_end(struct evbuffer *src)
{
    const char *p = (const char *)evbuffer_pullup(src, -1);
    size_t end;

    if (p == NULL || zp_conn_block_end(p, evbuffer_get_length(src), &end) == -1)
        return 0;
    return end;
}

/*
 * The held bytes: a request's header block once complete and checked goes
 * to evhttp with all that follows; before that, nothing does.
 */
static void process(struct conn *c)
{
    size_t have = evbuffer_get_length(c->held), end;

    if (have == 0 || c->phase == HANDLING || c->phase == CLOSING)
        return; /* the next request waits for this one's reply: see on_reply_sent */
    if (c->phase == HANDSHAKE || c->phase == IDLE)
        arm(c, HEADERS, c->g->cfg.header_ms);
    if (c->phase == HEADERS) {
        end = block_end(c->held);
        if (end == 0 && have <= c->g->cfg.max_headers)
            return;
        /* Past the limit without an end: evhttp refuses it on its own. */
        if (end != 0 && check_block(c, c->held, end) == -1)
            return;
        arm(c, BODY, c->g->cfg.body_ms);
    }
    c->passing = 1;
    evbuffer_add_buffer(bufferevent_get_input(c->bev), c->held);
    c->passing = 0;
}

/*
 * What TLS has just decrypted, before evhttp's read callback sees it:
 * held, unless it is the body of a request already checked.
 */
static void on_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *c = arg;

    if (c->passing || info->n_added == 0 || c->phase == BODY || c->h2 != NULL)
        return;
    if (c->phase == CLOSING) {
        c->discarded += evbuffer_get_length(in);
        evbuffer_drain(in, evbuffer_get_length(in));
        if (c->discarded > ZP_CONN_LINGER_BYTES)
            event_active(c->kick, EV_WRITE, 0);
        return;
    }
    c->passing = 1;
    evbuffer_remove_buffer(in, c->held, evbuffer_get_length(in));
    c->passing = 0;
    process(c);
}

/* ---- HTTP/2 ------------------------------------------------------------------ */

/*
 * After the handshake chose h2, the connection's bufferevent is h2.c's:
 * our callbacks replace evhttp's (kept, for the close), and evhttp never
 * sees a byte. evhttp still owns the connection and frees it as for any
 * peer that goes (drop); its close callback frees the session, and with
 * it each stream still waiting (their exchanges' gone()).
 */

static void on_evcon_gone(struct evhttp_connection *evcon, void *arg)
{
    struct conn *c = arg;

    (void)evcon;
    if (c->h2 != NULL) {
        zp_h2_free(c->h2);
        c->h2 = NULL;
    }
}

static void h2_end_after_write(struct conn *c)
{
    c->h2_ending = 1;
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        event_del(c->deadline);
        c->phase = CLOSING;
        event_active(c->kick, EV_WRITE, 0);
    }
}

/* After bytes in or out: backpressure, the end, and the idle deadline. */
static void h2_after(struct conn *c)
{
    size_t out = evbuffer_get_length(bufferevent_get_output(c->bev));
    unsigned n;

    if (c->h2_ending || c->phase == CLOSING)
        return;
    if (zp_h2_done(c->h2)) {
        h2_end_after_write(c);
        return;
    }
    if (out > H2_OUT_MAX)
        bufferevent_disable(c->bev, EV_READ);
    else
        bufferevent_enable(c->bev, EV_READ);
    if (!c->trusted)
        return; /* its one deadline runs from the handshake */
    /* Idle from the end of the last stream: bytes alone (a PING) do not move it. */
    n = zp_h2_streams(c->h2);
    if (n > 0)
        event_del(c->deadline); /* a Present may wait for propagation */
    else if (c->h2_streams > 0 || !event_pending(c->deadline, EV_TIMEOUT, NULL))
        arm(c, HTTP2, c->g->cfg.idle_ms);
    c->h2_streams = n;
}

static void h2_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n;

    while (!c->h2_ending && (n = evbuffer_get_contiguous_space(in)) > 0) {
        int rc = zp_h2_recv(c->h2, evbuffer_pullup(in, (ev_ssize_t)n), n);

        evbuffer_drain(in, n);
        if (rc == -1) {
            h2_end_after_write(c);
            return;
        }
    }
    h2_after(c);
}

static void h2_written(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    (void)bev;
    if (c->h2_ending) {
        event_del(c->deadline);
        c->phase = CLOSING;
        event_active(c->kick, EV_WRITE, 0);
        return;
    }
    h2_after(c);
}

static void h2_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;

    (void)bev;
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)))
        return; /* BEV_EVENT_CONNECTED: the handshake that chose h2 just ended */
    drop(c);
}

/* Inside the handshake's info callback: only state is set; bytes come through h2_read. */
static void h2_start(struct conn *c)
{
    const struct zp_conns_cfg *cfg = &c->g->cfg;
    struct timeval wto = {H2_WRITE_TIMEOUT_S, 0};
    struct zp_h2_cfg hc = {
        .max_streams = c->trusted ? cfg->h2_streams : H2_UNTRUSTED_STREAMS,
        .max_header_list = c->trusted ? cfg->max_headers : H2_UNTRUSTED_HEADERS,
        .max_body = c->trusted ? ZP_SERVER_MAX_BODY : 0,
        .dispatch = cfg->dispatch,
        .arg = cfg->dispatch_arg,
        .ssl = c->ssl,
        .remote = c->remote,
    };

    remote_of(c, c->remote, sizeof(c->remote));
    c->h2 = zp_h2_new(&hc, bufferevent_get_output(c->bev));
    if (c->h2 == NULL)
        abort(); /* allocation only */
    /* libevent's evhttp gives each connection's bufferevent the connection as its argument. */
    bufferevent_getcb(c->bev, &c->rcb, &c->wcb, &c->ecb, &c->cbarg);
    c->refusing = 1; /* drop() puts evhttp's callbacks back for the close */
    evhttp_connection_set_closecb((struct evhttp_connection *)c->cbarg, on_evcon_gone, c);
    bufferevent_setcb(c->bev, h2_read, h2_written, h2_event, c);
    bufferevent_set_timeouts(c->bev, NULL, &wto);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    arm(c, HTTP2, c->trusted ? cfg->idle_ms : cfg->header_ms + cfg->body_ms);
}

void zp_conns_goaway(struct zp_conns *g)
{
    for (struct conn *c = g->oldest; c != NULL; c = c->newer) {
        if (c->h2 != NULL && alive(c))
            zp_h2_goaway(c->h2);
    }
}

/* ---- The cap ---------------------------------------------------------------- */

static void link_conn(struct zp_conns *g, struct conn *c)
{
    c->older = g->newest;
    if (g->newest != NULL)
        g->newest->newer = c;
    else
        g->oldest = c;
    g->newest = c;
    g->open++;
}

static void unlink_conn(struct conn *c)
{
    struct zp_conns *g = c->g;

    if (c->older != NULL)
        c->older->newer = c->newer;
    else
        g->oldest = c->newer;
    if (c->newer != NULL)
        c->newer->older = c->older;
    else
        g->newest = c->older;
    g->open--;
    if (c->evicted)
        g->evicted--;
}

static void log_cap(struct zp_conns *g, const char *what)
{
    uint64_t now = zp_now_ms();

    if (g->cap_logged_ms != 0 && now - g->cap_logged_ms < 60000)
        return;
    g->cap_logged_ms = now;
    zp_log(ZP_LOG_WARN, what, ZP_I("max_connections", g->cfg.max_conns), ZP_END);
}

/*
 * At the cap, the oldest connection whose peer has shown no verified client
 * certificate makes room for the new one, so that unauthenticated clients
 * holding every slot cannot keep the aggregator out: it gets in as soon as
 * its handshake ends, ahead of every slot they hold. A connection answering
 * a request (the probes' quick ones) is left to finish. Closed on the next
 * turn of the loop, outside evhttp's accept.
 */
static int evict_one(struct zp_conns *g)
{
    for (struct conn *c = g->oldest; c != NULL; c = c->newer) {
        if (c->trusted || c->evicted || c->phase == HANDLING || c->phase == CLOSING || !alive(c))
            continue;
        c->evicted = 1;
        g->evicted++;
        event_del(c->deadline);
        c->phase = CLOSING;
        event_active(c->kick, EV_WRITE, 0);
        log_cap(g, "connection limit reached: the oldest connections without a verified client "
                   "certificate are closed to make room");
        return 0;
    }
    return -1;
}

/* SSL_free, when the bufferevent is finalized: the end of the connection. */
static void conn_exfree(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    struct conn *c = ptr;

    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (c == NULL)
        return;
    unlink_conn(c);
    if (c->h2 != NULL) /* normally freed at evhttp's close already (on_evcon_gone) */
        zp_h2_free(c->h2);
    evbuffer_free(c->held);
    event_free(c->deadline);
    event_free(c->kick);
    free(c);
}

static void on_refused(evutil_socket_t fd, short what, void *arg)
{
    struct refused *r = arg;
    bufferevent_event_cb ecb = NULL;

    (void)fd;
    (void)what;
    /* No callback: evhttp could not take the connection and has freed it already. */
    bufferevent_getcb(r->bev, NULL, NULL, &ecb, NULL);
    if (ecb != NULL)
        bufferevent_trigger_event(r->bev, BEV_EVENT_ERROR | BEV_EVENT_READING, 0);
    event_free(r->ev);
    free(r);
}

/* evhttp makes its connection around the bufferevent right after this returns; then r runs. */
static struct bufferevent *refuse_conn(struct zp_conns *g)
{
    struct refused *r = zp_xcalloc(1, sizeof(*r));

    r->bev = bufferevent_socket_new(g->cfg.base, -1, BEV_OPT_CLOSE_ON_FREE);
    r->ev = event_new(g->cfg.base, -1, 0, on_refused, r);
    if (r->bev == NULL || r->ev == NULL)
        abort(); /* allocation only */
    event_active(r->ev, EV_READ, 0);
    log_cap(g, "connection limit reached with every connection verified or answering: new "
               "connections are closed at once");
    return r->bev;
}

static int at_cap(const struct zp_conns *g)
{
    return g->cfg.max_conns > 0 && g->open - g->evicted >= g->cfg.max_conns;
}

int zp_conns_full(struct zp_conns *g)
{
    return at_cap(g) && evict_one(g) == -1;
}

struct bufferevent *zp_conns_bev(struct zp_conns *g, SSL *ssl)
{
    struct conn *c;

    if (ssl == NULL || at_cap(g)) {
        SSL_free(ssl);
        return refuse_conn(g);
    }
    c = zp_xcalloc(1, sizeof(*c));
    c->g = g;
    c->ssl = ssl;
    c->held = evbuffer_new();
    c->deadline = evtimer_new(g->cfg.base, on_deadline, c);
    c->kick = event_new(g->cfg.base, -1, 0, on_kick, c);
    c->bev = bufferevent_openssl_socket_new(g->cfg.base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE);
    if (c->held == NULL || c->deadline == NULL || c->kick == NULL || c->bev == NULL)
        abort(); /* allocation only; NULL would make evhttp speak plain text */
    /* Clients often close without close_notify; that is an ordinary end. */
    bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
    if (evbuffer_add_cb(bufferevent_get_input(c->bev), on_input, c) == NULL)
        abort();
    SSL_set_ex_data(ssl, conn_idx, c); /* freed with the SSL: conn_exfree */
    SSL_set_info_callback(ssl, on_tls_info);
    link_conn(g, c);
    arm(c, HANDSHAKE, g->cfg.handshake_ms);
    return c->bev;
}

static struct conn *conn_of(struct bufferevent *bev)
{
    SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;

    return ssl ? SSL_get_ex_data(ssl, conn_idx) : NULL;
}

SSL *zp_conn_ssl(struct bufferevent *bev)
{
    return bev ? bufferevent_openssl_get_ssl(bev) : NULL;
}

/*
 * evhttp_send_done, before it starts the next request: bytes evhttp read
 * past this request go back in front of the held ones, to be checked as
 * the next request's before evhttp parses them.
 */
static void on_reply_sent(struct evhttp_request *req, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(c->bev);

    (void)req;
    arm(c, IDLE, 0);
    if (evbuffer_get_length(in) > 0)
        evbuffer_prepend_buffer(c->held, in);
    if (evbuffer_get_length(c->held) > 0)
        event_active(c->kick, EV_READ, 0);
}

void zp_conns_request(struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct conn *c = conn_of(evcon ? evhttp_connection_get_bufferevent(evcon) : NULL);

    if (c == NULL)
        return;
    arm(c, HANDLING, 0);
    evhttp_request_set_on_complete_cb(req, on_reply_sent, c);
}

struct zp_conns *zp_conns_new(const struct zp_conns_cfg *cfg)
{
    struct zp_conns *g = zp_xcalloc(1, sizeof(*g));

    if (conn_idx == -1 && (conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_exfree)) == -1)
        abort(); /* allocation only */
    g->cfg = *cfg;
    return g;
}

void zp_conns_free(struct zp_conns *g)
{
    free(g);
}
