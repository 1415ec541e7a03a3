/*
 * ovh.c — the ovh provider: OVHcloud's /domain/zone API with application-key
 * signatures (see ovhsig.c).
 *
 * OVH keeps one record per value, each with an id, so adding and removing
 * one value touches no other record and needs no lock: present lists the
 * TXT records at the name and creates one only when no record holds the
 * value; cleanup deletes exactly the records that hold it. OVH serves a
 * change only after POST /domain/zone/{zone}/refresh, so both end with one,
 * even when nothing had to change: a previous call may have stopped between
 * its write and its refresh, and a retry must still publish.
 *
 * The signature carries a timestamp that OVH refuses when it is far from
 * its own clock, so each call starts by asking OVH for its time
 * (GET /auth/time) and signs with the offset: a pod whose clock drifts still
 * works, and nothing is cached between calls.
 */
#define _GNU_SOURCE /* strcasestr */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/ovhsig.h"
#include "providers/provider.h"
#include "providers/settings.h"

#define OVH_DEFAULT_ENDPOINT "https://eu.api.ovh.com/1.0"
#define OVH_RATE 5.0        /* requests a second: OVH publishes no limit, so stay modest */
#define OVH_BURST 15.0      /* one present or cleanup with a few records fits in a burst */
#define OVH_RECORDS_MAX 100 /* TXT records at one name we are willing to inspect */
#define OVH_REPLY_MAX (256u * 1024u)

struct ovh_cfg {
    char *endpoint; /* base URL without trailing slash, as signed */
    char *ca;
    char *app_key;
    struct zp_cred secret; /* applicationSecretFile or applicationSecretSecretRef */
    struct zp_cred ck;     /* consumerKeyFile or consumerKeySecretRef */
    char *zone;            /* zone override, lower case, no trailing dot; NULL: the record's zone */
    char host[256];        /* the endpoint's host, for sentences */
};

/* One present or cleanup in flight. */
struct ovh_op {
    const struct ovh_cfg *cfg;
    const struct zp_record *rec;
    const struct zp_prov_call *call;
    char zone[ZP_DNAME_MAX]; /* without trailing dot, as OVH names zones */
    char sub[ZP_DNAME_MAX];  /* relative to zone, "" at the apex */
    char ratekey[160];
    struct zp_buf as, ck;         /* the secrets, wiped at the end */
    long long delta;              /* OVH's clock minus ours, seconds */
    struct zp_prov_api_conn conn; /* signed by ovh_sign, which reads the rest of op */
    const char *sending;          /* the request being sent, "GET /domain/zone/…", for messages */
    /* What ovh_sign writes before every attempt; hck and hsig are wiped at the end. */
    struct zp_buf hak, hck;
    char hts[64], hsig[ZP_OVH_SIG_SIZE + 20];
    const char *headers[8];
};

/* ---- configuration ------------------------------------------------------------------------ */

static const struct zp_setting ovh_settings[] = {
    ZP_SET_E(struct ovh_cfg, endpoint, ca, OVH_DEFAULT_ENDPOINT),
    ZP_SET_S(struct ovh_cfg, "applicationKey", app_key, 1),
    ZP_SET_C(struct ovh_cfg, "applicationSecret", secret, 1),
    ZP_SET_C(struct ovh_cfg, "consumerKey", ck, 1),
    ZP_SET_ZB(struct ovh_cfg, "zone", zone, 0),
    ZP_SET_LAST,
};

static void ovh_config_free(void *p)
{
    zp_settings_free(ovh_settings, p);
}

/* Keys travel in HTTP headers: printable ASCII without spaces, or a header could be forged. */
static int ovh_token_ok(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e)
            return 0;
    return 1;
}

static int ovh_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                            struct zp_err *err)
{
    struct ovh_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    int rc = -1;

    if (zp_settings_parse(node, path, ovh_settings, cfg, err) == -1)
        goto out;
    if (!ovh_token_ok(cfg->app_key)) {
        zp_y_fail(zp_y_get(node, "applicationKey"), path, err,
                  "applicationKey must be the application key OVH gave (letters and digits)");
        goto out;
    }
    zp_http_url_host(cfg->endpoint, cfg->host, sizeof(cfg->host));
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    ovh_config_free(cfg);
    return rc;
}

/* ---- errors ------------------------------------------------------------------------------- */

/* The least-privilege rules for zone, as one phrase for sentences and the docs. */
#define OVH_RULES                                                                                  \
    "GET /domain/zone/{zone}/record*, POST /domain/zone/{zone}/record, POST "                      \
    "/domain/zone/{zone}/refresh and DELETE /domain/zone/{zone}/record/*"
/* A 401 or 403 that names no cause. */
#define OVH_REFUSED                                                                                \
    "OVH ({host}) refused {call} ({status}{shown}); check the consumer key and its access "        \
    "rules " OVH_RULES

static const char *ovh_jstr(const cJSON *j, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

    return cJSON_IsString(v) ? v->valuestring : "";
}

/* OVH's refusals, by the code ovh_code finds, whatever the status; then by status. */
static const struct zp_prov_refusal ovh_refusals[] = {
    {1, LONG_MAX, "NOT_GRANTED_CALL", ZP_EPERM,
     "OVH refused {call}: the consumer key in consumerKeyFile is not granted this call; create a "
     "consumer key with the access rules " OVH_RULES},
    {1, LONG_MAX, "INVALID_SIGNATURE", ZP_EAUTH,
     "OVH ({host}) rejected the request signature: applicationSecretFile does not hold the secret "
     "of application key {key}, or consumerKeyFile holds a consumer key created for another "
     "application"},
    {1, LONG_MAX, "INVALID_KEY", ZP_EAUTH,
     "OVH ({host}) does not know application key {key}; check applicationKey, and that endpoint "
     "is the API of the region where the application was created"},
    {1, LONG_MAX, "INVALID_CREDENTIAL", ZP_EAUTH,
     "OVH ({host}) rejected the consumer key in consumerKeyFile: it was never validated or it has "
     "expired; open its validationUrl, or create a new consumer key for application key {key}"},
    {1, LONG_MAX, "NOT_CREDENTIAL", ZP_EAUTH,
     "OVH ({host}) does not know the consumer key in consumerKeyFile (revoked, or created on "
     "another endpoint); create a consumer key for application key {key}"},
    {1, LONG_MAX, "QUERY_TIME_OUT", ZP_ETRANSIENT,
     "OVH ({host}) refused the request's timestamp although it was taken from OVH's own clock "
     "(GET /auth/time); check that endpoint points at one OVH API and not at a proxy that delays "
     "requests"},
    {500, LONG_MAX, NULL, ZP_ETRANSIENT,
     "OVH ({host}) answered {status} to {call}: a server error on OVH's side; "
     "{retry|cert-manager retries the challenge}"},
    {404, 404, NULL, ZP_ENOTFOUND,
     "OVH ({host}) has no DNS zone {zone} in the account of this consumer key (application key "
     "{key}); check that OVH hosts the zone in that account, or set zone"},
    {401, 401, NULL, ZP_EAUTH, OVH_REFUSED},
    {403, 403, NULL, ZP_EPERM, OVH_REFUSED},
    {400, 400, NULL, ZP_EINVAL, "OVH ({host}) refused {call} as invalid{shown}"},
    {1, LONG_MAX, NULL, ZP_ETRANSIENT, "OVH ({host}) answered {status} to {call}{shown}"},
    {0},
};

/*
 * The code of a refusal: OVH's errorCode, or the code its message stands
 * for (some answers carry only the message). Asked in this order; NULL: none.
 */
static const char *ovh_code(const char *code, const char *msg)
{
    static const char *const said[][2] = {
        {"NOT_GRANTED_CALL", "This call has not been granted"},
        {"INVALID_SIGNATURE", "Invalid signature"},
        {"INVALID_KEY", "Invalid application key"},
        {"INVALID_CREDENTIAL", "This credential is not valid"},
        {"NOT_CREDENTIAL", "This credential does not exist"},
    };

    for (size_t i = 0; i < sizeof(said) / sizeof(*said); i++)
        if (strcmp(code, said[i][0]) == 0 || strcmp(msg, said[i][1]) == 0)
            return said[i][0];
    if (strcmp(code, "QUERY_TIME_OUT") == 0 || strcasestr(msg, "timestamp") != NULL ||
        strcasestr(msg, "out of time") != NULL)
        return "QUERY_TIME_OUT";
    return NULL;
}

/*
 * The sentence for an answer that is not 2xx. call names the request as
 * "METHOD /path" with ids replaced by *, which is also the access rule a
 * consumer key needs for it.
 */
static int ovh_explain(const struct ovh_op *op, const char *call, const struct zp_http_resp *resp,
                       struct zp_err *err)
{
    cJSON *j = cJSON_ParseWithLength(zp_buf_str(&resp->body), resp->body.len);
    const char *const sent[] = {zp_buf_str(&op->as), zp_buf_str(&op->ck), NULL};
    const char *const f[] = {"call", call, NULL};
    char shown[200], tail[sizeof(shown) + 2];

    zp_prov_log_reply(ZP_LOG_WARN, "ovh: request refused", op->call, f, resp, NULL, sent);
    /* OVH's own message may echo what it was sent (the consumer key): quoted only sanitized. */
    zp_prov_text(ovh_jstr(j, "message"), op->call, NULL, sent, shown, sizeof(shown));
    snprintf(tail, sizeof(tail), "%s%s", shown[0] ? ": " : "", shown);

    const char *const vars[] = {
        "host",  op->cfg->host, "call",  call,
        "zone",  op->zone,      "key",   op->cfg->app_key,
        "shown", tail,          "retry", op->call->cli ? "run it again later" : NULL,
        NULL};
    const char *code = ovh_code(ovh_jstr(j, "errorCode"), ovh_jstr(j, "message"));

    zp_prov_refuse(ovh_refusals, resp->status, code, vars, err);
    cJSON_Delete(j);
    return -1;
}

/* ---- requests ----------------------------------------------------------------------------- */

/* OVH's four X-Ovh-* headers, not one auth line: signed anew so no retry sends a stale time. */
static int ovh_sign(void *arg, struct zp_http_req *r, struct zp_err *err)
{
    struct ovh_op *op = arg;
    char sig[ZP_OVH_SIG_SIZE], ts[32];
    int rc = 0, n = 0;

    zp_buf_reset(&op->hak);
    zp_buf_reset(&op->hck);
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL) + op->delta);
    snprintf(op->hts, sizeof(op->hts), "X-Ovh-Timestamp: %s", ts);
    if (zp_buf_printf(&op->hck, "X-Ovh-Consumer: %s", zp_buf_str(&op->ck)) == -1 ||
        zp_buf_printf(&op->hak, "X-Ovh-Application: %s", op->cfg->app_key) == -1 ||
        zp_ovh_sign(zp_buf_str(&op->as), zp_buf_str(&op->ck), r->method, r->url, r->body,
                    r->body_len, ts, sig) == -1)
        rc = zp_err_set(err, ZP_EINTERNAL, "cannot build the signed OVH request %s", op->sending);
    else
        snprintf(op->hsig, sizeof(op->hsig), "X-Ovh-Signature: %s", sig);
    zp_wipe(sig, sizeof(sig));
    if (rc == -1)
        return -1;
    op->headers[n++] = zp_buf_str(&op->hak);
    op->headers[n++] = zp_buf_str(&op->hck);
    op->headers[n++] = op->hts;
    op->headers[n++] = op->hsig;
    op->headers[n++] = "Accept: application/json";
    if (r->body != NULL)
        op->headers[n++] = "Content-Type: application/json;charset=utf-8";
    op->headers[n] = NULL;
    r->headers = op->headers;
    return 0;
}

/*
 * One signed request. path follows the endpoint ("/domain/zone/…?…"); body
 * is the exact JSON sent, or NULL. call names it for sentences. Returns 0
 * for 2xx, 1 for a status the caller listed in ok (a 404 that means "gone"),
 * -1 with a sentence otherwise.
 */
static int ovh_request(struct ovh_op *op, const char *method, const char *path, const char *body,
                       const char *call, long ok, struct zp_http_resp *resp, struct zp_err *err)
{
    /* POST without a body still sends an empty one, so Content-Length: 0 is on the wire. */
    if (body == NULL && strcmp(method, "POST") == 0)
        body = "";
    op->sending = call;
    if (zp_prov_json_send(&op->conn, op->call, method, path, body, resp, err) == -1)
        return -1;
    if (resp->status >= 200 && resp->status <= 299)
        return 0;
    if (resp->status == ok)
        return 1;
    return ovh_explain(op, call, resp, err);
}

/* GET /auth/time: OVH's clock, unauthenticated; sets op->delta. */
static int ovh_clock(struct ovh_op *op, struct zp_err *err)
{
    const struct ovh_cfg *cfg = op->cfg;
    struct zp_prov_api_conn c = op->conn;
    struct zp_http_resp resp;
    char *end;
    long long t;
    int rc = -1;

    c.sign = NULL;         /* unsigned: the signature needs this time */
    c.max_response = 1024; /* a number */
    zp_http_resp_init(&resp);
    if (zp_prov_json_send(&c, op->call, "GET", "/auth/time", NULL, &resp, err) == -1)
        goto out;
    if (resp.status != 200) {
        if (resp.status >= 500)
            ovh_explain(op, "GET /auth/time", &resp, err);
        else
            zp_err_set(err, ZP_ECONFIG,
                       "OVH (%s) answered %ld to GET /auth/time; check that endpoint is an OVH API "
                       "base URL such as " OVH_DEFAULT_ENDPOINT,
                       cfg->host, resp.status);
        goto out;
    }
    t = strtoll(zp_buf_str(&resp.body), &end, 10);
    while (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')
        end++;
    if (end == zp_buf_str(&resp.body) || *end != '\0' || t < 1000000000LL) {
        zp_err_set(err, ZP_ECONFIG,
                   "OVH (%s) answered GET /auth/time with something that is not a time; check "
                   "that endpoint is an OVH API base URL such as " OVH_DEFAULT_ENDPOINT,
                   cfg->host);
        goto out;
    }
    op->delta = t - (long long)time(NULL);
    if (op->delta > 30 || op->delta < -30)
        zp_log(ZP_LOG_INFO, "ovh: this host's clock differs from OVH's; signing with OVH's time",
               ZP_S("instance", op->call->instance), ZP_I("offset_s", op->delta), ZP_END);
    rc = 0;
out:
    zp_http_resp_free(&resp);
    return rc;
}

/* ---- records ------------------------------------------------------------------------------ */

/*
 * The ids of the TXT records at the name. The list is filtered by OVH; each
 * record is still checked by ovh_holds before anything is deleted.
 */
static int ovh_list(struct ovh_op *op, char ***ids, size_t *n, struct zp_err *err)
{
    struct zp_http_resp resp;
    struct zp_buf path, sub;
    char call[ZP_DNAME_MAX + 64];
    cJSON *j = NULL, *it;
    int rc = -1;

    *ids = NULL;
    *n = 0;
    zp_http_resp_init(&resp);
    zp_buf_init(&path, 4096);
    zp_buf_init(&sub, 2048);
    snprintf(call, sizeof(call), "GET /domain/zone/%s/record", op->zone);
    if (zp_http_escape(op->sub, &sub) == -1 ||
        zp_buf_printf(&path, "/domain/zone/%s/record?fieldType=TXT&subDomain=%s", op->zone,
                      zp_buf_str(&sub)) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the OVH record query for %s", op->rec->fqdn);
        goto out;
    }
    if (ovh_request(op, "GET", zp_buf_str(&path), NULL, call, 0, &resp, err) != 0)
        goto out;
    if ((j = zp_json_parse(&resp.body, "OVH", err)) == NULL)
        goto out;
    if (!cJSON_IsArray(j)) {
        zp_err_set(err, ZP_ETRANSIENT, "OVH answered %s with something that is not a list of ids",
                   call);
        goto out;
    }
    if (cJSON_GetArraySize(j) > OVH_RECORDS_MAX) {
        zp_err_set(err, ZP_EINVAL,
                   "zone %s holds %d TXT records at %s, more than the %d zoneproof inspects; "
                   "delete the stale ones",
                   op->zone, cJSON_GetArraySize(j), op->rec->fqdn, OVH_RECORDS_MAX);
        goto out;
    }
    *ids = zp_xcalloc((size_t)cJSON_GetArraySize(j) + 1, sizeof(char *));
    cJSON_ArrayForEach(it, j)
    {
        double d = cJSON_IsNumber(it) ? it->valuedouble : -1;
        if (d < 0 || d > 9007199254740991.0 || (double)(long long)d != d) {
            zp_err_set(err, ZP_ETRANSIENT, "OVH answered %s with an id that is not a number", call);
            goto out;
        }
        (*ids)[(*n)++] = zp_xasprintf("%.0f", d);
    }
    rc = 0;
out:
    cJSON_Delete(j);
    zp_http_resp_free(&resp);
    zp_buf_free(&path);
    zp_buf_free(&sub);
    return rc;
}

/* 1 when record id is a TXT record at the name holding the value, 0 when not (or gone). */
static int ovh_holds(struct ovh_op *op, const char *id, struct zp_err *err)
{
    struct zp_http_resp resp;
    char path[ZP_DNAME_MAX + 64], call[ZP_DNAME_MAX + 64];
    cJSON *j = NULL;
    const cJSON *target;
    int rc = -1, got;

    zp_http_resp_init(&resp);
    snprintf(path, sizeof(path), "/domain/zone/%s/record/%s", op->zone, id);
    snprintf(call, sizeof(call), "GET /domain/zone/%s/record/*", op->zone);
    got = ovh_request(op, "GET", path, NULL, call, 404, &resp, err);
    if (got != 0) {
        rc = got == 1 ? 0 : -1; /* deleted meanwhile: it holds nothing */
        goto out;
    }
    if ((j = zp_json_parse(&resp.body, "OVH", err)) == NULL)
        goto out;
    target = cJSON_GetObjectItemCaseSensitive(j, "target");
    /* Checked here too: a record of another type or name is never ours to delete. */
    rc = strcmp(ovh_jstr(j, "fieldType"), "TXT") == 0 &&
         strcasecmp(ovh_jstr(j, "subDomain"), op->sub) == 0 && cJSON_IsString(target) &&
         zp_txt_equal(target->valuestring, op->rec->value);
out:
    cJSON_Delete(j);
    zp_http_resp_free(&resp);
    return rc;
}

static int ovh_create(struct ovh_op *op, struct zp_err *err)
{
    struct zp_http_resp resp;
    char path[ZP_DNAME_MAX + 64], call[ZP_DNAME_MAX + 64];
    cJSON *o = cJSON_CreateObject();
    char *body = NULL;
    int rc = -1, got;

    zp_http_resp_init(&resp);
    cJSON_AddStringToObject(o, "fieldType", "TXT");
    cJSON_AddStringToObject(o, "subDomain", op->sub);
    cJSON_AddStringToObject(o, "target", op->rec->value); /* raw: OVH adds the quotes */
    cJSON_AddNumberToObject(o, "ttl", op->rec->ttl);
    body = cJSON_PrintUnformatted(o); /* signed and sent as is: never re-serialised */
    if (body == NULL) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the OVH record for %s", op->rec->fqdn);
        goto out;
    }
    snprintf(path, sizeof(path), "/domain/zone/%s/record", op->zone);
    snprintf(call, sizeof(call), "POST /domain/zone/%s/record", op->zone);
    got = ovh_request(op, "POST", path, body, call, 409, &resp, err);
    if (got == 1)
        zp_log(ZP_LOG_INFO, "ovh: record already exists", ZP_S("instance", op->call->instance),
               ZP_S("fqdn", op->rec->fqdn), ZP_END);
    rc = got == -1 ? -1 : 0;
out:
    cJSON_free(body);
    cJSON_Delete(o);
    zp_http_resp_free(&resp);
    return rc;
}

static int ovh_delete(struct ovh_op *op, const char *id, struct zp_err *err)
{
    struct zp_http_resp resp;
    char path[ZP_DNAME_MAX + 64], call[ZP_DNAME_MAX + 64];
    int rc;

    zp_http_resp_init(&resp);
    snprintf(path, sizeof(path), "/domain/zone/%s/record/%s", op->zone, id);
    snprintf(call, sizeof(call), "DELETE /domain/zone/%s/record/*", op->zone);
    rc = ovh_request(op, "DELETE", path, NULL, call, 404, &resp, err) == -1 ? -1 : 0;
    zp_http_resp_free(&resp);
    return rc;
}

/* Publishes the zone: OVH serves no change before this. */
static int ovh_refresh(struct ovh_op *op, struct zp_err *err)
{
    struct zp_http_resp resp;
    char path[ZP_DNAME_MAX + 64], call[ZP_DNAME_MAX + 64];
    int rc;

    zp_http_resp_init(&resp);
    snprintf(path, sizeof(path), "/domain/zone/%s/refresh", op->zone);
    snprintf(call, sizeof(call), "POST /domain/zone/%s/refresh", op->zone);
    rc = ovh_request(op, "POST", path, NULL, call, 0, &resp, err) == 0 ? 0 : -1;
    zp_http_resp_free(&resp);
    return rc;
}

/* ---- present and cleanup ------------------------------------------------------------------ */

/* Names, secrets and OVH's clock: everything a call needs before its first signed request. */
static int ovh_begin(struct ovh_op *op, struct zp_err *err)
{
    const struct ovh_cfg *cfg = op->cfg;
    char canon[ZP_DNAME_MAX];

    if (zp_dname_canon(cfg->zone ? cfg->zone : op->rec->zone, canon, sizeof(canon)) == -1)
        return zp_err_set(err, ZP_EINVAL, "zone %s is not a domain name", op->rec->zone);
    if (!zp_dname_in_zone(op->rec->fqdn, canon))
        return zp_err_set(err, ZP_ECONFIG, "%s is not inside zone %s; %s", op->rec->fqdn, canon,
                          cfg->zone ? "set zone to the OVH zone that holds it, or remove zone"
                                    : zp_prov_zone_unheld(op->call));
    if (zp_dname_relative(op->rec->fqdn, canon, op->sub, sizeof(op->sub)) == -1)
        return zp_err_set(err, ZP_EINVAL, "cannot name %s relative to zone %s", op->rec->fqdn,
                          canon);
    if (strcmp(op->sub, "@") == 0)
        op->sub[0] = '\0'; /* OVH names the apex with an empty subDomain */
    canon[strlen(canon) - 1] = '\0';
    zp_strlcpy(op->zone, canon, sizeof(op->zone));
    snprintf(op->ratekey, sizeof(op->ratekey), "ovh:%s", op->call->instance);
    if (zp_cred_read(&cfg->secret, op->call, &op->as, err) == -1 ||
        zp_cred_read(&cfg->ck, op->call, &op->ck, err) == -1)
        return -1;
    if (!ovh_token_ok(zp_buf_str(&op->ck)))
        return zp_err_set(err, ZP_ECONFIG,
                          "%s: %s holds spaces or control characters; it must hold "
                          "only the consumer key",
                          cfg->ck.setting, cfg->ck.where);
    op->conn = (struct zp_prov_api_conn){.what = "OVH",
                                         .rate_key = op->ratekey,
                                         .rate = OVH_RATE,
                                         .burst = OVH_BURST,
                                         .base = cfg->endpoint,
                                         .ca_file = cfg->ca,
                                         .max_response = OVH_REPLY_MAX,
                                         .sign = ovh_sign,
                                         .sign_arg = op};
    return ovh_clock(op, err);
}

enum { OVH_PRESENT, OVH_DELETE, OVH_VERIFY };

static int ovh_run(void *p, const struct zp_record *rec, const struct zp_prov_call *call, int mode,
                   struct zp_err *err)
{
    int del = mode == OVH_DELETE;
    struct ovh_op op;
    char **ids = NULL;
    size_t n = 0, held = 0;
    int rc = -1;

    memset(&op, 0, sizeof(op));
    op.cfg = p;
    op.rec = rec;
    op.call = call;
    zp_buf_init(&op.as, 4096);
    zp_buf_init(&op.ck, 4096);
    zp_buf_init(&op.hak, 4096);
    zp_buf_init(&op.hck, 4096);
    if (ovh_begin(&op, err) == -1 || ovh_list(&op, &ids, &n, err) == -1)
        goto out;
    if (mode == OVH_VERIFY) {
        snprintf(err->msg, sizeof(err->msg),
                 "the OVH credentials can read zone %s and the TXT records at %.*s; whether they "
                 "may write shows only in a write test",
                 op.zone, (int)strlen(rec->fqdn) - 1, rec->fqdn);
        rc = 0;
        goto out;
    }
    for (size_t i = 0; i < n && (del || held == 0); i++) {
        int h = ovh_holds(&op, ids[i], err);
        if (h == -1)
            goto out;
        /* Duplicates of the value are the same value: cleanup removes them all. */
        if (h == 1 && del && ovh_delete(&op, ids[i], err) == -1)
            goto out;
        held += (size_t)h;
    }
    if (!del && held == 0 && ovh_create(&op, err) == -1)
        goto out;
    if (ovh_refresh(&op, err) == -1)
        goto out;
    zp_log(ZP_LOG_INFO, del ? "ovh: value removed" : "ovh: value present",
           ZP_S("instance", call->instance), ZP_S("zone", op.zone), ZP_S("fqdn", rec->fqdn),
           ZP_S("value", rec->value), ZP_I("records_matching", held),
           ZP_B("written", del ? held > 0 : held == 0), ZP_END);
    rc = 0;
out:
    if (rc == -1)
        zp_log(ZP_LOG_WARN, "ovh: call failed", ZP_S("instance", call->instance),
               ZP_S("zone", op.zone), ZP_S("fqdn", rec->fqdn), ZP_S("error", err->msg), ZP_END);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    zp_buf_free_secret(&op.as);
    zp_buf_free_secret(&op.ck);
    zp_buf_free(&op.hak);
    zp_buf_free_secret(&op.hck);
    zp_wipe(op.hsig, sizeof(op.hsig));
    return rc;
}

static int ovh_present(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                       struct zp_err *err)
{
    return ovh_run(cfg, rec, call, OVH_PRESENT, err);
}

static int ovh_cleanup(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                       struct zp_err *err)
{
    return ovh_run(cfg, rec, call, OVH_DELETE, err);
}

/* doctor: the read a Present starts with (the ids of the TXT records at the name), no change. */
static int ovh_verify(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return ovh_run(cfg, rec, call, OVH_VERIFY, err);
}

const struct zp_provider_ops zp_prov_ovh = {
    .type = "ovh",
    .flags = 0, /* one record per value: nothing is read-modify-written */
    .settings = ovh_settings,
    .config_parse = ovh_config_parse,
    .config_free = ovh_config_free,
    .present = ovh_present,
    .cleanup = ovh_cleanup,
    .verify = ovh_verify,
};
