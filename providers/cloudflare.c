/*
 * cloudflare.c — the cloudflare provider: Cloudflare's API v4 with an API
 * token, one DNS record per TXT value.
 *
 * The zone id comes from zoneId when it is set (then the token needs no
 * Zone:Read at all), else from GET /zones?name=<resolvedZone>, made with
 * zoneApiTokenFile when that is set: users keep a broad read-only token for
 * the lookup apart from the one that may edit records in one zone. Values
 * are sent quoted ("\"v\""), as Cloudflare's TXT schema asks; a stored
 * value matches whether or not it carries the quotes, so records written
 * by other clients are recognised too.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
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
#include "providers/cloudflare_int.h"
#include "providers/common.h"
#include "providers/perrecord.h"
#include "providers/provider.h"
#include "providers/settings.h"

#define CF_DEFAULT_URL "https://api.cloudflare.com/client/v4"
#define CF_PER_PAGE 100
#define CF_PAGES_MAX 50 /* 5,000 TXT records at one name is a runaway, not a zone */
#define CF_TTL_MIN 60u
#define CF_URL_MAX 4096

struct cf_cfg {
    struct zp_pr_conn conn;
    struct zp_cred zone_token; /* zoneApiToken…; not set: the lookup uses apiToken… */
    char *zone_id;             /* zoneId; NULL: looked up by name */
};

/*
 * 1,200 requests per 5 minutes per user, shared with the dashboard and
 * every other token of that user: stay well below.
 */
static const struct zp_pr_api cf_api = {
    .type = "cloudflare", .what = "Cloudflare", .rate = 3.0, .burst = 20.0};

static const struct zp_setting cf_settings[] = {
    ZP_SET_E(struct cf_cfg, conn.endpoint, conn.ca_file, CF_DEFAULT_URL),
    ZP_SET_C(struct cf_cfg, "apiToken", conn.token, 1),
    ZP_SET_C(struct cf_cfg, "zoneApiToken", zone_token, 0),
    ZP_SET_S(struct cf_cfg, "zoneId", zone_id, 0), /* checked by cf_config_parse */
    ZP_SET_LAST,
};

/* ---- replies ------------------------------------------------------------------------------ */

/* Whether s contains word, ignoring case. */
static int cf_contains(const char *s, const char *word)
{
    size_t n = strlen(word);

    for (; s != NULL && *s; s++)
        if (strncasecmp(s, word, n) == 0)
            return 1;
    return 0;
}

static enum zp_cf_outcome cf_code_outcome(int code, const char *msg)
{
    switch (code) {
    case 81057:
    case 81058:
        return ZP_CF_EXISTS;
    case 81044:
        return ZP_CF_GONE;
    case 1000:
        return ZP_CF_AUTH;
    case 9109: /* "Invalid access token" or "Unauthorized to access requested resource" */
        return cf_contains(msg, "invalid") ? ZP_CF_AUTH : ZP_CF_PERM;
    case 10000:
        return ZP_CF_PERM;
    case 7000:
    case 7003:
        return ZP_CF_NOZONE;
    case 81045:
        return ZP_CF_QUOTA;
    case 81053:
    case 81054:
        return ZP_CF_CONFLICT;
    default:
        if (code == 6003 || (code >= 6100 && code < 6200))
            return ZP_CF_BADHEADER;
        return ZP_CF_OTHER;
    }
}

enum zp_cf_outcome zp_cf_classify(long status, const cJSON *root, int *code)
{
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(root, "errors");
    const cJSON *e;

    *code = 0;
    if (status >= 500)
        return ZP_CF_SERVER;
    if (status >= 200 && status < 300 &&
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "success")))
        return ZP_CF_OK;
    /* The first code with a meaning wins; chains (6003 <- 6111) are read too. */
    cJSON_ArrayForEach(e, errors)
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code"), *chain, *x;
        enum zp_cf_outcome o;

        if (!cJSON_IsNumber(c))
            continue;
        if (*code == 0)
            *code = c->valueint;
        o = cf_code_outcome(c->valueint, zp_pr_json_str(e, "message"));
        if (o != ZP_CF_OTHER)
            return o;
        chain = cJSON_GetObjectItemCaseSensitive(e, "error_chain");
        cJSON_ArrayForEach(x, chain)
        {
            c = cJSON_GetObjectItemCaseSensitive(x, "code");
            if (cJSON_IsNumber(c) &&
                (o = cf_code_outcome(c->valueint, zp_pr_json_str(x, "message"))) != ZP_CF_OTHER)
                return o;
        }
    }
    if (status == 401)
        return ZP_CF_AUTH;
    if (status == 403)
        return ZP_CF_PERM;
    if (status == 404)
        return ZP_CF_NOTFOUND;
    return ZP_CF_OTHER;
}

int zp_cf_match_page(const cJSON *root, const char *fqdn, const char *value, struct zp_pr_ids *ids,
                     int *pages)
{
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(root, "result");
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(root, "result_info");
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(info, "total_pages");
    const cJSON *r;

    if (!cJSON_IsArray(result))
        return -1;
    *pages = cJSON_IsNumber(tp) && tp->valueint > 0 ? tp->valueint : 1;
    cJSON_ArrayForEach(r, result)
    {
        const char *name = zp_pr_json_str(r, "name"), *type = zp_pr_json_str(r, "type");
        const char *content = zp_pr_json_str(r, "content");
        char id[ZP_PR_ID_MAX];

        /* The filter is the server's; what is deleted is decided here. */
        if (name == NULL || type == NULL || content == NULL || strcasecmp(name, fqdn) != 0 ||
            strcmp(type, "TXT") != 0 || !zp_txt_equal(content, value) ||
            zp_pr_json_id(r, "id", id, sizeof(id)) == -1)
            continue;
        if (zp_pr_ids_add(ids, id) == -1)
            break;
    }
    return 0;
}

int zp_cf_pick_zone(const cJSON *root, const char *zone, char *id, size_t idsz)
{
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(root, "result");
    const cJSON *z;
    int n = 0;

    if (!cJSON_IsArray(result))
        return -1;
    cJSON_ArrayForEach(z, result)
    {
        const char *name = zp_pr_json_str(z, "name");
        char zid[ZP_PR_ID_MAX];

        if (name == NULL || strcasecmp(name, zone) != 0 ||
            zp_pr_json_id(z, "id", zid, sizeof(zid)) == -1)
            continue;
        if (n++ == 0)
            zp_strlcpy(id, zid, idsz);
    }
    return n;
}

unsigned zp_cf_ttl(unsigned ttl)
{
    return ttl < CF_TTL_MIN ? CF_TTL_MIN : ttl;
}

/* ---- configuration ------------------------------------------------------------------------ */

static const struct zp_pr_ops cf_ops;

static void cf_config_free(void *p)
{
    zp_settings_free(cf_settings, p);
}

static int cf_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct cf_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    char *zid;
    size_t n;
    int rc = -1;

    if (zp_settings_parse(node, path, cf_settings, cfg, err) == -1)
        goto out;
    if ((zid = cfg->zone_id) != NULL) {
        n = strlen(zid);
        for (size_t i = 0; i < n; i++)
            if (!isxdigit((unsigned char)zid[i]))
                n = 0;
        if (n != 32) {
            zp_y_fail(zp_y_get(node, "zoneId"), path, err,
                      "zoneId \"%s\" is not a Cloudflare zone id (32 hexadecimal digits, shown as "
                      "Zone ID on the zone's Overview page)",
                      zid);
            goto out;
        }
        for (char *p = zid; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (zp_cred_set(&cfg->zone_token))
            zp_log(ZP_LOG_WARN, "cloudflare: zoneApiToken is unused when zoneId is set",
                   ZP_S("setting", cfg->zone_token.setting), ZP_S("provider", path), ZP_END);
    }
    cfg->conn.ops = &cf_ops;
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    cf_config_free(cfg);
    return rc;
}

/* ---- requests ----------------------------------------------------------------------------- */

/* The token a request of kind step is made with. */
static const struct zp_cred *cf_token(const struct cf_cfg *cfg, enum zp_pr_step step)
{
    return step == ZP_PR_ZONE && zp_cred_set(&cfg->zone_token) ? &cfg->zone_token
                                                               : &cfg->conn.token;
}

/* The setting and where (file or Secret) of that token, for messages. */
static void cf_token_of(const struct cf_cfg *cfg, enum zp_pr_step step, const char **setting,
                        const char **file)
{
    const struct zp_cred *c = cf_token(cfg, step);

    *setting = c->setting;
    *file = c->where;
}

/* The sentence for a refused request. doing: "add TXT at x", for the generic cases. */
static int cf_fail(const struct cf_cfg *cfg, const struct zp_prov_call *call, enum zp_pr_step op,
                   const struct zp_pr_target *t, const char *doing, const struct zp_http_resp *resp,
                   enum zp_cf_outcome o, int code, struct zp_err *err)
{
    const char *setting, *file;

    cf_token_of(cfg, op, &setting, &file);
    zp_pr_log_reply(&cf_api, cf_token(cfg, op), call, doing, resp);
    switch (o) {
    case ZP_CF_BADHEADER:
        zp_err_set(err, ZP_EAUTH,
                   "Cloudflare refused the Authorization header made from %s (%s) (error %d): "
                   "it must hold one API token (a Global API Key is not a token)",
                   setting, file, code);
        break;
    case ZP_CF_AUTH:
        zp_err_set(err, ZP_EAUTH,
                   "Cloudflare rejected the API token in %s (%s) (error %d): it is unknown, "
                   "expired or revoked; create one under My Profile > API Tokens and put it in "
                   "that Secret",
                   setting, file, code);
        break;
    case ZP_CF_PERM:
        if (op == ZP_PR_ZONE)
            zp_err_set(err, ZP_EPERM,
                       "Cloudflare: the API token in %s (%s) may not look up zone %s (error %d): "
                       "give it Zone > Zone > Read, or set zoneId so that no lookup is needed",
                       setting, file, t->zone, code);
        else
            zp_err_set(err, ZP_EPERM,
                       "Cloudflare: the API token in %s (%s) may not %s DNS records of zone %s "
                       "(error %d): give it Zone > DNS > Edit on that zone",
                       setting, file, op == ZP_PR_LIST ? "read" : "change", t->zone, code);
        break;
    case ZP_CF_NOZONE:
    case ZP_CF_NOTFOUND:
        if (cfg->zone_id != NULL)
            zp_err_set(err, ZP_ENOTFOUND,
                       "Cloudflare: zoneId %s is no zone the API token in %s (%s) can reach "
                       "(HTTP %ld, error %d): copy Zone ID from the Overview page of zone %s, or "
                       "remove zoneId to look it up by name",
                       cfg->zone_id, setting, file, resp->status, code, t->zone);
        else
            zp_err_set(err, ZP_ENOTFOUND,
                       "Cloudflare: zone %s (id %s) went away while it was being written to "
                       "(HTTP %ld, error %d)",
                       t->zone, t->zone_id, resp->status, code);
        break;
    case ZP_CF_QUOTA:
        zp_err_set(err, ZP_EINVAL,
                   "Cloudflare: zone %s has used up its DNS record quota (error %d), so TXT at %s "
                   "cannot be added; delete unused records or raise the plan's limit",
                   t->zone, code, t->fqdn);
        break;
    case ZP_CF_CONFLICT:
        zp_err_set(err, ZP_EINVAL,
                   "Cloudflare: a CNAME record sits at %s (error %d) and no TXT record may sit "
                   "beside it; remove the CNAME, or list the zone it points to in dnsZones "
                   "(%s follows it)",
                   t->fqdn, code, call->cli ? "--follow-cname" : "cert-manager");
        break;
    case ZP_CF_SERVER:
        zp_pr_fail_status(&cf_api, doing, resp, err);
        break;
    default:
        if (resp->status >= 400 && resp->status < 500)
            zp_err_set(err, ZP_EINVAL,
                       "Cloudflare refused to %s (HTTP %ld, error %d); its message is in the "
                       "log",
                       doing, resp->status, code);
        else
            zp_pr_fail_status(&cf_api, doing, resp, err);
        break;
    }
    err->upstream = (int)resp->status;
    return -1;
}

/*
 * Cloudflare says what a reply means in its body (zp_cf_classify), so
 * every reply of the record steps is judged here.
 */
static int cf_refused(const void *p, const struct zp_prov_call *call, enum zp_pr_step step,
                      const struct zp_pr_target *t, const char *doing,
                      const struct zp_http_resp *resp, struct zp_err *err)
{
    cJSON *root = cJSON_ParseWithLength(zp_buf_str(&resp->body), resp->body.len);
    int code;
    enum zp_cf_outcome o = zp_cf_classify(resp->status, root, &code); /* not JSON: never OK */

    cJSON_Delete(root);
    /* Gone between the list and the delete: another cleanup got there first. */
    if (o == ZP_CF_OK || (step == ZP_PR_DELETE && (o == ZP_CF_GONE || o == ZP_CF_NOTFOUND)))
        return 0;
    if (step == ZP_PR_CREATE && o == ZP_CF_EXISTS)
        return 1;
    return cf_fail(p, call, step, t, doing, resp, o, code, err);
}

/* ---- the zone and the table ---------------------------------------------------------------- */

static int cf_zone(void *p, const struct zp_record *rec, const struct zp_prov_call *call,
                   struct zp_pr_target *t, struct zp_err *err)
{
    const struct cf_cfg *cfg = p;
    struct zp_pr_req req = {.method = "GET", .token = cf_token(cfg, ZP_PR_ZONE)};
    struct zp_http_resp resp;
    struct zp_buf url;
    const char *setting, *file;
    cJSON *root = NULL;
    enum zp_cf_outcome o;
    int rc = -1, code, n;

    zp_http_resp_init(&resp);
    zp_buf_init(&url, CF_URL_MAX);
    if (zp_pr_target_set(t, &cf_api, rec->zone, rec->fqdn, NULL, err) == -1)
        goto out;
    if (cfg->zone_id != NULL) {
        zp_strlcpy(t->zone_id, cfg->zone_id, sizeof(t->zone_id));
        rc = 0;
        goto out;
    }
    zp_buf_puts(&url, "/zones?name=");
    zp_http_escape(t->zone, &url);
    zp_buf_puts(&url, "&per_page=50");
    req.path = zp_buf_str(&url);
    if (zp_buf_check(&url, "the zone lookup URL", err) == -1 ||
        zp_pr_send(&cf_api, &cfg->conn, call, &req, &resp, err) == -1)
        goto out;
    root = cJSON_ParseWithLength(zp_buf_str(&resp.body), resp.body.len);
    if ((o = zp_cf_classify(resp.status, root, &code)) != ZP_CF_OK) {
        char doing[ZP_DNAME_MAX + 32];
        snprintf(doing, sizeof(doing), "look up zone %s", t->zone);
        cf_fail(cfg, call, ZP_PR_ZONE, t, doing, &resp, o, code, err);
        goto out;
    }
    cf_token_of(cfg, ZP_PR_ZONE, &setting, &file);
    n = zp_cf_pick_zone(root, t->zone, t->zone_id, sizeof(t->zone_id));
    if (n == 0)
        zp_err_set(err, ZP_ENOTFOUND,
                   "Cloudflare: no zone %s is visible to the API token in %s (%s): add the zone "
                   "to that Cloudflare account, give the token Zone > Zone > Read on it, or set "
                   "zoneId",
                   t->zone, setting, file);
    else if (n > 1)
        zp_err_set(err, ZP_ECONFIG,
                   "Cloudflare: %d zones named %s are visible to the API token in %s (%s) (in "
                   "different accounts); set zoneId to the one to write in",
                   n, t->zone, setting, file);
    else if (n < 0)
        zp_err_set(err, ZP_ETRANSIENT, "Cloudflare answered the zone lookup without a list");
    else
        rc = 0;
out:
    cJSON_Delete(root);
    zp_buf_free(&url);
    zp_http_resp_free(&resp);
    return rc;
}

/* Cloudflare answers and is asked with full names. */
static int cf_match(const cJSON *root, const char *rel, const char *fqdn, const char *value,
                    struct zp_pr_ids *ids, int *pages)
{
    return zp_cf_match_page(root, fqdn, value, ids, pages);
}

static const struct zp_pr_ops cf_ops = {
    .api = &cf_api,
    .zone = cf_zone,
    .zones = "/zones/",
    .records = "/dns_records",
    .name_query = "?type=TXT&name.exact=",
    .size_key = "per_page",
    .page_size = CF_PER_PAGE,
    .pages_max = CF_PAGES_MAX,
    .match = cf_match,
    .name_abs = 1,
    .value_key = "content",
    .quote = 1,
    .ttl_key = "ttl",
    .ttl = zp_cf_ttl,
    .created = "result",
    .refused = cf_refused,
};

const struct zp_provider_ops zp_prov_cloudflare = {
    .type = "cloudflare",
    .flags = 0,
    .settings = cf_settings,
    .config_parse = cf_config_parse,
    .config_free = cf_config_free,
    .present = zp_pr_present,
    .cleanup = zp_pr_cleanup,
    .verify = zp_pr_verify,
};
