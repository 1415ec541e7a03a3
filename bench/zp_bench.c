/*
 * zp_bench.c — Present→ack latency measured in-process (no HTTP), the same
 * for many concurrent Presents, the checks Present runs before it writes
 * (precheck: PSL, zone and CNAME, DNSSEC, CAA), and the raw limit: one
 * hand-made DNS UPDATE plus one query per nameserver with nothing of
 * zoneproof in between.
 * Prints numbers; asserts nothing. bench/run.py starts the servers.
 *
 *   zp_bench --config F --zone example.test --count 200 --concurrent 1000
 *            --secret-file F --key-name acme-key --server 127.0.0.1:5353
 */
#include <errno.h>
#include <getopt.h>
#include <ldns/ldns.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "solver/challenge.h"
#include "solver/precheck.h"
#include "solver/solver.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void print_stats(const char *what, uint64_t *us, size_t n)
{
    qsort(us, n, sizeof(*us), cmp_u64);
    printf("%-34s n=%-5zu median=%7.2f ms  p99=%7.2f ms  max=%7.2f ms\n", what, n,
           us[n / 2] / 1000.0, us[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100] / 1000.0,
           us[n - 1] / 1000.0);
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * The checks Present runs before it writes, alone: what they add to a
 * healthy Present (distinct names, so only the per-zone DNSSEC verdict is
 * cached, as it is in production).
 */
static void bench_precheck(struct zp_solver *s, const struct zp_config *cfg, const char *zone,
                           int count, uint64_t *lat)
{
    const struct zp_instance *in = &cfg->inst[0];
    struct zp_challenge ch;
    struct zp_err err = {0};
    char fqdn[ZP_DNAME_MAX], canon[ZP_DNAME_MAX];
    int failed = 0;

    zp_dname_canon(zone, canon, sizeof(canon));
    for (int i = 0; i < count; i++) {
        uint64_t t0;
        if (snprintf(fqdn, sizeof(fqdn), "_acme-challenge.p%d.%.200s", i, canon) < 0)
            break;
        if (zp_challenge_make(&ch, ZP_PRESENT, fqdn, canon, "precheck-bench", NULL, &err) == -1)
            break;
        t0 = now_us();
        failed += zp_precheck_present(zp_solver_precheck(s), in, &ch, canon, zp_now_ms() + 5000,
                                      &err) == -1;
        lat[i] = now_us() - t0;
    }
    print_stats("precheck before a write (in-process)", lat, (size_t)count);
    if (failed)
        printf("  precheck refused %d of %d: %s\n", failed, count, err.msg);
}

static long proc_status(const char *field)
{
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    FILE *f = fopen("/proc/self/status", "r");

    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static void key_for(char *out, size_t sz, const char *tag, int i)
{
    /* 43 characters of base64url, like a real ACME value */
    snprintf(out, sz, "%s%039d", tag, i);
}

static void run_one(struct zp_solver *s, enum zp_action a, const char *fqdn, const char *key,
                    struct zp_result *res)
{
    struct zp_challenge ch;
    struct zp_err err = {0};

    if (zp_challenge_make(&ch, a, fqdn, NULL, key, NULL, &err) == -1) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(2);
    }
    zp_solver_run(s, &ch, res);
    if (!res->ok) {
        fprintf(stderr, "bench: %s failed: %s\n", zp_action_name(a), res->err.msg);
        exit(1);
    }
}

struct batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, failed;
    long max_threads;
    int quiet; /* the scale series: its waiting ones are answered at the stop, failed */
};

static void on_done(void *arg, const struct zp_result *res)
{
    struct batch *b = arg;
    long t = proc_status("Threads");

    pthread_mutex_lock(&b->mu);
    b->done++;
    b->failed += !res->ok;
    if (!res->ok && b->failed == 1 && !b->quiet)
        fprintf(stderr, "bench: first failure: %s\n", res->err.msg);
    if (t > b->max_threads)
        b->max_threads = t;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void run_batch(struct zp_solver *s, enum zp_action a, const char *zone, int n,
                      struct batch *b)
{
    char fqdn[ZP_DNAME_MAX], key[64];
    struct zp_challenge ch;
    struct zp_err err = {0};

    b->done = b->failed = 0;
    for (int i = 0; i < n; i++) {
        snprintf(fqdn, sizeof(fqdn), "_acme-challenge.c%d.%s", i, zone);
        key_for(key, sizeof(key), "conc", i);
        zp_challenge_make(&ch, a, fqdn, NULL, key, NULL, &err);
        if (zp_solver_submit(s, &ch, on_done, b, &err) == -1) {
            fprintf(stderr, "bench: submit: %s\n", err.msg);
            exit(1);
        }
    }
    pthread_mutex_lock(&b->mu);
    while (b->done < n)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

/* Where the raw limit writes and whom it asks. */
struct raw_target {
    const char *server, *zone, *keyname, *secret;
    char *const *ns;
    size_t n_ns;
};

/* One UPDATE with TSIG (add, or delete the one value), by hand with ldns; exits on failure. */
static void raw_update(const struct raw_target *t, const char *owner, const char *value, int del)
{
    char host[256], rrtext[512];
    unsigned port;
    ldns_resolver *res = ldns_resolver_new();
    ldns_rdf *addr, *zrdf = ldns_dname_new_frm_str(t->zone);
    ldns_rr_list *up = ldns_rr_list_new(); /* owned by the update packet below */
    ldns_rr *rr = NULL;
    ldns_pkt *pkt, *answer = NULL;

    snprintf(rrtext, sizeof(rrtext), "%s %d %s TXT \"%s\"", owner, del ? 0 : 60,
             del ? "NONE" : "IN", value);
    ldns_rr_new_frm_str(&rr, rrtext, 0, NULL, NULL);
    ldns_rr_list_push_rr(up, rr);
    zp_hostport_split(t->server, 53, host, sizeof(host), &port);
    addr = ldns_rdf_new_frm_str(strchr(host, ':') ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, host);
    ldns_resolver_push_nameserver(res, addr);
    ldns_resolver_set_port(res, (uint16_t)port);
    ldns_resolver_set_tsig_keyname(res, t->keyname);
    ldns_resolver_set_tsig_keydata(res, t->secret);
    ldns_resolver_set_tsig_algorithm(res, "hmac-sha256.");
    pkt = ldns_update_pkt_new(zrdf, LDNS_RR_CLASS_IN, NULL, up, NULL);
    ldns_update_pkt_tsig_add(pkt, res);
    if (ldns_resolver_send_pkt(&answer, res, pkt) != LDNS_STATUS_OK || answer == NULL ||
        ldns_pkt_get_rcode(answer) != LDNS_RCODE_NOERROR) {
        fprintf(stderr, "bench: raw update failed\n");
        exit(1);
    }
    ldns_pkt_free(answer);
    ldns_pkt_free(pkt); /* and zrdf and up, which it owned */
    ldns_rdf_deep_free(addr);
    ldns_resolver_deep_free(res);
}

/* Whether the nameserver at hostport serves value at owner (asked directly, recursion off). */
static int serves(const char *hostport, const char *owner, const char *value)
{
    char host[256];
    unsigned port;
    ldns_resolver *q = ldns_resolver_new();
    ldns_rdf *qa, *qn = ldns_dname_new_frm_str(owner);
    ldns_pkt *ans = NULL;
    ldns_rr_list *txt;
    int found = 0;

    zp_hostport_split(hostport, 53, host, sizeof(host), &port);
    qa = ldns_rdf_new_frm_str(strchr(host, ':') ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, host);
    ldns_resolver_push_nameserver(q, qa);
    ldns_resolver_set_port(q, (uint16_t)port);
    ldns_resolver_set_recursive(q, false);
    ldns_resolver_set_retry(q, 1);
    ldns_resolver_query_status(&ans, q, qn, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0);
    txt = ans ? ldns_pkt_rr_list_by_type(ans, LDNS_RR_TYPE_TXT, LDNS_SECTION_ANSWER) : NULL;
    for (size_t i = 0; txt != NULL && i < ldns_rr_list_rr_count(txt) && !found; i++) {
        ldns_rdf *rd = ldns_rr_rdf(ldns_rr_list_rr(txt, i), 0);
        /* a character-string: its length byte, then the text */
        found = rd != NULL && ldns_rdf_size(rd) == strlen(value) + 1 &&
                memcmp(ldns_rdf_data(rd) + 1, value, strlen(value)) == 0;
    }
    ldns_rr_list_deep_free(txt);
    ldns_pkt_free(ans);
    ldns_rdf_deep_free(qa);
    ldns_rdf_deep_free(qn);
    ldns_resolver_deep_free(q);
    return found;
}

/*
 * The honest raw limit: one hand-made UPDATE to the primary, then each
 * nameserver asked again and again (no pause) until it serves the value:
 * what a perfect solver would wait for, and nothing more.
 */
static uint64_t raw_honest(const struct raw_target *t, const char *owner, const char *value,
                           int del)
{
    uint64_t t0 = now_us();

    raw_update(t, owner, value, del);
    for (size_t k = 0; !del && k < t->n_ns; k++)
        while (!serves(t->ns[k], owner, value))
            ;
    return now_us() - t0;
}

struct bench_opts {
    const char *config, *zone, *secret_file, *keyname, *server;
    int count, concurrent, precheck_only, use_stdin;
};

static int parse_count(const char *arg, const char *flag, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < 0 || v > 1000000) {
        fprintf(stderr, "bench: %s wants a number from 0 to 1000000, not \"%s\"\n", flag, arg);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* 0, or 2 (the exit code) after a message. */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"zone", required_argument, NULL, 'z'},
        {"count", required_argument, NULL, 'n'},
        {"concurrent", required_argument, NULL, 'C'},
        {"secret-file", required_argument, NULL, 's'},
        {"key-name", required_argument, NULL, 'k'},
        {"server", required_argument, NULL, 'S'},
        {"precheck-only", no_argument, NULL, 'P'},
        {"stdin", no_argument, NULL, 'I'},
        {NULL, 0, NULL, 0},
    };
    int c;

    *o = (struct bench_opts){
        .zone = "example.test", .keyname = "acme-key", .count = 200, .concurrent = 1000};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 'z':
            o->zone = optarg;
            break;
        case 'n':
            if (parse_count(optarg, "--count", &o->count) == -1)
                return 2;
            break;
        case 'C':
            if (parse_count(optarg, "--concurrent", &o->concurrent) == -1)
                return 2;
            break;
        case 's':
            o->secret_file = optarg;
            break;
        case 'k':
            o->keyname = optarg;
            break;
        case 'S':
            o->server = optarg;
            break;
        case 'P':
            o->precheck_only = 1;
            break;
        case 'I':
            o->use_stdin = 1;
            break;
        default:
            return 2;
        }
    }
    if (o->config == NULL || o->count < 1) {
        fprintf(stderr, "usage: zp_bench --config F [--zone Z] [--count N] [--concurrent N] "
                        "[--server host:port --secret-file F --key-name K] [--precheck-only]\n");
        return 2;
    }
    return 0;
}

/* Present then CleanUp, one name at a time: the latency of one Present. */
static void bench_sequential(struct zp_solver *s, const char *zone, int count, uint64_t *lat)
{
    struct zp_result *res = zp_xcalloc(1, sizeof(*res));
    char fqdn[ZP_DNAME_MAX], key[64];
    uint64_t t0;

    for (int i = 0; i < count; i++) {
        snprintf(fqdn, sizeof(fqdn), "_acme-challenge.s%d.%s", i, zone);
        key_for(key, sizeof(key), "seq", i);
        t0 = now_us();
        run_one(s, ZP_PRESENT, fqdn, key, res);
        lat[i] = now_us() - t0;
        run_one(s, ZP_CLEANUP, fqdn, key, res);
    }
    print_stats("present->ack, direct (in-process)", lat, (size_t)count);
    free(res);
}

/* n Presents submitted at once, then their CleanUps: threads and memory under load. */
static void bench_concurrent(struct zp_solver *s, const char *zone, int n)
{
    struct batch b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0};
    uint64_t t0 = now_us();

    run_batch(s, ZP_PRESENT, zone, n, &b);
    printf("%d concurrent presents: wall=%.2f s failed=%d peak_threads=%ld peak_rss=%ld kB\n", n,
           (now_us() - t0) / 1e6, b.failed, b.max_threads, proc_status("VmHWM"));
    run_batch(s, ZP_CLEANUP, zone, n, &b);
}

/* The raw limit's target: the config's first instance's nameservers, the secret in sec. */
static struct raw_target raw_target_of(const struct zp_config *cfg, const struct bench_opts *o,
                                       const struct zp_buf *sec)
{
    struct raw_target t = {o->server,
                           o->zone,
                           o->keyname,
                           zp_buf_str(sec),
                           cfg->inst[0].prop.nameservers,
                           cfg->inst[0].prop.n_nameservers};
    return t;
}

/* The secret of --secret-file into sec (trimmed); 0, or 2 with a message. */
static int read_secret(const char *path, struct zp_buf *sec)
{
    struct zp_err err = {0};

    zp_buf_init(sec, 4096);
    if (zp_buf_read_file(sec, path, 4096, "secret", &err) == -1) {
        fprintf(stderr, "bench: %s\n", err.msg);
        zp_buf_free_secret(sec);
        return 2;
    }
    zp_buf_trim(sec);
    return 0;
}

/* The same UPDATE by hand with ldns, no solver, then every nameserver until it serves it. */
static int bench_raw(const struct zp_config *cfg, const struct bench_opts *o, uint64_t *lat)
{
    struct zp_buf sec;
    char owner[ZP_DNAME_MAX], key[64];

    if (read_secret(o->secret_file, &sec) != 0)
        return 2;
    struct raw_target t = raw_target_of(cfg, o, &sec);
    for (int i = 0; i < o->count; i++) {
        snprintf(owner, sizeof(owner), "_acme-challenge.raw%d.%s", i, o->zone);
        key_for(key, sizeof(key), "raw", i);
        lat[i] = raw_honest(&t, owner, key, 0);
        raw_honest(&t, owner, key, 1);
    }
    print_stats("raw limit (UPDATE, then each NS until it serves it)", lat, (size_t)o->count);
    zp_buf_free_secret(&sec);
    return 0;
}

/* A gauge's value read back from the metrics exposition: what a scrape would see. */
static double gauge(const char *name)
{
    struct zp_buf b;
    const char *p;
    double v = -1;

    zp_buf_init(&b, 1u << 24);
    if (zp_metrics_write(&b) == 0 && (p = strstr(zp_buf_str(&b), name)) != NULL)
        v = strtod(p + strlen(name), NULL);
    zp_buf_free(&b);
    return v;
}

/*
 * n Presents under zone at once; waiting: until every one waits in the
 * watcher (the zone's nameservers never serve them), else until all are
 * answered. Prints the RSS before and after and the difference per
 * challenge. The waiting ones are answered when the solver stops.
 */
static void scale(struct zp_solver *s, const char *zone, int n, int waiting)
{
    struct batch b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 1};
    char fqdn[2 * ZP_DNAME_MAX], key[64];
    struct zp_challenge ch;
    struct zp_err err = {0};
    long before = proc_status("VmRSS"), after;
    int refused = 0;

    for (int i = 0; i < n; i++) {
        snprintf(fqdn, sizeof(fqdn), "_acme-challenge.w%d.%s", i, zone);
        key_for(key, sizeof(key), waiting ? "wait" : "srv", i);
        zp_challenge_make(&ch, ZP_PRESENT, fqdn, NULL, key, NULL, &err);
        if (zp_solver_submit(s, &ch, on_done, &b, &err) == -1)
            refused++;
    }
    if (waiting) {
        while (gauge("\nzoneproof_watches_waiting ") < n - refused)
            zp_sleep_ms(10);
    } else {
        pthread_mutex_lock(&b.mu);
        while (b.done < n - refused)
            pthread_cond_wait(&b.cv, &b.mu);
        pthread_mutex_unlock(&b.mu);
    }
    after = proc_status("VmRSS");
    printf("%d %ld %ld %.2f %d\n", n, before, after,
           n - refused > 0 ? (double)(after - before) / (n - refused) : 0.0, refused);
}

/*
 * --stdin: one command a line, one answer a line, so that bench/interleaved.py can put
 * each of these between its own measurements:
 *   raw OWNER VALUE | rawdel OWNER VALUE   the honest raw limit (µs) | its removal
 *   present OWNER VALUE | cleanup OWNER VALUE   through the solver (µs, or "fail …")
 *   waiting N ZONE | served N ZONE   the scale series: "n rss_before rss_after kb_each refused"
 */
static int stdin_loop(struct zp_solver *s, const struct zp_config *cfg, const struct bench_opts *o)
{
    struct zp_buf sec;
    char line[1024], cmd[16], a1[ZP_DNAME_MAX], a2[ZP_DNAME_MAX];
    struct zp_result *res = zp_xcalloc(1, sizeof(*res));

    if (read_secret(o->secret_file, &sec) != 0)
        return 2;
    struct raw_target t = raw_target_of(cfg, o, &sec);
    while (fgets(line, sizeof(line), stdin) != NULL) {
        uint64_t t0 = now_us();
        if (sscanf(line, "%15s %254s %254s", cmd, a1, a2) != 3) {
            printf("error: bad command\n");
        } else if (strcmp(cmd, "raw") == 0 || strcmp(cmd, "rawdel") == 0) {
            printf("%llu\n", (unsigned long long)raw_honest(&t, a1, a2, cmd[3] == 'd'));
        } else if (strcmp(cmd, "present") == 0 || strcmp(cmd, "cleanup") == 0) {
            struct zp_challenge ch;
            struct zp_err err = {0};
            zp_challenge_make(&ch, cmd[0] == 'p' ? ZP_PRESENT : ZP_CLEANUP, a1, NULL, a2, NULL,
                              &err);
            zp_solver_run(s, &ch, res);
            if (res->ok)
                printf("%llu\n", (unsigned long long)(now_us() - t0));
            else
                printf("fail %s\n", res->err.msg);
        } else if (strcmp(cmd, "waiting") == 0 || strcmp(cmd, "served") == 0) {
            int n;
            if (parse_count(a1, cmd, &n) == 0)
                scale(s, a2, n, cmd[0] == 'w');
            else
                printf("error: bad count\n");
        } else {
            printf("error: unknown command\n");
        }
        fflush(stdout);
    }
    free(res);
    zp_buf_free_secret(&sec);
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    struct zp_config *cfg;
    struct zp_solver *s;
    struct zp_err err = {0};
    uint64_t *lat;
    int rc;

    if ((rc = parse_args(argc, argv, &o)) != 0)
        return rc;
    zp_log_set_level(ZP_LOG_ERROR);
    zp_log_set_audit(0); /* a line per change: the benchmark's output is its numbers */
    if (zp_config_load(o.config, &cfg, &err) == -1 || (s = zp_solver_new(cfg, &err)) == NULL) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 2;
    }
    if (!o.use_stdin)
        printf("threads at start: %ld, RSS at start: %ld kB\n", proc_status("Threads"),
               proc_status("VmRSS"));
    lat = zp_xcalloc((size_t)o.count, sizeof(*lat));
    if (o.use_stdin) {
        rc = stdin_loop(s, cfg, &o);
        goto out;
    }
    if (!o.precheck_only)
        bench_sequential(s, o.zone, o.count, lat);
    bench_precheck(s, cfg, o.zone, o.count, lat);
    if (o.concurrent > 0 && !o.precheck_only)
        bench_concurrent(s, o.zone, o.concurrent);
    if (o.server != NULL && o.secret_file != NULL && !o.precheck_only)
        rc = bench_raw(cfg, &o, lat);
out:
    zp_solver_free(s);
    zp_config_free(cfg);
    free(lat);
    return rc;
}
