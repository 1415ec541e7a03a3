/*
 * api.c — the requests of the aggregated API: who may ask (parked while
 * kube-apiserver answers a SubjectAccessReview), the replies, and the
 * ChallengePayload call, parked while the solver works so that no thread
 * waits on a Present. Which path is what and the documents themselves are
 * apidoc.c's.
 */
#include <sys/queue.h>

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "k8s/api.h"
#include "k8s/authn.h"
#include "k8s/conn.h"
#include "k8s/authz.h"
#include "k8s/server.h"
#include "k8s/xchg.h"
#include "solver/challenge.h"
#include "solver/solver.h"

#define MSG_NOT_FOUND "the server could not find the requested resource"
struct zp_api {
    char *group;
    char *solver_name;
    struct zp_solver *solver;
    struct zp_authn *authn;
    struct zp_authz *authz;
    struct zp_handoff *handoff;
    int draining;
    struct call *parked; /* calls waiting for the solver (loop thread only) */
    unsigned n_answered; /* of those, answered at the stop */
};

/* What the one log line of a request says, filled in as the request goes. */
struct reqlog {
    char method[16]; /* copied: the exchange may be gone when the line is written */
    char path[256];
    char remote[64];
    char user[256];
    uint64_t start_ms;
    int status;
    const char *action; /* POST only, from here on */
    char fqdn[ZP_DNAME_MAX];
    char provider[64];
    const char *outcome;
    const char *reason;
    char error[512]; /* why a request was refused; never a body or a secret */
};

/* A request parked until its SubjectAccessReview is answered. */
struct authz_wait {
    struct zp_api *api;
    struct zp_xchg *x; /* NULL once the peer is gone */
    enum zp_route route;
    char *user;
    char *path;
    struct zp_authz_attrs at; /* points into path and api */
    struct reqlog log;
};

/* One parked ChallengePayload call. */
struct call;
struct call {
    struct zp_handoff_item item; /* first: the hand-off gives this pointer back */
    struct zp_handoff *handoff;
    struct zp_api *api;
    struct zp_xchg *x;                                    /* NULL once the peer is gone */
    char uid[sizeof(((struct zp_challenge *)NULL)->uid)]; /* the answer's (the solver copied ch) */
    struct reqlog log;
    /*
     * Written on a solver thread before the post, read on the loop after it. err is
     * allocated only for a failure: a waiting challenge holds no 3 KB sentence.
     */
    int ok;
    struct zp_err *err;
    /* Loop thread only: the list of parked calls, and whether the stop answered it already. */
    struct call *prev, *next;
    int answered_at_stop;
};

/* ---- Replies --------------------------------------------------------- */

static void reply_with(const struct zp_api *api, struct zp_xchg *x, int code, const char *ctype,
                       const char *body, const char *allow, struct reqlog *lg)
{
    const struct zp_xchg_hdr h[] = {{"Content-Type", ctype},
                                    {"Cache-Control", "no-cache, private"},
                                    {"X-Content-Type-Options", "nosniff"},
                                    {"Allow", allow}};

    lg->status = code;
    x->ops->reply(x, code, h, allow != NULL ? 4 : 3, body, strlen(body), api->draining);
}

static void reply(const struct zp_api *api, struct zp_xchg *x, int code, const char *ctype,
                  const char *body, struct reqlog *lg)
{
    reply_with(api, x, code, ctype, body, NULL, lg);
}

static void reply_json(const struct zp_api *api, struct zp_xchg *x, int code, char *body,
                       struct reqlog *lg)
{
    reply(api, x, code, "application/json", body, lg);
    free(body);
}

static void reply_status(const struct zp_api *api, struct zp_xchg *x, int code, const char *reason,
                         const char *message, struct reqlog *lg)
{
    reply_json(api, x, code, zp_api_status_json(code, reason, message), lg);
}

static void method_not_allowed(const struct zp_api *api, struct zp_xchg *x, const char *allow,
                               struct reqlog *lg)
{
    char *body = zp_api_status_json(405, "MethodNotAllowed",
                                    "the server does not allow this method on the requested "
                                    "resource");

    reply_with(api, x, 405, "application/json", body, allow, lg);
    free(body);
}

static void log_request(const struct reqlog *lg)
{
    int warn = lg->status == 0 || lg->status >= 500 || (lg->outcome && lg->reason);
    enum zp_loglevel level = warn ? ZP_LOG_WARN : ZP_LOG_INFO;
    const char *user = lg->user[0] ? lg->user : NULL;
    const char *error = lg->error[0] ? lg->error : NULL;
    uint64_t ms = zp_now_ms() - lg->start_ms;

    if (lg->action == NULL) {
        zp_log(level, "request", ZP_S("method", lg->method), ZP_S("path", lg->path),
               ZP_I("status", lg->status), ZP_S("remote", lg->remote), ZP_S("user", user),
               ZP_S("error", error), ZP_I("elapsed_ms", ms), ZP_END);
        return;
    }
    zp_log(level, "request", ZP_S("method", lg->method), ZP_S("path", lg->path),
           ZP_I("status", lg->status), ZP_S("remote", lg->remote), ZP_S("user", user),
           ZP_S("action", lg->action), ZP_S("fqdn", lg->fqdn),
           ZP_S("provider", lg->provider[0] ? lg->provider : NULL), ZP_S("outcome", lg->outcome),
           ZP_S("reason", lg->reason), ZP_S("error", error), ZP_I("elapsed_ms", ms), ZP_END);
}

/* ---- The ChallengePayload call ---------------------------------------- */

static void on_call_gone(void *arg)
{
    struct call *c = arg;

    c->x = NULL;
}

static void park(struct zp_api *api, struct call *c)
{
    c->next = api->parked;
    if (api->parked != NULL)
        api->parked->prev = c;
    api->parked = c;
}

static void unpark(struct call *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else if (c->api->parked == c)
        c->api->parked = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* The hand-off: on the loop thread (live), or anywhere after the server stopped. */
static void call_finish(struct zp_handoff_item *it, int live)
{
    struct call *c = (struct call *)it;

    if (c->api != NULL) { /* NULL: detached at the server's end (zp_api_detach_parked) */
        unpark(c);
        if (c->answered_at_stop)
            c->api->n_answered--;
    }
    c->log.outcome = c->ok ? "success" : "failure";
    c->log.reason = c->ok || c->err == NULL ? NULL : zp_errkind_name(c->err->kind);
    if (c->answered_at_stop) {
        zp_strlcpy(c->log.error, "answered at the stop: zoneproof is restarting",
                   sizeof(c->log.error));
    } else if (live && c->x != NULL) {
        c->x->ops->watch(c->x, NULL, NULL);
        reply_json(c->api, c->x, 201,
                   zp_api_result_json(c->uid, c->ok, c->err ? c->err->kind : ZP_EOK,
                                      c->err ? c->err->msg : ""),
                   &c->log);
    } else {
        zp_strlcpy(c->log.error,
                   live ? "the client went away before the answer"
                        : "the server stopped before the answer",
                   sizeof(c->log.error));
    }
    log_request(&c->log);
    free(c->err);
    free(c);
}

/* A solver or watcher thread: keep what is needed, then move to the loop. */
static void on_solved(void *arg, const struct zp_result *res)
{
    struct call *c = arg;

    c->ok = res->ok;
    if (!res->ok) {
        c->err = zp_xcalloc(1, sizeof(*c->err));
        *c->err = res->err;
    }
    if (res->instance != NULL)
        zp_strlcpy(c->log.provider, res->instance, sizeof(c->log.provider));
    zp_handoff_post(c->handoff, &c->item);
}

/* Parks the request; answers at once only when the solver will not take it. */
static void submit(struct zp_api *api, struct zp_xchg *x, const struct zp_challenge *ch,
                   struct reqlog *lg)
{
    struct call *c = zp_xcalloc(1, sizeof(*c));
    struct zp_err refused = {0};

    c->item.fn = call_finish;
    c->handoff = api->handoff;
    c->api = api;
    c->x = x;
    zp_strlcpy(c->uid, ch->uid, sizeof(c->uid));
    c->log = *lg;
    x->ops->watch(x, on_call_gone, c);
    zp_handoff_hold(api->handoff);
    park(api, c);
    if (zp_solver_submit(api->solver, ch, on_solved, c, &refused) == 0)
        return;
    /* Refused (queue full, stopping): still a 201 that cert-manager retries. */
    zp_handoff_release(api->handoff);
    c->err = zp_xcalloc(1, sizeof(*c->err));
    *c->err = refused;
    if (c->err->msg[0] == '\0')
        zp_err_set(c->err, ZP_ETRANSIENT, "zoneproof cannot take the challenge now; retry");
    c->ok = 0;
    call_finish(&c->item, 1);
}

/* Returns 1 when the request was parked (it logs itself later). */
static int handle_post(struct zp_api *api, struct zp_xchg *x, struct reqlog *lg)
{
    const char *ct = evhttp_find_header(x->headers, "Content-Type");
    struct zp_challenge ch;
    struct zp_err err = {0};
    struct zp_buf body;
    int parked = 0;

    zp_buf_init(&body, ZP_SERVER_MAX_BODY);
    if (!zp_api_json_content_type(ct)) {
        reply_status(api, x, 415, "UnsupportedMediaType",
                     "the body of the request was in an unknown format - accepted media types "
                     "include: application/json",
                     lg);
        goto out;
    }
    if (x->body_too_large || x->body_len > ZP_SERVER_MAX_BODY ||
        (x->body_len > 0 && zp_buf_append(&body, x->body, x->body_len) == -1)) {
        reply_json(api, x, 413, zp_api_too_large_json(), lg);
        goto out;
    }
    if (zp_api_decode(zp_buf_str(&body), body.len, &ch, &err) == -1) {
        zp_strlcpy(lg->error, err.msg, sizeof(lg->error));
        reply_status(api, x, 400, "BadRequest", err.msg, lg);
        goto out;
    }
    lg->action = zp_action_name(ch.action);
    zp_strlcpy(lg->fqdn, ch.fqdn, sizeof(lg->fqdn));
    submit(api, x, &ch, lg);
    parked = 1;
out:
    zp_buf_free(&body);
    return parked;
}

/* ---- Dispatch ---------------------------------------------------------- */

static int is_get(const struct zp_xchg *x)
{
    return strcmp(x->method, "GET") == 0 || strcmp(x->method, "HEAD") == 0;
}

enum admit { ADMIT_OK, ADMIT_REFUSED, ADMIT_PARKED };

/* Answers a refusal (403 on deny, 500 when kube-apiserver gave no answer). */
static enum admit decide(const struct zp_api *api, struct zp_xchg *x, const char *user,
                         const struct zp_authz_attrs *at, const struct zp_authz_answer *ans,
                         struct reqlog *lg)
{
    struct zp_identity who = {.user = (char *)user};
    char *msg;

    if (ans->failed) {
        zp_strlcpy(lg->error, ans->err.msg, sizeof(lg->error));
        msg = zp_xasprintf("Internal error occurred: %s", ans->err.msg);
        reply_status(api, x, 500, "InternalError", msg, lg);
        free(msg);
        return ADMIT_REFUSED;
    }
    if (!ans->allowed) {
        msg = zp_authz_forbidden_message(&who, at, ans->reason);
        zp_strlcpy(lg->error, msg, sizeof(lg->error));
        reply_status(api, x, 403, "Forbidden", msg, lg);
        free(msg);
        return ADMIT_REFUSED;
    }
    return ADMIT_OK;
}

static int serve(struct zp_api *api, struct zp_xchg *x, enum zp_route route, struct reqlog *lg);

static void wait_free(struct authz_wait *w)
{
    free(w->user);
    free(w->path);
    free(w);
}

static void on_wait_gone(void *arg)
{
    struct authz_wait *w = arg;

    w->x = NULL;
}

/* The review's answer: on the loop thread (live), or anywhere after the server stopped. */
static void on_authz(void *arg, const struct zp_authz_answer *ans, int live)
{
    struct authz_wait *w = arg;

    if (live && w->x != NULL) {
        w->x->ops->watch(w->x, NULL, NULL);
        if (decide(w->api, w->x, w->user, &w->at, ans, &w->log) == ADMIT_OK &&
            serve(w->api, w->x, w->route, &w->log)) {
            wait_free(w); /* parked again, on the solver: it logs the request */
            return;
        }
    } else {
        zp_strlcpy(w->log.error,
                   live ? "the client went away before the answer"
                        : "the server stopped before the answer",
                   sizeof(w->log.error));
    }
    log_request(&w->log);
    wait_free(w);
}

/*
 * Authentication, then authorization. Returns ADMIT_OK when the caller may
 * go on, ADMIT_REFUSED when the 401, 403 or 500 is sent, ADMIT_PARKED when
 * a review is pending: on_authz continues (and logs) the request.
 */
static enum admit admit(struct zp_api *api, struct zp_xchg *x, enum zp_route route,
                        const char *path, struct reqlog *lg)
{
    struct zp_identity id;
    struct zp_authz_answer ans;
    struct zp_err err = {0};
    struct authz_wait *w = NULL;
    enum admit rc = ADMIT_REFUSED;

    if (zp_authn_request(api->authn, x->ssl, x->headers, &id, &err) == -1) {
        zp_strlcpy(lg->error, err.msg, sizeof(lg->error));
        reply_status(api, x, 401, "Unauthorized", "Unauthorized", lg);
        goto out;
    }
    zp_strlcpy(lg->user, id.user, sizeof(lg->user));
    if (api->authz == NULL) {
        rc = ADMIT_OK;
        goto out;
    }
    w = zp_xcalloc(1, sizeof(*w));
    w->api = api;
    w->x = x;
    w->route = route;
    w->user = zp_xstrdup(id.user);
    w->path = zp_xstrdup(path ? path : "/");
    zp_authz_attrs_for(x->method, route == ZP_ROUTE_SOLVER, api->group, ZP_API_VERSION,
                       api->solver_name, w->path, &w->at);
    if (zp_authz_check(api->authz, &id, &w->at, on_authz, w, &ans) == 1) {
        w->log = *lg;
        x->ops->watch(x, on_wait_gone, w);
        w = NULL;
        rc = ADMIT_PARKED;
        goto out;
    }
    rc = decide(api, x, id.user, &w->at, &ans, lg);
out:
    if (w != NULL)
        wait_free(w);
    zp_identity_cleanup(&id);
    return rc;
}

/* The routes behind authorization. Returns 1 when the request was parked on the solver. */
static int serve(struct zp_api *api, struct zp_xchg *x, enum zp_route route, struct reqlog *lg)
{
    int get = is_get(x);

    switch (route) {
    case ZP_ROUTE_APIS:
    case ZP_ROUTE_GROUP:
    case ZP_ROUTE_VERSION:
        if (!get)
            method_not_allowed(api, x, "GET, HEAD", lg);
        else if (route == ZP_ROUTE_APIS)
            reply_json(api, x, 200, zp_api_group_list_json(api->group), lg);
        else if (route == ZP_ROUTE_GROUP)
            reply_json(api, x, 200, zp_api_group_json(api->group), lg);
        else
            reply_json(api, x, 200, zp_api_resource_list_json(api->group, api->solver_name), lg);
        return 0;
    case ZP_ROUTE_SOLVER:
        if (strcmp(x->method, "POST") != 0) {
            method_not_allowed(api, x, "POST", lg);
            return 0;
        }
        return handle_post(api, x, lg);
    default:
        reply_status(api, x, 404, "NotFound", MSG_NOT_FOUND, lg);
        return 0;
    }
}

void zp_api_handle(struct zp_xchg *x, void *arg)
{
    struct zp_api *api = arg;
    const char *path = x->path;
    int get = is_get(x);
    enum zp_route route;
    struct reqlog lg;

    memset(&lg, 0, sizeof(lg));
    lg.start_ms = zp_now_ms();
    zp_strlcpy(lg.method, x->method, sizeof(lg.method));
    zp_strlcpy(lg.path, path ? path : "", sizeof(lg.path));
    zp_strlcpy(lg.remote, x->remote ? x->remote : "", sizeof(lg.remote));
    route = zp_api_route(path, api->group, api->solver_name);
    switch (route) {
    case ZP_ROUTE_HEALTH:
    case ZP_ROUTE_READY:
        if (!get)
            method_not_allowed(api, x, "GET, HEAD", &lg);
        else if (api->draining && route == ZP_ROUTE_READY)
            reply(api, x, 503, "text/plain; charset=utf-8", "shutting down", &lg);
        else
            reply(api, x, 200, "text/plain; charset=utf-8", "ok", &lg);
        break;
    case ZP_ROUTE_OPENAPI:
        /* The aggregator reads a 404 as "no OpenAPI here" and stops asking. */
        reply_status(api, x, 404, "NotFound", MSG_NOT_FOUND, &lg);
        break;
    case ZP_ROUTE_APIS:
    case ZP_ROUTE_GROUP:
    case ZP_ROUTE_VERSION:
    case ZP_ROUTE_SOLVER:
    case ZP_ROUTE_NOT_FOUND:
    case ZP_ROUTE__MAX:
        switch (admit(api, x, route, path, &lg)) {
        case ADMIT_PARKED:
            return; /* on_authz continues and logs */
        case ADMIT_REFUSED:
            break;
        case ADMIT_OK:
            if (serve(api, x, route, &lg))
                return; /* parked: call_finish answers and logs */
            break;
        }
        break;
    }
    log_request(&lg);
}

struct zp_api *zp_api_new(const struct zp_api_cfg *cfg)
{
    struct zp_api *api = zp_xcalloc(1, sizeof(*api));

    api->group = zp_xstrdup(cfg->group);
    api->solver_name = zp_xstrdup(cfg->solver_name);
    api->solver = cfg->solver;
    api->authn = cfg->authn;
    api->authz = cfg->authz;
    api->handoff = cfg->handoff;
    if (api->authz != NULL)
        zp_log(ZP_LOG_INFO,
               "authorization: SubjectAccessReview for every caller outside "
               "system:masters",
               ZP_END);
    else
        zp_log(ZP_LOG_WARN,
               "authorization: no cluster configured, so no SubjectAccessReview; every verified "
               "front-proxy identity is allowed (kube-apiserver authorized it before proxying)",
               ZP_END);
    return api;
}

void zp_api_free(struct zp_api *api)
{
    if (api == NULL)
        return;
    free(api->group);
    free(api->solver_name);
    free(api);
}

void zp_api_set_draining(struct zp_api *api, int on)
{
    api->draining = on;
}

unsigned zp_api_answer_parked(struct zp_api *api)
{
    unsigned n = 0;

    for (struct call *c = api->parked; c != NULL; c = c->next) {
        if (c->answered_at_stop || c->x == NULL)
            continue;
        c->answered_at_stop = 1;
        c->x->ops->watch(c->x, NULL, NULL);
        reply_json(api, c->x, 201, zp_api_result_json(c->uid, 0, ZP_ETRANSIENT, ZP_API_RESTARTING),
                   &c->log);
        c->x = NULL;
        n++;
    }
    api->n_answered += n;
    return n;
}

void zp_api_detach_parked(struct zp_api *api)
{
    struct call *c = api->parked, *next;

    for (; c != NULL; c = next) {
        next = c->next;
        c->api = NULL;
        c->prev = c->next = NULL;
    }
    api->parked = NULL;
    api->n_answered = 0;
}

unsigned zp_api_answered_at_stop(const struct zp_api *api)
{
    return api->n_answered;
}
