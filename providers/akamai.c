/*
 * akamai.c — the akamai provider: the TXT record set at the challenge name
 * in Akamai Edge DNS, through the Edge DNS API v2 (config-dns/v2), each
 * request signed with EdgeGrid (providers/edgegrid.c) by an API client's
 * client token, client secret and access token.
 *
 * The API keeps one record set per name and type and replaces it whole:
 * GET reads it (404: none), POST creates it, PUT replaces its rdata, DELETE
 * removes it. So every change is a read-modify-write that only ever adds
 * or removes our value and keeps every other value as read; the solver
 * never runs two calls for one name at once (ZP_PROV_RMW). A write that
 * meets a change made meanwhile by someone else (409, or a set gone under
 * a PUT) is done once more from a fresh read; the steps run in the RRset
 * family's order (rrset.h).
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/edgegrid.h"
#include "providers/provider.h"
#include "providers/rrset.h"
#include "providers/settings.h"

#define AK_WHAT "Akamai Edge DNS"
#define AK_SECRET_MAX 4096
#define AK_HOST_MAX 256
/* Edge DNS publishes no limit for this API: a bucket only against a runaway loop. */
#define AK_RATE 20.0
#define AK_BURST 40.0

struct ak_cfg {
    const struct zp_rs_ops *rs; /* first: rrset.h runs the calls */
    char *endpoint;             /* "https://<host>" */
    char *host;                 /* the host as signed and sent: "akab-….luna.akamaiapis.net" */
    char *ca;                   /* caFile, or NULL */
    char *client_token;         /* clientToken: names the API client; not enough alone */
    char *switch_key;           /* accountSwitchKey, or NULL */
    struct zp_cred secret;      /* clientSecretFile or clientSecretSecretRef */
    struct zp_cred access;      /* accessTokenFile or accessTokenSecretRef */
};

/* One present, cleanup or verify in flight (rrset.h: rs.zone, "example.com", is in the path). */
struct ak_op {
    struct zp_rs_op rs;
    struct zp_buf secret, access; /* read at the start of the call; wiped at its end */
    char *path;                   /* /config-dns/v2/zones/{zone}/names/{name}/types/TXT[?…] */
    char rl_key[160];
    struct zp_prov_api_conn conn; /* signed by ak_sign, which reads the rest of op */
    /* What ak_sign writes before every attempt, since the gateway keeps every nonce. */
    char ts[ZP_EG_TS_LEN + 1], nonce[ZP_EG_NONCE_LEN + 1];
    struct zp_buf auth; /* "Authorization: EG1-HMAC-SHA256 …": wiped at the end */
    const char *headers[4];
    /* The record set as read: whether it exists, its TTL and its values as Akamai stores them. */
    int found;
    unsigned ttl;
    cJSON *rdata; /* an array of strings; NULL when not found */
};

static const struct zp_rs_ops ak_rs;

/* ---- configuration ------------------------------------------------------------------------ */

/* The endpoint is not a setting: it is https:// and host, which ak_config_parse checks. */
static const struct zp_setting ak_settings[] = {
    ZP_SET_S(struct ak_cfg, "host", host, 1),
    ZP_SET_CA(struct ak_cfg, ca),
    ZP_SET_S(struct ak_cfg, "clientToken", client_token, 1),
    ZP_SET_S(struct ak_cfg, "accountSwitchKey", switch_key, 0),
    ZP_SET_C(struct ak_cfg, "clientSecret", secret, 1),
    ZP_SET_C(struct ak_cfg, "accessToken", access, 1),
    ZP_SET_O(struct ak_cfg, endpoint),
    ZP_SET_LAST,
};

static void ak_config_free(void *p)
{
    zp_settings_free(ak_settings, p);
}

/* host: "akab-….luna.akamaiapis.net" as in .edgerc, or the same after https://; no path. */
static int ak_check_host(struct ak_cfg *cfg, const struct zp_ynode *node, const char *path,
                         struct zp_err *err)
{
    const char *host = cfg->host;
    size_t n;

    if (strncmp(host, "https://", 8) == 0)
        host += 8;
    n = strlen(host);
    while (n > 0 && host[n - 1] == '/')
        n--;
    if (n == 0 || n >= AK_HOST_MAX || strstr(host, "://") != NULL ||
        strcspn(host, "/?#@ \t\r\n") < n)
        return zp_y_fail(zp_y_get(node, "host"), path, err,
                         "host \"%.300s\" must be the API client's host name, as in the "
                         "credentials file (akab-….luna.akamaiapis.net), reached over https",
                         host);
    memmove(cfg->host, host, n);
    cfg->host[n] = '\0';
    cfg->endpoint = zp_xasprintf("https://%s", cfg->host);
    return 0;
}

/* A value that is sent: printable ASCII, no blanks, no ';' (it ends a field of the header). */
static int ak_word_ok(const char *s)
{
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || *s == ';')
            return 0;
    return 1;
}

static int ak_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct ak_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    const char *token, *key;
    int rc = -1;

    if (zp_settings_parse(node, path, ak_settings, cfg, err) == -1 ||
        ak_check_host(cfg, node, path, err) == -1)
        goto out;
    token = cfg->client_token;
    key = cfg->switch_key;
    if (strlen(token) > 256 || !ak_word_ok(token)) {
        zp_y_fail(zp_y_get(node, "clientToken"), path, err,
                  "clientToken must be the API client's client_token (akab-…), one word");
        goto out;
    }
    if (key != NULL && (key[0] == '\0' || strlen(key) > 256 || !ak_word_ok(key))) {
        zp_y_fail(zp_y_get(node, "accountSwitchKey"), path, err,
                  "accountSwitchKey must be one account switch key (1-ABCDE:1-2345), one word");
        goto out;
    }
    cfg->rs = &ak_rs;
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    ak_config_free(cfg);
    return rc;
}

/* ---- requests ----------------------------------------------------------------------------- */

/* Upstream text fit for the log or a sentence: every credential it may echo redacted. */
static const char *ak_shown(const struct ak_op *op, const char *text, size_t len, int body,
                            char *out, size_t outsz)
{
    const struct ak_cfg *cfg = op->rs.cfg;
    const struct zp_cred *const creds[] = {&cfg->secret, &cfg->access, NULL};
    const char *const vals[] = {cfg->client_token, zp_buf_str(&op->secret), zp_buf_str(&op->access),
                                NULL};

    if (body)
        return zp_prov_body(text, len, op->rs.call, creds, vals, out, outsz);
    return zp_prov_text(text, op->rs.call, creds, vals, out, outsz);
}

/* The title and detail of an RFC 7807 problem body, made fit for a sentence; "" when absent. */
static void ak_problem(const struct ak_op *op, const struct zp_http_resp *r, char *title,
                       size_t titlesz, char *detail, size_t detailsz)
{
    cJSON *j = cJSON_ParseWithLength(zp_buf_str(&r->body), r->body.len);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "title");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "detail");

    ak_shown(op, cJSON_IsString(t) ? t->valuestring : "", 0, 0, title, titlesz);
    ak_shown(op, cJSON_IsString(d) ? d->valuestring : "", 0, 0, detail, detailsz);
    cJSON_Delete(j);
}

/* Before every attempt (the client retries 429 and 5xx): a fresh timestamp and nonce. */
static int ak_sign(void *arg, struct zp_http_req *r, struct zp_err *err)
{
    struct ak_op *op = arg;
    const struct ak_cfg *cfg = op->rs.cfg;
    const struct zp_eg_creds creds = {.client_token = cfg->client_token,
                                      .access_token = zp_buf_str(&op->access),
                                      .client_secret = zp_buf_str(&op->secret)};
    const struct zp_eg_req sig = {.method = r->method,
                                  .scheme = "https",
                                  .host = cfg->host,
                                  .path_query = op->path,
                                  .body = r->body,
                                  .body_len = r->body_len,
                                  .timestamp = op->ts,
                                  .nonce = op->nonce};

    zp_buf_reset(&op->auth);
    zp_eg_timestamp(time(NULL), op->ts);
    if (zp_eg_nonce(op->nonce) == -1 || zp_buf_puts(&op->auth, "Authorization: ") == -1 ||
        zp_eg_authorization(&creds, &sig, &op->auth) == -1)
        return zp_err_set(err, ZP_EINTERNAL, "cannot sign the request to %s", r->what);
    /* The signature's header first, then the JSON headers zp_prov_json_send would send. */
    op->headers[0] = zp_buf_str(&op->auth);
    op->headers[1] = "Accept: application/json";
    op->headers[2] = r->body ? "Content-Type: application/json" : NULL;
    op->headers[3] = NULL;
    r->headers = op->headers;
    return 0;
}

/* ---- failures ----------------------------------------------------------------------------- */

/* What comes of a refusal worth another try: cert-manager's retry, or the user's. */
static const char *ak_again(const struct zp_prov_call *call)
{
    return call->cli ? "run it again later" : "cert-manager tries again";
}

/*
 * Akamai's refusals. A 401's detail says which part of the EdgeGrid
 * signature failed: ak_fail passes the word it names as the code.
 */
static const struct zp_prov_refusal ak_refusals[] = {
    {401, 401, "client token", ZP_EAUTH,
     "Akamai rejected the EdgeGrid credentials ({detail}): clientToken is not an API client's "
     "client token; copy client_token from the API client's credentials into clientToken"},
    {401, 401, "access token", ZP_EAUTH,
     "Akamai rejected the EdgeGrid credentials ({detail}): the access token in {access} is wrong "
     "or does not belong to clientToken; put the API client's access_token there"},
    {401, 401, "nonce", ZP_ETRANSIENT,
     "Akamai refused a request as a repeat ({detail}); {again|cert-manager tries again}"},
    {401, 401, "timestamp", ZP_EAUTH,
     "Akamai rejected the EdgeGrid signature ({detail}): this machine's clock is off; synchronise "
     "it (NTP)"},
    {401, 401, NULL, ZP_EAUTH,
     "Akamai rejected the EdgeGrid credentials ({detail}): the client secret in {secret} is wrong "
     "or does not belong to clientToken; put the API client's client_secret there, unchanged"},
    {403, 403, NULL, ZP_EPERM,
     "Akamai refused {doing} at {fqdn} (403 Forbidden): the API client lacks READ-WRITE access to "
     "zone {zone}; give its credentials the Edge DNS API (DNS—Zone Record Management) with "
     "READ-WRITE access, on the account that holds the zone{switch_403}"},
    {404, 404, NULL, ZP_ENOTFOUND,
     "zone {zone} is not an Edge DNS zone of the account the API client reaches{switch_404}; add "
     "the zone in Edge DNS, or use the API client (or accountSwitchKey) of the account that holds "
     "it"},
    {400, 400, NULL, ZP_EINVAL, "Akamai refused {doing} at {fqdn} ({status} {title}): {problem}"},
    {422, 422, NULL, ZP_EINVAL, "Akamai refused {doing} at {fqdn} ({status} {title}): {problem}"},
    {500, LONG_MAX, NULL, ZP_ETRANSIENT,
     "Akamai Edge DNS answered HTTP {status} ({reason}) to {doing} at {fqdn}: the service is "
     "failing or unavailable; retry later"},
    {1, LONG_MAX, NULL, ZP_ETRANSIENT,
     "Akamai Edge DNS answered HTTP {status} ({reason}) to {doing} at {fqdn}"},
    {0},
};

/* Of a 401's detail, the word that names what the EdgeGrid check refused; NULL: none. */
static const char *ak_auth_word(const char *detail)
{
    /* In this order: a detail may name more than one. Either case of nonce is one refusal. */
    static const char *const words[] = {"client token", "access token", "nonce", "Nonce",
                                        "timestamp"};

    for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
        if (strstr(detail, words[i]) != NULL)
            return strcmp(words[i], "Nonce") == 0 ? "nonce" : words[i];
    return NULL;
}

/* The sentence for an answer that is not a success; what: "adding the TXT value". Returns -1. */
static int ak_fail(const struct ak_op *op, const char *what, const struct zp_http_resp *r,
                   struct zp_err *err)
{
    const struct ak_cfg *cfg = op->rs.cfg;
    const struct zp_cred *const creds[] = {&cfg->secret, &cfg->access, NULL};
    const char *const vals[] = {cfg->client_token, zp_buf_str(&op->secret), zp_buf_str(&op->access),
                                NULL};
    const char *const fields[] = {"request", what, NULL};
    char title[128], detail[512], problem[301], access[ZP_ERR_MSG_MAX], secret[ZP_ERR_MSG_MAX];

    zp_prov_log_reply(ZP_LOG_WARN, "akamai: unexpected answer", op->rs.call, fields, r, creds,
                      vals);
    ak_problem(op, r, title, sizeof(title), detail, sizeof(detail));
    /* A 400 quotes the detail cut short; a setting and its place are one value (12 at most). */
    snprintf(problem, sizeof(problem), "%.300s", detail);
    snprintf(access, sizeof(access), "%s (%s)", cfg->access.setting, cfg->access.where);
    snprintf(secret, sizeof(secret), "%s (%s)", cfg->secret.setting, cfg->secret.where);

    const char *const vars[] = {
        "doing",      what,
        "fqdn",       op->rs.rec->fqdn,
        "zone",       op->rs.zone,
        "detail",     detail[0] ? detail : "unauthorized",
        "access",     access,
        "secret",     secret,
        "switch_403", cfg->switch_key ? " (the one accountSwitchKey names)" : "",
        "switch_404", cfg->switch_key ? " through accountSwitchKey" : "",
        "title",      title[0] ? title : zp_http_reason(r->status),
        "problem",    problem,
        "reason",     zp_http_reason(r->status),
        "again",      ak_again(op->rs.call),
        NULL};
    return zp_prov_refuse(ak_refusals, r->status, r->status == 401 ? ak_auth_word(detail) : NULL,
                          vars, err);
}

/* ---- the RRset family's steps (rrset.h) ---------------------------------------------------- */

/* The credentials (read now: Secrets rotate) and the record set's path. */
static int ak_begin(struct zp_rs_op *rs, struct zp_err *err)
{
    struct ak_op *op = (struct ak_op *)rs;
    const struct ak_cfg *cfg = rs->cfg;
    struct zp_buf path;
    char name[AK_HOST_MAX];
    int rc = -1;

    zp_buf_init(&op->secret, AK_SECRET_MAX);
    zp_buf_init(&op->access, AK_SECRET_MAX);
    zp_buf_init(&op->auth, 16384);
    zp_buf_init(&path, 2048);
    snprintf(rs->zone, sizeof(rs->zone), "%s", rs->rec->zone);
    if (rs->zone[0] != '\0' && rs->zone[strlen(rs->zone) - 1] == '.')
        rs->zone[strlen(rs->zone) - 1] = '\0'; /* the API's names have no root dot */
    snprintf(name, sizeof(name), "%.*s", (int)strlen(rs->rec->fqdn) - 1, rs->rec->fqdn);
    if (zp_cred_read(&cfg->secret, rs->call, &op->secret, err) == -1 ||
        zp_cred_read(&cfg->access, rs->call, &op->access, err) == -1)
        goto out;
    if (!ak_word_ok(zp_buf_str(&op->secret)) || !ak_word_ok(zp_buf_str(&op->access))) {
        zp_err_set(err, ZP_ECONFIG,
                   "%s (%s) and %s (%s) must each hold one EdgeGrid credential on one line",
                   cfg->secret.setting, cfg->secret.where, cfg->access.setting, cfg->access.where);
        goto out;
    }
    zp_buf_puts(&path, "/config-dns/v2/zones/");
    zp_http_escape(rs->zone, &path);
    zp_buf_puts(&path, "/names/");
    zp_http_escape(name, &path);
    zp_buf_puts(&path, "/types/TXT");
    if (cfg->switch_key != NULL) {
        zp_buf_puts(&path, "?accountSwitchKey=");
        zp_http_escape(cfg->switch_key, &path);
    }
    if (zp_buf_check(&path, "the record set's path", err) == -1)
        goto out;
    op->path = zp_buf_take(&path);
    snprintf(op->rl_key, sizeof(op->rl_key), "akamai:%s",
             rs->call->instance ? rs->call->instance : "");
    op->conn = (struct zp_prov_api_conn){.what = AK_WHAT,
                                         .rate_key = op->rl_key,
                                         .rate = AK_RATE,
                                         .burst = AK_BURST,
                                         .base = cfg->endpoint,
                                         .ca_file = cfg->ca,
                                         .sign = ak_sign,
                                         .sign_arg = op};
    rc = 0;
out:
    zp_buf_free(&path);
    return rc;
}

/* GET the TXT record set (op->found 0 on 404), and whether it holds our value. */
static int ak_read(struct zp_rs_op *rs, struct zp_err *err)
{
    struct ak_op *op = (struct ak_op *)rs;
    struct zp_http_resp resp;
    cJSON *j = NULL;
    const cJSON *ttl, *v;
    int rc = -1;

    cJSON_Delete(op->rdata);
    op->rdata = NULL;
    op->found = 0;
    rs->has = 0;
    zp_http_resp_init(&resp);
    if (zp_prov_json_send(&op->conn, rs->call, "GET", op->path, NULL, &resp, err) == -1)
        goto out;
    if (resp.status == 404) {
        rc = 0;
        goto out;
    }
    if (resp.status != 200) {
        ak_fail(op, "reading the TXT records", &resp, err);
        goto out;
    }
    if ((j = zp_json_parse(&resp.body, AK_WHAT, err)) == NULL)
        goto out;
    ttl = cJSON_GetObjectItemCaseSensitive(j, "ttl");
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "rdata"))) {
        zp_err_set(err, ZP_ETRANSIENT, "Akamai Edge DNS answered the read of %s without rdata",
                   rs->rec->fqdn);
        goto out;
    }
    op->found = 1;
    op->ttl = cJSON_IsNumber(ttl) && ttl->valuedouble >= 0 && ttl->valuedouble < 1e9
                  ? (unsigned)ttl->valuedouble
                  : rs->rec->ttl;
    op->rdata = cJSON_DetachItemFromObjectCaseSensitive(j, "rdata");
    cJSON_ArrayForEach(v, op->rdata)
    {
        if (cJSON_IsString(v) && zp_txt_equal(v->valuestring, rs->rec->value))
            rs->has = 1; /* compared with one level of quotes removed */
    }
    rc = 0;
out:
    cJSON_Delete(j);
    zp_http_resp_free(&resp);
    return rc;
}

/* The rdata to write: every value read but ours, then ours when adding. */
static cJSON *ak_rdata(const struct ak_op *op)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *v;

    cJSON_ArrayForEach(v, op->rdata)
    {
        if (cJSON_IsString(v) && zp_txt_equal(v->valuestring, op->rs.rec->value))
            continue;
        cJSON_AddItemToArray(out, cJSON_Duplicate(v, 1));
    }
    if (!op->rs.del)
        cJSON_AddItemToArray(out, cJSON_CreateString(zp_buf_str(&op->rs.quoted)));
    return out;
}

/*
 * Writes the set as it must become: POST (new), PUT (replace) or DELETE
 * (empty). 1 when the set changed under the write (409, or 404 on a PUT).
 */
static int ak_write(struct zp_rs_op *rs, struct zp_err *err)
{
    struct ak_op *op = (struct ak_op *)rs;
    struct zp_http_resp resp;
    cJSON *rdata = ak_rdata(op), *body = NULL;
    char *text = NULL, name[AK_HOST_MAX];
    int rc = -1;

    zp_http_resp_init(&resp);
    snprintf(name, sizeof(name), "%.*s", (int)strlen(rs->rec->fqdn) - 1, rs->rec->fqdn);
    rs->how = !op->found ? "POST" : cJSON_GetArraySize(rdata) == 0 ? "DELETE" : "PUT";
    if (strcmp(rs->how, "DELETE") != 0) {
        body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "name", name);
        cJSON_AddStringToObject(body, "type", "TXT");
        cJSON_AddNumberToObject(body, "ttl", op->found ? op->ttl : rs->rec->ttl);
        cJSON_AddItemToObject(body, "rdata", rdata);
        rdata = NULL;
        if ((text = cJSON_PrintUnformatted(body)) == NULL) {
            zp_err_set(err, ZP_EINTERNAL, "cannot build the request for %s", rs->rec->fqdn);
            goto out;
        }
    }
    if (zp_prov_json_send(&op->conn, rs->call, rs->how, op->path, text, &resp, err) == -1)
        goto out;
    if (resp.status == 409 || (resp.status == 404 && strcmp(rs->how, "PUT") == 0))
        rc = 1;
    else if ((resp.status == 404 || resp.status == 410) && strcmp(rs->how, "DELETE") == 0)
        rc = 0; /* removed meanwhile */
    else if (resp.status < 200 || resp.status > 299)
        ak_fail(op, rs->del ? "removing the TXT value" : "adding the TXT value", &resp, err);
    else
        rc = 0;
out:
    cJSON_Delete(rdata);
    cJSON_Delete(body);
    cJSON_free(text);
    zp_http_resp_free(&resp);
    return rc;
}

static int ak_raced(struct zp_rs_op *rs, struct zp_err *err)
{
    return zp_err_set(err, ZP_ETRANSIENT,
                      "Akamai refused %s at %s twice: the record set changed meanwhile (409 "
                      "Conflict); %s",
                      rs->del ? "removing the TXT value" : "adding the TXT value", rs->rec->fqdn,
                      ak_again(rs->call));
}

static void ak_end(struct zp_rs_op *rs)
{
    struct ak_op *op = (struct ak_op *)rs;

    zp_buf_free_secret(&op->secret);
    zp_buf_free_secret(&op->access);
    zp_buf_free_secret(&op->auth);
    free(op->path);
    cJSON_Delete(op->rdata);
}

static const struct zp_rs_ops ak_rs = {
    .type = "akamai",
    .what = AK_WHAT,
    .zone_word = NULL, /* a missing zone and a missing set both answer 404 */
    .op_size = sizeof(struct ak_op),
    .one_string = 1,
    .attempts = 2,
    .begin = ak_begin,
    .read = ak_read,
    .write = ak_write,
    .raced = ak_raced,
    .end = ak_end,
};

const struct zp_provider_ops zp_prov_akamai = {
    .type = "akamai",
    .flags = ZP_PROV_RMW, /* a PUT replaces the whole record set */
    .settings = ak_settings,
    .config_parse = ak_config_parse,
    .config_free = ak_config_free,
    .present = zp_rs_present,
    .cleanup = zp_rs_cleanup,
    .verify = zp_rs_verify,
};
