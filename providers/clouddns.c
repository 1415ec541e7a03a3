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
 * deletions and compared after unquoting. The only mutable state is the
 * access-token cache in gauth.c.
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
    char *project;
    struct zp_cred key; /* serviceAccountFile or serviceAccountSecretRef; unset: ambient */
    char *managed_zone; /* NULL: found by the zone's DNS name */
    char *endpoint;
    char *token_endpoint; /* NULL: the key file's token_uri */
    char *ca;
    struct zp_gauth *auth; /* the token cache: the only state shared by calls */
    uint64_t poll_max_ms;  /* pollInterval: the longest wait between two polls of a change */
};

/* One present or cleanup. */
struct cd_op {
    const struct cd_cfg *cfg;
    const struct zp_record *rec;
    const struct zp_prov_call *call;
    struct zp_gauth_src src;
    char rate_key[192];
    char *token;          /* a copy of the bearer token; wiped at the end */
    char who[256];        /* the service account, for messages */
    char zone[128];       /* the managed zone's name (not its DNS name), as the API gave it */
    char zone_shown[128]; /* the same, for sentences (zp_prov_text) */
    struct zp_buf quoted; /* rec->value as rrdata, "a" "b" (Present only) */
    int del;
};

static const char *const cd_keys[] = {
    "project",       ZP_CRED_KEYS("serviceAccount"),
    "managedZone",   "endpoint",
    "tokenEndpoint", "caFile",
    "pollInterval",  NULL,
};

/* ---- configuration ------------------------------------------------------------------------ */

static void cd_config_free(void *p)
{
    struct cd_cfg *cfg = p;

    if (cfg == NULL)
        return;
    free(cfg->project);
    zp_cred_free(&cfg->key);
    free(cfg->managed_zone);
    free(cfg->endpoint);
    free(cfg->token_endpoint);
    free(cfg->ca);
    zp_gauth_free(cfg->auth);
    free(cfg);
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
    const char *project = NULL, *zone = NULL, *tok = NULL;
    struct zp_err kerr = {0};
    int rc = -1;

    cfg->poll_max_ms = CD_POLL_MAX_MS;
    if (zp_y_duration(node, path, "pollInterval", 0, ZP_POLL_INTERVAL_MIN_MS,
                      ZP_POLL_INTERVAL_MAX_MS, &cfg->poll_max_ms, err) == -1 ||
        zp_y_str(node, path, "project", 1, &project, err) == -1 ||
        zp_y_str(node, path, "managedZone", 0, &zone, err) == -1 ||
        zp_y_str(node, path, "tokenEndpoint", 0, &tok, err) == -1 ||
        zp_endpoint_parse(node, path, CD_ENDPOINT, &cfg->endpoint, &cfg->ca, err) == -1)
        goto out;
    /* Project ids: lower-case letters, digits, hyphens; old ones "example.com:name". */
    if (!cd_chars(project, "abcdefghijklmnopqrstuvwxyz0123456789-.:", 100)) {
        zp_y_fail(zp_y_get(node, "project"), path, err,
                  "project \"%s\" is not a Google Cloud project id (lower-case letters, digits "
                  "and hyphens, as gcloud projects list shows in PROJECT_ID)",
                  project);
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
    /* Checked now so a wrong file fails at start; read again at every call. */
    if (zp_cred_parse(node, path, "serviceAccount", 0, &cfg->key, err) == -1)
        goto out;
    if (cfg->key.file != NULL && zp_gauth_check(cfg->key.file, cfg->key.setting, &kerr) == -1) {
        zp_y_fail(zp_y_get(node, cfg->key.setting), path, err, "%s", kerr.msg);
        goto out;
    }
    cfg->project = zp_xstrdup(project);
    if (!zp_cred_set(&cfg->key))
        zp_log(ZP_LOG_INFO, "clouddns uses ambient credentials", ZP_S("provider", path),
               ZP_S("source", "metadata server (GKE Workload Identity)"), ZP_END);
    cfg->managed_zone = zone ? zp_xstrdup(zone) : NULL;
    cfg->token_endpoint = tok ? zp_xstrdup(tok) : NULL;
    cfg->auth = zp_gauth_new();
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

    return zp_gauth_token(op->cfg->auth, &op->src, op->call->deadline_ms, token, op->who,
                          sizeof(op->who), err);
}

static void cd_token_drop(void *arg, const char *token)
{
    struct cd_op *op = arg;

    zp_gauth_forget(op->cfg->auth, token);
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
    const struct cd_cfg *cfg = op->cfg;
    const struct zp_prov_bearer bearer = {.get = cd_token_get,
                                          .drop = cd_token_drop,
                                          .arg = op,
                                          .rate_key = op->rate_key,
                                          .rate = CD_RATE,
                                          .burst = CD_BURST};
    const char *hdrs[] = {"Accept: application/json",
                          body ? "Content-Type: application/json" : NULL, NULL};
    struct zp_http_req req = {.method = method,
                              .headers = hdrs,
                              .body = body,
                              .body_len = body ? strlen(body) : 0,
                              .deadline_ms = op->call->deadline_ms,
                              .max_response = CD_REPLY_MAX,
                              .ca_file = cfg->ca,
                              .what = CD_WHAT};
    struct zp_http_resp resp;
    struct zp_buf url;
    int rc = -1;

    *reply = NULL;
    zp_http_resp_init(&resp);
    zp_buf_init(&url, 8192);
    if (zp_buf_printf(&url, "%s/projects/", cfg->endpoint) == -1 ||
        zp_http_escape(cfg->project, &url) == -1 || zp_buf_puts(&url, path) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "the request URL for %s is too long", op->rec->fqdn);
        goto out;
    }
    req.url = url.data;
    if (zp_prov_bearer_call(&bearer, &req, &op->token, &resp, err) == -1)
        goto out;
    *status = resp.status;
    *reply = cJSON_ParseWithLength(zp_buf_str(&resp.body), resp.body.len);
    if (resp.status / 100 == 2 && *reply == NULL) {
        zp_err_set(err, ZP_ETRANSIENT, "%s answered %s %s with something that is not JSON", CD_WHAT,
                   method, op->rec->fqdn);
        goto out;
    }
    if (resp.status / 100 != 2) {
        const char *const sent[] = {op->token, NULL};
        const char *const f[] = {"method", method, "project", cfg->project, "zone", op->zone, NULL};
        zp_prov_log_reply(resp.status == 409 || resp.status == 412 ? ZP_LOG_INFO : ZP_LOG_WARN,
                          "clouddns request refused", op->call, f, &resp, NULL, sent);
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

    return zp_prov_text(text, op->call, NULL, sent, out, outsz);
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
    const struct cd_cfg *cfg = op->cfg;
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
    const char *zone = op->rec->zone;
    struct zp_buf path;
    char private_zone[128] = "", *page = NULL;
    cJSON *reply = NULL;
    long status = 0;
    int rc = -1;

    if (op->cfg->managed_zone != NULL) {
        zp_strlcpy(op->zone, op->cfg->managed_zone, sizeof(op->zone));
        zp_strlcpy(op->zone_shown, op->cfg->managed_zone, sizeof(op->zone_shown));
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
                   op->cfg->project, private_zone, zone, private_zone);
    else
        zp_err_set(err, ZP_ENOTFOUND,
                   "no managed zone for %s in project %s (service account %s); create it, fix "
                   "project, or set managedZone",
                   zone, op->cfg->project, op->who);
out:
    free(page);
    cJSON_Delete(reply);
    zp_buf_free(&path);
    return rc;
}

/* The TXT set at rec->fqdn as Google returned it (*set NULL when there is none). */
static int cd_read(struct cd_op *op, cJSON **set, struct zp_err *err)
{
    struct zp_buf path;
    cJSON *reply = NULL;
    const cJSON *rr;
    long status = 0;
    int rc = -1;

    *set = NULL;
    zp_buf_init(&path, 4096);
    zp_buf_puts(&path, "/managedZones/");
    zp_http_escape(op->zone, &path);
    zp_buf_puts(&path, "/rrsets?type=TXT&name=");
    zp_http_escape(op->rec->fqdn, &path);
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
            strcasecmp(name->valuestring, op->rec->fqdn) != 0 || strcmp(type->valuestring, "TXT"))
            continue;
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(rr, "rrdatas"))) {
            zp_err_set(err, ZP_EINVAL,
                       "the TXT set at %s in managed zone %s uses a routing policy; zoneproof "
                       "does not change such sets, remove the policy or use another name",
                       op->rec->fqdn, op->zone_shown);
            goto out;
        }
        *set = cJSON_Duplicate(rr, 1);
        break;
    }
    rc = 0;
out:
    cJSON_Delete(reply);
    zp_buf_free(&path);
    return rc;
}

/* ---- the change --------------------------------------------------------------------------- */

/* Waits until Google reports the change done (it was sent to the nameservers). */
static int cd_wait_done(struct cd_op *op, cJSON *change, struct zp_err *err)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(change, "id");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(change, "status");
    uint64_t cap = op->cfg->poll_max_ms;
    uint64_t wait = CD_POLL_FIRST_MS < cap ? CD_POLL_FIRST_MS : cap;
    struct zp_buf path;
    cJSON *reply = NULL;
    long status = 0;
    int rc = -1, polls = 0;

    if (cJSON_IsString(st) && strcmp(st->valuestring, "done") == 0)
        return 0;
    zp_buf_init(&path, 4096);
    if (!cJSON_IsString(id)) {
        zp_err_set(err, ZP_ETRANSIENT, "%s accepted the change of TXT at %s without a change id",
                   CD_WHAT, op->rec->fqdn);
        goto out;
    }
    zp_buf_puts(&path, "/managedZones/");
    zp_http_escape(op->zone, &path);
    zp_buf_puts(&path, "/changes/");
    zp_http_escape(id->valuestring, &path);
    if (zp_buf_check(&path, "the change status URL", err) == -1)
        goto out;
    for (;;) {
        uint64_t left = zp_ms_left(op->call->deadline_ms);

        if (left <= wait) {
            zp_err_set(err, ZP_ETIMEOUT,
                       "%s accepted the change of TXT at %s in managed zone %s but did not report "
                       "it done before the deadline; it applies it anyway, retry to check",
                       CD_WHAT, op->rec->fqdn, op->zone_shown);
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
    zp_log(ZP_LOG_DEBUG, "clouddns change done", ZP_S("instance", op->call->instance),
           ZP_S("change", id->valuestring), ZP_I("polls", polls), ZP_END);
    rc = 0;
out:
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

/* The quoted rrdata for value: character-strings of at most 255 bytes, "a" "b". */
static int cd_quote(const char *value, struct zp_buf *q)
{
    size_t n = strlen(value);

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
 * The change that moves set to what op wants, as JSON; NULL when nothing
 * is to be done. *deletes_only tells a change that only removes.
 */
static char *cd_plan(const struct cd_op *op, const cJSON *set, int *deletes_only)
{
    cJSON *rest = cJSON_CreateArray(), *body = NULL, *add = NULL;
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(set, "ttl");
    char *out = NULL;
    int has = set ? cd_has(set, op->rec->value, rest) : 0;

    *deletes_only = 0;
    if (has != op->del)
        goto out;
    body = cJSON_CreateObject();
    if (!op->del)
        cJSON_AddItemToArray(rest, cJSON_CreateString(zp_buf_str(&op->quoted)));
    if (cJSON_GetArraySize(rest) > 0) {
        add = cJSON_CreateObject();
        /* The member cd_read matched, by exact case: {"NAME":1,"name":…} has two. */
        cJSON_AddStringToObject(add, "name",
                                set ? cJSON_GetObjectItemCaseSensitive(set, "name")->valuestring
                                    : op->rec->fqdn);
        cJSON_AddStringToObject(add, "type", "TXT");
        cJSON_AddNumberToObject(add, "ttl", cJSON_IsNumber(ttl) ? ttl->valuedouble : op->rec->ttl);
        cJSON_AddItemToObject(add, "rrdatas", rest);
        rest = NULL;
        cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "additions"), add);
    }
    /* The set exactly as read: Google applies the change only if it is still so. */
    if (set != NULL)
        cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "deletions"), cJSON_Duplicate(set, 1));
    *deletes_only = add == NULL;
    out = cJSON_PrintUnformatted(body);
out:
    cJSON_Delete(rest);
    cJSON_Delete(body);
    return out;
}

/*
 * What every call does before its first read of the set: the token source,
 * the ambient-credentials rule, and the managed zone.
 */
static int cd_begin(struct cd_op *op, struct zp_err *err)
{
    const struct cd_cfg *cfg = op->cfg;

    snprintf(op->rate_key, sizeof(op->rate_key), "clouddns:%s", op->call->instance);
    op->src = (struct zp_gauth_src){.cred = &cfg->key,
                                    .call = op->call,
                                    .setting = cfg->key.setting,
                                    .token_endpoint = cfg->token_endpoint,
                                    .scope = ZP_GAUTH_SCOPE_DNS,
                                    .ca_file = cfg->ca,
                                    .rate_key = op->rate_key,
                                    .rate = CD_RATE,
                                    .burst = CD_BURST};
    zp_strlcpy(op->who, "(unknown)", sizeof(op->who));
    /* No key file: the pod's own identity, which only the request can allow. */
    if (!zp_cred_set(&cfg->key) && !op->call->allow_ambient)
        return zp_err_set(err, ZP_ECONFIG,
                          "clouddns instance %s has no serviceAccountFile or "
                          "serviceAccountSecretRef and the Issuer does not allow ambient "
                          "credentials: set serviceAccountFile or serviceAccountSecretRef, or use "
                          "a ClusterIssuer (cert-manager allows ambient credentials for "
                          "ClusterIssuers by default) or start cert-manager with "
                          "--issuer-ambient-credentials",
                          op->call->instance ? op->call->instance : "(unnamed)");
    return cd_zone(op, err);
}

static int cd_update(void *p, const struct zp_record *rec, const struct zp_prov_call *call, int del,
                     struct zp_err *err)
{
    const struct cd_cfg *cfg = p;
    struct cd_op op = {.cfg = cfg, .rec = rec, .call = call, .del = del};
    const char *action = del ? "remove the value from the TXT set" : "add the value to the TXT set";
    struct zp_buf path;
    cJSON *set = NULL, *reply = NULL;
    char *body = NULL;
    long status = 0;
    int rc = -1, deletes_only = 0, attempt;

    zp_buf_init(&path, 4096);
    zp_buf_init(&op.quoted, 1024);
    if (!del && cd_quote(rec->value, &op.quoted) == -1) {
        zp_err_set(err, ZP_EINVAL, "the TXT value for %s is too long", rec->fqdn);
        goto out;
    }
    if (cd_begin(&op, err) == -1)
        goto out;
    zp_buf_puts(&path, "/managedZones/");
    zp_http_escape(op.zone, &path);
    zp_buf_puts(&path, "/changes");
    if (zp_buf_check(&path, "the change URL", err) == -1)
        goto out;
    for (attempt = 1;; attempt++) {
        cJSON_Delete(set);
        cJSON_Delete(reply);
        reply = NULL;
        free(body);
        body = NULL; /* a failed re-read goes to out, which frees it */
        if (cd_read(&op, &set, err) == -1)
            goto out;
        if ((body = cd_plan(&op, set, &deletes_only)) == NULL) {
            zp_log(ZP_LOG_INFO, del ? "clouddns value already absent" : "clouddns value present",
                   ZP_S("instance", call->instance), ZP_S("zone", op.zone), ZP_S("fqdn", rec->fqdn),
                   ZP_S("value", rec->value), ZP_END);
            rc = 0;
            goto out;
        }
        if (cd_api(&op, "POST", zp_buf_str(&path), body, &status, &reply, err) == -1)
            goto out;
        if (status == 200 || status == 201)
            break;
        /* The set we deleted is gone already: so is our value. */
        if (status == 404 && deletes_only) {
            rc = 0;
            goto out;
        }
        if (status != 404 && status != 409 && status != 412) {
            cd_fail(&op, status, reply, "dns.changes.create", action, err);
            goto out;
        }
        /* Someone changed the set between our read and our change: read it again. */
        if (attempt >= CD_ATTEMPTS) {
            zp_err_set(err, ZP_ETRANSIENT,
                       "the TXT set at %s in managed zone %s changed between each read and "
                       "change, %d times; another client writes the same name, retry later",
                       rec->fqdn, op.zone_shown, attempt);
            goto out;
        }
    }
    zp_log(ZP_LOG_INFO, "clouddns change", ZP_S("instance", call->instance),
           ZP_S("project", cfg->project), ZP_S("zone", op.zone), ZP_S("fqdn", rec->fqdn),
           ZP_S("value", rec->value), ZP_S("action", del ? "delete" : "add"),
           ZP_I("attempts", attempt), ZP_END);
    rc = cd_wait_done(&op, reply, err);
out:
    if (rc == -1)
        zp_log(ZP_LOG_WARN, "clouddns update failed", ZP_S("instance", call->instance),
               ZP_S("project", cfg->project), ZP_S("fqdn", rec->fqdn), ZP_S("error", err->msg),
               ZP_END);
    zp_free_secret(op.token);
    cJSON_Delete(set);
    cJSON_Delete(reply);
    free(body);
    zp_buf_free(&path);
    zp_buf_free(&op.quoted);
    return rc;
}

static int cd_present(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return cd_update(cfg, rec, call, 0, err);
}

static int cd_cleanup(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return cd_update(cfg, rec, call, 1, err);
}

/* doctor: the reads a Present starts with (the managed zone, the TXT set at the name), no change.
 */
static int cd_verify(void *p, const struct zp_record *rec, const struct zp_prov_call *call,
                     struct zp_err *err)
{
    struct cd_op op = {.cfg = p, .rec = rec, .call = call};
    cJSON *set = NULL;
    int rc = -1;

    if (cd_begin(&op, err) == -1 || cd_read(&op, &set, err) == -1)
        goto out;
    snprintf(err->msg, sizeof(err->msg),
             "the %s credentials can read zone %.*s and the TXT records at %.*s; whether they may "
             "write shows only in a write test",
             CD_WHAT, (int)strlen(rec->zone) - 1, rec->zone, (int)strlen(rec->fqdn) - 1, rec->fqdn);
    rc = 0;
out:
    zp_free_secret(op.token);
    cJSON_Delete(set);
    return rc;
}

const struct zp_provider_ops zp_prov_clouddns = {
    .type = "clouddns",
    .flags = ZP_PROV_RMW,
    .keys = cd_keys,
    .config_parse = cd_config_parse,
    .config_free = cd_config_free,
    .present = cd_present,
    .cleanup = cd_cleanup,
    .verify = cd_verify,
};
