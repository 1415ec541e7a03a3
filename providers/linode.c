/*
 * linode.c — the linode provider: Linode's (Akamai's) API v4 with a
 * personal access token, one domain record per TXT value.
 *
 * The domain id comes from GET /domains filtered (X-Filter) by the zone's
 * name; records are listed filtered by type and relative name, and a
 * record is deleted only when its target is exactly the challenge's value.
 * acme.sh's Linode hook deletes the first record with the name whatever
 * its value, which removes the other certificate's value when an apex and
 * a wildcard validate at once; lego matches the value, as this does.
 * Targets are raw (no quotes). Linode accepts a second identical record,
 * so Present looks before it creates and the solver runs no two calls for
 * one name at once (ZP_PROV_RMW).
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
#include "providers/common.h"
#include "providers/linode_int.h"
#include "providers/perrecord.h"
#include "providers/provider.h"
#include "providers/settings.h"

#define LI_DEFAULT_URL "https://api.linode.com/v4"
#define LI_PAGE_SIZE 500 /* the largest page Linode serves */
#define LI_PAGES_MAX 10

/*
 * GET on a collection: 100 a minute (and 10 a second) per user; each call
 * makes two of them. Writes have far more room.
 */
static const struct zp_pr_api li_api = {
    .type = "linode", .what = "Linode", .rate = 1.5, .burst = 10.0};

static const struct zp_setting li_settings[] = {
    ZP_SET_E(struct zp_pr_zcfg, conn.endpoint, conn.ca_file, LI_DEFAULT_URL),
    ZP_SET_C(struct zp_pr_zcfg, "apiToken", conn.token, 1),
    ZP_SET_Z(struct zp_pr_zcfg, "zone", zone, 0),
    ZP_SET_LAST,
};

/* The TTLs Linode keeps as they are; it rounds any other to the nearest of them. */
static const unsigned li_ttls[] = {300,   3600,   7200,   14400,  28800,   57600,
                                   86400, 172800, 345600, 604800, 1209600, 2419200};

/* ---- replies ------------------------------------------------------------------------------ */

int zp_li_match_page(const cJSON *root, const char *rel, const char *fqdn, const char *value,
                     struct zp_pr_ids *ids, int *pages)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *np = cJSON_GetObjectItemCaseSensitive(root, "pages");
    const cJSON *r;

    if (!cJSON_IsArray(data))
        return -1;
    *pages = cJSON_IsNumber(np) && np->valueint > 0 ? np->valueint : 1;
    cJSON_ArrayForEach(r, data)
    {
        const char *name = zp_pr_json_str(r, "name"), *type = zp_pr_json_str(r, "type");
        const char *target = zp_pr_json_str(r, "target");
        char id[ZP_PR_ID_MAX];

        if (name == NULL || type == NULL || target == NULL ||
            (strcasecmp(name, rel) != 0 && strcasecmp(name, fqdn) != 0) ||
            strcmp(type, "TXT") != 0 || strcmp(target, value) != 0 ||
            zp_pr_json_id(r, "id", id, sizeof(id)) == -1)
            continue;
        if (zp_pr_ids_add(ids, id) == -1)
            break;
    }
    return 0;
}

int zp_li_pick_domain(const cJSON *root, const char *zone, char *id, size_t idsz)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *d;
    int n = 0;

    if (!cJSON_IsArray(data))
        return -1;
    cJSON_ArrayForEach(d, data)
    {
        const char *name = zp_pr_json_str(d, "domain");
        char did[ZP_PR_ID_MAX];

        if (name == NULL || strcasecmp(name, zone) != 0 ||
            zp_pr_json_id(d, "id", did, sizeof(did)) == -1)
            continue;
        if (n++ == 0)
            zp_strlcpy(id, did, idsz);
    }
    return n;
}

unsigned zp_li_ttl(unsigned ttl)
{
    size_t n = sizeof(li_ttls) / sizeof(li_ttls[0]);

    for (size_t i = 0; i < n; i++)
        if (li_ttls[i] >= ttl)
            return li_ttls[i];
    return li_ttls[n - 1];
}

/* ---- configuration ------------------------------------------------------------------------ */

static const struct zp_pr_ops li_ops;

static void li_config_free(void *p)
{
    zp_settings_free(li_settings, p);
}

static int li_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct zp_pr_zcfg *cfg = zp_xcalloc(1, sizeof(*cfg));

    if (zp_settings_parse(node, path, li_settings, cfg, err) == -1) {
        li_config_free(cfg);
        return -1;
    }
    cfg->conn.ops = &li_ops;
    *cfgp = cfg;
    return 0;
}

/* ---- requests ----------------------------------------------------------------------------- */

static int li_no_domain(const struct zp_pr_zcfg *cfg, const struct zp_pr_target *t,
                        struct zp_err *err)
{
    return zp_err_set(err, ZP_ENOTFOUND,
                      "Linode: the account of the token in %s (%s) has no domain %s: "
                      "add it under Domains in Cloud Manager, or %s",
                      cfg->conn.token.setting, cfg->conn.token.where, t->zone,
                      cfg->zone ? "correct the zone setting"
                                : "list the domain Linode serves in dnsZones (or set zone)");
}

/*
 * Linode's refusals; a 404 is the domain's absence (li_no_domain), and a
 * 400 whose reason mentions a CNAME comes with the code "CNAME".
 */
static const struct zp_prov_refusal li_refusals[] = {
    {401, 401, NULL, ZP_EAUTH,
     "Linode rejected the token in {setting} ({where}) (HTTP 401): it is unknown, expired or "
     "revoked; create a personal access token with Domains Read/Write and put it in that file's "
     "Secret"},
    {403, 403, NULL, ZP_EPERM,
     "Linode: the token in {setting} ({where}) may not {doing} (HTTP 403): give it the scope "
     "Domains Read/Write{readonly}"},
    {400, 400, "CNAME", ZP_EINVAL,
     "Linode: a CNAME record sits at {fqdn} and no TXT record may sit beside it; remove the "
     "CNAME, or list the zone it points to in dnsZones ({follower|cert-manager} follows it)"},
    {400, 499, NULL, ZP_EINVAL,
     "Linode refused to {doing} (HTTP {status}{field}); its reasons are in the log"},
    {0},
};

/* The sentence for a refused request; doing: "add TXT at x". */
static int li_fail(const void *p, const struct zp_prov_call *call, enum zp_pr_step step,
                   const struct zp_pr_target *t, const char *doing, const struct zp_http_resp *resp,
                   struct zp_err *err)
{
    const struct zp_pr_zcfg *cfg = p;
    cJSON *root = cJSON_ParseWithLength(zp_buf_str(&resp->body), resp->body.len);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "errors"), 0);
    const char *field = zp_pr_json_str(first, "field"), *reason = zp_pr_json_str(first, "reason");
    const char *cname = reason != NULL && strstr(reason, "CNAME") != NULL ? "CNAME" : NULL;
    const struct zp_cred *const creds[] = {&cfg->conn.token, NULL};
    char shown[64], named[80] = "";
    int writes = step == ZP_PR_CREATE || step == ZP_PR_DELETE;

    zp_pr_log_reply(&li_api, &cfg->conn.token, call, doing, resp);
    if (field != NULL)
        snprintf(named, sizeof(named), ", field %s",
                 zp_prov_text(field, call, creds, NULL, shown, sizeof(shown)));
    cJSON_Delete(root);
    if (resp->status == 404) {
        li_no_domain(cfg, t, err);
        err->upstream = 404;
        return -1;
    }
    const char *const vars[] = {
        "what",     li_api.what,
        "setting",  cfg->conn.token.setting,
        "where",    cfg->conn.token.where,
        "doing",    doing,
        "fqdn",     t->fqdn,
        "field",    named,
        "readonly", writes ? " (Read Only is not enough to change records)" : "",
        "follower", call->cli ? "--follow-cname" : NULL,
        NULL};
    return zp_prov_refuse(li_refusals, resp->status, cname, vars, err);
}

/* ---- the zone and the table ---------------------------------------------------------------- */

static int li_zone(void *p, const struct zp_record *rec, const struct zp_prov_call *call,
                   struct zp_pr_target *t, struct zp_err *err)
{
    const struct zp_pr_zcfg *cfg = p;
    struct zp_http_resp resp;
    cJSON *filter = cJSON_CreateObject(), *root = NULL;
    struct zp_pr_req req = {.method = "GET", .path = "/domains", .filter = filter};
    char doing[ZP_DNAME_MAX + 32];
    int rc = -1, n;

    zp_http_resp_init(&resp);
    if (zp_pr_target_set(t, &li_api, cfg->zone ? cfg->zone : rec->zone, rec->fqdn,
                         cfg->zone ? "zone" : NULL, err) == -1)
        goto out;
    if (strcmp(t->rel, "@") == 0)
        t->rel[0] = '\0'; /* Linode names the apex "" */
    cJSON_AddStringToObject(filter, "domain", t->zone);
    if (zp_pr_send(&li_api, &cfg->conn, call, &req, &resp, err) == -1)
        goto out;
    if (resp.status != 200) {
        snprintf(doing, sizeof(doing), "look up domain %s", t->zone);
        li_fail(cfg, call, ZP_PR_ZONE, t, doing, &resp, err);
        goto out;
    }
    if ((root = zp_json_parse(&resp.body, "Linode", err)) == NULL)
        goto out;
    n = zp_li_pick_domain(root, t->zone, t->zone_id, sizeof(t->zone_id));
    if (n == 0)
        li_no_domain(cfg, t, err);
    else if (n < 0)
        zp_err_set(err, ZP_ETRANSIENT, "Linode answered the domain lookup without a list");
    else
        rc = 0;
out:
    cJSON_Delete(filter);
    cJSON_Delete(root);
    zp_http_resp_free(&resp);
    return rc;
}

static const struct zp_pr_ops li_ops = {
    .api = &li_api,
    .zone = li_zone,
    .zones = "/domains/",
    .records = "/records",
    .xfilter = 1,
    .size_key = "page_size",
    .page_size = LI_PAGE_SIZE,
    .pages_max = LI_PAGES_MAX,
    .match = zp_li_match_page,
    .value_key = "target",
    .ttl_key = "ttl_sec",
    .ttl = zp_li_ttl,
    /* 404 on delete: deleted between the list and now, by another cleanup or a person. */
    .ok = {[ZP_PR_LIST] = {200}, [ZP_PR_CREATE] = {200}, [ZP_PR_DELETE] = {200, 204, 404}},
    .refused = li_fail,
};

const struct zp_provider_ops zp_prov_linode = {
    .type = "linode",
    .flags = ZP_PROV_RMW,
    .settings = li_settings,
    .config_parse = li_config_parse,
    .config_free = li_config_free,
    .present = zp_pr_present,
    .cleanup = zp_pr_cleanup,
    .verify = zp_pr_verify,
};
