/*
 * digitalocean.c — the digitalocean provider: DigitalOcean's API v2 with a
 * personal access token, one domain record per TXT value.
 *
 * DigitalOcean names zones by their domain, so the zone step is one GET
 * /v2/domains/{zone} that turns a missing domain into a sentence. Records
 * are listed with the server-side type and name filters and one page size
 * of 200, and every request takes a token from the account's bucket first:
 * the API allows 250 requests a minute and 5,000 an hour per account, and
 * a client that lists whole zones in a tight retry loop (cert-manager
 * #6230) locks every other user of the account out for the rest of the
 * hour. Values are raw (no quotes) and compared exactly. DigitalOcean
 * accepts a second identical record, so Present looks before it creates
 * and the solver runs no two calls for one name at once (ZP_PROV_RMW).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/digitalocean_int.h"
#include "providers/perrecord.h"
#include "providers/provider.h"

#define DO_DEFAULT_URL "https://api.digitalocean.com/v2"
#define DO_PER_PAGE 200
#define DO_PAGES_MAX 25
#define DO_TTL_MIN 30u
#define DO_URL_MAX 4096

/* What a request was for: the scope a 403 asks for depends on it. */
enum do_op { DO_OP_DOMAIN, DO_OP_LIST, DO_OP_CREATE, DO_OP_DELETE };

/* 5,000 an hour sustained; a burst far below the 250 a minute. */
static const struct zp_pr_api do_api = {
    .type = "digitalocean", .what = "DigitalOcean", .rate = 5000.0 / 3600.0, .burst = 50.0};

static const char *const do_keys[] = {ZP_CRED_KEYS("apiToken"), "zone", "endpoint", "caFile", NULL};

/* ---- replies ------------------------------------------------------------------------------ */

int zp_do_match_page(const cJSON *root, const char *rel, const char *value, struct zp_pr_ids *ids,
                     int *more)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "domain_records");
    const cJSON *links = cJSON_GetObjectItemCaseSensitive(root, "links");
    const cJSON *pages = cJSON_GetObjectItemCaseSensitive(links, "pages");
    const cJSON *r;

    if (!cJSON_IsArray(list))
        return -1;
    *more = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(pages, "next"));
    cJSON_ArrayForEach(r, list)
    {
        const char *name = zp_pr_json_str(r, "name"), *type = zp_pr_json_str(r, "type");
        const char *data = zp_pr_json_str(r, "data");
        char id[ZP_PR_ID_MAX];

        if (name == NULL || type == NULL || data == NULL || strcasecmp(name, rel) != 0 ||
            strcmp(type, "TXT") != 0 || strcmp(data, value) != 0 ||
            zp_pr_json_id(r, "id", id, sizeof(id)) == -1)
            continue;
        if (zp_pr_ids_add(ids, id) == -1)
            break;
    }
    return 0;
}

unsigned zp_do_ttl(unsigned ttl)
{
    return ttl < DO_TTL_MIN ? DO_TTL_MIN : ttl;
}

/* ---- configuration ------------------------------------------------------------------------ */

/* Only the connection and the zone override: the shared parser with this API's URL. */
static int do_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    return zp_pr_zcfg_parse(node, path, DO_DEFAULT_URL, cfgp, err);
}

/* ---- requests ----------------------------------------------------------------------------- */

static int do_no_domain(const struct zp_pr_zcfg *cfg, const struct zp_pr_target *t,
                        struct zp_err *err)
{
    return zp_err_set(err, ZP_ENOTFOUND,
                      "DigitalOcean: the account of the token in %s (%s) has no domain "
                      "%s: add it under Networking > Domains, or %s",
                      cfg->conn.token.setting, cfg->conn.token.where, t->zone,
                      cfg->zone ? "correct the zone setting"
                                : "list the domain DigitalOcean serves in dnsZones (or set zone)");
}

/* The sentence for a refused request; doing: "add TXT at x". */
static int do_fail(const struct zp_pr_zcfg *cfg, const struct zp_prov_call *call, enum do_op op,
                   const struct zp_pr_target *t, const char *doing, const struct zp_http_resp *resp,
                   struct zp_err *err)
{
    static const char *const scope[] = {"read", "read", "create", "delete"};
    cJSON *root = cJSON_ParseWithLength(zp_buf_str(&resp->body), resp->body.len);
    const struct zp_cred *const creds[] = {&cfg->conn.token, NULL};
    char slug[64];

    zp_pr_log_reply(&do_api, &cfg->conn.token, call, doing, resp);
    /* DigitalOcean's error id, quoted: made fit for a sentence (an echo of the token redacted). */
    zp_prov_text(zp_pr_json_str(root, "id"), call, creds, NULL, slug, sizeof(slug));
    if (resp->status == 401)
        zp_err_set(err, ZP_EAUTH,
                   "DigitalOcean rejected the token in %s (%s) (HTTP 401 %s): it is "
                   "unknown, expired or revoked; create a personal access token with the scopes "
                   "domain:read, domain:create and domain:delete and put it in that file's Secret",
                   cfg->conn.token.setting, cfg->conn.token.where, slug);
    else if (resp->status == 403)
        zp_err_set(err, ZP_EPERM,
                   "DigitalOcean: the token in %s (%s) may not %s (HTTP 403 %s): it "
                   "needs the scope domain:%s; give the token domain:read, domain:create and "
                   "domain:delete",
                   cfg->conn.token.setting, cfg->conn.token.where, doing, slug, scope[op]);
    else if (resp->status == 404)
        do_no_domain(cfg, t, err);
    else if (resp->status == 422 || (resp->status >= 400 && resp->status < 500))
        zp_err_set(err, ZP_EINVAL,
                   "DigitalOcean refused to %s (HTTP %ld %s); its message is in the log", doing,
                   resp->status, slug);
    else
        zp_pr_fail_status(&do_api, doing, resp, err);
    err->upstream = (int)resp->status;
    cJSON_Delete(root);
    return -1;
}

static int do_send(const struct zp_pr_zcfg *cfg, const struct zp_prov_call *call,
                   const char *method, const char *url, const char *body, struct zp_http_resp *resp,
                   struct zp_err *err)
{
    struct zp_pr_req req = {.method = method, .url = url, .body = body};

    return zp_pr_send(&do_api, &cfg->conn, call, &req, resp, err);
}

/* The zone's domain name, escaped for a path; -1 when url is full. */
static int do_domain_url(const struct zp_pr_zcfg *cfg, const struct zp_pr_target *t,
                         struct zp_buf *url)
{
    zp_buf_printf(url, "%s/domains/", cfg->conn.endpoint);
    zp_http_escape(t->zone, url);
    return zp_buf_ok(url) ? 0 : -1;
}

/* ---- the four steps ----------------------------------------------------------------------- */

static int do_zone(void *p, const struct zp_record *rec, const struct zp_prov_call *call,
                   struct zp_pr_target *t, struct zp_err *err)
{
    const struct zp_pr_zcfg *cfg = p;
    struct zp_http_resp resp;
    struct zp_buf url;
    char doing[ZP_DNAME_MAX + 32];
    int rc = -1;

    zp_http_resp_init(&resp);
    zp_buf_init(&url, DO_URL_MAX);
    if (zp_pr_target_set(t, &do_api, cfg->zone ? cfg->zone : rec->zone, rec->fqdn,
                         cfg->zone ? "zone" : NULL, err) == -1)
        goto out;
    zp_strlcpy(t->zone_id, t->zone, sizeof(t->zone_id));
    do_domain_url(cfg, t, &url);
    if (zp_buf_check(&url, "the domain URL", err) == -1 ||
        do_send(cfg, call, "GET", zp_buf_str(&url), NULL, &resp, err) == -1)
        goto out;
    if (resp.status != 200) {
        snprintf(doing, sizeof(doing), "read domain %s", t->zone);
        do_fail(cfg, call, DO_OP_DOMAIN, t, doing, &resp, err);
        goto out;
    }
    rc = 0;
out:
    zp_buf_free(&url);
    zp_http_resp_free(&resp);
    return rc;
}

static int do_find(void *p, const struct zp_pr_target *t, const struct zp_record *rec,
                   const struct zp_prov_call *call, int first, struct zp_pr_ids *ids,
                   struct zp_err *err)
{
    const struct zp_pr_zcfg *cfg = p;
    struct zp_http_resp resp;
    struct zp_buf url;
    char doing[ZP_DNAME_MAX + 32];
    cJSON *root = NULL;
    int rc = -1, more = 1;

    zp_http_resp_init(&resp);
    zp_buf_init(&url, DO_URL_MAX);
    snprintf(doing, sizeof(doing), "list TXT records at %s", t->fqdn);
    for (int page = 1; more; page++) {
        if (page > DO_PAGES_MAX) {
            zp_log(ZP_LOG_WARN, "digitalocean: too many TXT records at one name; read the first",
                   ZP_S("instance", call->instance), ZP_S("fqdn", t->fqdn),
                   ZP_I("pages", DO_PAGES_MAX), ZP_END);
            break;
        }
        zp_buf_reset(&url);
        do_domain_url(cfg, t, &url);
        zp_buf_puts(&url, "/records?type=TXT&name=");
        zp_http_escape(t->fqdn, &url); /* the filter wants the full name, the answer is relative */
        zp_buf_printf(&url, "&per_page=%d&page=%d", DO_PER_PAGE, page);
        if (zp_buf_check(&url, "the TXT record list URL", err) == -1 ||
            do_send(cfg, call, "GET", zp_buf_str(&url), NULL, &resp, err) == -1)
            goto out;
        if (resp.status != 200) {
            do_fail(cfg, call, DO_OP_LIST, t, doing, &resp, err);
            goto out;
        }
        cJSON_Delete(root);
        root = zp_json_parse(&resp.body, "DigitalOcean", err);
        if (root == NULL)
            goto out;
        if (zp_do_match_page(root, t->rel, rec->value, ids, &more) == -1) {
            zp_err_set(err, ZP_ETRANSIENT,
                       "DigitalOcean answered the list of TXT records at %s without a list",
                       t->fqdn);
            goto out;
        }
        if ((first && ids->n > 0) || ids->n >= ZP_PR_IDS_MAX)
            break;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    zp_buf_free(&url);
    zp_http_resp_free(&resp);
    return rc;
}

static int do_create(void *p, const struct zp_pr_target *t, const struct zp_record *rec,
                     const struct zp_prov_call *call, char *id, size_t idsz, struct zp_err *err)
{
    const struct zp_pr_zcfg *cfg = p;
    struct zp_http_resp resp;
    struct zp_buf url;
    cJSON *body = cJSON_CreateObject(), *root = NULL;
    char *json = NULL, doing[ZP_DNAME_MAX + 32];
    int rc = -1;

    zp_http_resp_init(&resp);
    zp_buf_init(&url, DO_URL_MAX);
    cJSON_AddStringToObject(body, "type", "TXT");
    cJSON_AddStringToObject(body, "name", t->rel);
    cJSON_AddStringToObject(body, "data", rec->value);
    cJSON_AddNumberToObject(body, "ttl", zp_do_ttl(rec->ttl));
    json = cJSON_PrintUnformatted(body);
    do_domain_url(cfg, t, &url);
    zp_buf_puts(&url, "/records");
    if (zp_buf_check(&url, "the TXT record URL", err) == -1 ||
        do_send(cfg, call, "POST", zp_buf_str(&url), json, &resp, err) == -1)
        goto out;
    if (resp.status != 201 && resp.status != 200) {
        snprintf(doing, sizeof(doing), "add TXT at %s", t->fqdn);
        do_fail(cfg, call, DO_OP_CREATE, t, doing, &resp, err);
        goto out;
    }
    root = cJSON_ParseWithLength(zp_buf_str(&resp.body), resp.body.len);
    if (zp_pr_json_id(cJSON_GetObjectItemCaseSensitive(root, "domain_record"), "id", id, idsz) ==
        -1)
        zp_strlcpy(id, "unknown", idsz);
    rc = 0;
out:
    cJSON_free(json);
    cJSON_Delete(body);
    cJSON_Delete(root);
    zp_buf_free(&url);
    zp_http_resp_free(&resp);
    return rc;
}

static int do_remove(void *p, const struct zp_pr_target *t, const struct zp_record *rec,
                     const char *id, const struct zp_prov_call *call, struct zp_err *err)
{
    const struct zp_pr_zcfg *cfg = p;
    struct zp_http_resp resp;
    struct zp_buf url;
    char doing[ZP_DNAME_MAX + ZP_PR_ID_MAX + 32];
    int rc = -1;

    (void)rec;
    zp_http_resp_init(&resp);
    zp_buf_init(&url, DO_URL_MAX);
    do_domain_url(cfg, t, &url);
    zp_buf_puts(&url, "/records/");
    zp_http_escape(id, &url);
    if (zp_buf_check(&url, "the TXT record URL", err) == -1 ||
        do_send(cfg, call, "DELETE", zp_buf_str(&url), NULL, &resp, err) == -1)
        goto out;
    /* 404: deleted between the list and now, by another cleanup or a person. */
    if (resp.status != 204 && resp.status != 200 && resp.status != 404) {
        snprintf(doing, sizeof(doing), "delete TXT record %s at %s", id, t->fqdn);
        do_fail(cfg, call, DO_OP_DELETE, t, doing, &resp, err);
        goto out;
    }
    rc = 0;
out:
    zp_buf_free(&url);
    zp_http_resp_free(&resp);
    return rc;
}

static const struct zp_pr_ops do_ops = {
    .api = &do_api, .zone = do_zone, .find = do_find, .create = do_create, .remove = do_remove};

static int do_present(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return zp_pr_present(&do_ops, cfg, rec, call, err);
}

static int do_cleanup(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return zp_pr_cleanup(&do_ops, cfg, rec, call, err);
}

static int do_verify(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                     struct zp_err *err)
{
    return zp_pr_verify(&do_ops, cfg, rec, call, err);
}

const struct zp_provider_ops zp_prov_digitalocean = {
    .type = "digitalocean",
    .flags = ZP_PROV_RMW,
    .keys = do_keys,
    .config_parse = do_config_parse,
    .config_free = zp_pr_zcfg_free,
    .present = do_present,
    .cleanup = do_cleanup,
    .verify = do_verify,
};
