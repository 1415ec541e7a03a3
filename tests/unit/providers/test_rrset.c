/*
 * test_rrset.c — the RRset family's algorithm (providers/rrset.c), driven
 * through a provider that keeps its set in memory: a value already there
 * (or already gone) is never written, only our value goes and foreign ones
 * stay, a write that lost a race is read and written again up to the
 * provider's attempts and then explained, what the API applies later is
 * waited for once, and doctor reads without writing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "providers/provider.h"
#include "providers/rrset.h"

#define SET_MAX 8

struct fake_cfg {
    const struct zp_rs_ops *rs; /* first, as the core wants */
    char *values[SET_MAX];      /* the set as the "API" holds it */
    size_t n;
    int races; /* writes still to be refused as if someone wrote first */
    int reads, writes, settles, ends;
};

struct fake_op {
    struct zp_rs_op rs;
    char *held; /* something begin allocates, for end to free (ASan checks it) */
};

static int fk_begin(struct zp_rs_op *rs, struct zp_err *err)
{
    struct fake_op *op = (struct fake_op *)rs;

    (void)err;
    op->held = zp_xstrdup("token");
    return 0;
}

static int fk_read(struct zp_rs_op *rs, struct zp_err *err)
{
    struct fake_cfg *cfg = (struct fake_cfg *)rs->cfg;

    (void)err;
    cfg->reads++;
    rs->has = 0;
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->values[i], rs->rec->value) == 0)
            rs->has = 1;
    return 0;
}

static int fk_write(struct zp_rs_op *rs, struct zp_err *err)
{
    struct fake_cfg *cfg = (struct fake_cfg *)rs->cfg;

    (void)err;
    cfg->writes++;
    if (cfg->races > 0) {
        cfg->races--;
        return 1;
    }
    if (!rs->del) {
        cfg->values[cfg->n++] = zp_xstrdup(rs->rec->value);
    } else {
        for (size_t i = 0; i < cfg->n; i++)
            if (strcmp(cfg->values[i], rs->rec->value) == 0) {
                free(cfg->values[i]);
                cfg->values[i] = cfg->values[--cfg->n];
                break;
            }
    }
    rs->how = "PUT";
    return 0;
}

static int fk_raced(struct zp_rs_op *rs, struct zp_err *err)
{
    return zp_err_set(err, ZP_ETRANSIENT, "the set at %s kept changing", rs->rec->fqdn);
}

static int fk_settle(struct zp_rs_op *rs, struct zp_err *err)
{
    (void)err;
    ((struct fake_cfg *)rs->cfg)->settles++;
    return 0;
}

static void fk_end(struct zp_rs_op *rs)
{
    struct fake_op *op = (struct fake_op *)rs;

    ((struct fake_cfg *)rs->cfg)->ends++;
    free(op->held);
}

static const struct zp_rs_ops fk_rs = {
    .type = "fake",
    .what = "Fake DNS",
    .zone_word = "zone",
    .op_size = sizeof(struct fake_op),
    .one_string = 1,
    .attempts = 3,
    .begin = fk_begin,
    .read = fk_read,
    .write = fk_write,
    .raced = fk_raced,
    .settle = fk_settle,
    .end = fk_end,
};

static const struct zp_prov_call call = {.instance = "fake-1"};
static const struct zp_record ours = {
    .fqdn = "_acme-challenge.example.test.", .zone = "example.test.", .value = "ours", .ttl = 60};

static struct fake_cfg *cfg_new(const struct zp_rs_ops *rs)
{
    struct fake_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));

    cfg->rs = rs;
    cfg->values[cfg->n++] = zp_xstrdup("foreign");
    return cfg;
}

static void cfg_free(struct fake_cfg *cfg)
{
    for (size_t i = 0; i < cfg->n; i++)
        free(cfg->values[i]);
    free(cfg);
}

/* Present adds once and keeps the foreign value; again, nothing is written. */
static void present_once(void **state)
{
    struct fake_cfg *cfg = cfg_new(&fk_rs);
    struct zp_err err = {0};

    (void)state;
    assert_int_equal(zp_rs_present(cfg, &ours, &call, &err), 0);
    assert_int_equal(cfg->n, 2);
    assert_int_equal(cfg->writes, 1);
    assert_int_equal(cfg->settles, 1);
    assert_int_equal(zp_rs_present(cfg, &ours, &call, &err), 0);
    assert_int_equal(cfg->writes, 1); /* already there */
    assert_int_equal(cfg->settles, 1);
    assert_int_equal(cfg->ends, 2);
    assert_string_equal(cfg->values[0], "foreign");
    cfg_free(cfg);
}

/* CleanUp removes our value only; once gone, nothing more is written. */
static void cleanup_ours_only(void **state)
{
    struct fake_cfg *cfg = cfg_new(&fk_rs);
    struct zp_err err = {0};

    (void)state;
    assert_int_equal(zp_rs_present(cfg, &ours, &call, &err), 0);
    assert_int_equal(zp_rs_cleanup(cfg, &ours, &call, &err), 0);
    assert_int_equal(cfg->n, 1);
    assert_string_equal(cfg->values[0], "foreign");
    assert_int_equal(cfg->writes, 2);
    assert_int_equal(zp_rs_cleanup(cfg, &ours, &call, &err), 0);
    assert_int_equal(cfg->writes, 2);
    cfg_free(cfg);
}

/* A lost race is read and written again; past the attempts, the provider's sentence. */
static void races(void **state)
{
    struct fake_cfg *cfg = cfg_new(&fk_rs);
    struct zp_err err = {0};

    (void)state;
    cfg->races = 2;
    assert_int_equal(zp_rs_present(cfg, &ours, &call, &err), 0);
    assert_int_equal(cfg->writes, 3);
    assert_int_equal(cfg->reads, 3);
    assert_int_equal(cfg->n, 2);

    cfg->races = 10;
    assert_int_equal(zp_rs_cleanup(cfg, &ours, &call, &err), -1);
    assert_int_equal(err.kind, ZP_ETRANSIENT);
    assert_string_equal(err.msg, "the set at _acme-challenge.example.test. kept changing");
    assert_int_equal(cfg->writes, 3 + 3); /* the attempts, no more */
    assert_int_equal(cfg->reads, 3 + 4);  /* and one read after the last refusal */
    assert_int_equal(cfg->n, 2);          /* nothing removed */
    assert_int_equal(cfg->settles, 1);    /* only the write that went through */
    cfg_free(cfg);
}

/* Without a raced hook, the core's own sentence. */
static void races_general_sentence(void **state)
{
    struct zp_rs_ops ops = fk_rs;
    struct fake_cfg *cfg = cfg_new(&ops);
    struct zp_err err = {0};

    (void)state;
    ops.raced = NULL;
    ops.attempts = 1;
    cfg->races = 5;
    assert_int_equal(zp_rs_present(cfg, &ours, &call, &err), -1);
    assert_non_null(strstr(err.msg, "changed between each read and write"));
    assert_int_equal(cfg->writes, 1);
    cfg_free(cfg);
}

/* A value past one character-string is refused before anything is read. */
static void long_value(void **state)
{
    struct fake_cfg *cfg = cfg_new(&fk_rs);
    struct zp_err err = {0};
    char big[300];
    struct zp_record rec = ours;

    (void)state;
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    rec.value = big;
    assert_int_equal(zp_rs_present(cfg, &rec, &call, &err), -1);
    assert_int_equal(err.kind, ZP_EINVAL);
    assert_non_null(strstr(err.msg, "is 299 bytes; one DNS character-string holds at most 255"));
    assert_int_equal(cfg->reads, 0);
    cfg_free(cfg);
}

/* doctor reads and says what it proved, in the provider's words; nothing is written. */
static void verify_reads_only(void **state)
{
    struct zp_rs_ops ops = fk_rs;
    struct fake_cfg *cfg = cfg_new(&ops);
    struct zp_err err = {0};

    (void)state;
    assert_int_equal(zp_rs_verify(cfg, &ours, &call, &err), 0);
    assert_string_equal(err.msg, "the Fake DNS credentials can read zone example.test and the TXT "
                                 "records at _acme-challenge.example.test; whether they may "
                                 "write shows only in a write test");
    ops.zone_word = NULL;
    assert_int_equal(zp_rs_verify(cfg, &ours, &call, &err), 0);
    assert_string_equal(err.msg, "the Fake DNS credentials can read the TXT records at "
                                 "_acme-challenge.example.test; whether they may write in zone "
                                 "example.test shows only in a write test");
    assert_int_equal(cfg->writes, 0);
    assert_int_equal(cfg->reads, 2);
    assert_int_equal(cfg->ends, 2);
    cfg_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(present_once), cmocka_unit_test(cleanup_ours_only),
        cmocka_unit_test(races),        cmocka_unit_test(races_general_sentence),
        cmocka_unit_test(long_value),   cmocka_unit_test(verify_reads_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
