/*
 * watch.h — the propagation watcher: a fixed pool of worker threads that
 * asks every authoritative nameserver of a zone, directly and with
 * recursion off, whether it serves a TXT value yet.
 *
 * A waiting Present holds no thread: a watch is a job in a timer queue,
 * polled with a backoff that starts in milliseconds. Jobs are keyed by
 * (fqdn, value), so concurrent Presents of one value share one watch. When
 * a caller's deadline passes, the caller is answered with the report so
 * far, and the watch keeps running for a while (ZP_WATCH_LINGER_MS): a
 * retried Present then answers at once if the value has appeared.
 */
#ifndef ZP_SOLVER_WATCH_H
#define ZP_SOLVER_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "base/dname.h"

struct zp_buf;
struct zp_err;

#define ZP_WATCH_MAX_NS 16
#define ZP_WATCH_MAX_OTHER 4
#define ZP_WATCH_VALUE_MAX 256 /* another value, as a report shows it */
/* The value a watch looks for, with its NUL: ZP_TXT_MAX of challenge.h. */
#define ZP_WATCH_TXT_MAX 513
#define ZP_WATCH_LINGER_MS (10u * 60u * 1000u)
/* A lingering watch asks each nameserver at most once per this long. */
#define ZP_WATCH_LINGER_INTERVAL_MS 30000u
/*
 * workers.maxWatches by default: 64 MiB of watches at the most one watch can
 * hold (ZP_WATCH_BYTES_MAX in watch_int.h, where the arithmetic is).
 */
#define ZP_WATCH_MAX_DEFAULT 1681u
/*
 * workers.maxQueriesPerWatch by default. One Present's wait at the 50 s cap
 * is at most 57 rounds (8 ms doubling to 1 s, then one a second), the whole
 * linger 20 more (one per 30 s for 10 minutes): 77 rounds of at most 16
 * nameservers, 1232 queries. 2000 leaves room for a retried Present that
 * joins the watch, and ends a watch that keeps being retried by its fresh
 * start instead.
 */
#define ZP_WATCH_QUERY_BUDGET_DEFAULT 2000u

enum zp_ns_state {
    ZP_NS_PENDING = 0, /* not answered yet */
    ZP_NS_HAS_VALUE,   /* serves the value (perhaps among others) */
    ZP_NS_NXDOMAIN,    /* the name does not exist there */
    ZP_NS_NODATA,      /* the name exists, with no TXT records */
    ZP_NS_OTHER,       /* TXT records, but not our value */
    ZP_NS_SERVFAIL,
    ZP_NS_REFUSED,
    ZP_NS_NOTAUTH, /* answered without the AA bit: not authoritative for the zone */
    ZP_NS_TIMEOUT, /* no answer within the query timeout */
    ZP_NS_ERROR,   /* another rcode, or unreachable */
};

/*
 * A nameserver's answers over a watch, for the status page: each change of
 * state with when it was first seen (ms since the watch started). The
 * first ZP_NS_HIST - 1 changes are kept, then the latest in the last slot.
 */
#define ZP_NS_HIST 6
#define ZP_NS_SERVED_NEVER UINT32_MAX
struct zp_ns_history {
    uint32_t served_ms; /* when it first served the value; ZP_NS_SERVED_NEVER */
    uint8_t n;
    uint8_t state[ZP_NS_HIST]; /* enum zp_ns_state */
    uint32_t at_ms[ZP_NS_HIST];
};

struct zp_ns_status {
    char name[ZP_DNAME_MAX]; /* the NS host name, or the address when given explicitly */
    char addr[64];           /* "127.0.0.1:53", "[::1]:53" */
    enum zp_ns_state state;
    int rcode;
    unsigned n_other; /* other TXT values seen (ZP_NS_OTHER, also HAS_VALUE) */
    char other[ZP_WATCH_MAX_OTHER][ZP_WATCH_VALUE_MAX];
    unsigned other_ttl[ZP_WATCH_MAX_OTHER];
    char detail[128]; /* e.g. "connection refused" for ZP_NS_ERROR */
    int parent_only;  /* only the parent's delegation lists it */
    struct zp_ns_history hist;
};

struct zp_watch_report {
    char fqdn[ZP_DNAME_MAX];
    char zone[ZP_DNAME_MAX];
    char value[ZP_WATCH_TXT_MAX];
    size_t n; /* nameservers checked */
    struct zp_ns_status ns[ZP_WATCH_MAX_NS];
    int complete;              /* every nameserver has the value */
    char discovery_error[512]; /* non-empty when NS discovery failed */
    uint64_t elapsed_ms;       /* since the watch started */
};

struct zp_watch_spec {
    const char *fqdn;  /* where the value is, trailing dot */
    const char *zone;  /* the zone whose NS set to ask, trailing dot */
    const char *value; /* the TXT value */
    /* Explicit authoritative servers, "host:port" (port 53 default); n == 0: discover. */
    char *const *nameservers;
    size_t n_nameservers;
    /* Recursive resolvers for NS discovery, "host:port"; n == 0: /etc/resolv.conf. */
    char *const *resolvers;
    size_t n_resolvers;
    int cli; /* the command line or a hook asks (zp_config.cli): advice names --zone */
};

/* Called exactly once, on a watcher thread; rep is valid only during the call. */
typedef void zp_watch_done_fn(void *arg, const struct zp_watch_report *rep);

struct zp_watcher;

struct zp_watcher *zp_watcher_new(unsigned workers, struct zp_err *err);

/*
 * How much the watcher may hold. At max_watches live watches a new one
 * drops the watch that has lingered longest (no caller waits on it); when
 * every one has a caller waiting, the new one is refused. A watch that has
 * sent query_budget queries ends: its callers are answered with what is
 * known. 0 keeps the default.
 */
struct zp_watch_limits {
    unsigned max_watches;  /* workers.maxWatches, ZP_WATCH_MAX_DEFAULT */
    unsigned query_budget; /* workers.maxQueriesPerWatch, ZP_WATCH_QUERY_BUDGET_DEFAULT */
};

void zp_watcher_set_limits(struct zp_watcher *w, const struct zp_watch_limits *lim);

struct zp_watch_stats {
    size_t live;      /* watches a caller can join (at most max_watches) */
    size_t lingering; /* of them, those no caller waits on */
    uint64_t dropped; /* lingering watches dropped to make room */
    uint64_t refused; /* new watches refused: every live one had a caller */
    uint64_t spent;   /* watches ended by their query budget */
};

void zp_watcher_stats(struct zp_watcher *w, struct zp_watch_stats *st);
/*
 * Stops the workers; callers still waiting are answered with what is known.
 * Not from a done callback: it joins the threads that run them.
 */
void zp_watcher_free(struct zp_watcher *w);

/*
 * Answers done when every nameserver serves the value, or at deadline_ms
 * (absolute, on the zp_now_ms() clock) with the report so far
 * (rep->complete == 0). Returns -1 (and never calls done) when the watch
 * cannot be started: an invalid spec, a stop, or workers.maxWatches live
 * watches that all have a caller (ZP_ETRANSIENT).
 */
int zp_watcher_wait(struct zp_watcher *w, const struct zp_watch_spec *spec, uint64_t deadline_ms,
                    zp_watch_done_fn *done, void *arg, struct zp_err *err);

/*
 * What the nameservers of the watch of (fqdn, value) answered so far:
 * name, address, state and history of each (other values and details
 * left out). 0 with rep filled (rep->n may be 0 before discovery), or -1
 * when no such watch is live.
 */
int zp_watcher_peek(struct zp_watcher *w, const char *fqdn, const char *value,
                    struct zp_watch_report *rep);

/* Drops the watch and any remembered result for (fqdn, value): after CleanUp. */
void zp_watcher_forget(struct zp_watcher *w, const char *fqdn, const char *value);

/*
 * Asks every nameserver once, synchronously: `zoneproof check`. Returns 0
 * with a report, complete or not; -1 when the spec is invalid.
 */
int zp_watch_check_once(const struct zp_watch_spec *spec, unsigned timeout_ms,
                        struct zp_watch_report *rep, struct zp_err *err);

/*
 * The sentence for an incomplete report (kind ZP_EPROPAGATION): each
 * laggard and what it answered, then a dig command that shows it. Returns
 * -1 with err set; 0, leaving err alone, when the report is complete.
 */
int zp_watch_explain(const struct zp_watch_report *rep, struct zp_err *err);
/* The command that asks the nameserver at addr ("1.2.3.4:53", "[::1]:5353") what the sentences
 * say it answered. */
#define ZP_WATCH_DIG_MAX (ZP_DNAME_MAX + 96)
void zp_watch_dig(const char *addr, const char *fqdn, char *out, size_t n);
/* The report as one JSON object (`zoneproof check --json`). */
int zp_watch_report_json(const struct zp_watch_report *rep, struct zp_buf *out);
const char *zp_ns_state_name(enum zp_ns_state s);

#endif
