/*
 * watch_int.h — what the watcher's files share and nobody else sees: the
 * state of one nameserver of a watch, the question a watch asks, one
 * worker's UDP query engine, the pool and its jobs, the per-zone discovery
 * cache, and the helpers that ask one nameserver one question.
 *
 * watch.c owns the pool (workers, job table, timer heap) and the public
 * API; watchjob.c owns one job's life on its worker; watchq.c owns a
 * worker's UDP engine; nsdiscover.c owns finding and addressing the
 * nameservers; nswire.c owns one question on the wire and what its answer
 * says; explain.c owns the words.
 */
#ifndef ZP_SOLVER_WATCH_INT_H
#define ZP_SOLVER_WATCH_INT_H

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "base/queue.h"
#include "solver/dnsq.h"
#include "solver/watch.h"

#define ZP_WATCH_QUERY_TIMEOUT_MS 1000u /* one query, one server: then ZP_NS_TIMEOUT */
#define ZP_NSCACHE_TTL_MAX_S 300u       /* discovered NS sets are kept at most this long */

/*
 * One nameserver of a watch: where it is and what it answered last. Only
 * the worker that owns the watch reads or writes it (see zp_wask), except
 * name and address (immutable once set) and hist (under the watcher's
 * lock), which zp_watcher_peek reads. A
 * thousand watches wait at once, so this holds pointers where the report
 * holds arrays; zp_ns_live_status() expands it into a zp_ns_status.
 */
struct zp_ns_live {
    char *name; /* NS host name, or the host as configured */
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } to;
    socklen_t tolen; /* 0: no address (detail says why) */
    enum zp_ns_state state;
    int rcode;
    unsigned n_other; /* other TXT values seen, at most ZP_WATCH_MAX_OTHER */
    unsigned other_ttl[ZP_WATCH_MAX_OTHER];
    char *other[ZP_WATCH_MAX_OTHER]; /* n_other allocated values, sorted */
    char *detail;                    /* allocated; NULL when there is nothing to add */
    unsigned char parent_only;       /* only the parent's delegation lists it */
    /* Written by the owner under the watcher's lock, so zp_watcher_peek may read it. */
    struct zp_ns_history hist;
};

/* Name, address and first state from a target: PENDING, or ERROR when it has no address. */
void zp_ns_live_init(struct zp_ns_live *l, const struct zp_ns_target *t);
/* A state with no values: a timeout, an ICMP error, a query that could not be sent. */
void zp_ns_live_set(struct zp_ns_live *l, enum zp_ns_state state, int rcode, const char *detail);
void zp_ns_live_free(struct zp_ns_live *l);
/* At a round's end, under the watcher's lock: l's state joins its history if it changed. */
void zp_ns_live_record(struct zp_ns_live *l, uint32_t at_ms);
/* The report's view of l; every field of st is written. */
void zp_ns_live_status(const struct zp_ns_live *l, struct zp_ns_status *st);

/*
 * The question a watch asks and what each of its nameservers last answered.
 * It lives inside a zp_watch_job; the engine sees only this part.
 */
struct zp_wask {
    /* Immutable: the job's own strings. */
    const char *fqdn, *value;
    /*
     * The owner's (the worker running the job; nobody while it is queued).
     * ns and n are set once, after discovery; other workers read n of a
     * queued job under the watcher's lock to size their batch.
     */
    struct zp_ns_live *ns;
    size_t n;
    unsigned inflight; /* queries in flight; the round ends at 0 */
    unsigned queries;  /* sent since the watch started, for the log */
};

/* --- one worker's UDP query engine (watchq.c); only that worker's thread uses it --------- */

struct zp_wq;

/* The last query of a's round is answered, failed or timed out; may send a's next round. */
typedef void zp_wq_round_fn(void *ctx, struct zp_wask *a);

struct zp_wq *zp_wq_new(zp_wq_round_fn *round_end, void *ctx, struct zp_err *err);
void zp_wq_free(struct zp_wq *q);
/*
 * Asks every nameserver of a that does not serve the value yet. Each query
 * times out at deadline; cut says the deadline is a caller's, earlier than
 * the query timeout. Nameservers that cannot be asked get ZP_NS_ERROR.
 */
void zp_wq_send(struct zp_wq *q, struct zp_wask *a, uint64_t deadline, int cut);
/* Queries in flight on this worker. */
unsigned zp_wq_inflight(const struct zp_wq *q);
/* The earlier of t and the first query deadline. */
uint64_t zp_wq_earliest(const struct zp_wq *q, uint64_t t);
/* The engine's sockets for poll(): at most ZP_WQ_FDS entries; returns how many. */
#define ZP_WQ_FDS 2
size_t zp_wq_pollfds(const struct zp_wq *q, struct pollfd *pfd);
/* After poll(): reads the answers and ICMP errors of the entries zp_wq_pollfds filled. */
void zp_wq_ready(struct zp_wq *q, const struct pollfd *pfd, size_t n);
/*
 * Times out the queries past their deadline (only == NULL), or every query
 * of only (its caller's deadline passed). Returns how many.
 */
size_t zp_wq_expire(struct zp_wq *q, uint64_t now, struct zp_wask *only);

/* --- the pool and its jobs (watch.c, watchjob.c) ----------------------------------------- */

#define ZP_WATCH_TABLE_SIZE 4096u

/* A caller of zp_watcher_wait, answered exactly once. */
struct zp_watch_waiter {
    struct zp_watch_waiter *next;
    uint64_t deadline;
    zp_watch_done_fn *done;
    void *arg;
};

/*
 * One watch of (fqdn, value). It is either queued (in the heap, owned by
 * nobody) or running (owned by exactly one worker, on its running list).
 */
struct zp_watch_job {
    /* Immutable after creation. */
    char *fqdn, *zone, *value;
    char **nameservers, **resolvers;
    size_t n_nameservers, n_resolvers;
    int one_round; /* zp_watch_check_once: answer after the first round */
    int cli;       /* zp_watch_spec.cli */
    uint64_t started;

    /* Under w->mu. */
    struct zp_watch_job *hnext; /* table chain */
    int in_table;
    size_t heap_idx; /* valid while queued */
    int queued;      /* in the heap (else running on one worker) */
    uint64_t due;
    struct zp_watch_waiter *waiters;
    int forgotten;
    int reset; /* a new waiter: poll now, backoff from the start */
    uint64_t linger_until;
    /* On the linger list (no waiters, in the table), oldest first. */
    struct zp_watch_job *lnext, *lprev;
    int lingering;

    /*
     * Owner only: the worker running it, or nobody while queued. The owner's
     * writes reach the next owner through w->mu (requeue, heap_pop); other
     * workers read ask.n of a queued job under w->mu to size their batch.
     */
    struct zp_wask ask; /* the question; one state per nameserver, once known */
    char *disc_error;   /* why discovery failed; NULL when it did not */
    int resolved, disc_failed, complete;
    unsigned rounds, backoff;
    uint64_t next_round, completed_at;
    uint64_t round_at;                  /* when the last round was sent */
    struct zp_watch_job *rnext, *rprev; /* the owner's running list */
};

struct zp_watch_worker {
    /* Set by zp_watcher_new before the pool runs it; read-only afterwards. */
    struct zp_watcher *w;
    struct zp_qitem link; /* the pool's job: this worker's loop (base/pool.h) */
    struct zp_wq *q;      /* its UDP engine, used by the worker thread alone */
    int wake[2];          /* its own wake-up pipe: a wake-up rouses one worker, not all */
    int idle;             /* atomic: 1 while it sleeps in poll() */
    /* The worker thread's alone. */
    struct zp_watch_job *running;
};

struct zp_watcher {
    pthread_mutex_t mu;
    /* Under mu. */
    struct zp_watch_job *table[ZP_WATCH_TABLE_SIZE];
    struct zp_watch_job **heap;
    size_t nheap, capheap;
    int stopping;
    struct zp_watch_job *linger_head, *linger_tail; /* lingering jobs, oldest first */
    struct zp_watch_limits lim;                     /* both set (never 0) */
    struct zp_watch_stats stats;
    /* Immutable after zp_watcher_new. */
    int stop[2];        /* never drained: once written, wakes every worker */
    unsigned next_wake; /* atomic: where wake() starts looking for a sleeping worker */
    unsigned n_workers;
    struct zp_watch_worker *workers;
    struct zp_pool *pool;     /* one thread per worker, each running that worker's loop */
    struct zp_nscache *cache; /* own lock */
};

/*
 * The most one watch can hold, which sizes ZP_WATCH_MAX_DEFAULT (watch.c
 * asserts the product stays within ZP_WATCH_MEM_BUDGET). A malloc'd block
 * of n bytes takes at most n + 32 (glibc: an 8-byte header, 16-byte
 * granules, 32 at the least). With today's sizes (job 272, ns_live 152):
 *   job                          272 + 32                 =    304
 *   fqdn, zone                   2 x (256 + 32)           =    576
 *   value (a persist record)     513 + 32                 =    545
 *   nameservers, resolvers       2 x (16 x 8 + 32)        =    320
 *     and their strings          2 x 16 x (264 + 32)      =  9,472
 *   ns_live array                16 x 152 + 32            =  2,464
 *   per nameserver               16 x (name 256 + 32
 *                                 + detail 128 + 32
 *                                 + 4 others x (256 + 32)) = 25,600
 *   discovery error              512 + 32                 =    544
 *   one waiter, two heap slots   32 + 32 + 2 x 8          =     80
 *                                                           ------
 *                                                           39,905
 * 64 MiB / 39,905 = 67,108,864 / 39,905 = 1681.7, so 1681; the host:port
 * strings are copies of the configured lists (resolvers counted as 16, like
 * nameservers). A typical watch (two to four servers, no other values)
 * holds about 2 KB.
 */
#define ZP_WATCH_ALLOC_MAX(n) ((size_t)(n) + 32u)
#define ZP_WATCH_HOSTPORT_MAX (ZP_DNAME_MAX + 8u) /* "[host]:65535" */
#define ZP_WATCH_BYTES_MAX                                                                         \
    (ZP_WATCH_ALLOC_MAX(sizeof(struct zp_watch_job)) + 2u * ZP_WATCH_ALLOC_MAX(ZP_DNAME_MAX) +     \
     ZP_WATCH_ALLOC_MAX(ZP_WATCH_TXT_MAX) +                                                        \
     2u * ZP_WATCH_ALLOC_MAX(ZP_WATCH_MAX_NS * sizeof(char *)) +                                   \
     2u * ZP_WATCH_MAX_NS * ZP_WATCH_ALLOC_MAX(ZP_WATCH_HOSTPORT_MAX) +                            \
     ZP_WATCH_ALLOC_MAX(ZP_WATCH_MAX_NS * sizeof(struct zp_ns_live)) +                             \
     ZP_WATCH_MAX_NS * (ZP_WATCH_ALLOC_MAX(ZP_DNAME_MAX) + ZP_WATCH_ALLOC_MAX(128u) +              \
                        ZP_WATCH_MAX_OTHER * ZP_WATCH_ALLOC_MAX(ZP_WATCH_VALUE_MAX)) +             \
     ZP_WATCH_ALLOC_MAX(512u) + ZP_WATCH_ALLOC_MAX(sizeof(struct zp_watch_waiter)) +               \
     2u * sizeof(struct zp_watch_job *))
#define ZP_WATCH_MEM_BUDGET ((size_t)64u << 20)

/* watchjob.c: a job's life on its owner. */
struct zp_watch_job *zp_watch_job_new(const struct zp_watch_spec *spec, const char *fqdn,
                                      const char *zone, int one_round);
void zp_watch_job_free(struct zp_watch_job *j);
/*
 * Runs a job the worker owns and that has no query in flight: answers whom
 * it can, discovers, sends a round, or puts it back in the heap or drops it.
 */
void zp_watch_job_run(struct zp_watch_worker *wk, struct zp_watch_job *j);
/* The engine's round_end (ctx is the worker): the round of a's job ended. */
void zp_watch_job_round_end(void *ctx, struct zp_wask *a);

/* watch.c: the pool's side of a running job. */
/* Back to the heap, due at next or at the first waiter's deadline. */
void zp_watch_requeue(struct zp_watch_worker *wk, struct zp_watch_job *j, uint64_t next);
/* Frees the job unless a waiter arrived meanwhile; returns whether it did. */
int zp_watch_drop(struct zp_watch_worker *wk, struct zp_watch_job *j);
/* w->mu held: takes j off the table; nobody joins it any more. */
void zp_watch_unlist(struct zp_watcher *w, struct zp_watch_job *j);
/* w->mu held: j's last waiter was answered; it may be dropped to make room from now on. */
void zp_watch_linger_add(struct zp_watcher *w, struct zp_watch_job *j);

/* --- finding the nameservers (nsdiscover.c) ---------------------------------------------- */

/* Per-zone NS sets, shared by every worker of a watcher; has its own lock. */
struct zp_nscache;

struct zp_nscache *zp_nscache_new(void);
void zp_nscache_free(struct zp_nscache *c);

enum { ZP_NS_TARGETS_OK = 0, ZP_NS_TARGETS_FAIL = -1, ZP_NS_TARGETS_BUSY = 1 };

/*
 * The nameservers to ask for spec: the explicit list (host names resolved),
 * or the zone's NS set found through the resolvers and cached (c may be
 * NULL: no cache). Blocks, but never past deadline (zp_now_ms clock).
 * Returns ZP_NS_TARGETS_OK with out[0..*n) (out has room for
 * ZP_WATCH_MAX_NS), ZP_NS_TARGETS_FAIL with why (a sentence for
 * discovery_error), or ZP_NS_TARGETS_BUSY when another thread is
 * discovering the same zone right now: ask again shortly.
 */
int zp_ns_targets(struct zp_nscache *c, const struct zp_watch_spec *spec, uint64_t deadline,
                  struct zp_ns_target *out, size_t *n, char *why, size_t whysz);

/* --- one question, one answer (nswire.c) ------------------------------------------------- */

/* Same family, address and port. */
int zp_ns_addr_equal(const struct sockaddr *a, const struct sockaddr *b);
/* Whether the domain name rdf is name (text, any case). */
int zp_ns_name_is(const ldns_rdf *rdf, const char *name);

/*
 * Sets l's state, rcode, other values and detail from a TXT answer for
 * fqdn, keeping its name and address. Other values are sorted, so the same
 * zone content always yields the same status.
 */
void zp_ns_classify(const ldns_pkt *p, const char *fqdn, const char *value, struct zp_ns_live *l);

#endif
