/*
 * godaddy.c — the godaddy provider: the TXT records at the challenge name,
 * written through the GoDaddy Domains API v1 with an sso-key credential.
 *
 * The API has no single-record delete, so the scope of every write is the
 * one call whose blast radius is the challenge name itself:
 * PUT /v1/domains/{domain}/records/TXT/{name} with the full list of values
 * that must stay (DELETE of the same path when ours was the last). The
 * calls that replace every TXT record of the domain, or the whole zone, are
 * never used. Because the list is read, changed and written back, the
 * solver never runs two calls for the same name at once (ZP_PROV_RMW); a
 * value some other client adds between our read and our write would still
 * be lost, which the API gives no means to prevent.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/provider.h"

#define GD_DEFAULT_URL "https://api.godaddy.com"
#define GD_CRED_MAX 1024
#define GD_URL_MAX 2048
#define GD_TTL_MIN 600 /* the API refuses shorter TTLs */
/* 60 requests a minute per endpoint; a call uses two or three. */
#define GD_RATE 1.0
#define GD_BURST 6.0
#define GD_WHAT "GoDaddy"

struct gd_cfg {
    char *endpoint;
    char *ca;
    struct zp_cred key;    /* apiKeyFile or apiKeySecretRef */
    struct zp_cred secret; /* apiSecretFile or apiSecretSecretRef */
    char *zone;            /* domain override, canonical; NULL: the record's zone */
};

/* One present or cleanup in flight. */
struct gd_op {
    const struct gd_cfg *cfg;
    const struct zp_record *rec;
    const struct zp_prov_call *call;
    char domain[ZP_DNAME_MAX]; /* "example.com", no trailing dot */
    char name[ZP_DNAME_MAX];   /* relative: "_acme-challenge", "@" at the apex */
    struct zp_buf auth;        /* "Authorization: sso-key K:S": a secret */
    struct zp_buf path;        /* /v1/domains/{domain}/records/TXT/{name} */
    char rl_key[160];
};

static const char *const gd_keys[] = {
    "endpoint", ZP_CRED_KEYS("apiKey"), ZP_CRED_KEYS("apiSecret"), "caFile", "zone", NULL};

/* ---- configuration ------------------------------------------------------------------------ */

static void gd_config_free(void *p)
{
    struct gd_cfg *cfg = p;

    if (cfg == NULL)
        return;
    free(cfg->endpoint);
    free(cfg->ca);
    zp_cred_free(&cfg->key);
    zp_cred_free(&cfg->secret);
    free(cfg->zone);
    free(cfg);
}

static int gd_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct gd_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    const char *zone = NULL;
    char why[128], canon[ZP_DNAME_MAX];
    int rc = -1;

    if (zp_endpoint_parse(node, path, GD_DEFAULT_URL, &cfg->endpoint, &cfg->ca, err) == -1 ||
        zp_cred_parse(node, path, "apiKey", 1, &cfg->key, err) == -1 ||
        zp_cred_parse(node, path, "apiSecret", 1, &cfg->secret, err) == -1 ||
        zp_y_str(node, path, "zone", 0, &zone, err) == -1)
        goto out;
    if (zone != NULL) {
        if (zp_dname_check(zone, 0, why, sizeof(why)) == -1 ||
            zp_dname_canon(zone, canon, sizeof(canon)) == -1) {
            zp_y_fail(zp_y_get(node, "zone"), path, err, "zone \"%s\" is not a domain name: %s",
                      zone, why);
            goto out;
        }
        cfg->zone = zp_xstrdup(canon);
    }
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    gd_config_free(cfg);
    return rc;
}

/* ---- requests ----------------------------------------------------------------------------- */

/* Builds the sso-key header from both credentials, read now: Secrets rotate. */
static int gd_auth(struct gd_op *op, struct zp_err *err)
{
    struct zp_buf key, secret;
    int rc = -1;

    zp_buf_init(&key, GD_CRED_MAX);
    zp_buf_init(&secret, GD_CRED_MAX);
    if (zp_cred_read(&op->cfg->key, op->call, &key, err) == -1 ||
        zp_cred_read(&op->cfg->secret, op->call, &secret, err) == -1)
        goto out;
    if (strpbrk(key.data, ": \t\r\n") != NULL || strpbrk(secret.data, " \t\r\n") != NULL) {
        zp_err_set(err, ZP_ECONFIG,
                   "%s and %s must each hold one GoDaddy credential on one "
                   "line: the key in %s, the secret in %s",
                   op->cfg->key.setting, op->cfg->secret.setting, op->cfg->key.where,
                   op->cfg->secret.where);
        goto out;
    }
    if (zp_buf_printf(&op->auth, "Authorization: sso-key %s:%s", key.data, secret.data) == -1) {
        zp_err_set(err, ZP_ECONFIG, "%s or %s holds too much for a GoDaddy credential",
                   op->cfg->key.setting, op->cfg->secret.setting);
        goto out;
    }
    rc = 0;
out:
    zp_buf_free_secret(&key);
    zp_buf_free_secret(&secret);
    return rc;
}

/*
 * A field of a GoDaddy error body, made fit for a sentence; "" when absent.
 * GoDaddy's messages may echo the sso-key header sent: zp_prov_text redacts it.
 */
static void gd_field(const struct gd_op *op, const cJSON *j, const char *name, char *out,
                     size_t outsz)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    const char *const sent[] = {zp_buf_str(&op->auth), NULL};

    zp_prov_text(cJSON_IsString(v) ? v->valuestring : "", op->call, NULL, sent, out, outsz);
}

/*
 * GoDaddy tells how long to wait in the body (retryAfterSec); the HTTP
 * client knows only Retry-After. When a 429 could not be waited out, the
 * log takes the body's figure and the sentence names GoDaddy's limit: the
 * figure counts down from one attempt to the next, so it stays out of it.
 */
static void gd_rate_sentence(const struct gd_op *op, const struct zp_http_resp *r,
                             struct zp_err *err)
{
    cJSON *j = cJSON_ParseWithLength(zp_buf_str(&r->body), r->body.len);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "retryAfterSec");

    if (cJSON_IsNumber(s) && s->valuedouble >= 1 && s->valuedouble < 86400)
        zp_log(ZP_LOG_WARN, "godaddy rate limited", ZP_S("instance", op->call->instance),
               ZP_I("retry_after_s", (long long)s->valuedouble), ZP_END);
    zp_err_clear(err);
    zp_err_set(err, ZP_ERATELIMIT, ZP_HTTP_RATE_SENTENCE,
               GD_WHAT " (60 requests a minute per API)");
    err->upstream = 429;
    cJSON_Delete(j);
}

/* One exchange; path follows the endpoint. 0 when any HTTP answer arrived. */
static int gd_req(struct gd_op *op, const char *method, const char *path, const char *body,
                  struct zp_http_resp *resp, struct zp_err *err)
{
    const char *headers[] = {zp_buf_str(&op->auth), "Accept: application/json",
                             body ? "Content-Type: application/json" : NULL, NULL};
    struct zp_http_req req = {0};
    char *url = zp_xasprintf("%s%s", op->cfg->endpoint, path);
    int rc = -1;

    if (zp_ratelimit_take(op->rl_key, GD_RATE, GD_BURST, op->call->deadline_ms, GD_WHAT, err) == -1)
        goto out;
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.deadline_ms = op->call->deadline_ms;
    req.ca_file = op->cfg->ca;
    req.what = GD_WHAT;
    rc = zp_http_call(&req, resp, err);
    if (rc == -1 && err->kind == ZP_ERATELIMIT && resp->status == 429)
        gd_rate_sentence(op, resp, err);
out:
    free(url);
    return rc;
}

/* The sentence for an answer that is not success; what: "read", "write", "delete". */
static int gd_fail(const struct gd_op *op, const char *what, const struct zp_http_resp *r,
                   struct zp_err *err)
{
    cJSON *j = cJSON_ParseWithLength(zp_buf_str(&r->body), r->body.len);
    const cJSON *f;
    char code[64], msg[256], detail[512] = "";
    const char *d = op->domain, *n = op->rec->fqdn;
    const char *const sent[] = {zp_buf_str(&op->auth), NULL};
    const char *const fields[] = {"request", what, NULL};

    zp_prov_log_reply(ZP_LOG_WARN, "godaddy: unexpected answer", op->call, fields, r, NULL, sent);
    gd_field(op, j, "code", code, sizeof(code));
    gd_field(op, j, "message", msg, sizeof(msg));
    switch (r->status) {
    case 401:
        zp_err_set(err, ZP_EAUTH,
                   "GoDaddy rejected the API key and secret in %s and %s (401 "
                   "%s); check that both belong to the same production key (keys made for the "
                   "OTE test environment work only with endpoint https://api.ote-godaddy.com)",
                   op->cfg->key.setting, op->cfg->secret.setting, code[0] ? code : "Unauthorized");
        break;
    case 403:
        zp_err_set(err, ZP_EPERM,
                   "GoDaddy denied the key in %s access to domain %s (403 %s); GoDaddy "
                   "opens its DNS API only to accounts with 10 or more domains or a Discount "
                   "Domain Club plan, and otherwise refuses every call; if the account qualifies, "
                   "the key belongs to another account than the domain",
                   op->cfg->key.setting, d, code[0] ? code : "Forbidden");
        break;
    case 404:
        zp_err_set(err, ZP_ENOTFOUND,
                   "domain %s is not in the GoDaddy account of the key in %s (404 %s); "
                   "use a key of the account that holds it, or set zone to the domain as "
                   "registered at GoDaddy",
                   d, op->cfg->key.setting, code[0] ? code : "Not Found");
        break;
    case 400:
    case 409:
    case 422:
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(j, "fields"))
        {
            char fm[160], fp[64];
            size_t len = strlen(detail);
            if (len >= sizeof(detail) - 1)
                break; /* full: a reply may list thousands of fields */
            gd_field(op, f, "message", fm, sizeof(fm));
            gd_field(op, f, "path", fp, sizeof(fp));
            if (fm[0])
                snprintf(detail + len, sizeof(detail) - len, "%s%s%s%s", len ? "; " : ": ", fp,
                         fp[0] ? " " : "", fm);
        }
        zp_err_set(err, ZP_EINVAL,
                   "GoDaddy refused to %s the TXT records at %s in domain %s (%ld "
                   "%s): %s%s",
                   what, n, d, r->status, code[0] ? code : "invalid", msg[0] ? msg : "no reason",
                   detail);
        break;
    default:
        if (r->status >= 500)
            zp_err_set(err, ZP_ETRANSIENT,
                       "GoDaddy failed to %s the TXT records at %s (HTTP %ld %s); it is GoDaddy's "
                       "side, retry later",
                       what, n, r->status, code);
        else
            zp_err_set(err, ZP_ETRANSIENT,
                       "GoDaddy answered HTTP %ld %s when asked to %s the TXT records at %s",
                       r->status, code, what, n);
        break;
    }
    err->upstream = (int)r->status;
    cJSON_Delete(j);
    return -1;
}

/* ---- the records at the name -------------------------------------------------------------- */

/* GET the TXT records at the name: [{data, name, ttl, type}], [] when none. */
static int gd_read(struct gd_op *op, cJSON **list, struct zp_err *err)
{
    struct zp_http_resp r;
    int rc = -1;

    zp_http_resp_init(&r);
    if (gd_req(op, "GET", zp_buf_str(&op->path), NULL, &r, err) == -1)
        goto out;
    if (r.status != 200) {
        gd_fail(op, "read", &r, err);
        goto out;
    }
    if ((*list = zp_json_parse(&r.body, GD_WHAT, err)) == NULL)
        goto out;
    if (!cJSON_IsArray(*list)) {
        zp_err_set(err, ZP_ETRANSIENT,
                   "GoDaddy answered the read of TXT at %s with something "
                   "that is not a list of records",
                   op->rec->fqdn);
        goto out;
    }
    rc = 0;
out:
    zp_http_resp_free(&r);
    return rc;
}

/*
 * The records to write back: every record but ours (and, on cleanup, none
 * of ours), each with its own TTL. Empty data is a leftover of the days the
 * API had no delete and cannot be written: it is dropped.
 */
static cJSON *gd_keep(const struct gd_op *op, const cJSON *list, int *ours, size_t *dropped)
{
    cJSON *keep = cJSON_CreateArray();
    const cJSON *it;

    *ours = 0;
    *dropped = 0;
    cJSON_ArrayForEach(it, list)
    {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(it, "data");
        const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(it, "ttl");
        cJSON *o;

        if (!cJSON_IsString(data) || data->valuestring[0] == '\0') {
            (*dropped)++;
            continue;
        }
        if (zp_txt_equal(data->valuestring, op->rec->value)) {
            *ours = 1;
            continue;
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "data", data->valuestring);
        cJSON_AddNumberToObject(o, "ttl", cJSON_IsNumber(ttl) ? ttl->valuedouble : GD_TTL_MIN);
        cJSON_AddItemToArray(keep, o);
    }
    return keep;
}

/* PUT the list at the name, or DELETE the name's TXT records when the list is empty. */
static int gd_write(struct gd_op *op, cJSON *list, struct zp_err *err)
{
    struct zp_http_resp r;
    char *body = NULL;
    int del = cJSON_GetArraySize(list) == 0, rc = -1;

    zp_http_resp_init(&r);
    if (!del && (body = cJSON_PrintUnformatted(list)) == NULL) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the TXT records for %s", op->rec->fqdn);
        goto out;
    }
    if (gd_req(op, del ? "DELETE" : "PUT", zp_buf_str(&op->path), body, &r, err) == -1)
        goto out;
    /* A DELETE that finds nothing left means someone else removed it: the goal is met. */
    if ((r.status >= 200 && r.status < 300) || (del && r.status == 404)) {
        rc = 0;
        goto out;
    }
    gd_fail(op, del ? "delete" : "write", &r, err);
out:
    cJSON_free(body);
    zp_http_resp_free(&r);
    return rc;
}

/* ---- present and cleanup ------------------------------------------------------------------ */

static int gd_prepare(struct gd_op *op, struct zp_err *err)
{
    const char *zone = op->cfg->zone ? op->cfg->zone : op->rec->zone;
    size_t n = strlen(zone);

    if (!zp_dname_in_zone(op->rec->fqdn, zone))
        return zp_err_set(err, ZP_ECONFIG, "%s is not inside domain %s; %s", op->rec->fqdn, zone,
                          op->cfg->zone ? "set zone to the domain that holds it, or remove zone"
                                        : "the zone cert-manager found does not hold the name");
    if (n == 0 || n >= sizeof(op->domain) ||
        zp_dname_relative(op->rec->fqdn, zone, op->name, sizeof(op->name)) == -1)
        return zp_err_set(err, ZP_EINVAL, "cannot name %s relative to domain %s", op->rec->fqdn,
                          zone);
    memcpy(op->domain, zone, n - 1); /* without the trailing dot */
    op->domain[n - 1] = '\0';
    if (zp_buf_puts(&op->path, "/v1/domains/") == -1 ||
        zp_http_escape(op->domain, &op->path) == -1 ||
        zp_buf_puts(&op->path, "/records/TXT/") == -1 ||
        (strcmp(op->name, "@") == 0 ? zp_buf_puts(&op->path, "@")
                                    : zp_http_escape(op->name, &op->path)) == -1)
        return zp_err_set(err, ZP_EINVAL, "the name %s is too long for a URL", op->rec->fqdn);
    snprintf(op->rl_key, sizeof(op->rl_key), "godaddy:%s",
             op->call->instance ? op->call->instance : "");
    return gd_auth(op, err);
}

static int gd_update(void *p, const struct zp_record *rec, const struct zp_prov_call *call, int del,
                     struct zp_err *err)
{
    struct gd_op op = {.cfg = p, .rec = rec, .call = call};
    cJSON *list = NULL, *keep = NULL;
    const char *did = "none (already so)";
    size_t dropped = 0;
    int ours = 0, rc = -1;

    zp_buf_init(&op.auth, 2 * GD_CRED_MAX + 64);
    zp_buf_init(&op.path, GD_URL_MAX);
    if (gd_prepare(&op, err) == -1 || gd_read(&op, &list, err) == -1)
        goto out;
    keep = gd_keep(&op, list, &ours, &dropped);
    if (ours != del) {
        rc = 0; /* present: already there; cleanup: already gone */
        goto out;
    }
    if (!del) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "data", rec->value);
        cJSON_AddNumberToObject(o, "ttl", rec->ttl < GD_TTL_MIN ? GD_TTL_MIN : rec->ttl);
        cJSON_AddItemToArray(keep, o);
    }
    if (dropped > 0)
        zp_log(ZP_LOG_INFO, "godaddy: records with empty data at the name are not written back",
               ZP_S("instance", call->instance), ZP_S("fqdn", rec->fqdn), ZP_I("dropped", dropped),
               ZP_END);
    did = cJSON_GetArraySize(keep) == 0 ? "DELETE" : "PUT";
    if (gd_write(&op, keep, err) == -1)
        goto out;
    rc = 0;
out:
    if (rc == 0)
        zp_log(ZP_LOG_INFO, "godaddy change", ZP_S("instance", call->instance),
               ZP_S("action", del ? "delete" : "add"), ZP_S("domain", op.domain),
               ZP_S("fqdn", rec->fqdn), ZP_S("value", rec->value), ZP_S("request", did), ZP_END);
    else
        zp_log(ZP_LOG_WARN, "godaddy change failed", ZP_S("instance", call->instance),
               ZP_S("domain", op.domain), ZP_S("fqdn", rec->fqdn), ZP_S("error", err->msg), ZP_END);
    cJSON_Delete(list);
    cJSON_Delete(keep);
    zp_buf_free_secret(&op.auth);
    zp_buf_free(&op.path);
    return rc;
}

static int gd_present(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return gd_update(cfg, rec, call, 0, err);
}

static int gd_cleanup(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return gd_update(cfg, rec, call, 1, err);
}

/* doctor: the read a Present starts with (the TXT records at the name), no change. */
static int gd_verify(void *p, const struct zp_record *rec, const struct zp_prov_call *call,
                     struct zp_err *err)
{
    struct gd_op op = {.cfg = p, .rec = rec, .call = call};
    cJSON *list = NULL;
    int rc = -1;

    zp_buf_init(&op.auth, 2 * GD_CRED_MAX + 64);
    zp_buf_init(&op.path, GD_URL_MAX);
    if (gd_prepare(&op, err) == -1 || gd_read(&op, &list, err) == -1)
        goto out;
    snprintf(err->msg, sizeof(err->msg),
             "the %s credentials can read domain %s and the TXT records at %.*s; whether they may "
             "write shows only in a write test",
             GD_WHAT, op.domain, (int)strlen(rec->fqdn) - 1, rec->fqdn);
    rc = 0;
out:
    cJSON_Delete(list);
    zp_buf_free_secret(&op.auth);
    zp_buf_free(&op.path);
    return rc;
}

const struct zp_provider_ops zp_prov_godaddy = {
    .type = "godaddy",
    .flags = ZP_PROV_RMW,
    .keys = gd_keys,
    .config_parse = gd_config_parse,
    .config_free = gd_config_free,
    .present = gd_present,
    .cleanup = gd_cleanup,
    .verify = gd_verify,
};
