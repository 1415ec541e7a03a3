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
#include <limits.h>
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
#include "providers/settings.h"

#define DO_DEFAULT_URL "https://api.digitalocean.com/v2"
#define DO_PER_PAGE 200
#define DO_PAGES_MAX 25
#define DO_TTL_MIN 30u
#define DO_URL_MAX 4096

/* 5,000 an hour sustained; a burst far below the 250 a minute. */
static const struct zp_pr_api do_api = {
    .type = "digitalocean", .what = "DigitalOcean", .rate = 5000.0 / 3600.0, .burst = 50.0};

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

/* DigitalOcean tells only whether another page follows. */
static int do_match(const cJSON *root, const char *rel, const char *fqdn, const char *value,
                    struct zp_pr_ids *ids, int *pages)
{
    int more;

    if (zp_do_match_page(root, rel, value, ids, &more) == -1)
        return -1;
    *pages = more ? INT_MAX : 0;
    return 0;
}

unsigned zp_do_ttl(unsigned ttl)
{
    return ttl < DO_TTL_MIN ? DO_TTL_MIN : ttl;
}

/* ---- configuration ------------------------------------------------------------------------ */

static const struct zp_pr_ops do_ops;

/* The connection of every per-record provider and the zone override. */
static const struct zp_setting do_settings[] = {
    ZP_SET_E(struct zp_pr_zcfg, conn.endpoint, conn.ca_file, DO_DEFAULT_URL),
    ZP_SET_C(struct zp_pr_zcfg, "apiToken", conn.token, 1),
    ZP_SET_Z(struct zp_pr_zcfg, "zone", zone, 0),
    ZP_SET_LAST,
};

static void do_config_free(void *p)
{
    zp_settings_free(do_settings, p);
}

static int do_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct zp_pr_zcfg *cfg = zp_xcalloc(1, sizeof(*cfg));

    if (zp_settings_parse(node, path, do_settings, cfg, err) == -1) {
        do_config_free(cfg);
        return -1;
    }
    cfg->conn.ops = &do_ops;
    *cfgp = cfg;
    return 0;
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

/* DigitalOcean's refusals; a 404 is the domain's absence (do_no_domain). */
static const struct zp_prov_refusal do_refusals[] = {
    {401, 401, NULL, ZP_EAUTH,
     "DigitalOcean rejected the token in {setting} ({where}) (HTTP 401 {code}): it is unknown, "
     "expired or revoked; create a personal access token with the scopes domain:read, "
     "domain:create and domain:delete and put it in that file's Secret"},
    {403, 403, NULL, ZP_EPERM,
     "DigitalOcean: the token in {setting} ({where}) may not {doing} (HTTP 403 {code}): it needs "
     "the scope domain:{scope}; give the token domain:read, domain:create and domain:delete"},
    {400, 499, NULL, ZP_EINVAL,
     "DigitalOcean refused to {doing} (HTTP {status} {code}); its message is in the log"},
    {0},
};

/* The sentence for a refused request (the scope a 403 asks for depends on step). */
static int do_fail(const void *p, const struct zp_prov_call *call, enum zp_pr_step step,
                   const struct zp_pr_target *t, const char *doing, const struct zp_http_resp *resp,
                   struct zp_err *err)
{
    static const char *const scope[] = {"read", "read", "create", "delete"};
    const struct zp_pr_zcfg *cfg = p;
    cJSON *root = cJSON_ParseWithLength(zp_buf_str(&resp->body), resp->body.len);
    const struct zp_cred *const creds[] = {&cfg->conn.token, NULL};
    char slug[64];

    zp_pr_log_reply(&do_api, &cfg->conn.token, call, doing, resp);
    /* DigitalOcean's error id, quoted: made fit for a sentence (an echo of the token redacted). */
    zp_prov_text(zp_pr_json_str(root, "id"), call, creds, NULL, slug, sizeof(slug));
    cJSON_Delete(root);
    if (resp->status == 404) {
        do_no_domain(cfg, t, err);
        err->upstream = 404;
        return -1;
    }
    const char *const vars[] = {"what",    do_api.what,
                                "setting", cfg->conn.token.setting,
                                "where",   cfg->conn.token.where,
                                "doing",   doing,
                                "code",    slug,
                                "scope",   scope[step],
                                NULL};
    return zp_prov_refuse(do_refusals, resp->status, NULL, vars, err);
}

/* ---- the zone and the table ---------------------------------------------------------------- */

static int do_zone(void *p, const struct zp_record *rec, const struct zp_prov_call *call,
                   struct zp_pr_target *t, struct zp_err *err)
{
    const struct zp_pr_zcfg *cfg = p;
    struct zp_pr_req req = {.method = "GET"};
    struct zp_http_resp resp;
    struct zp_buf url;
    char doing[ZP_DNAME_MAX + 32];
    int rc = -1;

    zp_http_resp_init(&resp);
    zp_buf_init(&url, DO_URL_MAX);
    if (zp_pr_target_set(t, &do_api, cfg->zone ? cfg->zone : rec->zone, rec->fqdn,
                         cfg->zone ? "zone" : NULL, err) == -1)
        goto out;
    zp_strlcpy(t->zone_id, t->zone, sizeof(t->zone_id)); /* DigitalOcean's domain id is its name */
    zp_buf_puts(&url, "/domains/");
    zp_http_escape(t->zone, &url);
    req.path = zp_buf_str(&url);
    if (zp_buf_check(&url, "the domain URL", err) == -1 ||
        zp_pr_send(&do_api, &cfg->conn, call, &req, &resp, err) == -1)
        goto out;
    snprintf(doing, sizeof(doing), "read domain %s", t->zone);
    rc = resp.status == 200 ? 0 : do_fail(cfg, call, ZP_PR_ZONE, t, doing, &resp, err);
out:
    zp_buf_free(&url);
    zp_http_resp_free(&resp);
    return rc;
}

static const struct zp_pr_ops do_ops = {
    .api = &do_api,
    .zone = do_zone,
    .zones = "/domains/",
    .zone_by_name = 1,
    .records = "/records",
    .name_query = "?type=TXT&name=",
    .size_key = "per_page",
    .page_size = DO_PER_PAGE,
    .pages_max = DO_PAGES_MAX,
    .match = do_match,
    .value_key = "data",
    .ttl_key = "ttl",
    .ttl = zp_do_ttl,
    .created = "domain_record",
    /* 404 on delete: deleted between the list and now, by another cleanup or a person. */
    .ok = {[ZP_PR_LIST] = {200}, [ZP_PR_CREATE] = {201, 200}, [ZP_PR_DELETE] = {204, 200, 404}},
    .refused = do_fail,
};

const struct zp_provider_ops zp_prov_digitalocean = {
    .type = "digitalocean",
    .flags = ZP_PROV_RMW,
    .settings = do_settings,
    .config_parse = do_config_parse,
    .config_free = do_config_free,
    .present = zp_pr_present,
    .cleanup = zp_pr_cleanup,
    .verify = zp_pr_verify,
};
