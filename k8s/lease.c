/*
 * lease.c — one Lease as a lock across replicas (lease.h): read it, judge
 * who holds it, and write it back with the resourceVersion that was read,
 * reading again after a 409. The times are MicroTime (RFC 3339, six
 * fractional digits, UTC), as client-go writes them.
 *
 * Threads: any; no state outside the calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/rand.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "k8s/kclient.h"
#include "k8s/lease.h"

#define HINT                                                                                       \
    "replicas coordinate through Leases in zoneproof's namespace: grant get, create and update "   \
    "on leases.coordination.k8s.io there"

/* ---- the pure parts --------------------------------------------------------------------- */

void zp_lease_identity(char *out, size_t sz)
{
    const char *pod = getenv("POD_NAME");
    char host[64] = "zoneproof";
    unsigned char r[4];

    if (pod == NULL || *pod == '\0') {
        if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
            zp_strlcpy(host, "zoneproof", sizeof(host));
        host[sizeof(host) - 1] = '\0';
        pod = host;
    }
    if (RAND_bytes(r, sizeof(r)) != 1) {
        unsigned v = (unsigned)getpid() ^ (unsigned)time(NULL);
        memcpy(r, &v, sizeof(r));
    }
    snprintf(out, sz, "%.*s-%02x%02x%02x%02x", (int)(sz > 10 ? sz - 10 : 0), pod, r[0], r[1], r[2],
             r[3]);
}

void zp_lease_time_format(int64_t us, char out[ZP_LEASE_TIME_MAX])
{
    time_t s = (time_t)(us / 1000000);
    long frac = (long)(us % 1000000);
    struct tm tm;
    char day[32] = "";

    if (frac < 0) {
        frac += 1000000;
        s--;
    }
    gmtime_r(&s, &tm);
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, ZP_LEASE_TIME_MAX, "%.20s.%06ldZ", day, frac);
}

/* The fraction after the seconds as microseconds (more digits are cut); p moves past it. */
static int64_t fraction(const char **p)
{
    int64_t us = 0, scale = 100000;

    if (**p != '.')
        return 0;
    for ((*p)++; **p >= '0' && **p <= '9'; (*p)++) {
        us += (**p - '0') * scale;
        scale /= 10;
    }
    return us;
}

int zp_lease_time_parse(const char *s, int64_t *us)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, oh, om, n = 0;
    int64_t frac, off = 0;
    const char *p;
    time_t t;

    if (s == NULL ||
        sscanf(s, "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
        y < 1970)
        return -1;
    p = s + n;
    if (*p == '.' && (p[1] < '0' || p[1] > '9'))
        return -1;
    frac = fraction(&p);
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2 &&
               strlen(p) >= 6 && oh <= 23 && om <= 59) {
        off = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    if ((t = timegm(&tm)) == (time_t)-1)
        return -1;
    *us = ((int64_t)t - off) * 1000000 + frac;
    return 0;
}

enum zp_lease_owner zp_lease_judge(const char *held_by, const char *renew, long dur_s,
                                   unsigned default_s, const char *me, int64_t now_us)
{
    int64_t at;

    if (held_by == NULL || *held_by == '\0')
        return ZP_LEASE_FREE;
    if (me != NULL && strcmp(held_by, me) == 0)
        return ZP_LEASE_MINE;
    /* A renewal that cannot be read proves nothing: as good as expired. */
    if (zp_lease_time_parse(renew, &at) == -1)
        return ZP_LEASE_FREE;
    if (dur_s <= 0)
        dur_s = (long)default_s;
    return at + (int64_t)dur_s * 1000000 > now_us ? ZP_LEASE_TAKEN : ZP_LEASE_FREE;
}

/* ---- reading and writing ---------------------------------------------------------------- */

static int64_t wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct zp_kobj lease_obj(struct zp_kclient *k, const char *verb, const char *name)
{
    struct zp_kobj o = {.verb = verb,
                        .group = "coordination.k8s.io",
                        .version = "v1",
                        .resource = "leases",
                        .ns = zp_kclient_namespace(k),
                        .name = name,
                        .hint = HINT};
    return o;
}

static const char *spec_str(const cJSON *lease, const char *key)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(lease, "spec");

    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, key));
}

static long spec_num(const cJSON *lease, const char *key)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(lease, "spec");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, key);

    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e9 ? (long)v->valuedouble
                                                                            : 0;
}

static enum zp_lease_owner judge(const cJSON *lease, const char *me, unsigned dur_s)
{
    return zp_lease_judge(spec_str(lease, "holderIdentity"), spec_str(lease, "renewTime"),
                          spec_num(lease, "leaseDurationSeconds"), dur_s, me, wall_us());
}

/* Sets key in o to v (a string, or a number when v is NULL). */
static void set(cJSON *o, const char *key, const char *v, double num)
{
    cJSON *item = v != NULL ? cJSON_CreateString(v) : cJSON_CreateNumber(num);

    if (item == NULL)
        abort(); /* allocation only */
    if (cJSON_GetObjectItemCaseSensitive(o, key) != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, item);
    else
        cJSON_AddItemToObject(o, key, item);
}

/* GET; 0, or -1 (ZP_ENOTFOUND when there is none). */
static int get(struct zp_kclient *k, const char *name, uint64_t deadline_ms, cJSON **out,
               struct zp_err *err)
{
    struct zp_kobj o = lease_obj(k, "get", name);

    return zp_kclient_call(k, &o, NULL, deadline_ms, 0, out, err);
}

/* A new lease held by holder. */
static int create(struct zp_kclient *k, const char *name, const char *holder, unsigned dur_s,
                  uint64_t deadline_ms, struct zp_err *err)
{
    struct zp_kobj o = lease_obj(k, "create", name);
    cJSON *l = cJSON_CreateObject(), *meta, *labels, *spec, *reply = NULL;
    char now[ZP_LEASE_TIME_MAX], *body;
    int rc;

    zp_lease_time_format(wall_us(), now);
    if (l == NULL || cJSON_AddStringToObject(l, "apiVersion", "coordination.k8s.io/v1") == NULL ||
        cJSON_AddStringToObject(l, "kind", "Lease") == NULL ||
        (meta = cJSON_AddObjectToObject(l, "metadata")) == NULL ||
        cJSON_AddStringToObject(meta, "name", name) == NULL ||
        cJSON_AddStringToObject(meta, "namespace", zp_kclient_namespace(k)) == NULL ||
        (labels = cJSON_AddObjectToObject(meta, "labels")) == NULL ||
        cJSON_AddStringToObject(labels, "app.kubernetes.io/managed-by", "zoneproof") == NULL ||
        (spec = cJSON_AddObjectToObject(l, "spec")) == NULL ||
        cJSON_AddStringToObject(spec, "holderIdentity", holder) == NULL ||
        cJSON_AddNumberToObject(spec, "leaseDurationSeconds", dur_s) == NULL ||
        cJSON_AddStringToObject(spec, "acquireTime", now) == NULL ||
        cJSON_AddStringToObject(spec, "renewTime", now) == NULL ||
        cJSON_AddNumberToObject(spec, "leaseTransitions", 0) == NULL ||
        (body = cJSON_PrintUnformatted(l)) == NULL)
        abort(); /* allocation only */
    rc = zp_kclient_call(k, &o, body, deadline_ms, 0, &reply, err);
    cJSON_Delete(reply);
    cJSON_Delete(l);
    free(body);
    return rc;
}

/*
 * Writes lease (as read: its resourceVersion is the precondition) back with
 * holder (NULL: nobody) renewed now. taking: a new holder, so acquireTime
 * and leaseTransitions move too.
 */
static int put(struct zp_kclient *k, const char *name, cJSON *lease, const char *holder,
               unsigned dur_s, int taking, uint64_t deadline_ms, struct zp_err *err)
{
    struct zp_kobj o = lease_obj(k, "update", name);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(lease, "spec"), *reply = NULL;
    char now[ZP_LEASE_TIME_MAX], *body;
    int rc;

    if (!cJSON_IsObject(spec)) {
        cJSON_DeleteItemFromObjectCaseSensitive(lease, "spec");
        if ((spec = cJSON_AddObjectToObject(lease, "spec")) == NULL)
            abort(); /* allocation only */
    }
    zp_lease_time_format(wall_us(), now);
    if (holder != NULL) {
        set(spec, "holderIdentity", holder, 0);
        set(spec, "leaseDurationSeconds", NULL, dur_s);
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "holderIdentity");
    }
    set(spec, "renewTime", now, 0);
    if (taking) {
        set(spec, "acquireTime", now, 0);
        set(spec, "leaseTransitions", NULL, (double)spec_num(lease, "leaseTransitions") + 1);
    }
    if ((body = cJSON_PrintUnformatted(lease)) == NULL)
        abort(); /* allocation only */
    rc = zp_kclient_call(k, &o, body, deadline_ms, 0, &reply, err);
    cJSON_Delete(reply);
    free(body);
    return rc;
}

/* e as the caller's error (its kind, sentence and upstream status), unless one is set. */
static int pass_on(struct zp_err *err, const struct zp_err *e)
{
    if (!zp_err_isset(err))
        *err = *e;
    return -1;
}

static int busy(struct zp_kclient *k, const char *name, const cJSON *lease, struct zp_err *err)
{
    const char *who = spec_str(lease, "holderIdentity");

    zp_err_set(err, ZP_ETRANSIENT, "lease %s/%s is held by %s", zp_kclient_namespace(k), name,
               who ? who : "another replica");
    return 1;
}

int zp_lease_acquire(struct zp_kclient *k, const char *name, const char *holder,
                     unsigned duration_s, uint64_t deadline_ms, struct zp_err *err)
{
    for (int attempt = 0; attempt < ZP_LEASE_ATTEMPTS; attempt++) {
        struct zp_err e = {0};
        cJSON *cur = NULL;
        enum zp_lease_owner owner;
        int rc;
        if (get(k, name, deadline_ms, &cur, &e) == -1) {
            if (e.kind != ZP_ENOTFOUND)
                return pass_on(err, &e);
            zp_err_clear(&e);
            if (create(k, name, holder, duration_s, deadline_ms, &e) == 0)
                return 0;
            if (e.upstream == ZP_KCLIENT_CONFLICT)
                continue; /* another replica created it first: read who */
            return pass_on(err, &e);
        }
        owner = judge(cur, holder, duration_s);
        if (owner == ZP_LEASE_TAKEN) {
            rc = busy(k, name, cur, err);
            cJSON_Delete(cur);
            return rc;
        }
        if (owner == ZP_LEASE_FREE && spec_str(cur, "holderIdentity") != NULL &&
            *spec_str(cur, "holderIdentity") != '\0')
            zp_log(ZP_LOG_INFO, "lease: taking over an expired lease", ZP_S("lease", name),
                   ZP_S("from", spec_str(cur, "holderIdentity")), ZP_S("holder", holder), ZP_END);
        rc = put(k, name, cur, holder, duration_s, owner != ZP_LEASE_MINE, deadline_ms, &e);
        cJSON_Delete(cur);
        if (rc == 0)
            return 0;
        if (e.upstream != ZP_KCLIENT_CONFLICT)
            return pass_on(err, &e);
    }
    zp_err_set(err, ZP_ETRANSIENT, "lease %s/%s changed under every one of %d attempts to take it",
               zp_kclient_namespace(k), name, ZP_LEASE_ATTEMPTS);
    return 1;
}

/*
 * While holder holds name: renew it (renew set, for duration_s) or give it
 * up, read and rewritten under the API's resourceVersion guard, again on a
 * conflict. Returns 0 done, `gone` when it is not holder's (any more), -1
 * with err.
 */
static int rewrite_mine(struct zp_kclient *k, const char *name, const char *holder, int renew,
                        unsigned duration_s, int gone, uint64_t deadline_ms, struct zp_err *err)
{
    for (int attempt = 0; attempt < ZP_LEASE_ATTEMPTS; attempt++) {
        struct zp_err e = {0};
        cJSON *cur = NULL;
        int rc;
        if (get(k, name, deadline_ms, &cur, &e) == -1)
            return e.kind == ZP_ENOTFOUND ? gone : pass_on(err, &e);
        if (judge(cur, holder, renew ? duration_s : 1) != ZP_LEASE_MINE) {
            cJSON_Delete(cur); /* another holder's now: not ours to renew or release */
            return gone;
        }
        rc = put(k, name, cur, renew ? holder : NULL, renew ? duration_s : 0, 0, deadline_ms, &e);
        cJSON_Delete(cur);
        if (rc == 0)
            return 0;
        if (e.upstream != ZP_KCLIENT_CONFLICT)
            return pass_on(err, &e);
    }
    return zp_err_set(err, ZP_ETRANSIENT, "lease %s/%s changed under every one of %d %s",
                      zp_kclient_namespace(k), name, ZP_LEASE_ATTEMPTS,
                      renew ? "renewals" : "releases");
}

int zp_lease_renew(struct zp_kclient *k, const char *name, const char *holder, unsigned duration_s,
                   uint64_t deadline_ms, struct zp_err *err)
{
    return rewrite_mine(k, name, holder, 1, duration_s, 1, deadline_ms, err);
}

int zp_lease_release(struct zp_kclient *k, const char *name, const char *holder,
                     uint64_t deadline_ms, struct zp_err *err)
{
    return rewrite_mine(k, name, holder, 0, 0, 0, deadline_ms, err);
}
