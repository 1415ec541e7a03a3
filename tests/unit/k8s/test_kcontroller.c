/*
 * test_kcontroller.c — the controller's Kubernetes parts that need no
 * server: MicroTime, who holds a lease, zone lease names, the holder
 * identity, matching journal entries to cert-manager Challenges, and the
 * sentences for list, create and 409 answers.
 *
 * With arguments `drive KUBECONFIG|- CMD ...` it is instead a driver for
 * tests/integration/test_kube_controller.py, calling the journal backend,
 * the Challenge oracle, leases and lease locks against a fake API server
 * (the commands are listed above drive_main). It prints one line per
 * result: what happened, or "error <Kind>: <sentence>".
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "k8s/challenges.h"
#include "k8s/kclient.h"
#include "k8s/kjournal.h"
#include "k8s/lease.h"
#include "k8s/leaselock.h"
#include "solver/journal.h"

/* ---- leases: time and judgement ---------------------------------------------------------- */

static void test_micro_time(void **state)
{
    char s[ZP_LEASE_TIME_MAX];
    int64_t us;

    (void)state;
    zp_lease_time_format(1700000000123456LL, s);
    assert_string_equal(s, "2023-11-14T22:13:20.123456Z");
    assert_int_equal(zp_lease_time_parse(s, &us), 0);
    assert_true(us == 1700000000123456LL);
    zp_lease_time_format(5, s);
    assert_string_equal(s, "1970-01-01T00:00:00.000005Z");
    assert_int_equal(zp_lease_time_parse("2024-02-29T23:59:59Z", &us), 0);
    assert_true(us == 1709251199LL * 1000000);
    assert_int_equal(zp_lease_time_parse("2024-02-29T23:59:59.5Z", &us), 0);
    assert_true(us == 1709251199LL * 1000000 + 500000);
    /* More than six digits are cut, an offset is applied. */
    assert_int_equal(zp_lease_time_parse("2024-03-01T01:59:59.123456789+02:00", &us), 0);
    assert_true(us == 1709251199LL * 1000000 + 123456);
    assert_int_equal(zp_lease_time_parse("2024-02-29T18:59:59-05:00", &us), 0);
    assert_true(us == 1709251199LL * 1000000);
    assert_int_equal(zp_lease_time_parse("2024-02-29 23:59:59Z", &us), -1);
    assert_int_equal(zp_lease_time_parse("2024-02-29T23:59:59", &us), -1);
    assert_int_equal(zp_lease_time_parse("2024-02-29T23:59:59.Z", &us), -1);
    assert_int_equal(zp_lease_time_parse("2024-13-01T00:00:00Z", &us), -1);
    assert_int_equal(zp_lease_time_parse("2024-1-01T00:00:00Z", &us), -1);
    assert_int_equal(zp_lease_time_parse("2024-01-01T00:00:00Zjunk", &us), -1);
    assert_int_equal(zp_lease_time_parse("", &us), -1);
    assert_int_equal(zp_lease_time_parse(NULL, &us), -1);
}

static void test_lease_judge(void **state)
{
    const int64_t now = 1700000000000000LL;
    char fresh[ZP_LEASE_TIME_MAX], stale[ZP_LEASE_TIME_MAX];

    (void)state;
    zp_lease_time_format(now - 5000000, fresh);  /* 5 s ago */
    zp_lease_time_format(now - 16000000, stale); /* 16 s ago */
    assert_int_equal(zp_lease_judge(NULL, fresh, 15, 15, "me", now), ZP_LEASE_FREE);
    assert_int_equal(zp_lease_judge("", fresh, 15, 15, "me", now), ZP_LEASE_FREE);
    assert_int_equal(zp_lease_judge("me", stale, 15, 15, "me", now), ZP_LEASE_MINE);
    assert_int_equal(zp_lease_judge("b", fresh, 15, 15, "me", now), ZP_LEASE_TAKEN);
    assert_int_equal(zp_lease_judge("b", stale, 15, 15, "me", now), ZP_LEASE_FREE);
    /* Its own duration counts, not the reader's. */
    assert_int_equal(zp_lease_judge("b", stale, 20, 15, "me", now), ZP_LEASE_TAKEN);
    assert_int_equal(zp_lease_judge("b", fresh, 4, 15, "me", now), ZP_LEASE_FREE);
    /* No duration: the reader's; no readable renewal: as good as expired. */
    assert_int_equal(zp_lease_judge("b", fresh, 0, 15, "me", now), ZP_LEASE_TAKEN);
    assert_int_equal(zp_lease_judge("b", fresh, 0, 4, "me", now), ZP_LEASE_FREE);
    assert_int_equal(zp_lease_judge("b", NULL, 15, 15, "me", now), ZP_LEASE_FREE);
    assert_int_equal(zp_lease_judge("b", "yesterday", 15, 15, "me", now), ZP_LEASE_FREE);
}

static void test_lease_names(void **state)
{
    char a[ZP_LEASE_NAME_MAX], b[ZP_LEASE_NAME_MAX], id1[ZP_LEASE_ID_MAX], id2[ZP_LEASE_ID_MAX];

    (void)state;
    zp_leaselock_zone_name("nc", "Example.COM.", a, sizeof(a));
    zp_leaselock_zone_name("nc", "example.com", b, sizeof(b));
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), strlen("zoneproof-zone-") + 32);
    assert_memory_equal(a, "zoneproof-zone-", 15);
    zp_leaselock_zone_name("nc2", "example.com", b, sizeof(b));
    assert_string_not_equal(a, b);
    zp_leaselock_zone_name("nc", "example.org", b, sizeof(b));
    assert_string_not_equal(a, b);
    setenv("POD_NAME", "zoneproof-6d4f7b9c8-x2x7q", 1);
    zp_lease_identity(id1, sizeof(id1));
    zp_lease_identity(id2, sizeof(id2));
    assert_memory_equal(id1, "zoneproof-6d4f7b9c8-x2x7q-", 26);
    assert_int_equal(strlen(id1), 26 + 8);
    assert_string_not_equal(id1, id2); /* a random suffix per process (here: per call) */
    unsetenv("POD_NAME");
    zp_lease_identity(id1, sizeof(id1));
    assert_true(strlen(id1) > 9);
}

/* ---- Challenges ------------------------------------------------------------------------- */

static void test_challenge_matching(void **state)
{
    (void)state;
    assert_true(
        zp_challenge_matches("_acme-challenge.www.example.com.", "v1", "v1", "www.example.com"));
    assert_true(
        zp_challenge_matches("_ACME-Challenge.WWW.example.com", "v1", "v1", "www.Example.com."));
    /* A wildcard's dnsName may carry "*." (older objects) or not. */
    assert_true(zp_challenge_matches("_acme-challenge.example.com.", "v1", "v1", "*.example.com"));
    assert_true(zp_challenge_matches("_acme-challenge.example.com.", "v1", "v1", "example.com"));
    assert_false(zp_challenge_matches("_acme-challenge.example.com.", "v1", "v2", "example.com"));
    assert_false(
        zp_challenge_matches("_acme-challenge.example.com.", "v1", "v1", "www.example.com"));
    assert_false(
        zp_challenge_matches("_acme-challenge.sub.example.com.", "v1", "v1", "example.com"));
    /* Written at a CNAME's target: the key alone decides. */
    assert_true(
        zp_challenge_matches("d420c923.auth.acme-dns.example.net.", "v1", "v1", "www.example.com"));
    assert_false(
        zp_challenge_matches("d420c923.auth.acme-dns.example.net.", "v1", "v2", "www.example.com"));
    assert_false(zp_challenge_matches("_acme-challenge.example.com.", "v1", NULL, "example.com"));
    assert_false(zp_challenge_matches("_acme-challenge.example.com.", "v1", "v1", NULL));
}

/* ---- sentences ------------------------------------------------------------------------------ */

static void test_sentences(void **state)
{
    const char *who = "the zoneproof service account";
    struct zp_kobj create = {.verb = "create",
                             .group = "",
                             .version = "v1",
                             .resource = "configmaps",
                             .ns = "zoneproof"};
    struct zp_kobj update = {.verb = "update",
                             .group = "coordination.k8s.io",
                             .version = "v1",
                             .resource = "leases",
                             .ns = "zoneproof",
                             .name = "zoneproof-sweeper"};
    struct zp_kobj all = {
        .verb = "list", .group = "acme.cert-manager.io", .version = "v1", .resource = "challenges"};
    const char exists[] = "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\",\"code\":409,"
                          "\"details\":{\"name\":\"zpj-0a\",\"kind\":\"configmaps\"}}";
    const char stale[] = "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"code\":409}";
    struct zp_err err = {0};

    (void)state;
    zp_kclient_status_error(&create, who, 403, NULL, 0, &err);
    assert_string_equal(err.msg, "cannot create configmaps in namespace zoneproof (403 "
                                 "Forbidden): the zoneproof service account needs create on "
                                 "configmaps in namespace zoneproof");
    zp_err_clear(&err);
    zp_kclient_status_error(&create, who, 409, exists, strlen(exists), &err);
    assert_string_equal(err.msg, "cannot create configmap zoneproof/zpj-0a (409 AlreadyExists): "
                                 "it already exists");
    assert_int_equal(err.upstream, ZP_KCLIENT_CONFLICT);
    zp_err_clear(&err);
    zp_kclient_status_error(&update, who, 409, stale, strlen(stale), &err);
    assert_string_equal(err.msg, "cannot update lease zoneproof/zoneproof-sweeper (409 Conflict): "
                                 "it changed since it was read; read it again");
    assert_int_equal(err.upstream, ZP_KCLIENT_CONFLICT);
    zp_err_clear(&err);
    zp_kclient_status_error(&all, who, 403, NULL, 0, &err);
    assert_string_equal(err.msg, "cannot list challenges.acme.cert-manager.io in all namespaces "
                                 "(403 Forbidden): the zoneproof service account needs list on "
                                 "challenges.acme.cert-manager.io in all namespaces");
    zp_err_clear(&err);
    zp_kclient_status_error(&all, who, 404, NULL, 0, &err);
    assert_string_equal(err.msg, "challenges.acme.cert-manager.io is not served by the Kubernetes "
                                 "API server (404 Not Found)");
    assert_int_equal(err.kind, ZP_ENOTFOUND);
}

/* ---- the driver for test_kube_controller.py -------------------------------------------- */

static int print_err(const struct zp_err *err)
{
    printf("error %s: %s\n", zp_errkind_name(err->kind), err->msg);
    return 1;
}

static uint64_t deadline(void)
{
    return zp_now_ms() + 20000;
}

/* jput INSTANCE ZONE FQDN VALUE NS [written] | jremove ID | jlist */
static int drive_journal(struct zp_kclient *k, int argc, char **argv)
{
    struct zp_journal *j = NULL;
    struct zp_jentry e, *all = NULL;
    struct zp_err err = {0};
    size_t n = 0;
    int rc = 1;

    if (zp_kjournal_open(k, &j, &err) == -1)
        return print_err(&err);
    if (strcmp(argv[0], "jput") == 0 && argc >= 6) {
        zp_jentry_make(&e, argv[1], argv[2], argv[3], argv[4], argv[5], "uid-1");
        if (argc >= 7 && strcmp(argv[6], "written") == 0)
            e.state = ZP_J_WRITTEN;
        if ((rc = j->ops->put(j->ctx, &e, deadline(), &err)) == 0)
            printf("ok %s\n", e.id);
        else
            print_err(&err);
    } else if (strcmp(argv[0], "jremove") == 0 && argc >= 2) {
        if ((rc = j->ops->remove(j->ctx, argv[1], deadline(), &err)) == 0)
            printf("ok\n");
        else
            print_err(&err);
    } else if (strcmp(argv[0], "jlist") == 0) {
        if (j->ops->list(j->ctx, &all, &n, deadline(), &err) == -1) {
            rc = print_err(&err);
        } else {
            printf("ok %zu\n", n);
            for (size_t i = 0; i < n; i++)
                printf("entry %s %s %s %s %s %s\n", all[i].id, all[i].instance, all[i].fqdn,
                       all[i].value, all[i].ns[0] ? all[i].ns : "-",
                       all[i].state == ZP_J_WRITTEN ? "written" : "writing");
            rc = 0;
        }
    }
    free(all);
    zp_journal_free(j);
    return rc;
}

/* alive CLUSTER_NS|- FQDN VALUE NS|- [FQDN VALUE NS|-]... (one pass) */
static int drive_alive(struct zp_kclient *k, int argc, char **argv)
{
    struct zp_challenges *c = zp_challenges_new(k, strcmp(argv[1], "-") ? argv[1] : NULL);

    zp_challenges_refresh(c);
    for (int i = 2; i + 2 < argc; i += 3) {
        struct zp_jentry e;
        struct zp_err err = {0};
        int rc;
        zp_jentry_make(&e, "lab", "example.test.", argv[i], argv[i + 1],
                       strcmp(argv[i + 2], "-") ? argv[i + 2] : "", "");
        rc = zp_challenges_alive(c, &e, &err);
        if (rc == -1)
            printf("unknown %s\n", err.msg);
        else
            printf("%s\n", rc == 1 ? "live" : "gone");
    }
    zp_challenges_free(c);
    return 0;
}

/* acquire NAME HOLDER DURATION | renew NAME HOLDER DURATION | release NAME HOLDER */
static int drive_lease(struct zp_kclient *k, int argc, char **argv)
{
    struct zp_err err = {0};
    unsigned dur = argc >= 4 ? (unsigned)strtoul(argv[3], NULL, 10) : 0;
    int rc;

    if (strcmp(argv[0], "acquire") == 0)
        rc = zp_lease_acquire(k, argv[1], argv[2], dur, deadline(), &err);
    else if (strcmp(argv[0], "renew") == 0)
        rc = zp_lease_renew(k, argv[1], argv[2], dur, deadline(), &err);
    else
        rc = zp_lease_release(k, argv[1], argv[2], deadline(), &err);
    if (rc == -1)
        return print_err(&err);
    if (strcmp(argv[0], "acquire") == 0)
        printf(rc == 0 ? "held\n" : "busy %s\n", err.msg);
    else if (strcmp(argv[0], "renew") == 0)
        printf("%s\n", rc == 0 ? "renewed" : "lost");
    else
        printf("ok\n");
    return 0;
}

static void real_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

struct crowd {
    struct zp_leaselock *l;
    const char *name;
    pthread_mutex_t mu;
    int inside, max, done, failed;
};

static void *crowd_member(void *arg)
{
    struct crowd *c = arg;
    struct zp_err err = {0};

    for (int round = 0; round < 3; round++) {
        if (zp_leaselock_lock(c->l, c->name, deadline(), &err) == -1) {
            pthread_mutex_lock(&c->mu);
            c->failed++;
            pthread_mutex_unlock(&c->mu);
            return NULL;
        }
        pthread_mutex_lock(&c->mu);
        if (++c->inside > c->max)
            c->max = c->inside;
        pthread_mutex_unlock(&c->mu);
        real_sleep_ms(10);
        pthread_mutex_lock(&c->mu);
        c->inside--;
        c->done++;
        pthread_mutex_unlock(&c->mu);
        zp_leaselock_unlock(c->l, c->name);
    }
    return NULL;
}

/* threads NAME N: N threads of one process take NAME three times each. */
static int drive_threads(struct zp_leaselock *l, const char *name, int n)
{
    struct crowd c = {.l = l, .name = name};
    pthread_t t[16];

    if (n > 16)
        n = 16;
    pthread_mutex_init(&c.mu, NULL);
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, crowd_member, &c);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_mutex_destroy(&c.mu);
    printf("max=%d done=%d failed=%d\n", c.max, c.done, c.failed);
    return 0;
}

/*
 * lock NAME HOLD_MS WAIT_MS | trylock NAME HOLD_MS | threads NAME N, with a lock set
 * (env ZP_TEST_HOLDER names the holder; ZP_TEST_RENEW_MS the renewal period).
 */
static int drive_lock(struct zp_kclient *k, int argc, char **argv)
{
    struct zp_leaselock_opts o = {.identity = getenv("ZP_TEST_HOLDER")};
    const char *renew = getenv("ZP_TEST_RENEW_MS");
    struct zp_leaselock *l = NULL;
    struct zp_err err = {0};
    unsigned hold = argc >= 3 ? (unsigned)strtoul(argv[2], NULL, 10) : 0;
    uint64_t start = zp_now_ms();
    int rc;

    o.renew_ms = renew ? (unsigned)strtoul(renew, NULL, 10) : 0;
    if (zp_leaselock_new(k, &o, &l, &err) == -1)
        return print_err(&err);
    if (strcmp(argv[0], "threads") == 0) {
        rc = drive_threads(l, argv[1], argc >= 3 ? (int)strtol(argv[2], NULL, 10) : 4);
        zp_leaselock_free(l);
        return rc;
    }
    if (strcmp(argv[0], "lock") == 0)
        rc = zp_leaselock_lock(l, argv[1],
                               start + (argc >= 4 ? strtoull(argv[3], NULL, 10) : 20000), &err);
    else
        rc = zp_leaselock_trylock(l, argv[1], deadline(), &err);
    if (rc != 0) {
        printf(rc == 1 ? "busy %s\n" : "error %s\n", err.msg);
        zp_leaselock_free(l);
        return 0;
    }
    printf("locked after %llu ms\n", (unsigned long long)(zp_now_ms() - start));
    fflush(stdout);
    real_sleep_ms(hold);
    printf("held=%d\n", zp_leaselock_held(l, argv[1]));
    zp_leaselock_unlock(l, argv[1]);
    printf("unlocked\n");
    zp_leaselock_free(l);
    return 0;
}

static int drive_main(int argc, char **argv)
{
    struct zp_kclient *k = NULL;
    struct zp_err err = {0};
    const char *cmd = argv[3];
    int rc = 2;

    /* "-": the in-cluster service account (KUBERNETES_SERVICE_HOST, ZP_SERVICEACCOUNT_DIR). */
    if (zp_kclient_new(strcmp(argv[2], "-") ? argv[2] : NULL, &k, &err) == -1 || k == NULL) {
        printf("error %s: %s\n", zp_errkind_name(err.kind), k ? err.msg : "no cluster");
        return 1;
    }
    argc -= 3;
    argv += 3;
    if (strcmp(cmd, "jput") == 0 || strcmp(cmd, "jremove") == 0 || strcmp(cmd, "jlist") == 0)
        rc = drive_journal(k, argc, argv);
    else if (strcmp(cmd, "alive") == 0 && argc >= 2)
        rc = drive_alive(k, argc, argv);
    else if ((strcmp(cmd, "acquire") == 0 || strcmp(cmd, "renew") == 0) && argc >= 4)
        rc = drive_lease(k, argc, argv);
    else if (strcmp(cmd, "release") == 0 && argc >= 3)
        rc = drive_lease(k, argc, argv);
    else if ((strcmp(cmd, "lock") == 0 || strcmp(cmd, "trylock") == 0 ||
              strcmp(cmd, "threads") == 0) &&
             argc >= 2)
        rc = drive_lock(k, argc, argv);
    else
        fprintf(stderr, "unknown command %s\n", cmd);
    zp_kclient_free(k);
    return rc;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_micro_time),  cmocka_unit_test(test_lease_judge),
        cmocka_unit_test(test_lease_names), cmocka_unit_test(test_challenge_matching),
        cmocka_unit_test(test_sentences),
    };

    if (argc >= 4 && strcmp(argv[1], "drive") == 0)
        return drive_main(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
