/*
 * metrics.c — the registry of metric families (metrics.h), their series,
 * and the text exposition, with the process's own metrics read from /proc
 * at each scrape.
 *
 * Locks: the collectors' (held while they run, so a collector removed is
 * never running afterwards), the registry's (the families' list), then
 * one family's at a time; an update takes only its family's (and the
 * registry's alone at a family's first use).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "base/metrics_int.h"

const double zp_metric_seconds_buckets[13] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                              1,     2.5,  5,     10,   30,  60};

struct zp_metric_series {
    struct zp_metric_series *next;
    char *values[ZP_METRIC_LABELS_MAX]; /* label values, in the order of the names */
    double v;                           /* counter or gauge; histograms: the sum */
    uint64_t count;                     /* histograms */
    uint64_t *bucket;                   /* histograms: n_buckets counts, not cumulative */
};

struct collector {
    struct collector *next;
    zp_metric_collect_fn *fn;
    void *arg;
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct zp_metric *families; /* under reg_mu, in registration order (appended) */
static pthread_mutex_t coll_mu = PTHREAD_MUTEX_INITIALIZER;
static struct collector *collectors; /* under coll_mu, held while they run */
static _Thread_local const char *scope;

static struct zp_metric dropped =
    ZP_COUNTER("zoneproof_metrics_series_dropped_total",
               "Metric updates dropped because their family reached its cap of label sets.", "");

static size_t count_labels(const char *l)
{
    size_t n = 0;

    if (l == NULL || *l == '\0')
        return 0;
    for (n = 1; *l; l++)
        n += *l == ',';
    return n > ZP_METRIC_LABELS_MAX ? ZP_METRIC_LABELS_MAX : n;
}

static void reg(struct zp_metric *m)
{
    pthread_mutex_lock(&reg_mu);
    if (!m->registered) {
        struct zp_metric **pp = &families;
        m->n_labels = count_labels(m->labels);
        while (*pp != NULL)
            pp = &(*pp)->next;
        *pp = m;
        __atomic_store_n(&m->registered, 1, __ATOMIC_RELEASE); /* after n_labels */
    }
    pthread_mutex_unlock(&reg_mu);
}

static int same(const struct zp_metric_series *s, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->values[i], v[i]) != 0)
            return 0;
    return 1;
}

/* m->mu held: the series of v, made now if there is room; NULL past the cap. */
static struct zp_metric_series *series_of(struct zp_metric *m, const char *const *v)
{
    struct zp_metric_series *s, **pp;

    for (pp = &m->series; (s = *pp) != NULL; pp = &s->next)
        if (same(s, v, m->n_labels))
            return s;
    if (m->n_series >= ZP_METRIC_SERIES_MAX)
        return NULL;
    s = zp_xcalloc(1, sizeof(*s));
    for (size_t i = 0; i < m->n_labels; i++)
        s->values[i] = zp_xstrdup(v[i]);
    if (m->type == ZP_METRIC_HISTOGRAM)
        s->bucket = zp_xcalloc(m->n_buckets ? m->n_buckets : 1, sizeof(*s->bucket));
    *pp = s; /* appended: the exposition lists series in the order they appeared */
    m->n_series++;
    return s;
}

enum op { OP_ADD, OP_SET, OP_OBSERVE, OP_TOUCH };

static void update(struct zp_metric *m, enum op op, double v, va_list ap)
{
    const char *vals[ZP_METRIC_LABELS_MAX];
    struct zp_metric_series *s;

    if (!__atomic_load_n(&m->registered, __ATOMIC_ACQUIRE))
        reg(m);
    for (size_t i = 0; i < m->n_labels; i++) {
        const char *x = va_arg(ap, const char *);
        vals[i] = x ? x : "";
    }
    pthread_mutex_lock(&m->mu);
    s = series_of(m, vals);
    if (s != NULL) {
        if (op == OP_ADD && v > 0)
            s->v += v;
        else if (op == OP_SET)
            s->v = v;
        else if (op == OP_OBSERVE) {
            size_t i = 0;
            while (i < m->n_buckets && v > m->buckets[i])
                i++;
            if (i < m->n_buckets)
                s->bucket[i]++;
            s->count++;
            s->v += v;
        }
    }
    pthread_mutex_unlock(&m->mu);
    if (s == NULL && m != &dropped)
        zp_metric_add(&dropped, 1.0, ZP_NOLABEL);
}

#define UPDATE(m, op, v)                                                                           \
    do {                                                                                           \
        va_list ap;                                                                                \
        va_start(ap, v);                                                                           \
        update((m), (op), (v), ap);                                                                \
        va_end(ap);                                                                                \
    } while (0)

void zp_metric_add(struct zp_metric *m, double v, ...)
{
    UPDATE(m, OP_ADD, v);
}

void zp_metric_set(struct zp_metric *m, double v, ...)
{
    UPDATE(m, OP_SET, v);
}

void zp_metric_observe(struct zp_metric *m, double v, ...)
{
    UPDATE(m, OP_OBSERVE, v);
}

void zp_metric_touch(struct zp_metric *m, ...)
{
    double zero = 0;
    va_list ap;

    va_start(ap, m);
    update(m, OP_TOUCH, zero, ap);
    va_end(ap);
}

static void series_free(struct zp_metric_series *s, size_t n_labels)
{
    for (size_t i = 0; i < n_labels; i++)
        free(s->values[i]);
    free(s->bucket);
    free(s);
}

void zp_metric_clear(struct zp_metric *m)
{
    struct zp_metric_series *s;

    pthread_mutex_lock(&m->mu);
    while ((s = m->series) != NULL) {
        m->series = s->next;
        series_free(s, m->n_labels);
    }
    m->n_series = 0;
    pthread_mutex_unlock(&m->mu);
}

void zp_metrics_collector_add(zp_metric_collect_fn *fn, void *arg)
{
    struct collector *c = zp_xcalloc(1, sizeof(*c));

    c->fn = fn;
    c->arg = arg;
    pthread_mutex_lock(&coll_mu);
    c->next = collectors;
    collectors = c;
    pthread_mutex_unlock(&coll_mu);
}

void zp_metrics_collector_remove(zp_metric_collect_fn *fn, void *arg)
{
    pthread_mutex_lock(&coll_mu);
    for (struct collector **pp = &collectors; *pp; pp = &(*pp)->next) {
        if ((*pp)->fn == fn && (*pp)->arg == arg) {
            struct collector *c = *pp;
            *pp = c->next;
            free(c);
            break;
        }
    }
    pthread_mutex_unlock(&coll_mu);
}

const char *zp_metrics_scope_set(const char *provider)
{
    const char *old = scope;

    scope = provider;
    return old;
}

const char *zp_metrics_scope(void)
{
    return scope;
}

/* --- exposition ------------------------------------------------------------------------- */

/* A label value or HELP text: backslash, newline (and, in values, the quote) escaped. */
static int put_escaped(struct zp_buf *out, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            zp_buf_puts(out, "\\\\");
        else if (*s == '\n')
            zp_buf_puts(out, "\\n");
        else if (*s == '"' && quote)
            zp_buf_puts(out, "\\\"");
        else
            zp_buf_append(out, s, 1);
    }
    return zp_buf_ok(out) ? 0 : -1;
}

static int put_number(struct zp_buf *out, double v)
{
    if (isinf(v))
        zp_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else if (isnan(v))
        zp_buf_puts(out, "NaN");
    else if (v == (double)(int64_t)v && fabs(v) < 1e15)
        zp_buf_printf(out, "%lld", (long long)v);
    else {
        /* The shortest text that reads back as v, like other Prometheus clients print. */
        char t[40];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(t, sizeof(t), "%.*g", prec, v);
            if (strtod(t, NULL) == v)
                break;
        }
        zp_buf_puts(out, t);
    }
    return zp_buf_ok(out) ? 0 : -1;
}

/* name{a="x",b="y"[,le="…"]} */
static int put_series_name(struct zp_buf *out, const struct zp_metric *m,
                           const struct zp_metric_series *s, const char *suffix, const char *le)
{
    const char *l = m->labels;
    int any = 0;

    zp_buf_printf(out, "%s%s", m->name, suffix);
    for (size_t i = 0; i < m->n_labels; i++) {
        size_t len = strcspn(l, ",");
        zp_buf_printf(out, "%s%.*s=\"", any++ ? "," : "{", (int)len, l);
        put_escaped(out, s->values[i], 1);
        zp_buf_puts(out, "\"");
        l += len + (l[len] == ',');
    }
    if (le != NULL)
        zp_buf_printf(out, "%sle=\"%s\"", any++ ? "," : "{", le);
    zp_buf_puts(out, any ? "} " : " ");
    return zp_buf_ok(out) ? 0 : -1;
}

static int put_histogram(struct zp_buf *out, const struct zp_metric *m,
                         const struct zp_metric_series *s)
{
    uint64_t cum = 0;
    char le[32];

    for (size_t i = 0; i < m->n_buckets; i++) {
        cum += s->bucket[i];
        snprintf(le, sizeof(le), "%g", m->buckets[i]);
        put_series_name(out, m, s, "_bucket", le);
        zp_buf_printf(out, "%llu\n", (unsigned long long)cum);
    }
    put_series_name(out, m, s, "_bucket", "+Inf");
    zp_buf_printf(out, "%llu\n", (unsigned long long)s->count);
    put_series_name(out, m, s, "_sum", NULL);
    put_number(out, s->v);
    zp_buf_puts(out, "\n");
    put_series_name(out, m, s, "_count", NULL);
    zp_buf_printf(out, "%llu\n", (unsigned long long)s->count);
    return zp_buf_ok(out) ? 0 : -1;
}

static int put_family(struct zp_buf *out, struct zp_metric *m)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};

    pthread_mutex_lock(&m->mu);
    if (m->series == NULL && m->n_labels == 0 && m->type != ZP_METRIC_HISTOGRAM)
        series_of(m, NULL); /* a label-free counter or gauge reads 0 before its first event */
    if (m->series != NULL) {
        zp_buf_printf(out, "# HELP %s ", m->name);
        put_escaped(out, m->help, 0);
        zp_buf_printf(out, "\n# TYPE %s %s\n", m->name, types[m->type]);
    }
    for (const struct zp_metric_series *s = m->series; s != NULL; s = s->next) {
        if (m->type == ZP_METRIC_HISTOGRAM) {
            put_histogram(out, m, s);
        } else {
            put_series_name(out, m, s, "", NULL);
            put_number(out, s->v);
            zp_buf_puts(out, "\n");
        }
    }
    pthread_mutex_unlock(&m->mu);
    return zp_buf_ok(out) ? 0 : -1;
}

int zp_metrics_write(struct zp_buf *out)
{
    zp_metric_touch(&dropped, ZP_NOLABEL);
    zp_metrics_process_collect();
    pthread_mutex_lock(&coll_mu);
    for (struct collector *c = collectors; c != NULL; c = c->next)
        c->fn(c->arg);
    pthread_mutex_unlock(&coll_mu);
    pthread_mutex_lock(&reg_mu);
    for (struct zp_metric *m = families; m != NULL; m = m->next)
        put_family(out, m);
    pthread_mutex_unlock(&reg_mu);
    return zp_buf_ok(out) ? 0 : -1;
}
