/*
 * metrics.h — the process's Prometheus metrics: counters, gauges and
 * histograms with bounded label sets, and their text exposition.
 *
 * A family is a static struct in the file that counts it, named with its
 * help text, type and label names; it joins the registry at its first use
 * (or at zp_metric_touch), so a family nobody used is not exposed:
 *
 *     static struct zp_metric challenges = ZP_COUNTER(
 *         "zoneproof_challenges_total", "Challenges answered.", "provider,action,outcome");
 *     zp_metric_inc(&challenges, "cf", "present", "success");
 *
 * Label values come in the order of the names, one const char * each
 * (NULL reads as ""). Each family holds at most ZP_METRIC_SERIES_MAX label
 * sets; past that an update is dropped and counted in
 * zoneproof_metrics_series_dropped_total, so a label fed by the network
 * (a discovered nameserver's address) cannot grow memory without end.
 * Callers still choose labels from bounded sets: instance names, outcomes,
 * configured servers, never names or values from a request.
 *
 * Thread-safe: one mutex per family, held for one update.
 */
#ifndef ZP_BASE_METRICS_H
#define ZP_BASE_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct zp_buf;

#define ZP_METRIC_SERIES_MAX 512u
#define ZP_METRIC_LABELS_MAX 4u
#define ZP_METRIC_BUCKETS_MAX 16u

enum zp_metric_type { ZP_METRIC_COUNTER, ZP_METRIC_GAUGE, ZP_METRIC_HISTOGRAM };

struct zp_metric_series;

struct zp_metric {
    /* Set by the definition, never changed. */
    const char *name;
    const char *help;
    enum zp_metric_type type;
    const char *labels;    /* comma-separated label names, "" for none */
    const double *buckets; /* histograms: upper bounds, ascending; +Inf is implied */
    size_t n_buckets;
    /* The registry's. */
    pthread_mutex_t mu;
    int registered; /* written under the registry's lock, read atomically */
    struct zp_metric *next;
    size_t n_labels; /* parsed at registration */
    struct zp_metric_series *series;
    size_t n_series;
};

#define ZP_METRIC_INIT(n, h, t, l, b, nb)                                                          \
    {                                                                                              \
        .name = (n), .help = (h), .type = (t), .labels = (l), .buckets = (b), .n_buckets = (nb),   \
        .mu = PTHREAD_MUTEX_INITIALIZER                                                            \
    }
#define ZP_COUNTER(n, h, l) ZP_METRIC_INIT(n, h, ZP_METRIC_COUNTER, l, NULL, 0)
#define ZP_GAUGE(n, h, l) ZP_METRIC_INIT(n, h, ZP_METRIC_GAUGE, l, NULL, 0)
#define ZP_HISTOGRAM(n, h, l, b)                                                                   \
    ZP_METRIC_INIT(n, h, ZP_METRIC_HISTOGRAM, l, b, sizeof(b) / sizeof((b)[0]))

/* Buckets in seconds for waits from milliseconds to minutes (DNS, provider APIs, challenges). */
extern const double zp_metric_seconds_buckets[13];

/* Counters: adds v (>= 0). */
void zp_metric_add(struct zp_metric *m, double v, ...);
#define zp_metric_inc(m, ...) zp_metric_add((m), 1.0, __VA_ARGS__)
/* Gauges: sets v. */
void zp_metric_set(struct zp_metric *m, double v, ...);
/* Histograms: one observation of v (seconds for *_seconds). */
void zp_metric_observe(struct zp_metric *m, double v, ...);
/* Makes the series exist at 0 (so rates and alerts see it before its first event). */
void zp_metric_touch(struct zp_metric *m, ...);
/* Gauges: forgets every series (before a collector sets the current ones). */
void zp_metric_clear(struct zp_metric *m);

/* Label-free forms. */
#define ZP_NOLABEL ((const char *)NULL)

/*
 * A collector runs at the start of each exposition, to set gauges whose
 * value is read rather than counted (watches waiting, RSS). Added and
 * removed by their owner; remove waits for a running exposition.
 */
typedef void zp_metric_collect_fn(void *arg);
void zp_metrics_collector_add(zp_metric_collect_fn *fn, void *arg);
void zp_metrics_collector_remove(zp_metric_collect_fn *fn, void *arg);

/* Every registered family in the text exposition format 0.0.4, process metrics included. */
int zp_metrics_write(struct zp_buf *out);

/*
 * The provider instance the calling thread works for, read by the HTTP
 * client to label its calls; NULL: none (such calls are not counted as
 * provider calls). Returns the previous one, to restore.
 */
const char *zp_metrics_scope_set(const char *provider);
const char *zp_metrics_scope(void);

/* zoneproof_build_info's labels; call once at start (the version and libraries). */
void zp_metrics_build_info(const char *version);

#endif
