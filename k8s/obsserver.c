/*
 * obsserver.c — the observability listener (obsserver.h): the listening
 * socket, its thread's poll() loop, the connection slots with their phase
 * deadlines, and the few routes.
 *
 * Threads: zp_obs_start binds and fills struct zp_obs, then starts the
 * thread (every signal blocked); from then on the slots, the refusal log
 * state and the accept pause are the thread's alone. Others touch only
 * `stopping` (atomic) and the wake pipe: zp_obs_stop, and the clock's
 * wake hook after a jump (tests drive a manual clock, so a deadline comes
 * when the clock is advanced, not when real time passes).
 *
 * A connection goes READING (its header block, a deadline from the accept)
 * -> WRITING (the whole reply built in one buffer, sent non-blocking, a
 * deadline from when it was ready) -> LINGERING (our side shut down; what
 * the peer still sends is read and dropped for a moment, so that a close
 * with unread bytes does not reset the connection before the peer read the
 * reply). The header block is read into a fixed buffer and judged by
 * k8s/conn_int.h's steps, the same fuzzed ones the API server uses.
 */
#define _GNU_SOURCE /* accept4, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "k8s/conn_int.h"
#include "k8s/listen.h"
#include "k8s/obsserver.h"
#include "k8s/statuspage.h"

#define LINGER_MS 2000u
#define LINGER_BYTES (64u * 1024u)
#define METRICS_MAX (16u << 20)
#define JSON_MAX (8u << 20)
#define HTML_MAX (16u << 20)
/* Replies waiting for their peers to read them, all connections together. */
#define OUT_BUDGET (64u << 20)
#define ACCEPTS_PER_PASS 64
#define ACCEPT_PAUSE_MS 1000u
#define REFUSAL_LOG_MS 60000u

#define TEXT_TYPE "text/plain; charset=utf-8"
#define CSP                                                                                        \
    "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:; "      \
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"

enum phase { READING, WRITING, LINGERING };

struct oconn {
    int fd; /* -1: a free slot */
    enum phase phase;
    uint64_t seq;      /* accept order: at the cap the smallest goes */
    uint64_t deadline; /* the phase's, zp_now_ms clock */
    char *in;          /* READING: the header block so far, ZP_OBS_HEADER_MAX bytes */
    size_t in_len;
    struct zp_buf out; /* WRITING: the whole reply */
    size_t sent;
    size_t drained; /* LINGERING: bytes read and dropped */
};

struct zp_obs {
    struct zp_obs_opts opts; /* bind_address points at addr */
    char *addr;
    int lfd, port;
    int wake[2];
    pthread_t thread;
    int running, hooked;
    atomic_int stopping;
    /* The thread's. */
    struct oconn conns[ZP_OBS_MAX_CONNS];
    uint64_t next_seq;
    uint64_t accept_resume; /* after a failed accept (out of descriptors): not before this */
    uint64_t refusal_logged;
    int refusal_logged_once;
    unsigned refusals; /* since the last warning */
};

/* What a reply says besides its body. */
struct rhead {
    int status;
    const char *type;
    const char *extra; /* header lines, each ending in CRLF; NULL: none */
};

/* --- the listening socket ------------------------------------------------------------------- */

/* "HOST:PORT", ":PORT", "[V6]:PORT" into host ("" for every address) and port. */
static int split_address(const char *s, char *host, size_t hsz, char *port, size_t psz,
                         struct zp_err *err)
{
    const char *h, *hend, *p;
    size_t hl;

    if (s == NULL || *s == '\0')
        return zp_err_set(err, ZP_ECONFIG,
                          "--metrics-bind-address is empty: give HOST:PORT, :PORT or [IPv6]:PORT");
    if (*s == '[') {
        h = s + 1;
        if ((hend = strchr(h, ']')) == NULL || hend[1] != ':' || hend == h)
            return zp_err_set(err, ZP_ECONFIG,
                              "--metrics-bind-address \"%s\": an IPv6 address is written "
                              "[ADDRESS]:PORT, as in [::1]:8080",
                              s);
        p = hend + 2;
    } else {
        h = s;
        if ((hend = strrchr(s, ':')) == NULL)
            return zp_err_set(err, ZP_ECONFIG,
                              "--metrics-bind-address \"%s\" has no port: give HOST:PORT or :PORT",
                              s);
        if (memchr(s, ':', (size_t)(hend - s)) != NULL)
            return zp_err_set(err, ZP_ECONFIG,
                              "--metrics-bind-address \"%s\": an IPv6 address goes in brackets, "
                              "as in [::1]:8080",
                              s);
        p = hend + 1;
    }
    hl = (size_t)(hend - h);
    if (*p == '\0' || strlen(p) >= psz || strspn(p, "0123456789") != strlen(p) ||
        strtoul(p, NULL, 10) > 65535)
        return zp_err_set(err, ZP_ECONFIG,
                          "--metrics-bind-address \"%s\": the port must be a number from 0 to "
                          "65535",
                          s);
    if (hl >= hsz)
        return zp_err_set(err, ZP_ECONFIG, "--metrics-bind-address \"%s\": the host is too long",
                          s);
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, p, strlen(p) + 1);
    return 0;
}

/*
 * Every address (":PORT") is [::] with IPv6-only off, which takes IPv4
 * too; without IPv6, 0.0.0.0. A host must be a numeric address: nothing
 * is looked up.
 */
static int listen_on(struct zp_obs *o, struct zp_err *err)
{
    char host[128], port[8];
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd, e = 0;

    if (split_address(o->addr, host, sizeof(host), port, sizeof(port), err) == -1)
        return -1;
    fd = zp_listen_tcp(host, port, 64, 0, &e);
    if (fd == ZP_LISTEN_NOT_NUMERIC)
        return zp_err_set(err, ZP_ECONFIG,
                          "--metrics-bind-address \"%s\": \"%s\" is not a numeric IP "
                          "address (names are not looked up)",
                          o->addr, host);
    if (fd < 0)
        return zp_err_set(err, ZP_ECONFIG, "cannot listen on --metrics-bind-address %s: %s",
                          o->addr, strerror(e));
    o->lfd = fd;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        o->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

/* --- connections (the thread's) ------------------------------------------------------------- */

static void conn_close(struct oconn *c)
{
    if (c->fd < 0)
        return;
    close(c->fd);
    c->fd = -1;
    ZP_FREE(c->in);
    zp_buf_free(&c->out);
}

/* A connection closed or refused without its answer: one warning a minute at most. */
static void refused(struct zp_obs *o, const char *why)
{
    uint64_t now = zp_now_ms();

    o->refusals++;
    if (o->refusal_logged_once && now - o->refusal_logged < REFUSAL_LOG_MS)
        return;
    zp_log(ZP_LOG_WARN, "metrics listener dropped a connection", ZP_S("reason", why),
           ZP_I("dropped_since_last_line", o->refusals), ZP_S("address", o->addr), ZP_END);
    o->refusal_logged = now;
    o->refusal_logged_once = 1;
    o->refusals = 0;
}

/* A free slot, or the oldest connection's, closed to make room. */
static struct oconn *slot_for_new(struct zp_obs *o)
{
    struct oconn *oldest = NULL;

    for (size_t i = 0; i < ZP_OBS_MAX_CONNS; i++) {
        struct oconn *c = &o->conns[i];
        if (c->fd < 0)
            return c;
        if (oldest == NULL || c->seq < oldest->seq)
            oldest = c;
    }
    refused(o, "connection limit reached: the oldest connection was closed");
    conn_close(oldest);
    return oldest;
}

static void accept_all(struct zp_obs *o)
{
    for (int i = 0; i < ACCEPTS_PER_PASS; i++) {
        int fd = accept4(o->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct oconn *c;

        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                refused(o, "cannot accept: out of file descriptors or memory");
                o->accept_resume = zp_now_ms() + ACCEPT_PAUSE_MS;
            }
            return;
        }
        c = slot_for_new(o);
        c->fd = fd;
        c->phase = READING;
        c->seq = ++o->next_seq;
        c->deadline = zp_now_ms() + ZP_OBS_HEADER_MS;
        c->in = zp_xmalloc(ZP_OBS_HEADER_MAX);
        c->in_len = 0;
        c->sent = c->drained = 0;
        zp_buf_init(&c->out, 0);
    }
}

/* Bytes of replies still to be sent, over every connection. */
static size_t out_pending(const struct zp_obs *o)
{
    size_t n = 0;

    for (size_t i = 0; i < ZP_OBS_MAX_CONNS; i++)
        if (o->conns[i].fd >= 0 && o->conns[i].phase == WRITING)
            n += o->conns[i].out.len - o->conns[i].sent;
    return n;
}

/* Sends what the socket takes; once all is sent, shuts our side and lingers. */
static void flush(struct oconn *c)
{
    while (c->sent < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->sent, c->out.len - c->sent, MSG_NOSIGNAL);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            conn_close(c);
            return;
        }
        c->sent += (size_t)n;
    }
    zp_buf_free(&c->out);
    shutdown(c->fd, SHUT_WR);
    c->phase = LINGERING;
    c->deadline = zp_now_ms() + LINGER_MS;
}

/* Reads and drops what the peer still sends, until it closes (or sends too much). */
static void linger(struct oconn *c)
{
    char sink[4096];
    ssize_t n;

    while ((n = recv(c->fd, sink, sizeof(sink), 0)) > 0)
        if ((c->drained += (size_t)n) > LINGER_BYTES)
            break;
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    conn_close(c);
}

/* The reply into c->out (the body left out for HEAD), then the first send. */
static void reply(struct oconn *c, const struct rhead *r, const char *body, size_t len, int head)
{
    const char *reason;

    switch (r->status) {
    case 200:
        reason = "OK";
        break;
    case 400:
        reason = "Bad Request";
        break;
    case 404:
        reason = "Not Found";
        break;
    case 405:
        reason = "Method Not Allowed";
        break;
    case 408:
        reason = "Request Timeout";
        break;
    case 431:
        reason = "Request Header Fields Too Large";
        break;
    case 503:
        reason = "Service Unavailable";
        break;
    default:
        reason = "Internal Server Error";
        break;
    }
    ZP_FREE(c->in);
    zp_buf_init(&c->out, len + 1024);
    zp_buf_printf(&c->out,
                  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\nCache-Control: no-store\r\n"
                  "X-Content-Type-Options: nosniff\r\n%s\r\n",
                  r->status, reason, r->type, len, r->extra != NULL ? r->extra : "");
    if (!head)
        zp_buf_append(&c->out, body, len);
    if (!zp_buf_ok(&c->out)) { /* the cap is the body's length plus room for the head */
        conn_close(c);
        return;
    }
    c->phase = WRITING;
    c->sent = 0;
    c->deadline = zp_now_ms() + ZP_OBS_WRITE_MS;
    flush(c);
}

static void reply_text(struct oconn *c, int status, const char *text, const char *extra, int head)
{
    struct rhead r = {status, TEXT_TYPE, extra};

    reply(c, &r, text, strlen(text), head);
}

/* --- routes --------------------------------------------------------------------------------- */

/* A body built for c: sent unless it would take the replies waiting past their budget. */
static void reply_built(struct zp_obs *o, struct oconn *c, const struct rhead *r,
                        const struct zp_buf *body, int head)
{
    if (!zp_buf_ok(body)) {
        reply_text(c, 500, "The reply is larger than this listener sends.\n", NULL, head);
        return;
    }
    if (out_pending(o) + body->len > OUT_BUDGET) {
        refused(o, "too many large replies are waiting to be read");
        reply_text(c, 503, "Busy: too many replies are waiting to be read. Try again.\n", NULL,
                   head);
        return;
    }
    reply(c, r, zp_buf_str(body), body->len, head);
}

static void serve_metrics(struct zp_obs *o, struct oconn *c, int head)
{
    struct rhead r = {200, "text/plain; version=0.0.4; charset=utf-8", NULL};
    struct zp_buf body;

    zp_buf_init(&body, METRICS_MAX);
    zp_metrics_write(&body);
    reply_built(o, c, &r, &body, head);
    zp_buf_free(&body);
}

static void serve_status(struct zp_obs *o, struct oconn *c, int html, int head)
{
    struct rhead r = {200, html ? "text/html; charset=utf-8" : "application/json",
                      html ? CSP : NULL};
    struct zp_buf json, page;
    struct zp_err err = {0};

    if (!o->opts.status_page) {
        reply_text(c, 404,
                   "The status page is off: start zoneproof serve with --status-page to see it.\n",
                   NULL, head);
        return;
    }
    if (o->opts.status_json == NULL) {
        reply_text(c, 503, "No status document is available.\n", NULL, head);
        return;
    }
    zp_buf_init(&json, JSON_MAX);
    zp_buf_init(&page, HTML_MAX);
    if (o->opts.status_json(o->opts.status_arg, &json) == -1 || !zp_buf_ok(&json)) {
        zp_log(ZP_LOG_WARN, "cannot build the status document", ZP_END);
        reply_text(c, 500, "The status document could not be built.\n", NULL, head);
    } else if (!html) {
        reply_built(o, c, &r, &json, head);
    } else if (zp_statuspage_html(zp_buf_str(&json), json.len, &page, &err) == -1) {
        zp_log(ZP_LOG_WARN, "cannot render the status page", ZP_S("error", err.msg), ZP_END);
        reply_text(c, 500, "The status page could not be rendered.\n", NULL, head);
    } else {
        reply_built(o, c, &r, &page, head);
    }
    zp_buf_free(&json);
    zp_buf_free(&page);
}

static void route(struct zp_obs *o, struct oconn *c, const char *path, int head)
{
    static const char index_on[] = "zoneproof\n\n/metrics      Prometheus metrics\n"
                                   "/healthz      ok while the process runs\n"
                                   "/status       challenges in flight and recent (HTML)\n"
                                   "/status.json  the same as JSON\n";
    static const char index_off[] = "zoneproof\n\n/metrics      Prometheus metrics\n"
                                    "/healthz      ok while the process runs\n"
                                    "/status, /status.json  off: start with --status-page\n";

    if (strcmp(path, "/metrics") == 0)
        serve_metrics(o, c, head);
    else if (strcmp(path, "/status") == 0 || strcmp(path, "/status.json") == 0)
        serve_status(o, c, path[7] == '\0', head);
    else if (strcmp(path, "/healthz") == 0)
        reply_text(c, 200, "ok", NULL, head);
    else if (strcmp(path, "/") == 0)
        reply_text(c, 200, o->opts.status_page ? index_on : index_off, NULL, head);
    else
        reply_text(c, 404,
                   "Not found: the paths are /metrics, /healthz, /status and "
                   "/status.json.\n",
                   NULL, head);
}

/* A whole header block of end bytes is in: judge it, then answer. */
static void answer(struct zp_obs *o, struct oconn *c, size_t end)
{
    struct zp_conn_framing f;
    char method[16], path[512];
    int head;

    zp_conn_framing(c->in, end, &f);
    zp_conn_request_line(c->in, f.first, method, sizeof(method), path, sizeof(path));
    head = strcmp(method, "HEAD") == 0;
    path[strcspn(path, "?#")] = '\0';
    zp_log(ZP_LOG_DEBUG, "metrics listener request", ZP_S("method", method), ZP_S("path", path),
           ZP_END);
    if (method[0] == '\0' || path[0] != '/')
        reply_text(c, 400, "Bad request: expected GET /path HTTP/1.1.\n", NULL, 0);
    else if (!head && strcmp(method, "GET") != 0)
        reply_text(c, 405, "Only GET and HEAD are served here.\n", "Allow: GET, HEAD\r\n", 0);
    else if (f.te || f.conflict || (f.cl != NULL && f.length > 0))
        reply_text(c, 400, "This listener accepts no request body.\n", NULL, head);
    else
        route(o, c, path, head);
}

static void on_read(struct zp_obs *o, struct oconn *c)
{
    size_t end;
    ssize_t n = recv(c->fd, c->in + c->in_len, ZP_OBS_HEADER_MAX - c->in_len, 0);

    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        conn_close(c); /* the peer left, or the connection broke */
        return;
    }
    c->in_len += (size_t)n;
    if (zp_conn_block_end(c->in, c->in_len, &end) == 0) {
        answer(o, c, end);
    } else if (c->in_len == ZP_OBS_HEADER_MAX) {
        refused(o, "request header block larger than 8192 bytes");
        reply_text(c, 431, "The request header block is larger than 8192 bytes.\n", NULL, 0);
    }
}

/* Closes the connections whose phase ran out; returns the earliest deadline still ahead. */
static uint64_t expire(struct zp_obs *o, uint64_t now)
{
    static const char timeout[] = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n";
    uint64_t next = UINT64_MAX;

    for (size_t i = 0; i < ZP_OBS_MAX_CONNS; i++) {
        struct oconn *c = &o->conns[i];
        if (c->fd < 0)
            continue;
        if (c->deadline > now) {
            next = c->deadline < next ? c->deadline : next;
            continue;
        }
        if (c->phase == READING) {
            refused(o, "no whole request header within 5 s of the accept");
            /* Best effort: the connection goes either way. */
            (void)send(c->fd, timeout, sizeof(timeout) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        } else if (c->phase == WRITING) {
            refused(o, "the reply was not read within 10 s");
        }
        conn_close(c);
    }
    return next;
}

/* --- the thread ----------------------------------------------------------------------------- */

static void wake(struct zp_obs *o)
{
    zp_clock_pending(1); /* the loop takes the byte out, then looks at its deadlines */
    if (write(o->wake[1], "x", 1) != 1)
        zp_clock_pending(-1); /* a full pipe already wakes it */
}

/* The clock jumped (a test advanced it): a deadline may be due before the poll ends. */
static void on_clock_jump(void *arg)
{
    wake(arg);
}

static void *obs_main(void *arg)
{
    struct zp_obs *o = arg;
    struct pollfd pfd[2 + ZP_OBS_MAX_CONNS];
    struct oconn *polled[ZP_OBS_MAX_CONNS];
    char drain[64];
    ssize_t nr;
    long woken = 0;

    for (;;) {
        uint64_t now = zp_now_ms(), next = expire(o, now);
        int paused = o->accept_resume > now;
        nfds_t n = 2;

        zp_clock_pending(-(int)woken); /* looked: what woke us is seen */
        woken = 0;
        if (atomic_load(&o->stopping))
            break;
        if (paused && o->accept_resume < next)
            next = o->accept_resume;
        pfd[0] = (struct pollfd){o->wake[0], POLLIN, 0};
        pfd[1] = (struct pollfd){paused ? -1 : o->lfd, POLLIN, 0};
        for (size_t i = 0; i < ZP_OBS_MAX_CONNS; i++) {
            struct oconn *c = &o->conns[i];
            if (c->fd < 0)
                continue;
            polled[n - 2] = c;
            pfd[n++] = (struct pollfd){c->fd, c->phase == WRITING ? POLLOUT : POLLIN, 0};
        }
        poll(pfd, n, next == UINT64_MAX ? -1 : zp_clock_poll_ms(next));
        if (pfd[0].revents & POLLIN)
            while ((nr = read(o->wake[0], drain, sizeof(drain))) > 0)
                woken += nr;
        /* The polled connections first: an accept may close one to make room. */
        for (nfds_t k = 2; k < n; k++) {
            struct oconn *c = polled[k - 2];
            if (pfd[k].revents == 0 || c->fd < 0)
                continue;
            if (c->phase == READING)
                on_read(o, c);
            else if (c->phase == WRITING)
                flush(c);
            else
                linger(c);
        }
        if (pfd[1].revents & POLLIN)
            accept_all(o);
    }
    return NULL;
}

/* --- start and stop ------------------------------------------------------------------------- */

struct zp_obs *zp_obs_start(const struct zp_obs_opts *opts, struct zp_err *err)
{
    struct zp_obs *o = zp_xcalloc(1, sizeof(*o));
    sigset_t all, old;
    int rc;

    o->opts = *opts;
    o->addr = zp_xstrdup(opts->bind_address != NULL ? opts->bind_address : "");
    o->opts.bind_address = o->addr;
    o->lfd = o->wake[0] = o->wake[1] = -1;
    atomic_init(&o->stopping, 0);
    for (size_t i = 0; i < ZP_OBS_MAX_CONNS; i++)
        o->conns[i].fd = -1;
    if (listen_on(o, err) == -1)
        goto out;
    if (pipe2(o->wake, O_NONBLOCK | O_CLOEXEC) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot create the metrics listener's wake-up pipe: %s",
                   strerror(errno));
        goto out;
    }
    if (zp_clock_hook_add(on_clock_jump, o) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot register the metrics listener with the clock");
        goto out;
    }
    o->hooked = 1;
    /* A thread inherits its creator's mask: block everything just for the creation. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&o->thread, NULL, obs_main, o);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        zp_err_set(err, ZP_EINTERNAL, "cannot start the metrics listener's thread: %s",
                   strerror(rc));
        goto out;
    }
    o->running = 1;
    zp_log(ZP_LOG_INFO, "metrics listener started", ZP_S("address", o->addr), ZP_I("port", o->port),
           ZP_B("status_page", o->opts.status_page), ZP_END);
    return o;
out:
    zp_obs_stop(o);
    return NULL;
}

int zp_obs_port(const struct zp_obs *o)
{
    return o->port;
}

void zp_obs_stop(struct zp_obs *o)
{
    char buf[64];
    ssize_t nr;

    if (o == NULL)
        return;
    if (o->hooked)
        zp_clock_hook_del(on_clock_jump, o); /* before the pipe closes */
    if (o->running) {
        atomic_store(&o->stopping, 1);
        wake(o);
        pthread_join(o->thread, NULL);
    }
    if (o->wake[0] >= 0)
        while ((nr = read(o->wake[0], buf, sizeof(buf))) > 0)
            zp_clock_pending(-(int)nr); /* wake-ups nobody will look into */
    for (size_t i = 0; i < ZP_OBS_MAX_CONNS; i++)
        conn_close(&o->conns[i]);
    for (int i = 0; i < 2; i++)
        if (o->wake[i] >= 0)
            close(o->wake[i]);
    if (o->lfd >= 0)
        close(o->lfd);
    free(o->addr);
    free(o);
}
