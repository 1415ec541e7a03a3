/*
 * server.c — the server's one event-loop thread: the listening sockets,
 * evhttp and its limits, TLS on each connection, the signals (stop, drain,
 * reload), the reload timer, the hand-off that brings a finished challenge
 * (or a kube-apiserver answer) from another thread back to the loop, the
 * two worker threads that call kube-apiserver, and the wiring of
 * authentication and authorization to the cluster.
 *
 * Threads: everything but the hand-off and the workers is the loop
 * thread's. The hand-off is a base/queue.h queue any thread posts to and
 * the loop drains; the workers are a base/pool.h pool (started with every
 * signal blocked, so SIGTERM, SIGINT and SIGHUP reach the loop) whose
 * finished jobs are posted to the hand-off.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/pool.h"
#include "base/queue.h"
#include "k8s/api.h"
#include "k8s/authn.h"
#include "k8s/authsource.h"
#include "k8s/authz.h"
#include "k8s/conn.h"
#include "k8s/h1.h"
#include "k8s/listen.h"
#include "k8s/server.h"
#include "k8s/tls.h"
#include "solver/config.h"

#define MAX_HEADERS_SIZE (64u * 1024u)
/*
 * evhttp's own limit answers with an HTML page, so it sits above ours:
 * bodies up to ZP_SERVER_MAX_BODY are served, bodies up to this size get a
 * 413 Status from api.c, and larger ones are cut by evhttp before they are
 * read (still a 413).
 */
#define HARD_BODY_MAX ZP_SERVER_HARD_BODY_MAX
#define IO_TIMEOUT_S 90 /* idle keep-alive and stalled reads; Go's apiserver idles 90 s */
#define DRAIN_MS 5000u  /* how long a stop waits for parked challenges */
#define DRAIN_TICK_MS 100
#define MAX_LISTENERS 1 /* [::] takes IPv4 too; see listen_on() */
#define ACCEPT_BACKOFF_MIN_MS 25u
#define ACCEPT_BACKOFF_MAX_MS 1000u
#define ACCEPT_LOG_EVERY_MS 60000u

/* ---- The hand-off --------------------------------------------------------- */

/*
 * Items wait in a base/queue.h queue whose wake hook makes the loop's event
 * active; the hook runs under the queue's lock, so a post either lands
 * before the close (and the event still exists) or is refused after it.
 */
struct zp_handoff {
    struct zp_queue q; /* unbounded; closed once the loop is gone */
    struct event *ev;  /* set before the first post; freed after the close */
    atomic_uint refs;  /* the server's, plus one per held item */
};

static void handoff_unref(struct zp_handoff *h)
{
    if (atomic_fetch_sub(&h->refs, 1) == 1) {
        zp_queue_destroy(&h->q);
        free(h);
    }
}

/* The queue's wake hook, under its lock: thread-safe with evthread_use_pthreads(). */
static void handoff_wake(void *ctx)
{
    struct zp_handoff *h = ctx;

    event_active(h->ev, EV_READ, 0);
}

/* The loop thread: run everything queued, outside the lock. */
static void handoff_run(evutil_socket_t fd, short what, void *arg)
{
    struct zp_handoff *h = arg;
    struct zp_qitem *it, *next;

    (void)fd;
    (void)what;
    for (it = zp_queue_take_all(&h->q); it != NULL; it = next) {
        struct zp_handoff_item *hi = ZP_CONTAINER_OF(it, struct zp_handoff_item, link);
        next = it->next; /* before fn, which may free the item */
        hi->fn(hi, 1);
        handoff_unref(h);
    }
}

struct zp_handoff *zp_handoff_new(struct event_base *base)
{
    struct zp_handoff *h = zp_xcalloc(1, sizeof(*h));
    struct zp_queue_hooks hooks = {.wake = handoff_wake, .ctx = h};

    zp_queue_init(&h->q, 0, &hooks);
    atomic_init(&h->refs, 1);
    h->ev = event_new(base, -1, 0, handoff_run, h);
    if (h->ev == NULL)
        abort(); /* allocation only */
    return h;
}

void zp_handoff_hold(struct zp_handoff *h)
{
    atomic_fetch_add(&h->refs, 1);
}

void zp_handoff_release(struct zp_handoff *h)
{
    handoff_unref(h);
}

void zp_handoff_post(struct zp_handoff *h, struct zp_handoff_item *it)
{
    /* Accepted: the item was held, so only a closed queue refuses it. */
    if (zp_queue_push(&h->q, &it->link, ZP_Q_ACCEPTED) == -1) {
        it->fn(it, 0);
        handoff_unref(h);
    }
}

unsigned zp_handoff_pending(struct zp_handoff *h)
{
    return atomic_load(&h->refs) - 1;
}

void zp_handoff_close(struct zp_handoff *h)
{
    struct zp_qitem *it, *next;

    if (h == NULL)
        return;
    it = zp_queue_close(&h->q);
    event_free(h->ev); /* no wake can run any more: pushes are refused */
    h->ev = NULL;
    for (; it != NULL; it = next) {
        struct zp_handoff_item *hi = ZP_CONTAINER_OF(it, struct zp_handoff_item, link);
        next = it->next; /* before fn, which may free the item */
        hi->fn(hi, 0);
        handoff_unref(h);
    }
    handoff_unref(h);
}

/* ---- The workers ------------------------------------------------------------ */

/* A base/pool.h pool of two threads; a finished job goes back to the loop through the hand-off. */
struct zp_kworker {
    struct zp_pool *pool;
    struct zp_handoff *handoff;
};

static void kworker_run(void *ctx, struct zp_qitem *it)
{
    struct zp_kworker *w = ctx;
    struct zp_kjob *job = ZP_CONTAINER_OF(it, struct zp_kjob, link);

    job->run(job);
    /* The item may be freed by the loop as soon as it is posted. */
    zp_handoff_post(w->handoff, &job->item);
}

/* Never run: the hand-off is closed by now, so each runs at once with live = 0. */
static void kworker_give_back(void *ctx, struct zp_qitem *it)
{
    struct zp_kworker *w = ctx;

    zp_handoff_post(w->handoff, &ZP_CONTAINER_OF(it, struct zp_kjob, link)->item);
}

struct zp_kworker *zp_kworker_new(struct zp_handoff *h)
{
    struct zp_kworker *w = zp_xcalloc(1, sizeof(*w));
    struct zp_pool_cfg pc = {
        .what = "kubernetes worker",
        .threads = ZP_KWORKER_THREADS,
        .max = ZP_KWORKER_QUEUE_MAX,
        .run = kworker_run,
        .give_back = kworker_give_back,
        .ctx = w,
    };
    struct zp_err err = {0};

    w->handoff = h;
    /* The pool starts its threads with every signal blocked: they belong to the loop. */
    if ((w->pool = zp_pool_new(&pc, &err)) == NULL) {
        zp_log(ZP_LOG_ERROR, "kubernetes worker threads not started", ZP_S("error", err.msg),
               ZP_END);
        abort(); /* thread creation fails only when the process is out of resources */
    }
    return w;
}

int zp_kworker_submit(struct zp_kworker *w, struct zp_kjob *job)
{
    /* Held first: the job may run and post its item before submit returns. */
    zp_handoff_hold(w->handoff);
    if (zp_pool_submit(w->pool, &job->link, 0) == 0)
        return 0;
    zp_handoff_release(w->handoff);
    return -1;
}

void zp_kworker_free(struct zp_kworker *w)
{
    if (w == NULL)
        return;
    /* Waits for the jobs running, then gives back (kworker_give_back) those never run. */
    zp_pool_free(w->pool);
    free(w);
}

/* ---- The server ----------------------------------------------------------- */

struct server {
    const struct zp_server_opts *opts;
    struct event_base *base;
    struct evhttp *http;
    struct zp_tls *tls;
    struct zp_authn *authn;
    struct zp_authsrc *authsrc; /* front-proxy settings from the cluster, or NULL */
    struct zp_kworker *worker;  /* calls to kube-apiserver, or NULL */
    struct zp_authz *authz;     /* NULL without a cluster */
    struct zp_handoff *handoff;
    struct zp_api *api;
    struct evhttp_bound_socket *bound[MAX_LISTENERS];
    size_t n_bound;
    struct event *sig_term, *sig_int, *sig_hup, *sig_usr1, *reload_timer, *drain_timer, *trim_timer;
    int stopping;
    uint64_t drain_deadline;
    struct zp_conns *conns;     /* the cap, the deadlines, the header check */
    struct event *accept_retry; /* accept paused after a failure (no descriptors) */
    unsigned accept_backoff_ms; /* 0 while accept works */
    uint64_t accept_logged_ms;  /* the last line about it: one a minute */
};

/*
 * The server of this process, for the listener's error callback: evhttp
 * gives the listener its own argument (the evhttp), and there is one server.
 */
static struct server *the_server;

/*
 * Every new connection gets TLS on the context current at accept time,
 * under the guard of conn.c; one over the cap gets neither.
 */
static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
    struct server *srv = arg;
    SSL *ssl;
    STACK_OF(X509_NAME) * cas;

    (void)base;
    srv->accept_backoff_ms = 0; /* accept works again */
    if (zp_conns_full(srv->conns))
        return zp_conns_bev(srv->conns, NULL);
    ssl = zp_tls_ssl_new(srv->tls);

    /*
     * The acceptable-CA hint follows the ConfigMap's CA: a Go client sends
     * its certificate only to a server that names its issuer, so a stale
     * hint would lock the aggregator out after a rotation.
     */
    if (srv->authsrc != NULL && (cas = zp_authn_ca_names(srv->authn)) != NULL)
        SSL_set_client_CA_list(ssl, cas);
    return zp_conns_bev(srv->conns, ssl);
}

/* evhttp's gencb: the request is complete, so its deadlines stop. */
static void on_request(struct evhttp_request *req, void *arg)
{
    struct server *srv = arg;

    zp_conns_request(req);
    zp_h1_handle(req, zp_api_handle, srv->api);
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;

    (void)fd;
    (void)what;
    if (srv->n_bound > 0) /* not after a stop: the listener is gone */
        evconnlistener_enable(evhttp_bound_socket_get_listener(srv->bound[0]));
}

/*
 * accept() failed for a reason other than a peer that went away: mostly
 * no descriptor left. libevent would retry at once, forever, at full CPU;
 * the listener pauses instead, a little longer each time, while the
 * connections wait in the kernel's backlog.
 */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    struct server *srv = the_server;
    int e = errno;
    uint64_t now = zp_now_ms();
    struct timeval tv;

    (void)arg;
    evconnlistener_disable(lev);
    srv->accept_backoff_ms =
        srv->accept_backoff_ms == 0 ? ACCEPT_BACKOFF_MIN_MS : srv->accept_backoff_ms * 2;
    if (srv->accept_backoff_ms > ACCEPT_BACKOFF_MAX_MS)
        srv->accept_backoff_ms = ACCEPT_BACKOFF_MAX_MS;
    tv.tv_sec = srv->accept_backoff_ms / 1000;
    tv.tv_usec = (suseconds_t)(srv->accept_backoff_ms % 1000) * 1000;
    event_add(srv->accept_retry, &tv);
    if (srv->accept_logged_ms == 0 || now - srv->accept_logged_ms >= ACCEPT_LOG_EVERY_MS) {
        srv->accept_logged_ms = now;
        zp_log(ZP_LOG_WARN, "cannot accept connections; pausing accept and retrying",
               ZP_S("error", strerror(e)), ZP_END);
    }
}

/* libevent's own messages, as JSON lines. */
static void on_libevent_log(int severity, const char *msg)
{
    enum zp_loglevel level = ZP_LOG_ERROR;

    if (severity == EVENT_LOG_DEBUG)
        level = ZP_LOG_DEBUG;
    else if (severity == EVENT_LOG_MSG)
        level = ZP_LOG_INFO;
    else if (severity == EVENT_LOG_WARN)
        level = ZP_LOG_WARN;
    zp_log(level, "libevent", ZP_S("detail", msg), ZP_END);
}

static void reload(struct server *srv, int force)
{
    struct zp_err err = {0};

    if (zp_tls_reload(srv->tls, force, &err) == -1)
        zp_log(ZP_LOG_ERROR, "serving certificate not reloaded; the previous one stays in use",
               ZP_S("error", err.msg), ZP_END);
    zp_err_clear(&err);
    if (zp_authn_reload(srv->authn, force, &err) == -1)
        zp_log(ZP_LOG_ERROR, "front-proxy CA not reloaded; the previous one stays in use",
               ZP_S("error", err.msg), ZP_END);
}

static void on_reload_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    reload(arg, 0);
}

/*
 * A TLS handshake takes about 14 KB of buffers that are freed once it ends;
 * after a burst of handshakes (cert-manager and kube-apiserver reconnecting
 * at once, or a flood) glibc keeps those pages, scattered between the
 * connections that stayed, and RSS stays at the burst's peak. Every few
 * seconds the free pages go back to the kernel. musl returns them itself.
 */
#define TRIM_INTERVAL_S 5

static void on_trim_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static void on_hup(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;

    (void)fd;
    (void)what;
    zp_log(ZP_LOG_INFO, "SIGHUP: reloading the certificate files", ZP_END);
    reload(srv, 1);
    if (srv->authsrc != NULL)
        zp_authsrc_refresh(srv->authsrc);
}

static void on_usr1(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;

    (void)fd;
    (void)what;
    if (srv->opts->on_usr1 == NULL) {
        zp_log(ZP_LOG_INFO, "SIGUSR1: the configuration has no persist: records to check", ZP_END);
        return;
    }
    zp_log(ZP_LOG_INFO, "SIGUSR1: checking the persist: records now", ZP_END);
    srv->opts->on_usr1(srv->opts->usr1_arg);
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    unsigned pending;
    struct timeval grace = {0, DRAIN_TICK_MS * 1000};

    (void)fd;
    (void)what;
    /* Calls parked since (on connections still open) are answered too; those need no wait. */
    zp_api_answer_parked(srv->api);
    pending = zp_handoff_pending(srv->handoff) - zp_api_answered_at_stop(srv->api);
    if (pending > 0 && zp_ms_left(srv->drain_deadline) > 0)
        return;
    if (pending > 0)
        zp_log(ZP_LOG_WARN, "stopping with challenges still in flight; cert-manager retries them",
               ZP_I("in_flight", pending), ZP_END);
    event_del(srv->drain_timer);
    /* One more moment for the last replies to leave the socket buffers. */
    event_base_loopexit(srv->base, &grace);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
    struct server *srv = arg;
    struct timeval tick = {0, DRAIN_TICK_MS * 1000};

    (void)what;
    if (srv->stopping) {
        zp_log(ZP_LOG_WARN, "second stop signal: exiting now", ZP_END);
        event_base_loopbreak(srv->base);
        return;
    }
    srv->stopping = 1;
    zp_log(ZP_LOG_INFO, "stopping: no new connections; draining", ZP_I("signal", sig),
           ZP_I("in_flight", zp_handoff_pending(srv->handoff)), ZP_END);
    for (size_t i = 0; i < srv->n_bound; i++)
        evhttp_del_accept_socket(srv->http, srv->bound[i]);
    srv->n_bound = 0;
    zp_api_set_draining(srv->api, 1);
    /*
     * A parked Present may wait most of a minute for propagation: answered
     * now, so that cert-manager retries it on a replica that stays, while
     * provider calls in flight finish their writes when the solver stops.
     */
    if (zp_api_answer_parked(srv->api) > 0)
        zp_log(ZP_LOG_INFO, "stopping: parked challenges answered; cert-manager retries them",
               ZP_END);
    /* After those answers, so that a client that reads GOAWAY as the end still gets them. */
    zp_conns_goaway(srv->conns);
    if (srv->authsrc != NULL)
        zp_authsrc_stop(srv->authsrc);
    srv->drain_deadline = zp_now_ms() + DRAIN_MS;
    srv->drain_timer = event_new(srv->base, -1, EV_PERSIST, on_drain_tick, srv);
    if (srv->drain_timer == NULL || event_add(srv->drain_timer, &tick) == -1)
        event_base_loopexit(srv->base, NULL);
}

static int is_wildcard(const char *addr)
{
    return addr == NULL || *addr == '\0' || strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0;
}

/*
 * The wildcard address listens on [::] with IPv6-only off, which also
 * takes IPv4 (as Go does for 0.0.0.0); without IPv6 it falls back to
 * 0.0.0.0 (listen.h). Any other address must be numeric. TCP_NODELAY:
 * without it a reply written as two TLS records (headers, then body)
 * waits for the client's delayed ACK of the first, 40 ms on every answer.
 */
static int listen_on(struct server *srv, struct zp_err *err)
{
    const char *want = srv->opts->bind_address;
    char port[16];
    int fd, e = 0;

    snprintf(port, sizeof(port), "%u", srv->opts->secure_port ? srv->opts->secure_port : 8443);
    fd = zp_listen_tcp(is_wildcard(want) ? NULL : want, port, 1024, 1, &e);
    if (fd == ZP_LISTEN_NOT_NUMERIC)
        return zp_err_set(err, ZP_ECONFIG, "--bind-address \"%s\" is not an IP address", want);
    if (fd < 0)
        return zp_err_set(err, ZP_ECONFIG, "cannot listen on %s port %s: %s",
                          is_wildcard(want) ? "all addresses" : want, port, strerror(e));
    srv->bound[srv->n_bound] = evhttp_accept_socket_with_handle(srv->http, fd);
    if (srv->bound[srv->n_bound] == NULL) {
        close(fd);
        return zp_err_set(err, ZP_EINTERNAL, "cannot accept connections on port %s", port);
    }
    evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(srv->bound[srv->n_bound]),
                                on_accept_error);
    srv->n_bound++;
    return 0;
}

static struct event *add_signal(struct server *srv, int sig, event_callback_fn fn)
{
    struct event *ev = evsignal_new(srv->base, sig, fn, srv);

    if (ev == NULL || event_add(ev, NULL) == -1)
        abort(); /* allocation only */
    return ev;
}

/*
 * The front-proxy settings: flags and a CA file when the CA flag is given,
 * else the cluster's ConfigMap (flags still win for the lists), else none.
 */
static int setup_authn(struct server *srv, struct zp_err *err)
{
    const struct zp_server_opts *o = srv->opts;
    struct zp_authn_cfg flags = {
        .client_ca_file = o->client_ca_file,
        .allowed_names = o->allowed_names,
        .n_allowed_names = o->n_allowed_names,
        .username_headers = o->username_headers,
        .n_username_headers = o->n_username_headers,
        .group_headers = o->group_headers,
        .n_group_headers = o->n_group_headers,
        .extra_prefixes = o->extra_prefixes,
        .n_extra_prefixes = o->n_extra_prefixes,
    };
    struct zp_authn_cfg ac;

    if ((o->client_ca_file == NULL || *o->client_ca_file == '\0') && o->kclient != NULL) {
        srv->authsrc = zp_authsrc_new(o->kclient, &flags, &srv->authn, err);
        return srv->authsrc != NULL ? 0 : -1;
    }
    zp_authsrc_merge(&flags, NULL, &ac);
    srv->authn = zp_authn_new(&ac, err);
    return srv->authn != NULL ? 0 : -1;
}

static uint64_t or_default(uint64_t v, uint64_t def)
{
    return v != 0 ? v : def;
}

/* evhttp's limits and callbacks, and the guard on each connection (conn.h). */
static void setup_http(struct server *srv, const struct zp_api_cfg *apc)
{
    const struct zp_server_opts *o = srv->opts;
    struct zp_conns_cfg cc = {
        .base = srv->base,
        .authn = srv->authn,
        .group = apc->group,
        .solver_name = apc->solver_name,
        .max_conns = o->max_conns ? o->max_conns : ZP_SERVER_MAX_CONNS,
        .handshake_ms = or_default(o->handshake_timeout_ms, ZP_SERVER_HANDSHAKE_MS),
        .header_ms = or_default(o->header_timeout_ms, ZP_SERVER_HEADER_MS),
        .body_ms = or_default(o->body_timeout_ms, ZP_SERVER_BODY_MS),
        .max_headers = MAX_HEADERS_SIZE,
        .idle_ms = IO_TIMEOUT_S * 1000u,
        .h2_streams = ZP_SERVER_H2_STREAMS,
        .dispatch = o->no_http2 ? NULL : zp_api_handle,
        .dispatch_arg = srv->api,
    };

    srv->conns = zp_conns_new(&cc);
    srv->accept_retry = evtimer_new(srv->base, on_accept_retry, srv);
    if (srv->accept_retry == NULL)
        abort(); /* allocation only */
    evhttp_set_bevcb(srv->http, make_bev, srv);
    evhttp_set_gencb(srv->http, on_request, srv);
    evhttp_set_max_headers_size(srv->http, MAX_HEADERS_SIZE);
    evhttp_set_max_body_size(srv->http, HARD_BODY_MAX);
    evhttp_set_timeout(srv->http, IO_TIMEOUT_S);
    /* Wider than we serve, so a wrong method gets a 405 Status rather than evhttp's 501. */
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
                                              EVHTTP_REQ_TRACE);
}

static int setup(struct server *srv, struct zp_solver *solver, struct zp_err *err)
{
    const struct zp_server_opts *o = srv->opts;
    struct zp_api_cfg apc = {0};
    struct timeval every = {o->reload_interval_s ? (time_t)o->reload_interval_s : 60, 0};
    struct timeval trim_every = {TRIM_INTERVAL_S, 0};

    if (o->group_name == NULL || *o->group_name == '\0')
        return zp_err_set(err, ZP_ECONFIG,
                          "no API group: set GROUP_NAME or groupName (it must "
                          "match the Issuer's webhook.groupName)");
    if ((srv->tls = zp_tls_new(o->tls_cert_file, o->tls_key_file, o->client_ca_file, !o->no_http2,
                               err)) == NULL ||
        setup_authn(srv, err) == -1)
        return -1;
    event_set_log_callback(on_libevent_log);
    /* Before the base exists: it must be made with locks for event_active() from workers. */
    if (evthread_use_pthreads() == -1 || (srv->base = event_base_new()) == NULL ||
        (srv->http = evhttp_new(srv->base)) == NULL)
        return zp_err_set(err, ZP_EINTERNAL, "cannot set up the event loop");
    srv->handoff = zp_handoff_new(srv->base);
    if (o->kclient != NULL) {
        srv->worker = zp_kworker_new(srv->handoff);
        srv->authz = zp_authz_new(o->kclient, srv->worker, ZP_AUTHZ_TTL_MS);
        if (srv->authsrc != NULL)
            zp_authsrc_start(srv->authsrc, srv->base, srv->worker,
                             o->auth_refresh_s ? o->auth_refresh_s : ZP_AUTHSRC_PERIOD_S);
    }
    apc.group = o->group_name;
    apc.solver_name = o->solver_name && *o->solver_name ? o->solver_name : ZP_DEFAULT_SOLVER_NAME;
    apc.solver = solver;
    apc.authn = srv->authn;
    apc.authz = srv->authz;
    apc.handoff = srv->handoff;
    srv->api = zp_api_new(&apc);
    setup_http(srv, &apc);
    if (listen_on(srv, err) == -1)
        return -1;

    srv->sig_term = add_signal(srv, SIGTERM, on_stop);
    srv->sig_int = add_signal(srv, SIGINT, on_stop);
    srv->sig_hup = add_signal(srv, SIGHUP, on_hup);
    srv->sig_usr1 = add_signal(srv, SIGUSR1, on_usr1);
    srv->reload_timer = event_new(srv->base, -1, EV_PERSIST, on_reload_timer, srv);
    if (srv->reload_timer == NULL || event_add(srv->reload_timer, &every) == -1)
        abort(); /* allocation only */
    srv->trim_timer = event_new(srv->base, -1, EV_PERSIST, on_trim_timer, srv);
    if (srv->trim_timer == NULL || event_add(srv->trim_timer, &trim_every) == -1)
        abort(); /* allocation only */
    zp_log(ZP_LOG_INFO, "serving", ZP_S("bind_address", o->bind_address ? o->bind_address : "*"),
           ZP_I("port", o->secure_port ? o->secure_port : 8443), ZP_S("group", apc.group),
           ZP_S("solver", apc.solver_name), ZP_I("reload_interval_s", every.tv_sec), ZP_END);
    return 0;
}

int zp_server_run(const struct zp_server_opts *opts, struct zp_solver *solver, struct zp_err *err)
{
    struct server srv;
    sigset_t sigs;
    int rc = -1;

    memset(&srv, 0, sizeof(srv));
    srv.opts = opts;
    the_server = &srv;
    /* A peer closing its socket must be an error return, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    if (setup(&srv, solver, err) == -1)
        goto out;
    /* The signals reach libevent only if this thread may take them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    if (event_base_dispatch(srv.base) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "the event loop failed");
        goto out;
    }
    zp_log(ZP_LOG_INFO, "stopped", ZP_END);
    rc = 0;
out:
    /*
     * Connections first: their close callbacks detach parked requests, so a
     * challenge finishing later touches nothing of the server but memory it
     * owns.
     */
    if (srv.http != NULL)
        evhttp_free(srv.http);
    if (srv.api != NULL)
        zp_api_detach_parked(srv.api);
    zp_handoff_close(srv.handoff);
    /* Waits for calls to kube-apiserver in progress; what never ran is given back. */
    zp_kworker_free(srv.worker);
    zp_authsrc_free(srv.authsrc);
    zp_authz_free(srv.authz);
    zp_api_free(srv.api);
    if (srv.drain_timer != NULL)
        event_free(srv.drain_timer);
    if (srv.reload_timer != NULL)
        event_free(srv.reload_timer);
    if (srv.trim_timer != NULL)
        event_free(srv.trim_timer);
    if (srv.accept_retry != NULL)
        event_free(srv.accept_retry);
    if (srv.sig_term != NULL)
        event_free(srv.sig_term);
    if (srv.sig_int != NULL)
        event_free(srv.sig_int);
    if (srv.sig_hup != NULL)
        event_free(srv.sig_hup);
    if (srv.sig_usr1 != NULL)
        event_free(srv.sig_usr1);
    if (srv.base != NULL)
        event_base_free(srv.base);
    /* After the base: its last finalizers free the connections, which count in it. */
    zp_conns_free(srv.conns);
    the_server = NULL;
    zp_authn_free(srv.authn);
    zp_tls_free(srv.tls);
    return rc;
}
