/*
 * rrset.c — the RRset family's one algorithm (rrset.h): read the set, add
 * or remove one value, write it back under the API's guard, read again when
 * the guard says someone else wrote first. The providers supply the steps;
 * the order, the checks on the value, the log lines and doctor's answer are
 * here, once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "providers/common.h"
#include "providers/provider.h"
#include "providers/rrset.h"

static struct zp_rs_op *rs_open(void *cfg, const struct zp_record *rec,
                                const struct zp_prov_call *call, int del)
{
    const struct zp_rs_ops *ops = *(const struct zp_rs_ops *const *)cfg;
    struct zp_rs_op *op = zp_xcalloc(1, ops->op_size);

    op->ops = ops;
    op->cfg = cfg;
    op->rec = rec;
    op->call = call;
    op->del = del;
    /* The zone as messages name it, until begin says otherwise. */
    zp_strlcpy(op->zone, rec->zone, sizeof(op->zone));
    if (strlen(op->zone) > 1 && op->zone[strlen(op->zone) - 1] == '.')
        op->zone[strlen(op->zone) - 1] = '\0';
    zp_buf_init(&op->quoted, 2 * strlen(rec->value) + 3); /* every byte escaped, quotes */
    return op;
}

static void rs_close(struct zp_rs_op *op)
{
    if (op->ops->end != NULL)
        op->ops->end(op);
    zp_buf_free(&op->quoted);
    free(op);
}

static void rs_log(const struct zp_rs_op *op, enum zp_loglevel level, const char *suffix,
                   const char *state, const char *error)
{
    char msg[64];

    snprintf(msg, sizeof(msg), "%s %s", op->ops->type, suffix);
    if (error != NULL)
        zp_log(level, msg, ZP_S("instance", op->call->instance), ZP_S("zone", op->zone),
               ZP_S("fqdn", op->rec->fqdn), ZP_S("error", error), ZP_END);
    else
        zp_log(level, msg, ZP_S("instance", op->call->instance),
               ZP_S("action", op->del ? "delete" : "add"), ZP_S("zone", op->zone),
               ZP_S("fqdn", op->rec->fqdn), ZP_S("value", op->rec->value), ZP_S("state", state),
               ZP_I("attempts", op->attempt), ZP_END);
}

/* The value must fit what the API can store, and is quoted once for every writer. */
static int rs_value(struct zp_rs_op *op, struct zp_err *err)
{
    const struct zp_record *rec = op->rec;

    if (op->ops->one_string && strlen(rec->value) > 255)
        return zp_err_set(err, ZP_EINVAL,
                          "TXT value for %s is %zu bytes; one DNS character-string holds at "
                          "most 255",
                          rec->fqdn, strlen(rec->value));
    if (zp_txt_quote(rec->value, &op->quoted) == -1)
        return zp_err_set(err, ZP_EINVAL, "the TXT value for %s is too long", rec->fqdn);
    return 0;
}

/* Read, then write what the set must become; a set changed meanwhile is read and written again. */
static int rs_apply(struct zp_rs_op *op, struct zp_err *err)
{
    const struct zp_rs_ops *ops = op->ops;

    for (op->attempt = 1;; op->attempt++) {
        if (ops->read(op, err) == -1)
            return -1;
        if (op->has != op->del) {
            rs_log(op, ZP_LOG_INFO, "change",
                   op->del ? "none (already gone)" : "none (already there)", NULL);
            return 0;
        }
        if (op->attempt > ops->attempts && ops->raced != NULL)
            return ops->raced(op, err);
        if (op->attempt > ops->attempts)
            return zp_err_set(err, ZP_ETRANSIENT,
                              "the TXT set at %s changed between each read and write; another "
                              "client writes the same name, retry later",
                              op->rec->fqdn);
        int w = ops->write(op, err);
        if (w == -1)
            return -1;
        if (w == 0)
            break;
        zp_log(ZP_LOG_INFO, "the TXT set changed between read and write; reading it again",
               ZP_S("provider", ops->type), ZP_S("instance", op->call->instance),
               ZP_S("fqdn", op->rec->fqdn), ZP_I("attempt", op->attempt), ZP_END);
    }
    rs_log(op, ZP_LOG_INFO, "change", op->how ? op->how : "written", NULL);
    return ops->settle != NULL ? ops->settle(op, err) : 0;
}

static int rs_update(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                     int del, struct zp_err *err)
{
    struct zp_rs_op *op = rs_open(cfg, rec, call, del);
    int rc = -1;

    if (rs_value(op, err) == -1 || op->ops->begin(op, err) == -1 || rs_apply(op, err) == -1)
        goto out;
    rc = 0;
out:
    if (rc == -1)
        rs_log(op, ZP_LOG_WARN, "update failed", NULL, err->msg);
    rs_close(op);
    return rc;
}

int zp_rs_present(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                  struct zp_err *err)
{
    return rs_update(cfg, rec, call, 0, err);
}

int zp_rs_cleanup(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                  struct zp_err *err)
{
    return rs_update(cfg, rec, call, 1, err);
}

int zp_rs_verify(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                 struct zp_err *err)
{
    struct zp_rs_op *op = rs_open(cfg, rec, call, 0);
    int rc = -1;

    op->verify = 1;
    if (op->ops->begin(op, err) == -1 || op->ops->read(op, err) == -1)
        goto out;
    if (op->ops->zone_word != NULL)
        snprintf(err->msg, sizeof(err->msg),
                 "the %s credentials can read %s %s and the TXT records at %.*s; whether they may "
                 "write shows only in a write test",
                 op->ops->what, op->ops->zone_word, op->zone, (int)strlen(rec->fqdn) - 1,
                 rec->fqdn);
    else
        snprintf(err->msg, sizeof(err->msg),
                 "the %s credentials can read the TXT records at %.*s; whether they may write in "
                 "zone %s shows only in a write test",
                 op->ops->what, (int)strlen(rec->fqdn) - 1, rec->fqdn, op->zone);
    rc = 0;
out:
    rs_close(op);
    return rc;
}
