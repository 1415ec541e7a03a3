/*
 * authz.c — the SubjectAccessReview authorizer: the review's JSON, its
 * answer, Go's 403 wording, a cache of recent answers, and the reviews in
 * flight, each sent once from a worker thread however many requests wait
 * on it. The cache and the flights belong to the event-loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "k8s/api.h"
#include "k8s/authn.h"
#include "k8s/authz.h"
#include "k8s/kclient.h"

#define SAR_GROUP "authorization.k8s.io"

struct entry {
    struct entry *next;
    char *key;
    uint64_t expires_ms;
    int allowed;
    char reason[512];
};

struct waiter {
    struct waiter *next;
    zp_authz_done_fn *done;
    void *arg;
};

/* One review being asked. It outlives the authorizer if the server stops first. */
struct flight {
    struct zp_kjob job; /* first: the hand-off gives this pointer back */
    struct flight *next;
    struct zp_authz *z; /* touched only with live = 1 */
    struct zp_kclient *k;
    char *key; /* the review body */
    struct waiter *waiters, **wtail;
    struct zp_authz_answer ans; /* written on the worker */
};

struct zp_authz {
    struct zp_kclient *k;
    struct zp_kworker *w;
    unsigned ttl_ms;
    struct entry *cache, **ctail; /* oldest first */
    unsigned n_cache;
    struct flight *flights;
};

/* cJSON says NULL only when out of memory. */
static void *must(void *p)
{
    if (p == NULL)
        abort();
    return p;
}

/* ---- pure parts ----------------------------------------------------------- */

static const char *const verbs[][3] = {
    /* method, non-resource verb, verb on the collection */
    {"GET", "get", "list"},
    {"HEAD", "head", "list"},
    {"POST", "post", "create"},
    {"PUT", "put", "update"},
    {"PATCH", "patch", "patch"},
    {"DELETE", "delete", "deletecollection"},
    {"OPTIONS", "options", "options"},
    {"TRACE", "trace", "trace"},
    {"CONNECT", "connect", "connect"},
};

void zp_authz_attrs_for(const char *method, int on_resource, const char *group, const char *version,
                        const char *resource, const char *path, struct zp_authz_attrs *at)
{
    size_t i;

    memset(at, 0, sizeof(*at));
    for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(verbs[i][0], method) == 0)
            break;
    if (!on_resource) {
        at->verb = i < sizeof(verbs) / sizeof(verbs[0]) ? verbs[i][1] : "unknown";
        at->path = path;
        return;
    }
    at->verb = i < sizeof(verbs) / sizeof(verbs[0]) ? verbs[i][2] : "unknown";
    at->group = group;
    at->version = version;
    at->resource = resource;
}

char *zp_authz_sar_json(const struct zp_identity *id, const struct zp_authz_attrs *at)
{
    cJSON *o = must(cJSON_CreateObject()), *spec, *attrs, *groups, *extra, *vals;
    char *s;

    must(cJSON_AddStringToObject(o, "apiVersion", SAR_GROUP "/v1"));
    must(cJSON_AddStringToObject(o, "kind", "SubjectAccessReview"));
    spec = must(cJSON_AddObjectToObject(o, "spec"));
    if (at->resource != NULL) {
        attrs = must(cJSON_AddObjectToObject(spec, "resourceAttributes"));
        must(cJSON_AddStringToObject(attrs, "verb", at->verb));
        must(cJSON_AddStringToObject(attrs, "group", at->group ? at->group : ""));
        must(cJSON_AddStringToObject(attrs, "version", at->version ? at->version : ""));
        must(cJSON_AddStringToObject(attrs, "resource", at->resource));
    } else {
        attrs = must(cJSON_AddObjectToObject(spec, "nonResourceAttributes"));
        must(cJSON_AddStringToObject(attrs, "path", at->path ? at->path : "/"));
        must(cJSON_AddStringToObject(attrs, "verb", at->verb));
    }
    must(cJSON_AddStringToObject(spec, "user", id->user ? id->user : ""));
    groups = must(cJSON_AddArrayToObject(spec, "groups"));
    for (size_t i = 0; i < id->n_groups; i++)
        cJSON_AddItemToArray(groups, must(cJSON_CreateString(id->groups[i])));
    if (id->n_extra > 0) {
        extra = must(cJSON_AddObjectToObject(spec, "extra"));
        for (size_t i = 0; i < id->n_extra; i++) {
            vals = must(cJSON_AddArrayToObject(extra, id->extra[i].key));
            for (size_t j = 0; j < id->extra[i].n_values; j++)
                cJSON_AddItemToArray(vals, must(cJSON_CreateString(id->extra[i].values[j])));
        }
    }
    s = must(cJSON_PrintUnformatted(o));
    cJSON_Delete(o);
    return s;
}

void zp_authz_parse(const cJSON *review, struct zp_authz_answer *ans)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(review, "status");
    const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(st, "allowed");
    const char *reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "reason"));
    const char *eval =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "evaluationError"));

    if (!cJSON_IsObject(st)) {
        ans->failed = 1;
        zp_err_set(&ans->err, ZP_ETRANSIENT, "the SubjectAccessReview came back without a status");
        return;
    }
    ans->allowed = cJSON_IsTrue(allowed);
    if (reason != NULL && *reason != '\0')
        zp_strlcpy(ans->reason, reason, sizeof(ans->reason));
    else if (!ans->allowed && eval != NULL && *eval != '\0')
        snprintf(ans->reason, sizeof(ans->reason), "%s", eval);
}

char *zp_authz_forbidden_message(const struct zp_identity *id, const struct zp_authz_attrs *at,
                                 const char *reason)
{
    const char *user = id->user ? id->user : "";
    const char *sep = reason && *reason ? ": " : "";
    const char *why = reason ? reason : "";

    if (at->resource == NULL)
        return zp_xasprintf("forbidden: User \"%s\" cannot %s path \"%s\"%s%s", user, at->verb,
                            at->path ? at->path : "/", sep, why);
    return zp_xasprintf("%s%s%s is forbidden: User \"%s\" cannot %s resource \"%s\" in API group "
                        "\"%s\" at the cluster scope%s%s",
                        at->resource, at->group && *at->group ? "." : "",
                        at->group ? at->group : "", user, at->verb, at->resource,
                        at->group ? at->group : "", sep, why);
}

/* ---- the cache (loop thread) ----------------------------------------------- */

static void entry_free(struct entry *e)
{
    free(e->key);
    free(e);
}

/* Drops what has expired; when still full, the oldest. */
static void cache_trim(struct zp_authz *z, uint64_t now)
{
    struct entry **pp = &z->cache, *e;

    while ((e = *pp) != NULL) {
        if (e->expires_ms <= now || (pp == &z->cache && z->n_cache >= ZP_AUTHZ_CACHE_MAX)) {
            *pp = e->next;
            entry_free(e);
            z->n_cache--;
            continue;
        }
        pp = &e->next;
    }
    z->ctail = &z->cache;
    for (e = z->cache; e != NULL; e = e->next)
        z->ctail = &e->next;
}

static const struct entry *cache_find(struct zp_authz *z, const char *key, uint64_t now)
{
    for (const struct entry *e = z->cache; e != NULL; e = e->next)
        if (e->expires_ms > now && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void cache_put(struct zp_authz *z, const char *key, const struct zp_authz_answer *ans)
{
    uint64_t now = zp_now_ms();
    struct entry *e = zp_xcalloc(1, sizeof(*e));

    cache_trim(z, now);
    e->key = zp_xstrdup(key);
    e->expires_ms = now + z->ttl_ms;
    e->allowed = ans->allowed;
    zp_strlcpy(e->reason, ans->reason, sizeof(e->reason));
    *z->ctail = e;
    z->ctail = &e->next;
    z->n_cache++;
}

/* ---- the reviews in flight --------------------------------------------------- */

/* A worker thread: one review. */
static void flight_run(struct zp_kjob *job)
{
    struct flight *f = (struct flight *)job;
    struct zp_kobj obj = {
        .verb = "create",
        .group = SAR_GROUP,
        .version = "v1",
        .resource = "subjectaccessreviews",
        .hint = "bind it to ClusterRole system:auth-delegator",
    };
    cJSON *reply = NULL;

    if (zp_kclient_call(f->k, &obj, f->key, zp_now_ms() + ZP_KCLIENT_TIMEOUT_MS, 0, &reply,
                        &f->ans.err) == -1)
        f->ans.failed = 1;
    else
        zp_authz_parse(reply, &f->ans);
    cJSON_Delete(reply);
}

static void flight_unlink(struct zp_authz *z, struct flight *f)
{
    for (struct flight **pp = &z->flights; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            return;
        }
    }
}

/* The loop (live), or anywhere once the server stopped: answer every waiter. */
static void flight_done(struct zp_handoff_item *it, int live)
{
    struct flight *f = (struct flight *)it;
    struct waiter *w, *next;

    if (live) {
        flight_unlink(f->z, f);
        if (!f->ans.failed)
            cache_put(f->z, f->key, &f->ans);
        else
            zp_log(ZP_LOG_WARN, "authorization: no SubjectAccessReview answer",
                   ZP_S("error", f->ans.err.msg), ZP_END);
    }
    for (w = f->waiters; w != NULL; w = next) {
        next = w->next;
        w->done(w->arg, &f->ans, live);
        free(w);
    }
    free(f->key);
    free(f);
}

static void add_waiter(struct flight *f, zp_authz_done_fn *done, void *arg)
{
    struct waiter *w = zp_xcalloc(1, sizeof(*w));

    w->done = done;
    w->arg = arg;
    *f->wtail = w;
    f->wtail = &w->next;
}

int zp_authz_check(struct zp_authz *z, const struct zp_identity *id,
                   const struct zp_authz_attrs *at, zp_authz_done_fn *done, void *arg,
                   struct zp_authz_answer *ans)
{
    const struct entry *e;
    struct flight *f;
    char *key;

    memset(ans, 0, sizeof(*ans));
    /* As Go's authorizerfactory: the masters group never needs a review. */
    if (zp_identity_in_group(id, ZP_GROUP_MASTERS)) {
        ans->allowed = 1;
        return 0;
    }
    key = zp_authz_sar_json(id, at);
    if ((e = cache_find(z, key, zp_now_ms())) != NULL) {
        ans->allowed = e->allowed;
        zp_strlcpy(ans->reason, e->reason, sizeof(ans->reason));
        free(key);
        return 0;
    }
    for (f = z->flights; f != NULL; f = f->next) {
        if (strcmp(f->key, key) == 0) {
            add_waiter(f, done, arg);
            free(key);
            return 1;
        }
    }
    f = zp_xcalloc(1, sizeof(*f));
    f->job.item.fn = flight_done;
    f->job.run = flight_run;
    f->z = z;
    f->k = z->k;
    f->key = key;
    f->wtail = &f->waiters;
    if (zp_kworker_submit(z->w, &f->job) == -1) {
        free(f->key);
        free(f);
        ans->failed = 1;
        zp_err_set(&ans->err, ZP_ETRANSIENT,
                   "too many authorization checks are waiting for kube-apiserver; retry");
        return 0;
    }
    add_waiter(f, done, arg);
    f->next = z->flights;
    z->flights = f;
    return 1;
}

struct zp_authz *zp_authz_new(struct zp_kclient *k, struct zp_kworker *w, unsigned ttl_ms)
{
    struct zp_authz *z = zp_xcalloc(1, sizeof(*z));

    z->k = k;
    z->w = w;
    z->ttl_ms = ttl_ms ? ttl_ms : ZP_AUTHZ_TTL_MS;
    z->ctail = &z->cache;
    return z;
}

void zp_authz_free(struct zp_authz *z)
{
    struct entry *e, *next;

    if (z == NULL)
        return;
    /* Flights are not ours to free: each answers its waiters with live = 0. */
    for (e = z->cache; e != NULL; e = next) {
        next = e->next;
        entry_free(e);
    }
    free(z);
}
