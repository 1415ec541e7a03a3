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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "providers/common.h"
#include "providers/provider.h"
#include "providers/rrset.h"
#include "providers/settings.h"

#define GD_DEFAULT_URL "https://api.godaddy.com"
#define GD_CRED_MAX 1024
#define GD_URL_MAX 2048
#define GD_TTL_MIN 600 /* the API refuses shorter TTLs */
/* 60 requests a minute per endpoint; a call uses two or three. */
#define GD_RATE 1.0
#define GD_BURST 6.0
#define GD_WHAT "GoDaddy"
/* The sentence for a request GoDaddy finds invalid (400, 409, 422): its code, message, fields. */
#define GD_INVALID                                                                                 \
    "GoDaddy refused to {doing} the TXT records at {fqdn} in domain {domain} ({status} "           \
    "{code|invalid}): {msg|no reason}{detail}"

struct gd_cfg {
    const struct zp_rs_ops *rs; /* first: rrset.h runs the calls */
    char *endpoint;
    char *ca;
    struct zp_cred key;    /* apiKeyFile or apiKeySecretRef */
    struct zp_cred secret; /* apiSecretFile or apiSecretSecretRef */
    char *zone;            /* domain override, canonical; NULL: the record's zone */
};

/* One present or cleanup in flight (rrset.h: rs.zone is the domain, "example.com"). */
struct gd_op {
    struct zp_rs_op rs;
    struct zp_buf auth; /* "Authorization: sso-key K:S": a secret */
    struct zp_buf path; /* /v1/domains/{domain}/records/TXT/{name} */
    char rl_key[160];
    struct zp_prov_api_conn conn; /* the endpoint, rl_key and auth, once begin has them */
    cJSON *keep;                  /* the records the name must hold after the write; [] when none */
    size_t dropped;               /* records read with empty data, not written back */
};

static const struct zp_rs_ops gd_rs;

static const struct zp_setting gd_settings[] = {
    ZP_SET_E(struct gd_cfg, endpoint, ca, GD_DEFAULT_URL),
    ZP_SET_C(struct gd_cfg, "apiKey", key, 1),
    ZP_SET_C(struct gd_cfg, "apiSecret", secret, 1),
    ZP_SET_Z(struct gd_cfg, "zone", zone, 0),
    ZP_SET_LAST,
};

/* ---- configuration ------------------------------------------------------------------------ */

static void gd_config_free(void *p)
{
    zp_settings_free(gd_settings, p);
}

static int gd_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct gd_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));

    if (zp_settings_parse(node, path, gd_settings, cfg, err) == -1) {
        gd_config_free(cfg);
        return -1;
    }
    cfg->rs = &gd_rs;
    *cfgp = cfg;
    return 0;
}

/* ---- requests ----------------------------------------------------------------------------- */

/* Builds the sso-key header from both credentials, read now: Secrets rotate. */
static int gd_auth(struct gd_op *op, struct zp_err *err)
{
    const struct gd_cfg *cfg = op->rs.cfg;
    struct zp_buf key, secret;
    int rc = -1;

    zp_buf_init(&key, GD_CRED_MAX);
    zp_buf_init(&secret, GD_CRED_MAX);
    if (zp_cred_read(&cfg->key, op->rs.call, &key, err) == -1 ||
        zp_cred_read(&cfg->secret, op->rs.call, &secret, err) == -1)
        goto out;
    if (strpbrk(key.data, ": \t\r\n") != NULL || strpbrk(secret.data, " \t\r\n") != NULL) {
        zp_err_set(err, ZP_ECONFIG,
                   "%s and %s must each hold one GoDaddy credential on one "
                   "line: the key in %s, the secret in %s",
                   cfg->key.setting, cfg->secret.setting, cfg->key.where, cfg->secret.where);
        goto out;
    }
    if (zp_buf_printf(&op->auth, "Authorization: sso-key %s:%s", key.data, secret.data) == -1) {
        zp_err_set(err, ZP_ECONFIG, "%s or %s holds too much for a GoDaddy credential",
                   cfg->key.setting, cfg->secret.setting);
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

    zp_prov_text(cJSON_IsString(v) ? v->valuestring : "", op->rs.call, NULL, sent, out, outsz);
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
        zp_log(ZP_LOG_WARN, "godaddy rate limited", ZP_S("instance", op->rs.call->instance),
               ZP_I("retry_after_s", (long long)s->valuedouble), ZP_END);
    zp_err_clear(err);
    zp_err_set(err, ZP_ERATELIMIT, ZP_HTTP_RATE_SENTENCE,
               GD_WHAT " (60 requests a minute per API)");
    err->upstream = 429;
    cJSON_Delete(j);
}

/* One exchange (zp_prov_json_send), with GoDaddy's sentence for a 429 not waited out. */
static int gd_req(struct gd_op *op, const char *method, const char *path, const char *body,
                  struct zp_http_resp *resp, struct zp_err *err)
{
    int rc = zp_prov_json_send(&op->conn, op->rs.call, method, path, body, resp, err);

    if (rc == -1 && err->kind == ZP_ERATELIMIT && resp->status == 429)
        gd_rate_sentence(op, resp, err);
    return rc;
}

/* GoDaddy's refusals; without a code of GoDaddy's, {code} is the status's own word. */
static const struct zp_prov_refusal gd_refusals[] = {
    {401, 401, NULL, ZP_EAUTH,
     "GoDaddy rejected the API key and secret in {key} and {secret} (401 {code|Unauthorized}); "
     "check that both belong to the same production key (keys made for the OTE test environment "
     "work only with endpoint https://api.ote-godaddy.com)"},
    {403, 403, NULL, ZP_EPERM,
     "GoDaddy denied the key in {key} access to domain {domain} (403 {code|Forbidden}); GoDaddy "
     "opens its DNS API only to accounts with 10 or more domains or a Discount Domain Club plan, "
     "and otherwise refuses every call; if the account qualifies, the key belongs to another "
     "account than the domain"},
    {404, 404, NULL, ZP_ENOTFOUND,
     "domain {domain} is not in the GoDaddy account of the key in {key} (404 {code|Not Found}); "
     "use a key of the account that holds it, or set zone to the domain as registered at GoDaddy"},
    {400, 400, NULL, ZP_EINVAL, GD_INVALID},
    {409, 409, NULL, ZP_EINVAL, GD_INVALID},
    {422, 422, NULL, ZP_EINVAL, GD_INVALID},
    {500, LONG_MAX, NULL, ZP_ETRANSIENT,
     "GoDaddy failed to {doing} the TXT records at {fqdn} (HTTP {status} {code}); it is "
     "GoDaddy's side, retry later"},
    /* Anything else: worth another try, unlike the shared fallback's unexplained answer. */
    {0, 0, NULL, ZP_ETRANSIENT,
     "GoDaddy answered HTTP {status} {code} when asked to {doing} the TXT records at {fqdn}"},
    {0},
};

/* What the fields of a 400/409/422 say (": path message; path message"), cut to fit out. */
static void gd_detail(const struct gd_op *op, const cJSON *j, char *out, size_t outsz)
{
    const cJSON *f;

    out[0] = '\0';
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(j, "fields"))
    {
        char fm[160], fp[64];
        size_t len = strlen(out);
        if (len >= outsz - 1)
            break; /* full: a reply may list thousands of fields */
        gd_field(op, f, "message", fm, sizeof(fm));
        gd_field(op, f, "path", fp, sizeof(fp));
        if (fm[0])
            snprintf(out + len, outsz - len, "%s%s%s%s", len ? "; " : ": ", fp, fp[0] ? " " : "",
                     fm);
    }
}

/* The sentence for an answer that is not success; what: "read", "write", "delete". */
static int gd_fail(const struct gd_op *op, const char *what, const struct zp_http_resp *r,
                   struct zp_err *err)
{
    const struct gd_cfg *cfg = op->rs.cfg;
    cJSON *j = cJSON_ParseWithLength(zp_buf_str(&r->body), r->body.len);
    char code[64], msg[256], detail[512];
    const char *const sent[] = {zp_buf_str(&op->auth), NULL};
    const char *const fields[] = {"request", what, NULL};

    zp_prov_log_reply(ZP_LOG_WARN, "godaddy: unexpected answer", op->rs.call, fields, r, NULL,
                      sent);
    gd_field(op, j, "code", code, sizeof(code));
    gd_field(op, j, "message", msg, sizeof(msg));
    gd_detail(op, j, detail, sizeof(detail));
    cJSON_Delete(j);
    const char *const vars[] = {"key",    cfg->key.setting,
                                "secret", cfg->secret.setting,
                                "domain", op->rs.zone,
                                "fqdn",   op->rs.rec->fqdn,
                                "doing",  what,
                                "code",   code,
                                "msg",    msg,
                                "detail", detail,
                                NULL};
    return zp_prov_refuse(gd_refusals, r->status, NULL, vars, err);
}

/* ---- the records at the name -------------------------------------------------------------- */

/*
 * The records to write back: every record but ours (and, on present, ours
 * with the TTL the API allows), each with its own TTL. Empty data is a
 * leftover of the days the API had no delete and cannot be written: it is
 * dropped.
 */
static void gd_plan(struct gd_op *op, const cJSON *list)
{
    const struct zp_record *rec = op->rs.rec;
    const cJSON *it;
    cJSON *o;

    op->keep = cJSON_CreateArray();
    cJSON_ArrayForEach(it, list)
    {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(it, "data");
        const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(it, "ttl");

        if (!cJSON_IsString(data) || data->valuestring[0] == '\0') {
            op->dropped++;
            continue;
        }
        if (zp_txt_equal(data->valuestring, rec->value)) {
            op->rs.has = 1;
            continue;
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "data", data->valuestring);
        cJSON_AddNumberToObject(o, "ttl", cJSON_IsNumber(ttl) ? ttl->valuedouble : GD_TTL_MIN);
        cJSON_AddItemToArray(op->keep, o);
    }
    if (!op->rs.del) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "data", rec->value);
        cJSON_AddNumberToObject(o, "ttl", rec->ttl < GD_TTL_MIN ? GD_TTL_MIN : rec->ttl);
        cJSON_AddItemToArray(op->keep, o);
    }
}

/* GET the TXT records at the name ([{data, name, ttl, type}], [] when none) and plan the write. */
static int gd_read(struct zp_rs_op *rs, struct zp_err *err)
{
    struct gd_op *op = (struct gd_op *)rs;
    struct zp_http_resp r;
    cJSON *list = NULL;
    int rc = -1;

    zp_http_resp_init(&r);
    if (gd_req(op, "GET", zp_buf_str(&op->path), NULL, &r, err) == -1)
        goto out;
    if (r.status != 200) {
        gd_fail(op, "read", &r, err);
        goto out;
    }
    if ((list = zp_json_parse(&r.body, GD_WHAT, err)) == NULL)
        goto out;
    if (!cJSON_IsArray(list)) {
        zp_err_set(err, ZP_ETRANSIENT,
                   "GoDaddy answered the read of TXT at %s with something "
                   "that is not a list of records",
                   rs->rec->fqdn);
        goto out;
    }
    gd_plan(op, list);
    rc = 0;
out:
    cJSON_Delete(list);
    zp_http_resp_free(&r);
    return rc;
}

/* PUT the records planned at the name, or DELETE the name's TXT records when none are left. */
static int gd_write(struct zp_rs_op *rs, struct zp_err *err)
{
    struct gd_op *op = (struct gd_op *)rs;
    struct zp_http_resp r;
    char *body = NULL;
    int last = cJSON_GetArraySize(op->keep) == 0, rc = -1;

    zp_http_resp_init(&r);
    if (op->dropped > 0)
        zp_log(ZP_LOG_INFO, "godaddy: records with empty data at the name are not written back",
               ZP_S("instance", rs->call->instance), ZP_S("fqdn", rs->rec->fqdn),
               ZP_I("dropped", op->dropped), ZP_END);
    if (!last && (body = cJSON_PrintUnformatted(op->keep)) == NULL) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the TXT records for %s", rs->rec->fqdn);
        goto out;
    }
    rs->how = last ? "DELETE" : "PUT";
    if (gd_req(op, rs->how, zp_buf_str(&op->path), body, &r, err) == -1)
        goto out;
    /* A DELETE that finds nothing left means someone else removed it: the goal is met. */
    if ((r.status >= 200 && r.status < 300) || (last && r.status == 404))
        rc = 0;
    else
        gd_fail(op, last ? "delete" : "write", &r, err);
out:
    cJSON_free(body);
    zp_http_resp_free(&r);
    return rc;
}

/* The domain and the name in it, the request path, the credentials. */
static int gd_begin(struct zp_rs_op *rs, struct zp_err *err)
{
    struct gd_op *op = (struct gd_op *)rs;
    const struct gd_cfg *cfg = rs->cfg;
    const char *zone = cfg->zone ? cfg->zone : rs->rec->zone;
    char name[ZP_DNAME_MAX]; /* relative: "_acme-challenge", "@" at the apex */
    size_t n = strlen(zone);

    zp_buf_init(&op->auth, 2 * GD_CRED_MAX + 64);
    zp_buf_init(&op->path, GD_URL_MAX);
    if (!zp_dname_in_zone(rs->rec->fqdn, zone))
        return zp_err_set(err, ZP_ECONFIG, "%s is not inside domain %s; %s", rs->rec->fqdn, zone,
                          cfg->zone ? "set zone to the domain that holds it, or remove zone"
                                    : zp_prov_zone_unheld(rs->call));
    if (n == 0 || n >= sizeof(rs->zone) ||
        zp_dname_relative(rs->rec->fqdn, zone, name, sizeof(name)) == -1)
        return zp_err_set(err, ZP_EINVAL, "cannot name %s relative to domain %s", rs->rec->fqdn,
                          zone);
    memcpy(rs->zone, zone, n - 1); /* without the trailing dot */
    rs->zone[n - 1] = '\0';
    if (zp_buf_puts(&op->path, "/v1/domains/") == -1 || zp_http_escape(rs->zone, &op->path) == -1 ||
        zp_buf_puts(&op->path, "/records/TXT/") == -1 ||
        (strcmp(name, "@") == 0 ? zp_buf_puts(&op->path, "@") : zp_http_escape(name, &op->path)) ==
            -1)
        return zp_err_set(err, ZP_EINVAL, "the name %s is too long for a URL", rs->rec->fqdn);
    snprintf(op->rl_key, sizeof(op->rl_key), "godaddy:%s",
             rs->call->instance ? rs->call->instance : "");
    if (gd_auth(op, err) == -1)
        return -1;
    op->conn = (struct zp_prov_api_conn){.what = GD_WHAT,
                                         .rate_key = op->rl_key,
                                         .rate = GD_RATE,
                                         .burst = GD_BURST,
                                         .base = cfg->endpoint,
                                         .ca_file = cfg->ca,
                                         .auth = zp_buf_str(&op->auth)};
    return 0;
}

static void gd_end(struct zp_rs_op *rs)
{
    struct gd_op *op = (struct gd_op *)rs;

    cJSON_Delete(op->keep);
    zp_buf_free_secret(&op->auth);
    zp_buf_free(&op->path);
}

/* No guard: one read, one write (ZP_PROV_RMW keeps our own calls apart), so no raced. */
static const struct zp_rs_ops gd_rs = {
    .type = "godaddy",
    .what = GD_WHAT,
    .zone_word = "domain",
    .op_size = sizeof(struct gd_op),
    .attempts = 1,
    .begin = gd_begin,
    .read = gd_read,
    .write = gd_write,
    .end = gd_end,
};

const struct zp_provider_ops zp_prov_godaddy = {
    .type = "godaddy",
    .flags = ZP_PROV_RMW,
    .settings = gd_settings,
    .config_parse = gd_config_parse,
    .config_free = gd_config_free,
    .present = zp_rs_present,
    .cleanup = zp_rs_cleanup,
    .verify = zp_rs_verify,
};
