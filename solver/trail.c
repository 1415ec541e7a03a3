/*
 * trail.c — the records behind the status page (trail.h): a list of the
 * challenges in flight and a ring of the last ZP_TRAIL_RECENT answered.
 *
 * A record is small (a waiting challenge costs its bytes): strings the
 * configuration owns are borrowed (provider, type), the rest allocated to
 * size, the watch's report kept only as each nameserver's name, address
 * and history. The value itself stays only while in flight (to find its
 * watch); the page shows its hash.
 *
 * Threads: solver workers and watcher threads record, the listener's
 * thread snapshots; everything under t->mu. Times: offsets are on the
 * zp_now_ms() clock, "started" on the wall clock.
 */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "solver/challenge.h"
#include "solver/solver.h"
#include "solver/trail.h"
#include "solver/watch.h"

#define NOT_YET UINT32_MAX

struct trail_ns {
    char *name;
    char addr[64];
    uint8_t state;
    struct zp_ns_history hist;
};

struct zp_trail_rec {
    struct zp_trail_rec *prev, *next; /* the in-flight list */
    char *uid, *ns_name, *fqdn, *zone, *value, *message, *route_error;
    const char *provider, *type, *reason; /* borrowed: the configuration's, static text */
    char hash[24];
    enum zp_action action;
    int done, ok;
    uint64_t wall_ms, start_ms, took_ms;
    uint32_t step_at[ZP_TS_N], step_took[ZP_TS_N];
    int8_t step_ok[ZP_TS_N]; /* -1 running or not run */
    struct trail_ns *ns;
    size_t n_ns;
};

struct zp_trail {
    pthread_mutex_t mu;
    struct zp_trail_rec *head; /* in flight, newest first */
    unsigned in_flight;
    struct zp_trail_rec *ring[ZP_TRAIL_RECENT];
    size_t ring_next; /* where the next answered record goes */
};

void zp_value_hash(const char *value, char *out, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char hex[13];

    if (EVP_Digest(value, strlen(value), md, &len, EVP_sha256(), NULL) != 1 || len < 6) {
        snprintf(out, n, "sha256:?");
        return;
    }
    for (int i = 0; i < 6; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    snprintf(out, n, "sha256:%s", hex);
}

static char *dup_or_null(const char *s)
{
    return s != NULL && *s ? zp_xstrdup(s) : NULL;
}

static void rec_free(struct zp_trail_rec *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_ns; i++)
        free(r->ns[i].name);
    free(r->ns);
    free(r->uid);
    free(r->ns_name);
    free(r->fqdn);
    free(r->zone);
    free(r->value);
    free(r->message);
    free(r->route_error);
    free(r);
}

struct zp_trail *zp_trail_new(void)
{
    struct zp_trail *t = zp_xcalloc(1, sizeof(*t));

    pthread_mutex_init(&t->mu, NULL);
    return t;
}

void zp_trail_free(struct zp_trail *t)
{
    if (t == NULL)
        return;
    while (t->head != NULL) {
        struct zp_trail_rec *r = t->head;
        t->head = r->next;
        rec_free(r);
    }
    for (size_t i = 0; i < ZP_TRAIL_RECENT; i++)
        rec_free(t->ring[i]);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

struct zp_trail_rec *zp_trail_begin(struct zp_trail *t, const struct zp_challenge *ch,
                                    const char *provider, const char *type, const char *zone,
                                    const char *route_error)
{
    struct zp_trail_rec *r;
    struct timeval tv;

    if (t == NULL)
        return NULL;
    r = zp_xcalloc(1, sizeof(*r));
    r->uid = dup_or_null(ch->uid);
    r->ns_name = dup_or_null(ch->resource_namespace);
    r->fqdn = zp_xstrdup(ch->fqdn);
    r->zone = dup_or_null(zone);
    r->value = zp_xstrdup(ch->key);
    r->route_error = dup_or_null(route_error);
    r->provider = provider;
    r->type = type;
    r->action = ch->action;
    zp_value_hash(ch->key, r->hash, sizeof(r->hash));
    gettimeofday(&tv, NULL);
    r->wall_ms = (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
    r->start_ms = zp_now_ms();
    for (int i = 0; i < ZP_TS_N; i++) {
        r->step_at[i] = r->step_took[i] = NOT_YET;
        r->step_ok[i] = -1;
    }
    r->step_at[ZP_TS_QUEUED] = 0;
    pthread_mutex_lock(&t->mu);
    r->next = t->head;
    if (t->head != NULL)
        t->head->prev = r;
    t->head = r;
    t->in_flight++;
    pthread_mutex_unlock(&t->mu);
    return r;
}

static uint32_t since(const struct zp_trail_rec *r)
{
    uint64_t d = zp_now_ms() - r->start_ms;
    return d >= NOT_YET ? NOT_YET - 1 : (uint32_t)d;
}

void zp_trail_step_start(struct zp_trail *t, struct zp_trail_rec *r, enum zp_trail_step step)
{
    if (t == NULL || r == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    r->step_at[step] = since(r);
    pthread_mutex_unlock(&t->mu);
}

void zp_trail_step_end(struct zp_trail *t, struct zp_trail_rec *r, enum zp_trail_step step, int ok)
{
    if (t == NULL || r == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    if (r->step_at[step] == NOT_YET)
        r->step_at[step] = since(r);
    r->step_took[step] = since(r) - r->step_at[step];
    r->step_ok[step] = ok != 0;
    pthread_mutex_unlock(&t->mu);
}

void zp_trail_report(struct zp_trail *t, struct zp_trail_rec *r, const struct zp_watch_report *rep)
{
    struct trail_ns *ns;
    size_t n;

    if (t == NULL || r == NULL || rep == NULL)
        return;
    n = rep->n;
    ns = zp_xcalloc(n ? n : 1, sizeof(*ns));
    for (size_t i = 0; i < n; i++) {
        ns[i].name = zp_xstrdup(rep->ns[i].name);
        zp_strlcpy(ns[i].addr, rep->ns[i].addr, sizeof(ns[i].addr));
        ns[i].state = (uint8_t)rep->ns[i].state;
        ns[i].hist = rep->ns[i].hist;
    }
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < r->n_ns; i++)
        free(r->ns[i].name);
    free(r->ns);
    r->ns = ns;
    r->n_ns = n;
    pthread_mutex_unlock(&t->mu);
}

void zp_trail_end(struct zp_trail *t, struct zp_trail_rec *r, const struct zp_result *res)
{
    struct zp_trail_rec *old;

    if (t == NULL || r == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        t->head = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    t->in_flight--;
    r->done = 1;
    r->ok = res->ok;
    r->took_ms = since(r);
    r->reason = res->ok ? NULL : zp_errkind_name(res->err.kind);
    r->message = res->ok ? NULL : zp_xstrdup(res->err.msg);
    free(r->value); /* only to find the watch while in flight */
    r->value = NULL;
    old = t->ring[t->ring_next];
    t->ring[t->ring_next] = r;
    t->ring_next = (t->ring_next + 1) % ZP_TRAIL_RECENT;
    pthread_mutex_unlock(&t->mu);
    rec_free(old);
}

unsigned zp_trail_in_flight(struct zp_trail *t)
{
    unsigned n;

    if (t == NULL)
        return 0;
    pthread_mutex_lock(&t->mu);
    n = t->in_flight;
    pthread_mutex_unlock(&t->mu);
    return n;
}

/* --- the snapshot ------------------------------------------------------------------------ */

static void add_str(cJSON *o, const char *k, const char *v)
{
    cJSON_AddItemToObject(o, k, v != NULL ? cJSON_CreateString(v) : cJSON_CreateNull());
}

static void add_ms(cJSON *o, const char *k, uint32_t v)
{
    cJSON_AddItemToObject(o, k, v != NOT_YET ? cJSON_CreateNumber(v) : cJSON_CreateNull());
}

static void wall_text(uint64_t ms, char *out, size_t n)
{
    time_t s = (time_t)(ms / 1000u);
    struct tm tm;

    gmtime_r(&s, &tm);
    snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000u));
}

static cJSON *ns_json(const char *fqdn, const char *name, const char *addr, unsigned state,
                      const struct zp_ns_history *h)
{
    cJSON *o = cJSON_CreateObject(), *answers = cJSON_CreateArray();
    char dig[ZP_WATCH_DIG_MAX];

    add_str(o, "name", name);
    add_str(o, "address", addr);
    add_str(o, "state", zp_ns_state_name((enum zp_ns_state)state));
    add_ms(o, "servedMs", h->served_ms);
    zp_watch_dig(addr, fqdn, dig, sizeof(dig));
    add_str(o, "dig", dig);
    for (unsigned i = 0; i < h->n && i < ZP_NS_HIST; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "atMs", h->at_ms[i]);
        add_str(a, "state", zp_ns_state_name((enum zp_ns_state)h->state[i]));
        cJSON_AddItemToArray(answers, a);
    }
    cJSON_AddItemToObject(o, "answers", answers);
    return o;
}

/* t->mu held. The live answers of a watch, or the kept report. */
static cJSON *nameservers_json(const struct zp_trail_rec *r, struct zp_watcher *w)
{
    cJSON *arr = cJSON_CreateArray();
    struct zp_watch_report *rep;

    if (r->n_ns > 0 || r->done || w == NULL || r->value == NULL ||
        r->step_at[ZP_TS_PROPAGATION] == NOT_YET) {
        for (size_t i = 0; i < r->n_ns; i++)
            cJSON_AddItemToArray(arr, ns_json(r->fqdn, r->ns[i].name, r->ns[i].addr, r->ns[i].state,
                                              &r->ns[i].hist));
        return arr;
    }
    rep = zp_xcalloc(1, sizeof(*rep));
    if (zp_watcher_peek(w, r->fqdn, r->value, rep) == 0)
        for (size_t i = 0; i < rep->n; i++)
            cJSON_AddItemToArray(arr, ns_json(r->fqdn, rep->ns[i].name, rep->ns[i].addr,
                                              rep->ns[i].state, &rep->ns[i].hist));
    free(rep);
    return arr;
}

static const char *state_of(const struct zp_trail_rec *r)
{
    static const char *const names[ZP_TS_N] = {"queued", "writing", "propagating", "checking"};
    int last = ZP_TS_QUEUED;

    if (r->done)
        return "done";
    for (int i = 0; i < ZP_TS_N; i++)
        if (r->step_at[i] != NOT_YET)
            last = i;
    return names[last];
}

static void step_json(cJSON *steps, const char *name, uint32_t at, uint32_t took, int ok,
                      const char *detail)
{
    cJSON *s = cJSON_CreateObject();

    add_str(s, "step", name);
    add_ms(s, "atMs", at);
    add_ms(s, "tookMs", took);
    cJSON_AddItemToObject(s, "ok", ok < 0 ? cJSON_CreateNull() : cJSON_CreateBool(ok));
    if (detail != NULL)
        add_str(s, "detail", detail);
    cJSON_AddItemToArray(steps, s);
}

static cJSON *steps_json(const struct zp_trail_rec *r)
{
    static const char *const names[ZP_TS_N] = {"queued", "provider call", "propagation", "CA view"};
    cJSON *steps = cJSON_CreateArray();
    char detail[ZP_DNAME_MAX + 128];

    if (r->provider != NULL)
        snprintf(detail, sizeof(detail), "provider %s (%s), zone %s", r->provider,
                 r->type ? r->type : "?", r->zone ? r->zone : "?");
    step_json(steps, "routing", 0, 0, r->provider != NULL,
              r->provider != NULL ? detail : r->route_error);
    for (int i = 0; i < ZP_TS_N; i++)
        if (r->step_at[i] != NOT_YET)
            step_json(steps, names[i], r->step_at[i], r->step_took[i], r->step_ok[i], NULL);
    if (r->done)
        step_json(steps, "answer", (uint32_t)r->took_ms, 0, r->ok, NULL);
    return steps;
}

/* t->mu held. */
static cJSON *rec_json(const struct zp_trail_rec *r, struct zp_watcher *w)
{
    cJSON *o = cJSON_CreateObject();
    char when[96];

    add_str(o, "uid", r->uid);
    add_str(o, "namespace", r->ns_name);
    add_str(o, "action", zp_action_name(r->action));
    add_str(o, "fqdn", r->fqdn);
    add_str(o, "zone", r->zone);
    add_str(o, "provider", r->provider);
    add_str(o, "type", r->type);
    add_str(o, "valueHash", r->hash);
    wall_text(r->wall_ms, when, sizeof(when));
    add_str(o, "started", when);
    cJSON_AddNumberToObject(o, "elapsedMs", r->done ? (double)r->took_ms : (double)since(r));
    add_str(o, "state", state_of(r));
    add_str(o, "outcome", r->done ? (r->ok ? "success" : "failure") : NULL);
    add_str(o, "reason", r->reason);
    add_str(o, "message", r->message);
    cJSON_AddItemToObject(o, "steps", steps_json(r));
    cJSON_AddItemToObject(o, "nameservers", nameservers_json(r, w));
    return o;
}

int zp_trail_json(struct zp_trail *t, struct zp_watcher *w, const char *persist, struct zp_buf *out)
{
    cJSON *doc = cJSON_CreateObject(), *fl = cJSON_CreateArray(), *recent = cJSON_CreateArray();
    struct timeval tv;
    char when[96], *text;
    unsigned shown = 0;
    int rc;

    gettimeofday(&tv, NULL);
    wall_text((uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u, when, sizeof(when));
    add_str(doc, "generated", when);
    if (t != NULL) {
        pthread_mutex_lock(&t->mu);
        cJSON_AddNumberToObject(doc, "inFlightTotal", t->in_flight);
        for (const struct zp_trail_rec *r = t->head; r && shown < ZP_TRAIL_RECENT; r = r->next) {
            cJSON_AddItemToArray(fl, rec_json(r, w));
            shown++;
        }
        for (size_t k = 1; k <= ZP_TRAIL_RECENT; k++) {
            const struct zp_trail_rec *r =
                t->ring[(t->ring_next + ZP_TRAIL_RECENT - k) % ZP_TRAIL_RECENT];
            if (r != NULL)
                cJSON_AddItemToArray(recent, rec_json(r, w));
        }
        pthread_mutex_unlock(&t->mu);
    } else {
        cJSON_AddNumberToObject(doc, "inFlightTotal", 0);
    }
    cJSON_AddItemToObject(doc, "inFlight", fl);
    cJSON_AddItemToObject(doc, "recent", recent);
    if (persist != NULL)
        cJSON_AddRawToObject(doc, "persist", persist);
    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (text == NULL)
        return -1;
    rc = zp_buf_puts(out, text);
    free(text);
    return rc;
}
