/*
 * leaselock.c — locks across replicas made of Leases (leaselock.h). Each
 * name has an entry: busy while a thread of this process holds it (or is
 * taking it), leased while the API says this process holds its lease. A
 * renewal that finds another holder marks it lost (zp_leaselock_held says
 * so). Entries stay for the life of the set: there is one per zone.
 *
 * A release goes to the API before the entry is free again, so a waiting
 * thread of this process never takes a lease that is just being cleared.
 * Each take and release moves the entry's generation, so a renewal that
 * overlapped one applies its verdict to nothing.
 *
 * Threads: callers of lock/unlock (solver workers, the sweeper) and the
 * renewal thread; every entry field is guarded by l->mu, and no API call is
 * made with it held.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "k8s/kclient.h"
#include "k8s/lease.h"
#include "k8s/leaselock.h"

#define WAIT_SLICE_MS 250u  /* a waiter looks at its deadline at least this often */
#define BACKOFF_MAX_MS 100u /* a replica waiting for a zone asks again at least this often */
/*
 * Fairness across replicas: a thread of the process that has just released
 * a lease waits a random part of BACKOFF_MAX_MS before taking it again, so
 * a replica polling for it gets its turn instead of losing every race to
 * the releaser's next thread (which would otherwise win within a
 * millisecond, and starve the other replica until its Presents time out).
 */
#define REGRAB_WINDOW_MS 1000u

struct entry {
    char name[ZP_LEASE_NAME_MAX];
    int busy;             /* a thread of this process holds it, or is taking it */
    int leased;           /* this process holds its lease */
    int lost;             /* a renewal found another holder */
    unsigned gen;         /* moves on each take and release */
    uint64_t renewed_ms;  /* when the last take or renewal that succeeded began */
    uint64_t released_ms; /* when this process last released its lease */
    /*
     * This process's threads waiting for it, in arrival order: the head takes it when it is
     * free. First come, first served: with a wake-up for all, a waiter could lose to newcomers
     * until its time ran out while the others went through.
     */
    struct waiter *line; /* the head is first; each waiter is on its own thread's stack */
    struct entry *next;
};

struct waiter {
    struct waiter *next;
};

struct zp_leaselock {
    struct zp_kclient *k; /* borrowed */
    char id[ZP_LEASE_ID_MAX];
    unsigned dur_s, renew_ms;
    pthread_t renewer;
    pthread_mutex_t mu;   /* guards everything below */
    pthread_cond_t freed; /* an entry stopped being busy */
    pthread_cond_t wake;  /* the renewer: time to stop */
    int stop;
    struct entry *entries;
};

/* ---- waiting -------------------------------------------------------------------------- */

static void cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t a;

    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

/* Waits on cv (l->mu held) for at most ms of real time. */
static void wait_ms(struct zp_leaselock *l, pthread_cond_t *cv, uint64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cv, &l->mu, &ts);
}

/* The entry of name, made when missing. l->mu held. */
static struct entry *entry_of(struct zp_leaselock *l, const char *name)
{
    struct entry *e;

    for (e = l->entries; e != NULL; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    e = zp_xcalloc(1, sizeof(*e));
    zp_strlcpy(e->name, name, sizeof(e->name));
    e->next = l->entries;
    l->entries = e;
    return e;
}

/* Takes e for this thread once no other thread has it: 0, or -1 at the deadline. */
/* l->mu held: w leaves e's line, and whoever is first now may go. */
static void leave_line(struct zp_leaselock *l, struct entry *e, struct waiter *w)
{
    for (struct waiter **pp = &e->line; *pp != NULL; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    pthread_cond_broadcast(&l->freed);
}

static int claim(struct zp_leaselock *l, struct entry *e, uint64_t deadline_ms)
{
    struct waiter me = {NULL}, **tail = &e->line;

    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = &me;
    while (e->busy || e->line != &me) {
        uint64_t left = zp_ms_left(deadline_ms);
        if (left == 0 || l->stop) {
            leave_line(l, e, &me);
            return -1;
        }
        wait_ms(l, &l->freed, left < WAIT_SLICE_MS ? left : WAIT_SLICE_MS);
    }
    e->line = me.next;
    e->busy = 1;
    return 0;
}

/* e is free again (l->mu held); a waiter may take it. */
static void settle(struct zp_leaselock *l, struct entry *e, int leased)
{
    e->leased = leased;
    e->lost = 0;
    e->gen++;
    if (!leased)
        e->busy = 0;
    pthread_cond_broadcast(&l->freed);
}

/* ---- renewal ---------------------------------------------------------------------------- */

struct due {
    char name[ZP_LEASE_NAME_MAX];
    unsigned gen;
};

/* The leased entries now (l->mu held); *n of them, malloc'd. */
static struct due *due_now(struct zp_leaselock *l, size_t *n)
{
    size_t cap = 0;
    struct due *d = NULL;

    *n = 0;
    for (struct entry *e = l->entries; e != NULL; e = e->next) {
        if (!e->leased || e->lost)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            d = zp_xrealloc(d, cap * sizeof(*d));
        }
        zp_strlcpy(d[*n].name, e->name, sizeof(d[*n].name));
        d[(*n)++].gen = e->gen;
    }
    return d;
}

static void renew_one(struct zp_leaselock *l, const struct due *d)
{
    uint64_t budget = (uint64_t)l->dur_s * 1000 / 2, began = zp_now_ms();
    struct zp_err err = {0};
    int rc;

    if (budget > ZP_KCLIENT_TIMEOUT_MS)
        budget = ZP_KCLIENT_TIMEOUT_MS;
    rc = zp_lease_renew(l->k, d->name, l->id, l->dur_s, began + budget, &err);
    if (rc == -1)
        zp_log(ZP_LOG_WARN, "lease: cannot renew; tried again shortly", ZP_S("lease", d->name),
               ZP_S("error", err.msg), ZP_END);
    pthread_mutex_lock(&l->mu);
    for (struct entry *e = l->entries; e != NULL; e = e->next) {
        if (strcmp(e->name, d->name) != 0 || e->gen != d->gen || !e->leased)
            continue;
        if (rc == 0)
            e->renewed_ms = began;
        if (rc == 1) {
            e->lost = 1;
            zp_log(ZP_LOG_ERROR, "lease: lost to another holder while held", ZP_S("lease", d->name),
                   ZP_S("holder", l->id), ZP_END);
        }
    }
    pthread_mutex_unlock(&l->mu);
}

static void *renewer(void *arg)
{
    struct zp_leaselock *l = arg;

    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct due *d;
        size_t n;
        wait_ms(l, &l->wake, l->renew_ms);
        if (l->stop)
            break;
        d = due_now(l, &n);
        pthread_mutex_unlock(&l->mu);
        for (size_t i = 0; i < n; i++)
            renew_one(l, &d[i]);
        free(d);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* ---- the set ------------------------------------------------------------------------------ */

int zp_leaselock_new(struct zp_kclient *k, const struct zp_leaselock_opts *o,
                     struct zp_leaselock **out, struct zp_err *err)
{
    struct zp_leaselock *l;

    *out = NULL;
    if (k == NULL)
        return zp_err_set(err, ZP_ECONFIG, "locks across replicas need a cluster");
    l = zp_xcalloc(1, sizeof(*l));
    l->k = k;
    if (o != NULL && o->identity != NULL && *o->identity != '\0')
        zp_strlcpy(l->id, o->identity, sizeof(l->id));
    else
        zp_lease_identity(l->id, sizeof(l->id));
    l->dur_s = o != NULL && o->duration_s ? o->duration_s : ZP_LEASELOCK_DURATION_S;
    l->renew_ms = o != NULL && o->renew_ms ? o->renew_ms : l->dur_s * 1000 / 3;
    pthread_mutex_init(&l->mu, NULL);
    cond_init(&l->freed);
    cond_init(&l->wake);
    if (pthread_create(&l->renewer, NULL, renewer, l) != 0) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->freed);
        pthread_cond_destroy(&l->wake);
        free(l);
        return zp_err_set(err, ZP_EINTERNAL, "cannot start the lease renewal thread");
    }
    zp_log(ZP_LOG_INFO, "lease: holder identity", ZP_S("holder", l->id),
           ZP_I("duration_s", l->dur_s), ZP_END);
    *out = l;
    return 0;
}

void zp_leaselock_free(struct zp_leaselock *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->wake);
    pthread_cond_broadcast(&l->freed);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->renewer, NULL);
    while (l->entries != NULL) {
        struct entry *e = l->entries;
        struct zp_err err = {0};
        if (e->leased &&
            zp_lease_release(l->k, e->name, l->id, zp_now_ms() + ZP_KCLIENT_TIMEOUT_MS, &err) == -1)
            zp_log(ZP_LOG_WARN, "lease: cannot release; it expires on its own",
                   ZP_S("lease", e->name), ZP_S("error", err.msg), ZP_END);
        l->entries = e->next;
        free(e);
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->freed);
    pthread_cond_destroy(&l->wake);
    free(l);
}

const char *zp_leaselock_identity(const struct zp_leaselock *l)
{
    return l->id;
}

/* ---- taking and giving back ------------------------------------------------------------- */

/*
 * Waits ms of real time. Not zp_sleep_ms: what is waited for is another
 * process letting go, or its lease running out on the wall clock, and
 * neither comes sooner under a test clock that skips sleeps.
 */
static void real_sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* A number in [0, n): spread, not secret (a rand() seeded per thread would do). */
static unsigned random_below(unsigned n)
{
    unsigned char b[4];
    uint32_t v;

    if (n == 0 || RAND_bytes(b, sizeof(b)) != 1)
        return 0;
    v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return v % n;
}

/*
 * Takes name's lease, trying again with a backoff while another replica
 * holds it, when wait is set. The entry is this thread's already.
 */
static int take(struct zp_leaselock *l, struct entry *e, int wait, uint64_t deadline_ms,
                struct zp_err *err)
{
    uint64_t backoff = 10, released;
    struct zp_err busy = {0}; /* the last "held by" answer: what a wait that ran out says */

    pthread_mutex_lock(&l->mu);
    released = e->released_ms;
    pthread_mutex_unlock(&l->mu);
    if (wait && released != 0 && zp_now_ms() - released < REGRAB_WINDOW_MS)
        real_sleep_ms((uint64_t)(random_below(BACKOFF_MAX_MS)));
    for (;;) {
        struct zp_err e2 = {0};
        uint64_t began = zp_now_ms();
        int rc = zp_lease_acquire(l->k, e->name, l->id, l->dur_s, deadline_ms, &e2);
        if (rc == 0) {
            pthread_mutex_lock(&l->mu);
            settle(l, e, 1);
            e->renewed_ms = began;
            pthread_mutex_unlock(&l->mu);
            return 0;
        }
        if (rc == 1)
            busy = e2;
        if (rc == -1 || !wait || zp_ms_left(deadline_ms) <= backoff) {
            /*
             * A wait that ran out says why it waited, whether the deadline came between two
             * looks or during the last one (timing: the sentence must not depend on it).
             */
            if (rc == -1 && wait && busy.msg[0] != '\0' && zp_ms_left(deadline_ms) == 0)
                rc = 1;
            *err = rc == 1 ? busy : e2;
            if (rc == 1 && wait)
                zp_err_wrap(err, "waited for the lock until this attempt's time was up");
            pthread_mutex_lock(&l->mu);
            settle(l, e, 0);
            pthread_mutex_unlock(&l->mu);
            return rc;
        }
        real_sleep_ms(backoff);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
}

static int lock_name(struct zp_leaselock *l, const char *name, int wait, uint64_t deadline_ms,
                     struct zp_err *err)
{
    struct entry *e;

    pthread_mutex_lock(&l->mu);
    e = entry_of(l, name);
    if ((!wait && (e->busy || e->line != NULL)) || claim(l, e, deadline_ms) == -1) {
        pthread_mutex_unlock(&l->mu);
        zp_err_set(err, ZP_ETRANSIENT, "lease %s/%s is held by another worker of this replica%s",
                   zp_kclient_namespace(l->k), name,
                   wait ? " until this attempt's time was up" : "");
        return wait ? -1 : 1;
    }
    pthread_mutex_unlock(&l->mu);
    return take(l, e, wait, deadline_ms, err);
}

int zp_leaselock_lock(struct zp_leaselock *l, const char *name, uint64_t deadline_ms,
                      struct zp_err *err)
{
    return lock_name(l, name, 1, deadline_ms, err) == 0 ? 0 : -1;
}

int zp_leaselock_trylock(struct zp_leaselock *l, const char *name, uint64_t deadline_ms,
                         struct zp_err *err)
{
    return lock_name(l, name, 0, deadline_ms, err);
}

void zp_leaselock_unlock(struct zp_leaselock *l, const char *name)
{
    struct zp_err err = {0};
    struct entry *e;
    int leased;

    pthread_mutex_lock(&l->mu);
    e = entry_of(l, name);
    leased = e->busy && e->leased;
    pthread_mutex_unlock(&l->mu);
    if (leased &&
        zp_lease_release(l->k, name, l->id, zp_now_ms() + ZP_KCLIENT_TIMEOUT_MS, &err) == -1)
        zp_log(ZP_LOG_WARN, "lease: cannot release; it expires on its own", ZP_S("lease", name),
               ZP_S("error", err.msg), ZP_END);
    pthread_mutex_lock(&l->mu);
    if (leased)
        e->released_ms = zp_now_ms();
    settle(l, e, 0);
    pthread_mutex_unlock(&l->mu);
}

int zp_leaselock_held(struct zp_leaselock *l, const char *name)
{
    int held = 0;

    pthread_mutex_lock(&l->mu);
    for (struct entry *e = l->entries; e != NULL; e = e->next)
        if (strcmp(e->name, name) == 0)
            held = e->busy && e->leased && !e->lost &&
                   zp_now_ms() - e->renewed_ms < (uint64_t)l->dur_s * 1000;
    pthread_mutex_unlock(&l->mu);
    return held;
}

/* ---- the solver's hooks -------------------------------------------------------------------- */

void zp_leaselock_zone_name(const char *instance, const char *zone, char *out, size_t sz)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char canon[ZP_DNAME_MAX], digits[33];
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    if (zp_dname_canon(zone ? zone : "", canon, sizeof(canon)) == -1)
        zp_strlcpy(canon, zone ? zone : "", sizeof(canon));
    if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(c, instance, strlen(instance) + 1) != 1 ||
        EVP_DigestUpdate(c, canon, strlen(canon)) != 1 || EVP_DigestFinal_ex(c, md, &mdlen) != 1 ||
        mdlen < 16)
        abort(); /* allocation only */
    EVP_MD_CTX_free(c);
    for (unsigned i = 0; i < 16; i++) {
        digits[2 * i] = hex[md[i] >> 4];
        digits[2 * i + 1] = hex[md[i] & 15];
    }
    digits[32] = '\0';
    snprintf(out, sz, "zoneproof-zone-%s", digits);
}

int zp_leaselock_zone_lock(void *arg, const char *instance, const char *zone, uint64_t deadline_ms,
                           struct zp_err *err)
{
    char name[ZP_LEASE_NAME_MAX];

    zp_leaselock_zone_name(instance, zone, name, sizeof(name));
    zp_log(ZP_LOG_DEBUG, "lease: locking a zone", ZP_S("provider", instance), ZP_S("zone", zone),
           ZP_S("lease", name), ZP_END);
    if (zp_leaselock_lock(arg, name, deadline_ms, err) == -1) {
        zp_err_wrap(err, "cannot lock zone %s of provider instance %s across replicas", zone,
                    instance);
        return -1;
    }
    return 0;
}

void zp_leaselock_zone_unlock(void *arg, const char *instance, const char *zone)
{
    char name[ZP_LEASE_NAME_MAX];

    zp_leaselock_zone_name(instance, zone, name, sizeof(name));
    zp_leaselock_unlock(arg, name);
}
