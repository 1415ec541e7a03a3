/*
 * clouddns.c — the clouddns provider: Google Cloud DNS (REST v1), where the
 * unit of change is a whole RRset.
 *
 * Adding or removing one value is one change holding the set exactly as it
 * was read (deletions) and the set as it must become (additions). Google
 * applies a change atomically and refuses it when the deletions no longer
 * match (412), when an added set already exists (409) or when a deleted
 * set is gone (404): a concurrent writer makes us re-read and try again,
 * never overwrite. Removing the set, then adding it back in a second change
 * (as some clients do) would make every sibling value vanish in between.
 *
 * Values are sent quoted; values read back are reused byte for byte in
 * deletions and compared after unquoting. rrset.h runs the read, the
 * change and the reads again; this file has Google's requests, its token
 * and its sentences. The only mutable state is the access-token cache in
 * gauth.c.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/gauth.h"
#include "providers/provider.h"
#include "providers/rrset.h"
#include "providers/settings.h"

#define CD_ENDPOINT "https://dns.googleapis.com/dns/v1"
#define CD_WHAT "Google Cloud DNS"
/* Cloud DNS allows thousands of API requests a minute per project; stay far below. */
#define CD_RATE 10.0
#define CD_BURST 20.0
#define CD_ATTEMPTS 6   /* read-and-change rounds lost to concurrent writers */
#define CD_PAGES_MAX 50 /* zone-list pages followed */
#define CD_POLL_FIRST_MS 200u
#define CD_POLL_MAX_MS 2000u /* pollInterval's default */
#define CD_REPLY_MAX (1024u * 1024u)

struct cd_cfg {
    const struct zp_rs_ops *rs; /* first: rrset.h runs the calls */
    char *project;
    struct zp_cred key; /* serviceAccountFile or serviceAccountSecretRef; unset: ambient */
    char *managed_zone; /* NULL: found by the zone's DNS name */
    char *endpoint;
    char *token_endpoint; /* NULL: the key file's token_uri */
    char *ca;
    struct zp_gauth *auth; /* the token cache: the only state shared by calls */
    uint64_t poll_max_ms;  /* pollInterval: the longest wait between two polls of a change */
};

/* One present or cleanup (rrset.h: rs.zone is rec->zone without the trailing dot). */
struct cd_op {
    struct zp_rs_op rs; /* rs.quoted: the rrdata, "a" "b" past 255 bytes */
    struct zp_gauth_src src;
    char rate_key[192];
    char *token;          /* a copy of the bearer token; wiped at the end */
    char who[256];        /* the service account, for messages */
    char zone[128];       /* the managed zone's name (not its DNS name), as the API gave it */
    char zone_shown[128]; /* the same, for sentences (zp_prov_text) */
    cJSON *set;           /* the TXT set read; NULL: none at the name */
    char *body;           /* the change the set needs; NULL: none */
    int deletes_only;     /* the change only removes */
    cJSON *reply;         /* the change as Google accepted it; NULL: nothing to wait for */
};

static const struct zp_rs_ops cd_rs;

static const struct zp_setting cd_settings[] = {
    ZP_SET_D(struct cd_cfg, "pollInterval", poll_max_ms, CD_POLL_MAX_MS, ZP_POLL_INTERVAL_MIN_MS,
             ZP_POLL_INTERVAL_MAX_MS),
    ZP_SET_S(struct cd_cfg, "project", project, 1),
    ZP_SET_S(struct cd_cfg, "managedZone", managed_zone, 0),
    ZP_SET_S(struct cd_cfg, "tokenEndpoint", token_endpoint, 0),
    ZP_SET_E(struct cd_cfg, endpoint, ca, CD_ENDPOINT),
    /* Checked now so a wrong file fails at start; read again at every call. */
    ZP_SET_C(struct cd_cfg, "serviceAccount", key, 0),
    ZP_SET_LAST,
};

/* ---- configuration ------------------------------------------------------------------------ */

static void cd_config_free(void *p)
{
    struct cd_cfg *cfg = p;

    if (cfg != NULL)
        zp_gauth_free(cfg->auth);
    zp_settings_free(cd_settings, cfg);
}

/* Whether s is 1..max characters from set. */
static int cd_chars(const char *s, const char *set, size_t max)
{
    size_t n = strlen(s);

    return n > 0 && n <= max && strspn(s, set) == n;
}

static int cd_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct cd_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    const char *zone, *tok;
    struct zp_err kerr = {0};
    int rc = -1;

    if (zp_settings_parse(node, path, cd_settings, cfg, err) == -1)
        goto out;
    zone = cfg->managed_zone;
    tok = cfg->token_endpoint;
    /* Project ids: lower-case letters, digits, hyphens; old ones "example.com:name". */
    if (!cd_chars(cfg->project, "abcdefghijklmnopqrstuvwxyz0123456789-.:", 100)) {
        zp_y_fail(zp_y_get(node, "project"), path, err,
                  "project \"%s\" is not a Google Cloud project id (lower-case letters, digits "
                  "and hyphens, as gcloud projects list shows in PROJECT_ID)",
                  cfg->project);
        goto out;
    }
    if (zone != NULL && !cd_chars(zone, "abcdefghijklmnopqrstuvwxyz0123456789-", 63)) {
        zp_y_fail(zp_y_get(node, "managedZone"), path, err,
                  "managedZone \"%s\" must be the zone's name or numeric id as gcloud dns "
                  "managed-zones list shows in NAME (not its DNS name)",
                  zone);
        goto out;
    }
    if (tok != NULL && strncmp(tok, "https://", 8) != 0 && strncmp(tok, "http://", 7) != 0) {
        zp_y_fail(zp_y_get(node, "tokenEndpoint"), path, err,
                  "tokenEndpoint \"%s\" must start with https://", tok);
        goto out;
    }
    if (cfg->key.file != NULL && zp_gauth_check(cfg->key.file, cfg->key.setting, &kerr) == -1) {
        zp_y_fail(zp_y_get(node, cfg->key.setting), path, err, "%s", kerr.msg);
        goto out;
    }
    if (!zp_cred_set(&cfg->key))
        zp_log(ZP_LOG_INFO, "clouddns uses ambient credentials", ZP_S("provider", path),
               ZP_S("source", "metadata server (GKE Workload Identity)"), ZP_END);
    cfg->auth = zp_gauth_new();
    cfg->rs = &cd_rs;
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    cd_config_free(cfg);
    return rc;
}

/* ---- one API request ---------------------------------------------------------------------- */

/* Google's {"error":{"code","message","errors":[{"reason"}],"status"}}; "" when absent. */
static void cd_error_fields(const cJSON *j, const char **reason, const char **message,
                            const char **status)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(e, "errors");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(errs, 0), "reason");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "status");

    *reason = cJSON_IsString(r) ? r->valuestring : "";
    *message = cJSON_IsString(m) ? m->valuestring : "";
    *status = cJSON_IsString(s) ? s->valuestring : "";
}

/* zp_prov_bearer's hooks: the Google token of op's credentials, cached by cfg->auth. */
static int cd_token_get(void *arg, char **token, struct zp_err *err)
{
    struct cd_op *op = arg;

    return zp_gauth_token(((const struct cd_cfg *)op->rs.cfg)->auth, &op->src,
                          op->rs.call->deadline_ms, token, op->who, sizeof(op->who), err);
}

static void cd_token_drop(void *arg, const char *token)
{
    struct cd_op *op = arg;

    zp_gauth_forget(((const struct cd_cfg *)op->rs.cfg)->auth, token);
}

/*
 * One request to path (below /projects/{project}, already escaped). A 401
 * drops the cached token and tries once more with a new one. Returns 0
 * with *status whenever an answer came; *reply is the parsed body (NULL
 * if it was not JSON, which is an error only for a success).
 */
static int cd_api(struct cd_op *op, const char *method, const char *path, const char *body,
                  long *status, cJSON **reply, struct zp_err *err)
{
    const struct cd_cfg *cfg = op->rs.cfg;
    const struct zp_prov_bearer bearer = {.get = cd_token_get, .drop = cd_token_drop, .arg = op};
    const struct zp_prov_api_conn conn = {.what = CD_WHAT,
                                          .rate_key = op->rate_key,
                                          .rate = CD_RATE,
                                          .burst = CD_BURST,
                                          .base = "",
                                          .ca_file = cfg->ca,
                                          .max_response = CD_REPLY_MAX};
    struct zp_http_resp resp;
    struct zp_buf url;
    int rc = -1;

    *reply = NULL;
    zp_http_resp_init(&resp);
    zp_buf_init(&url, 8192);
    if (zp_buf_printf(&url, "%s/projects/", cfg->endpoint) == -1 ||
        zp_http_escape(cfg->project, &url) == -1 || zp_buf_puts(&url, path) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "the request URL for %s is too long", op->rs.rec->fqdn);
        goto out;
    }
    if (zp_prov_bearer_send(&bearer, &conn, op->rs.call, method, zp_buf_str(&url), body, &op->token,
                            &resp, err) == -1)
        goto out;
    *status = resp.status;
    *reply = cJSON_ParseWithLength(zp_buf_str(&resp.body), resp.body.len);
    if (resp.status / 100 == 2 && *reply == NULL) {
        zp_err_set(err, ZP_ETRANSIENT, "%s answered %s %s with something that is not JSON", CD_WHAT,
                   method, op->rs.rec->fqdn);
        goto out;
    }
    if (resp.status / 100 != 2) {
        const char *const sent[] = {op->token, NULL};
        const char *const f[] = {"method", method, "project", cfg->project, "zone", op->zone, NULL};
        zp_prov_log_reply(resp.status == 409 || resp.status == 412 ? ZP_LOG_INFO : ZP_LOG_WARN,
                          "clouddns request refused", op->rs.call, f, &resp, NULL, sent);
    }
    rc = 0;
out:
    zp_buf_free(&url);
    zp_http_resp_free(&resp);
    return rc;
}

/* Text from a reply fit to quote in a sentence: the bearer token it may echo redacted. */
static const char *cd_shown(const struct cd_op *op, const char *text, char *out, size_t outsz)
{
    const char *const sent[] = {op->token, NULL};

    return zp_prov_text(text, op->rs.call, NULL, sent, out, outsz);
}

/* The permission a 403 names ("Permission 'dns.x.y' denied …"), else ours. */
static void cd_denied_perm(const char *message, const char *ours, char *out, size_t outsz)
{
    const char *p = strstr(message, "Permission '");
    size_t n = p ? strcspn(p + 12, "'") : 0;

    if (p == NULL || n == 0 || n >= outsz ||
        strspn(p + 12, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.") < n) {
        zp_strlcpy(out, ours, outsz);
        return;
    }
    memcpy(out, p + 12, n);
    out[n] = '\0';
}

/*
 * The sentence for a refused request. perm is the IAM permission the
 * request needs; doing says what was attempted.
 */
static int cd_fail(const struct cd_op *op, long status, const cJSON *reply, const char *perm,
                   const char *doing, struct zp_err *err)
{
    const struct cd_cfg *cfg = op->rs.cfg;
    const char *raw_reason, *message, *raw_status;
    const char *zone = op->zone_shown[0] ? op->zone_shown : "(not yet known)";
    char denied[128], reason[128], gstatus[128];

    cd_error_fields(reply, &raw_reason, &message, &raw_status);
    cd_shown(op, raw_reason, reason, sizeof(reason));
    cd_shown(op, raw_status, gstatus, sizeof(gstatus));
    if (status == 401)
        zp_err_set(err, ZP_EAUTH,
                   "%s rejected the access token of service account %s even when new; check that "
                   "the account and its key in %s are enabled",
                   CD_WHAT, op->who, cfg->key.setting ? cfg->key.setting : "serviceAccountFile");
    else if (status == 403 && (strcmp(reason, "accessNotConfigured") == 0 ||
                               strstr(message, "has not been used") != NULL ||
                               strstr(message, "is disabled") != NULL))
        zp_err_set(err, ZP_ECONFIG,
                   "the Cloud DNS API is not enabled in project %s; enable it (gcloud services "
                   "enable dns.googleapis.com --project %s)",
                   cfg->project, cfg->project);
    else if (status == 403 && strcmp(reason, "quotaExceeded") == 0)
        zp_err_set(err, ZP_EINVAL,
                   "%s refused %s: a quota of project %s is exhausted (values per record set or "
                   "changes per zone); remove stale _acme-challenge values or raise the quota",
                   CD_WHAT, doing, cfg->project);
    else if ((status == 403 || status == 429) && strstr(reason, "ateLimitExceeded") != NULL)
        zp_err_set(err, ZP_ERATELIMIT,
                   "rate limited by %s (project %s's request quota); retry after 60 s", CD_WHAT,
                   cfg->project);
    else if (status == 403) {
        cd_denied_perm(message, perm, denied, sizeof(denied));
        zp_err_set(err, ZP_EPERM,
                   "service account %s lacks permission %s in project %s (managed zone %s) to %s; "
                   "grant it roles/dns.admin on the zone or a role with the permissions listed in "
                   "docs/providers/clouddns.md",
                   op->who, denied, cfg->project, zone, doing);
    } else if (status == 404 && strstr(message, "parameters.project") != NULL)
        zp_err_set(err, ZP_ENOTFOUND,
                   "project %s does not exist or service account %s cannot see it; check project",
                   cfg->project, op->who);
    else if (status == 404)
        zp_err_set(err, ZP_ENOTFOUND, "managed zone %s does not exist in project %s; %s", zone,
                   cfg->project,
                   cfg->managed_zone ? "check managedZone (the zone's NAME in gcloud dns "
                                       "managed-zones list)"
                                     : "it was deleted while in use, retry");
    else if (status == 400)
        zp_err_set(err, ZP_EINVAL, "%s refused %s as invalid (%s); the log has its message",
                   CD_WHAT, doing, reason[0] ? reason : "no reason given");
    else if (status >= 500)
        zp_err_set(err, ZP_ETRANSIENT,
                   "%s answered HTTP %ld%s%s to %s; it is having trouble, retry later", CD_WHAT,
                   status, gstatus[0] ? " " : "", gstatus, doing);
    else
        zp_err_set(err, ZP_ETRANSIENT, "%s answered HTTP %ld%s%s to %s, which it should not",
                   CD_WHAT, status, reason[0] ? " " : "", reason, doing);
    err->upstream = (int)status;
    return -1;
}

/* ---- zone and record set ------------------------------------------------------------------ */

/* The managed zone's name: managedZone, else the public zone whose dnsName is rec->zone. */
static int cd_zone(struct cd_op *op, struct zp_err *err)
{
    const struct cd_cfg *cfg = op->rs.cfg;
    const char *zone = op->rs.rec->zone;
    struct zp_buf path;
    char private_zone[128] = "", *page = NULL;
    cJSON *reply = NULL;
    long status = 0;
    int rc = -1;

    if (cfg->managed_zone != NULL) {
        zp_strlcpy(op->zone, cfg->managed_zone, sizeof(op->zone));
        zp_strlcpy(op->zone_shown, cfg->managed_zone, sizeof(op->zone_shown));
        return 0;
    }
    zp_buf_init(&path, 4096);
    for (int pages = 0; pages < CD_PAGES_MAX; pages++) {
        const cJSON *z, *next;

        zp_buf_reset(&path);
        zp_buf_puts(&path, "/managedZones?dnsName=");
        zp_http_escape(zone, &path);
        if (page != NULL) {
            zp_buf_puts(&path, "&pageToken=");
            zp_http_escape(page, &path);
        }
        if (zp_buf_check(&path, "the managed zone list URL", err) == -1 ||
            cd_api(op, "GET", zp_buf_str(&path), NULL, &status, &reply, err) == -1)
            goto out;
        if (status != 200) {
            cd_fail(op, status, reply, "dns.managedZones.list", "list the managed zones", err);
            goto out;
        }
        cJSON_ArrayForEach(z, cJSON_GetObjectItemCaseSensitive(reply, "managedZones"))
        {
            const cJSON *dn = cJSON_GetObjectItemCaseSensitive(z, "dnsName");
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(z, "name");
            const cJSON *vis = cJSON_GetObjectItemCaseSensitive(z, "visibility");

            if (!cJSON_IsString(dn) || !cJSON_IsString(nm) || strcasecmp(dn->valuestring, zone))
                continue;
            if (cJSON_IsString(vis) && strcmp(vis->valuestring, "public") != 0) {
                if (private_zone[0] == '\0')
                    cd_shown(op, nm->valuestring, private_zone, sizeof(private_zone));
                continue;
            }
            zp_strlcpy(op->zone, nm->valuestring, sizeof(op->zone));
            cd_shown(op, nm->valuestring, op->zone_shown, sizeof(op->zone_shown));
            rc = 0;
            goto out;
        }
        next = cJSON_GetObjectItemCaseSensitive(reply, "nextPageToken");
        free(page);
        page = cJSON_IsString(next) && next->valuestring[0] ? zp_xstrdup(next->valuestring) : NULL;
        cJSON_Delete(reply);
        reply = NULL;
        if (page == NULL)
            break;
    }
    if (private_zone[0])
        zp_err_set(err, ZP_ENOTFOUND,
                   "project %s has only a private managed zone (%s) for %s, which ACME servers "
                   "cannot see; create a public zone, or set managedZone: %s to write there "
                   "anyway",
                   cfg->project, private_zone, zone, private_zone);
    else
        zp_err_set(err, ZP_ENOTFOUND,
                   "no managed zone for %s in project %s (service account %s); create it, fix "
                   "project, or set managedZone",
                   zone, cfg->project, op->who);
out:
    free(page);
    cJSON_Delete(reply);
    zp_buf_free(&path);
    return rc;
}

/* Whether set holds value (compared unquoted); *rest receives the other rrdatas. */
static int cd_has(const cJSON *set, const char *value, cJSON *rest)
{
    const cJSON *d;
    int has = 0;

    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(set, "rrdatas"))
    {
        if (cJSON_IsString(d) && zp_txt_equal(d->valuestring, value))
            has = 1;
        else
            cJSON_AddItemToArray(rest, cJSON_Duplicate(d, 1));
    }
    return has;
}

/*
 * Whether op->set holds the value (rs.has) and, when the set must change,
 * the change that moves it to what op wants, as JSON in op->body.
 */
static void cd_plan(struct cd_op *op)
{
    const cJSON *set = op->set;
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(set, "ttl");
    cJSON *rest = cJSON_CreateArray(), *body = NULL, *add = NULL;

    op->rs.has = cd_has(set, op->rs.rec->value, rest);
    if (op->rs.verify || op->rs.has != op->rs.del)
        goto out;
    body = cJSON_CreateObject();
    if (!op->rs.del)
        cJSON_AddItemToArray(rest, cJSON_CreateString(zp_buf_str(&op->rs.quoted)));
    if (cJSON_GetArraySize(rest) > 0) {
        add = cJSON_CreateObject();
        /* The member cd_read matched, by exact case: {"NAME":1,"name":…} has two. */
        cJSON_AddStringToObject(add, "name",
                                set ? cJSON_GetObjectItemCaseSensitive(set, "name")->valuestring
                                    : op->rs.rec->fqdn);
        cJSON_AddStringToObject(add, "type", "TXT");
        cJSON_AddNumberToObject(add, "ttl",
                                cJSON_IsNumber(ttl) ? ttl->valuedouble : op->rs.rec->ttl);
        cJSON_AddItemToObject(add, "rrdatas", rest);
        rest = NULL;
        cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "additions"), add);
    }
    /* The set exactly as read: Google applies the change only if it is still so. */
    if (set != NULL)
        cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "deletions"), cJSON_Duplicate(set, 1));
    op->deletes_only = add == NULL;
    op->body = cJSON_PrintUnformatted(body);
out:
    cJSON_Delete(rest);
    cJSON_Delete(body);
}

/* The TXT set at rec->fqdn as Google returned it (op->set NULL when there is none), planned. */
static int cd_read(struct zp_rs_op *rs, struct zp_err *err)
{
    struct cd_op *op = (struct cd_op *)rs;
    struct zp_buf path;
    cJSON *reply = NULL;
    const cJSON *rr;
    long status = 0;
    int rc = -1;

    cJSON_Delete(op->set);
    op->set = NULL;
    free(op->body);
    op->body = NULL;
    zp_buf_init(&path, 4096);
    zp_buf_puts(&path, "/managedZones/");
    zp_http_escape(op->zone, &path);
    zp_buf_puts(&path, "/rrsets?type=TXT&name=");
    zp_http_escape(rs->rec->fqdn, &path);
    if (zp_buf_check(&path, "the TXT set URL", err) == -1 ||
        cd_api(op, "GET", zp_buf_str(&path), NULL, &status, &reply, err) == -1)
        goto out;
    if (status != 200) {
        cd_fail(op, status, reply, "dns.resourceRecordSets.list", "read the TXT set", err);
        goto out;
    }
    cJSON_ArrayForEach(rr, cJSON_GetObjectItemCaseSensitive(reply, "rrsets"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(rr, "name");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(rr, "type");

        if (!cJSON_IsString(name) || !cJSON_IsString(type) ||
            strcasecmp(name->valuestring, rs->rec->fqdn) != 0 || strcmp(type->valuestring, "TXT"))
            continue;
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(rr, "rrdatas"))) {
            zp_err_set(err, ZP_EINVAL,
                       "the TXT set at %s in managed zone %s uses a routing policy; zoneproof "
                       "does not change such sets, remove the policy or use another name",
                       rs->rec->fqdn, op->zone_shown);
            goto out;
        }
        op->set = cJSON_Duplicate(rr, 1);
        break;
    }
    cd_plan(op);
    rc = 0;
out:
    cJSON_Delete(reply);
    zp_buf_free(&path);
    return rc;
}

/* ---- the change --------------------------------------------------------------------------- */

/* The rrdata for value: character-strings of at most 255 bytes, "a" "b". */
static int cd_quote(const char *value, struct zp_buf *q)
{
    size_t n = strlen(value);

    zp_buf_reset(q);
    for (size_t off = 0; off == 0 || off < n; off += 255) {
        char part[256];
        size_t len = n - off > 255 ? 255 : n - off;

        memcpy(part, value + off, len);
        part[len] = '\0';
        if (off > 0)
            zp_buf_puts(q, " ");
        zp_txt_quote(part, q);
    }
    return zp_buf_ok(q) ? 0 : -1;
}

/*
 * What every call does before its first read of the set: the rrdata, the
 * token source, the ambient-credentials rule, and the managed zone.
 */
static int cd_begin(struct zp_rs_op *rs, struct zp_err *err)
{
    struct cd_op *op = (struct cd_op *)rs;
    const struct cd_cfg *cfg = rs->cfg;

    snprintf(rs->zone, sizeof(rs->zone), "%.*s", (int)strlen(rs->rec->zone) - 1, rs->rec->zone);
    /* rs.quoted is one character-string: a longer value goes as several. */
    if (!rs->del && strlen(rs->rec->value) > 255 && cd_quote(rs->rec->value, &rs->quoted) == -1)
        return zp_err_set(err, ZP_EINVAL, "the TXT value for %s is too long", rs->rec->fqdn);
    snprintf(op->rate_key, sizeof(op->rate_key), "clouddns:%s", rs->call->instance);
    op->src = (struct zp_gauth_src){.cred = &cfg->key,
                                    .call = rs->call,
                                    .setting = cfg->key.setting,
                                    .token_endpoint = cfg->token_endpoint,
                                    .scope = ZP_GAUTH_SCOPE_DNS,
                                    .ca_file = cfg->ca,
                                    .rate_key = op->rate_key,
                                    .rate = CD_RATE,
                                    .burst = CD_BURST};
    zp_strlcpy(op->who, "(unknown)", sizeof(op->who));
    /* No key file: the pod's own identity, which only the request can allow. */
    if (!zp_cred_set(&cfg->key) && !rs->call->allow_ambient)
        return zp_err_set(err, ZP_ECONFIG,
                          "clouddns instance %s has no serviceAccountFile or "
                          "serviceAccountSecretRef and the Issuer does not allow ambient "
                          "credentials: set serviceAccountFile or serviceAccountSecretRef, or use "
                          "a ClusterIssuer (cert-manager allows ambient credentials for "
                          "ClusterIssuers by default) or start cert-manager with "
                          "--issuer-ambient-credentials",
                          rs->call->instance ? rs->call->instance : "(unnamed)");
    return cd_zone(op, err);
}

/* The change planned: 404, 409 and 412 say the set is no longer as it was read. */
static int cd_write(struct zp_rs_op *rs, struct zp_err *err)
{
    struct cd_op *op = (struct cd_op *)rs;
    struct zp_buf path;
    long status = 0;
    int rc = -1;

    cJSON_Delete(op->reply);
    op->reply = NULL;
    zp_buf_init(&path, 4096);
    zp_buf_puts(&path, "/managedZones/");
    zp_http_escape(op->zone, &path);
    zp_buf_puts(&path, "/changes");
    if (zp_buf_check(&path, "the change URL", err) == -1 ||
        cd_api(op, "POST", zp_buf_str(&path), op->body, &status, &op->reply, err) == -1)
        goto out;
    if (status == 404 && op->deletes_only) {
        /* The set we deleted is gone already: so is our value, and there is nothing to wait for. */
        cJSON_Delete(op->reply);
        op->reply = NULL;
        rs->how = "none (the set was gone)";
        rc = 0;
    } else if (status == 200 || status == 201)
        rc = 0;
    else if (status == 404 || status == 409 || status == 412)
        rc = 1;
    else
        cd_fail(op, status, op->reply, "dns.changes.create",
                rs->del ? "remove the value from the TXT set" : "add the value to the TXT set",
                err);
out:
    zp_buf_free(&path);
    return rc;
}

/* Waits until Google reports the change done (it was sent to the nameservers). */
static int cd_wait_done(struct zp_rs_op *rs, struct zp_err *err)
{
    struct cd_op *op = (struct cd_op *)rs;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(op->reply, "id");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(op->reply, "status");
    uint64_t cap = ((const struct cd_cfg *)rs->cfg)->poll_max_ms;
    uint64_t wait = CD_POLL_FIRST_MS < cap ? CD_POLL_FIRST_MS : cap;
    struct zp_buf path;
    cJSON *reply = NULL;
    long status = 0;
    int rc = -1, polls = 0;

    if (op->reply == NULL || (cJSON_IsString(st) && strcmp(st->valuestring, "done") == 0))
        return 0;
    zp_buf_init(&path, 4096);
    if (!cJSON_IsString(id)) {
        zp_err_set(err, ZP_ETRANSIENT, "%s accepted the change of TXT at %s without a change id",
                   CD_WHAT, rs->rec->fqdn);
        goto out;
    }
    zp_buf_puts(&path, "/managedZones/");
    zp_http_escape(op->zone, &path);
    zp_buf_puts(&path, "/changes/");
    zp_http_escape(id->valuestring, &path);
    if (zp_buf_check(&path, "the change status URL", err) == -1)
        goto out;
    for (;;) {
        uint64_t left = zp_ms_left(rs->call->deadline_ms);

        if (left <= wait) {
            zp_err_set(err, ZP_ETIMEOUT,
                       "%s accepted the change of TXT at %s in managed zone %s but did not report "
                       "it done before the deadline; it applies it anyway, retry to check",
                       CD_WHAT, rs->rec->fqdn, op->zone_shown);
            goto out;
        }
        zp_sleep_ms(wait);
        wait = wait * 2 > cap ? cap : wait * 2;
        cJSON_Delete(reply);
        if (cd_api(op, "GET", zp_buf_str(&path), NULL, &status, &reply, err) == -1)
            goto out;
        if (status != 200) {
            cd_fail(op, status, reply, "dns.changes.get", "read the change's status", err);
            goto out;
        }
        polls++;
        st = cJSON_GetObjectItemCaseSensitive(reply, "status");
        if (cJSON_IsString(st) && strcmp(st->valuestring, "done") == 0)
            break;
    }
    zp_log(ZP_LOG_DEBUG, "clouddns change done", ZP_S("instance", rs->call->instance),
           ZP_S("change", id->valuestring), ZP_I("polls", polls), ZP_END);
    rc = 0;
out:
    cJSON_Delete(reply);
    zp_buf_free(&path);
    return rc;
}

static int cd_raced(struct zp_rs_op *rs, struct zp_err *err)
{
    return zp_err_set(err, ZP_ETRANSIENT,
                      "the TXT set at %s in managed zone %s changed between each read and "
                      "change, %d times; another client writes the same name, retry later",
                      rs->rec->fqdn, ((const struct cd_op *)rs)->zone_shown, CD_ATTEMPTS);
}

static void cd_end(struct zp_rs_op *rs)
{
    struct cd_op *op = (struct cd_op *)rs;

    zp_free_secret(op->token);
    cJSON_Delete(op->set);
    free(op->body);
    cJSON_Delete(op->reply);
}

static const struct zp_rs_ops cd_rs = {
    .type = "clouddns",
    .what = CD_WHAT,
    .zone_word = "zone",
    .op_size = sizeof(struct cd_op),
    .attempts = CD_ATTEMPTS,
    .begin = cd_begin,
    .read = cd_read,
    .write = cd_write,
    .raced = cd_raced,
    .settle = cd_wait_done,
    .end = cd_end,
};

const struct zp_provider_ops zp_prov_clouddns = {
    .type = "clouddns",
    .flags = ZP_PROV_RMW,
    .settings = cd_settings,
    .config_parse = cd_config_parse,
    .config_free = cd_config_free,
    .present = zp_rs_present,
    .cleanup = zp_rs_cleanup,
    .verify = zp_rs_verify,
};
