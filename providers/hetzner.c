/*
 * hetzner.c — the hetzner provider: DNS zones of the Hetzner Cloud API
 * (api.hetzner.cloud/v1), with a project API token. The legacy DNS Console
 * API (dns.hetzner.com) is shut down and not spoken.
 *
 * The API adds and removes single records of an RRset on the server side
 * (actions add_records and remove_records), so no read-modify-write and no
 * per-name lock are needed: two challenges at one name cannot lose each
 * other's value. Each write returns an action, which is polled until it
 * succeeds or fails. A read before each write makes both calls idempotent
 * whatever the server does with a value it already has (or lacks), and lets
 * present leave the TTL of someone else's RRset alone.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/provider.h"
#include "providers/rrset.h"
#include "providers/settings.h"

#define HZ_DEFAULT_URL "https://api.hetzner.cloud/v1"
#define HZ_WHAT "Hetzner Cloud"
#define HZ_TOKEN_MAX 4096
/* 3,600 requests an hour per project, refilling one a second. */
#define HZ_RATE 1.0
#define HZ_BURST 3600.0
#define HZ_POLL_FIRST_MS 250u
#define HZ_POLL_MAX_MS 2000u /* pollInterval's default */
#define HZ_LOCKED_FIRST_MS 500u
#define HZ_ID_MAX 32

struct hz_cfg {
    const struct zp_rs_ops *rs; /* first: rrset.h runs the calls */
    char *endpoint;
    char *ca;
    struct zp_cred token; /* apiTokenFile or apiTokenSecretRef */
    char *zone; /* zone id (digits) or name (canonical, no trailing dot); NULL: the record's */
    uint64_t poll_max_ms; /* pollInterval: the longest wait between two polls of an action */
};

/* One present or cleanup in flight (rrset.h: rs.zone is the zone's name, for sentences). */
struct hz_op {
    struct zp_rs_op rs;
    struct zp_buf auth;      /* "Authorization: Bearer <token>": a secret */
    char zone_id[HZ_ID_MAX]; /* once looked up */
    char name[ZP_DNAME_MAX]; /* relative to the zone, "@" at the apex, URL-escaped */
    char rl_key[160];
    struct zp_prov_api_conn conn; /* the endpoint, rl_key and auth, once begin has them */
    const char *what;             /* "adding the TXT value" or "removing the TXT value" */
    int found;                    /* read: the RRset exists */
    char *stored;                 /* read: our value as the server stores it; NULL when absent */
    cJSON *reply;                 /* write: the answer with the action to follow; NULL when none */
};

static const struct zp_rs_ops hz_rs;

static const struct zp_setting hz_settings[] = {
    ZP_SET_E(struct hz_cfg, endpoint, ca, HZ_DEFAULT_URL),
    ZP_SET_D(struct hz_cfg, "pollInterval", poll_max_ms, HZ_POLL_MAX_MS, ZP_POLL_INTERVAL_MIN_MS,
             ZP_POLL_INTERVAL_MAX_MS),
    ZP_SET_C(struct hz_cfg, "apiToken", token, 1),
    ZP_SET_S(struct hz_cfg, "zone", zone, 0), /* an ID or a name: checked by hz_config_parse */
    ZP_SET_LAST,
};

/* ---- configuration ------------------------------------------------------------------------ */

static void hz_config_free(void *p)
{
    zp_settings_free(hz_settings, p);
}

static int hz_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct hz_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    const char *zone;
    char why[128], canon[ZP_DNAME_MAX];
    int rc = -1;

    if (zp_settings_parse(node, path, hz_settings, cfg, err) == -1)
        goto out;
    zone = cfg->zone;
    if (zone != NULL && zone[0] != '\0' && strspn(zone, "0123456789") == strlen(zone)) {
        if (strlen(zone) >= HZ_ID_MAX) {
            zp_y_fail(zp_y_get(node, "zone"), path, err, "zone \"%s\" is too long for a zone ID",
                      zone);
            goto out;
        }
    } else if (zone != NULL) {
        if (zp_dname_check(zone, 0, why, sizeof(why)) == -1 ||
            zp_dname_canon(zone, canon, sizeof(canon)) == -1) {
            zp_y_fail(zp_y_get(node, "zone"), path, err,
                      "zone \"%s\" is neither a zone ID (digits) nor a domain name: %s", zone, why);
            goto out;
        }
        canon[strlen(canon) - 1] = '\0';
        free(cfg->zone);
        cfg->zone = zp_xstrdup(canon);
    }
    cfg->rs = &hz_rs;
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    hz_config_free(cfg);
    return rc;
}

/* ---- requests ----------------------------------------------------------------------------- */

/* A string member of obj made fit for a sentence (one line); "" when absent. */
static void hz_field(const cJSON *obj, const char *name, char *out, size_t outsz)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    snprintf(out, outsz, "%s", cJSON_IsString(v) ? v->valuestring : "");
    for (size_t i = 0; out[i]; i++)
        if ((unsigned char)out[i] < 0x20)
            out[i] = ' ';
}

/* Upstream text fit to quote in a sentence: the token it may echo redacted (zp_prov_text). */
static const char *hz_shown(const struct hz_op *op, const char *text, char *out, size_t outsz)
{
    const char *const sent[] = {zp_buf_str(&op->auth), NULL};

    return zp_prov_text(text, op->rs.call, NULL, sent, out, outsz);
}

/* The code and message of an {"error":{…}} body; what invalid_input says of each field. */
static void hz_error_parse(const struct zp_http_resp *r, char *code, size_t codesz, char *msg,
                           size_t msgsz)
{
    cJSON *j = cJSON_ParseWithLength(zp_buf_str(&r->body), r->body.len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *fields =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "details"), "fields");
    const cJSON *f, *m;
    size_t n;

    hz_field(e, "code", code, codesz);
    hz_field(e, "message", msg, msgsz);
    cJSON_ArrayForEach(f, fields)
    {
        char fname[64];
        hz_field(f, "name", fname, sizeof(fname));
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(f, "messages"))
        {
            n = strlen(msg);
            if (cJSON_IsString(m) && n + 8 < msgsz)
                snprintf(msg + n, msgsz - n, "; %s: %s", fname, m->valuestring);
        }
    }
    for (size_t i = 0; msg[i]; i++)
        if ((unsigned char)msg[i] < 0x20)
            msg[i] = ' ';
    cJSON_Delete(j);
}

#define HZ_AUTH                                                                                    \
    "Hetzner Cloud rejected the API token in {setting}, {file} (unauthorized): it is wrong, "      \
    "expired or deleted; create an API token in the Cloud Console project that holds zone {zone} " \
    "(Security, API tokens)"
#define HZ_READONLY                                                                                \
    "Hetzner Cloud refused {what} at {fqdn} ({code|forbidden}): the token is read-only: create a " \
    "Read & Write token in the project that holds zone {zone} and put it in {setting} ({file})"
#define HZ_INVALID "Hetzner Cloud refused {what} at {fqdn} ({code|invalid input}): {msg300}"
#define HZ_NOZONE                                                                                  \
    "zone {zone} is not in the Hetzner Cloud project of the token in {setting} ({file}); {hint}"

/*
 * Hetzner's refusals, in the order they are judged: a code decides before a
 * status (rows 0, 0 hold for any). Without a code, {code} says what the status means.
 */
static const struct zp_prov_refusal hz_refusals[] = {
    {401, 401, NULL, ZP_EAUTH, HZ_AUTH},
    {0, 0, "unauthorized", ZP_EAUTH, HZ_AUTH},
    {0, 0, "token_readonly", ZP_EPERM, HZ_READONLY},
    {0, 0, "forbidden", ZP_EPERM, HZ_READONLY},
    {403, 403, NULL, ZP_EPERM, HZ_READONLY},
    {0, 0, "incorrect_zone_mode", ZP_ECONFIG,
     "zone {zone} is not a primary zone at Hetzner (incorrect_zone_mode), so its records cannot "
     "be written through the API; write them where the zone's primary is (for example with the "
     "rfc2136 provider)"},
    {0, 0, "resource_limit_exceeded", ZP_EINVAL,
     "Hetzner Cloud refused {what} at {fqdn}: zone {zone} has reached a limit "
     "(resource_limit_exceeded: {msg200}); delete records it no longer needs"},
    {0, 0, "invalid_input", ZP_EINVAL, HZ_INVALID},
    {400, 400, NULL, ZP_EINVAL, HZ_INVALID},
    {422, 422, NULL, ZP_EINVAL, HZ_INVALID},
    {404, 404, NULL, ZP_ENOTFOUND, HZ_NOZONE},
    {0, 0, "not_found", ZP_ENOTFOUND, HZ_NOZONE},
    {500, LONG_MAX, NULL, ZP_ETRANSIENT,
     "Hetzner Cloud answered HTTP {status} ({code|no error code}) to {what} at {fqdn}: the "
     "service is failing or unavailable; retry later"},
    {0, 0, NULL, ZP_ETRANSIENT,
     "Hetzner Cloud answered HTTP {status} ({code|no error code}) to {what} at {fqdn}"},
    {0},
};

/* The sentence for an answer that is not a success; what: "adding the TXT value". Returns -1. */
static int hz_fail(const struct hz_op *op, const char *what, const struct zp_http_resp *r,
                   struct zp_err *err)
{
    const struct hz_cfg *cfg = op->rs.cfg;
    char rawcode[64], raw[512], code[64], msg[512], msg200[201], msg300[301];
    const char *const sent[] = {zp_buf_str(&op->auth), NULL}, *const f[] = {"request", what, NULL};
    const char *hint = cfg->zone ? "check zone (the zone's name or its ID), or use the token of "
                                   "the project that holds it"
                                 : "add the zone to that project, use the token of the project "
                                   "that holds it, or set zone";

    zp_prov_log_reply(ZP_LOG_WARN, "hetzner: unexpected answer", op->rs.call, f, r, NULL, sent);
    hz_error_parse(r, rawcode, sizeof(rawcode), raw, sizeof(raw));
    hz_shown(op, rawcode, code, sizeof(code));
    hz_shown(op, raw, msg, sizeof(msg));
    snprintf(msg200, sizeof(msg200), "%.200s", msg); /* the cuts the sentences always had */
    snprintf(msg300, sizeof(msg300), "%.300s", msg);
    const char *const vars[] = {"setting", cfg->token.setting,
                                "file",    cfg->token.where,
                                "zone",    op->rs.zone,
                                "what",    what,
                                "fqdn",    op->rs.rec->fqdn,
                                "code",    code,
                                "msg200",  msg200,
                                "msg300",  msg300,
                                "hint",    hint,
                                NULL};
    return zp_prov_refuse(hz_refusals, r->status, code[0] ? code : NULL, vars, err);
}

/*
 * One exchange (zp_prov_json_send). A zone locked by another change (409
 * conflict or locked) is retried until the deadline. 0 when any HTTP
 * answer arrived.
 */
static int hz_req(struct hz_op *op, const char *method, const char *path, const char *body,
                  struct zp_http_resp *resp, struct zp_err *err)
{
    uint64_t backoff = HZ_LOCKED_FIRST_MS;
    char code[64], msg[128];

    for (;;) {
        if (zp_prov_json_send(&op->conn, op->rs.call, method, path, body, resp, err) == -1)
            return -1;
        if (resp->status != 409)
            return 0;
        hz_error_parse(resp, code, sizeof(code), msg, sizeof(msg));
        if ((strcmp(code, "conflict") != 0 && strcmp(code, "locked") != 0) ||
            backoff + 500u >= zp_ms_left(op->rs.call->deadline_ms))
            return 0;
        zp_log(ZP_LOG_INFO, "hetzner: zone busy, retrying", ZP_S("instance", op->rs.call->instance),
               ZP_S("code", code), ZP_I("wait_ms", backoff), ZP_END);
        zp_sleep_ms(backoff);
        backoff *= 2;
    }
}

/* ---- the API calls ------------------------------------------------------------------------ */

/* Reads the token now (Secrets rotate) into the Authorization header. */
static int hz_auth(struct hz_op *op, struct zp_err *err)
{
    const struct hz_cfg *cfg = op->rs.cfg;
    struct zp_buf tok;
    int rc = -1;

    zp_buf_init(&tok, HZ_TOKEN_MAX);
    if (zp_cred_read(&cfg->token, op->rs.call, &tok, err) == -1)
        goto out;
    if (strpbrk(tok.data, " \t\r\n") != NULL) {
        zp_err_set(err, ZP_ECONFIG, "%s (%s) must hold one Hetzner Cloud API token on one line",
                   cfg->token.setting, cfg->token.where);
        goto out;
    }
    if (zp_buf_printf(&op->auth, "Authorization: Bearer %s", tok.data) == -1) {
        zp_err_set(err, ZP_ECONFIG, "%s (%s) holds too much for an API token", cfg->token.setting,
                   cfg->token.where);
        goto out;
    }
    rc = 0;
out:
    zp_buf_free_secret(&tok);
    return rc;
}

/* GET /zones/{id_or_name}: the zone's id, name and mode; the record's name relative to it. */
static int hz_zone(struct hz_op *op, struct zp_err *err)
{
    const struct hz_cfg *cfg = op->rs.cfg;
    const char *ref = cfg->zone ? cfg->zone : op->rs.zone;
    struct zp_http_resp resp;
    struct zp_buf path;
    cJSON *j = NULL;
    const cJSON *z, *id;
    char name[ZP_DNAME_MAX], mode[32], shown[32], rel[ZP_DNAME_MAX];
    int rc = -1;

    zp_http_resp_init(&resp);
    zp_buf_init(&path, 1024);
    if (zp_buf_puts(&path, "/zones/") == -1 || zp_http_escape(ref, &path) == -1) {
        zp_err_set(err, ZP_EINVAL, "zone %s is too long for a request", ref);
        goto out;
    }
    if (hz_req(op, "GET", zp_buf_str(&path), NULL, &resp, err) == -1)
        goto out;
    if (resp.status != 200) {
        if (cfg->zone)
            snprintf(op->rs.zone, sizeof(op->rs.zone), "%s", cfg->zone);
        hz_fail(op, "the lookup of the zone", &resp, err);
        goto out;
    }
    if ((j = zp_json_parse(&resp.body, HZ_WHAT, err)) == NULL)
        goto out;
    z = cJSON_GetObjectItemCaseSensitive(j, "zone");
    id = cJSON_GetObjectItemCaseSensitive(z, "id");
    hz_field(z, "name", name, sizeof(name));
    hz_field(z, "mode", mode, sizeof(mode));
    if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 9e15 || name[0] == '\0') {
        zp_err_set(err, ZP_ETRANSIENT,
                   "Hetzner Cloud answered the lookup of zone %s without "
                   "the zone's id and name",
                   ref);
        goto out;
    }
    snprintf(op->zone_id, sizeof(op->zone_id), "%.0f", id->valuedouble);
    hz_shown(op, name, op->rs.zone, sizeof(op->rs.zone)); /* for sentences: paths use the id */
    if (mode[0] != '\0' && strcmp(mode, "primary") != 0) {
        zp_err_set(err, ZP_ECONFIG,
                   "zone %s is a %s zone at Hetzner, so its records cannot be written through "
                   "the API; write them where the zone's primary is (for example with the "
                   "rfc2136 provider)",
                   op->rs.zone, hz_shown(op, mode, shown, sizeof(shown)));
        goto out;
    }
    if (zp_dname_relative(op->rs.rec->fqdn, name, rel, sizeof(rel)) == -1) {
        zp_err_set(err, ZP_ECONFIG, "%s is not inside Hetzner zone %s; %s", op->rs.rec->fqdn,
                   op->rs.zone,
                   cfg->zone ? "set zone to the zone that holds it, or remove zone"
                             : zp_prov_zone_unheld(op->rs.call));
        goto out;
    }
    zp_buf_reset(&path);
    if (zp_http_escape(rel, &path) == -1 || path.len >= sizeof(op->name)) {
        zp_err_set(err, ZP_EINVAL, "%s is too long for a request", op->rs.rec->fqdn);
        goto out;
    }
    snprintf(op->name, sizeof(op->name), "%s", zp_buf_str(&path));
    rc = 0;
out:
    cJSON_Delete(j);
    zp_http_resp_free(&resp);
    zp_buf_free(&path);
    return rc;
}

/* GET the TXT RRset: whether it exists, and the record whose value equals ours, as stored. */
static int hz_read(struct zp_rs_op *rs, struct zp_err *err)
{
    struct hz_op *op = (struct hz_op *)rs;
    struct zp_http_resp resp;
    char *path = zp_xasprintf("/zones/%s/rrsets/%s/TXT", op->zone_id, op->name);
    const cJSON *rec;
    cJSON *j = NULL;
    int rc = -1;

    zp_http_resp_init(&resp);
    if (hz_req(op, "GET", path, NULL, &resp, err) == -1)
        goto out;
    if (resp.status == 404) { /* the zone was just found: the RRset does not exist */
        rc = 0;
        goto out;
    }
    if (resp.status != 200) {
        hz_fail(op, "reading the TXT records", &resp, err);
        goto out;
    }
    if ((j = zp_json_parse(&resp.body, HZ_WHAT, err)) == NULL)
        goto out;
    op->found = 1;
    cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(j, "rrset"), "records"))
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, "value");
        if (cJSON_IsString(v) && zp_txt_equal(v->valuestring, rs->rec->value)) {
            op->stored = zp_xstrdup(v->valuestring);
            rs->has = 1;
            break;
        }
    }
    rc = 0;
out:
    cJSON_Delete(j);
    zp_http_resp_free(&resp);
    free(path);
    return rc;
}

/*
 * POST add_records or remove_records with one value: removal names the
 * value as the server stores it; an RRset already there keeps its TTL.
 */
static int hz_write(struct zp_rs_op *rs, struct zp_err *err)
{
    struct hz_op *op = (struct hz_op *)rs;
    struct zp_http_resp resp;
    cJSON *body = cJSON_CreateObject(), *recs, *one;
    char *text = NULL, *path = NULL;
    int rc = -1;

    zp_http_resp_init(&resp);
    recs = cJSON_AddArrayToObject(body, "records");
    one = cJSON_CreateObject();
    cJSON_AddItemToArray(recs, one);
    if (cJSON_AddStringToObject(one, "value", rs->del ? op->stored : zp_buf_str(&rs->quoted)) ==
            NULL ||
        (!op->found && cJSON_AddNumberToObject(body, "ttl", rs->rec->ttl) == NULL) ||
        (text = cJSON_PrintUnformatted(body)) == NULL) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the request for %s", rs->rec->fqdn);
        goto out;
    }
    rs->how = rs->del ? "remove_records" : "add_records";
    path = zp_xasprintf("/zones/%s/rrsets/%s/TXT/actions/%s", op->zone_id, op->name, rs->how);
    if (hz_req(op, "POST", path, text, &resp, err) == -1)
        goto out;
    if (rs->del && resp.status == 404) { /* removed meanwhile, RRset and all */
        rs->how = "remove_records (already gone)";
        rc = 0;
        goto out;
    }
    if (resp.status != 200 && resp.status != 201) {
        hz_fail(op, op->what, &resp, err);
        goto out;
    }
    if ((op->reply = zp_json_parse(&resp.body, HZ_WHAT, err)) == NULL)
        goto out;
    rc = 0;
out:
    cJSON_Delete(body);
    cJSON_free(text);
    free(path);
    zp_http_resp_free(&resp);
    return rc;
}

/*
 * Follows the action the write returned until it succeeds, fails, or the
 * deadline comes; none when the RRset was gone already.
 */
static int hz_settle(struct zp_rs_op *rs, struct zp_err *err)
{
    struct hz_op *op = (struct hz_op *)rs;
    const char *what = op->what;
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(op->reply, "action");
    struct zp_http_resp resp;
    uint64_t cap = ((const struct hz_cfg *)rs->cfg)->poll_max_ms;
    uint64_t interval = HZ_POLL_FIRST_MS < cap ? HZ_POLL_FIRST_MS : cap;
    cJSON *j = NULL;
    char status[32], id[HZ_ID_MAX], *path = NULL;
    const cJSON *idn = cJSON_GetObjectItemCaseSensitive(action, "id");
    int rc = -1;

    if (op->reply == NULL)
        return 0;
    zp_http_resp_init(&resp);
    if (!cJSON_IsNumber(idn) || idn->valuedouble < 1 || idn->valuedouble > 9e15) {
        zp_err_set(err, ZP_ETRANSIENT,
                   "Hetzner Cloud accepted %s at %s but answered without an "
                   "action to follow",
                   what, rs->rec->fqdn);
        goto out;
    }
    snprintf(id, sizeof(id), "%.0f", idn->valuedouble);
    path = zp_xasprintf("/actions/%s", id);
    for (;;) {
        hz_field(action, "status", status, sizeof(status));
        if (strcmp(status, "success") == 0)
            break;
        if (strcmp(status, "error") == 0) {
            char raw[256], code[64], msg[256];
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(action, "error");
            hz_field(e, "code", raw, sizeof(raw));
            hz_shown(op, raw, code, sizeof(code));
            hz_field(e, "message", raw, sizeof(raw));
            hz_shown(op, raw, msg, sizeof(msg));
            zp_log(ZP_LOG_WARN, "hetzner: action failed", ZP_S("instance", rs->call->instance),
                   ZP_S("action", id), ZP_S("code", code), ZP_S("message", msg), ZP_END);
            zp_err_set(err, ZP_ETRANSIENT, "Hetzner Cloud failed %s at %s in zone %s (%s: %s)",
                       what, rs->rec->fqdn, rs->zone, code[0] ? code : "no error code", msg);
            goto out;
        }
        if (interval + 300u >= zp_ms_left(rs->call->deadline_ms)) {
            zp_err_set(err, ZP_ETIMEOUT,
                       "Hetzner Cloud accepted %s at %s, but the change was still running when "
                       "the deadline ran out; a retry finds it done",
                       what, rs->rec->fqdn);
            goto out;
        }
        zp_sleep_ms(interval);
        interval = interval * 2 > cap ? cap : interval * 2;
        if (hz_req(op, "GET", path, NULL, &resp, err) == -1)
            goto out;
        if (resp.status != 200) {
            hz_fail(op, "following the change", &resp, err);
            goto out;
        }
        cJSON_Delete(j);
        if ((j = zp_json_parse(&resp.body, HZ_WHAT, err)) == NULL)
            goto out;
        action = cJSON_GetObjectItemCaseSensitive(j, "action");
    }
    rc = 0;
out:
    cJSON_Delete(j);
    zp_http_resp_free(&resp);
    free(path);
    return rc;
}

/* ---- present, cleanup and verify (rrset.h) ------------------------------------------------- */

/* The token, then the zone: everything a call needs before it reads the TXT RRset. */
static int hz_begin(struct zp_rs_op *rs, struct zp_err *err)
{
    struct hz_op *op = (struct hz_op *)rs;
    const struct hz_cfg *cfg = rs->cfg;

    zp_buf_init(&op->auth, HZ_TOKEN_MAX + 64);
    op->what = rs->del ? "removing the TXT value" : "adding the TXT value";
    snprintf(op->rl_key, sizeof(op->rl_key), "hetzner:%s",
             rs->call->instance ? rs->call->instance : "");
    snprintf(rs->zone, sizeof(rs->zone), "%s", rs->rec->zone);
    if (rs->zone[0] != '\0' && rs->zone[strlen(rs->zone) - 1] == '.')
        rs->zone[strlen(rs->zone) - 1] = '\0'; /* the API's names have no root dot */
    if (hz_auth(op, err) == -1)
        return -1;
    op->conn = (struct zp_prov_api_conn){.what = HZ_WHAT,
                                         .rate_key = op->rl_key,
                                         .rate = HZ_RATE,
                                         .burst = HZ_BURST,
                                         .base = cfg->endpoint,
                                         .ca_file = cfg->ca,
                                         .auth = zp_buf_str(&op->auth)};
    return hz_zone(op, err);
}

static void hz_end(struct zp_rs_op *rs)
{
    struct hz_op *op = (struct hz_op *)rs;

    zp_buf_free_secret(&op->auth);
    free(op->stored);
    cJSON_Delete(op->reply);
}

/* No guard: one read, one write (the server adds or removes the one value), so no raced. */
static const struct zp_rs_ops hz_rs = {
    .type = "hetzner",
    .what = HZ_WHAT,
    .zone_word = "zone",
    .op_size = sizeof(struct hz_op),
    .one_string = 1,
    .attempts = 1,
    .begin = hz_begin,
    .read = hz_read,
    .write = hz_write,
    .settle = hz_settle,
    .end = hz_end,
};

const struct zp_provider_ops zp_prov_hetzner = {
    .type = "hetzner",
    .flags = 0, /* add_records and remove_records change one record on the server's side */
    .settings = hz_settings,
    .config_parse = hz_config_parse,
    .config_free = hz_config_free,
    .present = zp_rs_present,
    .cleanup = zp_rs_cleanup,
    .verify = zp_rs_verify,
};
