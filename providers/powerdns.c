/*
 * powerdns.c — the powerdns provider: the TXT RRset at the challenge name,
 * changed through the PowerDNS Authoritative HTTP API (/api/v1).
 *
 * PowerDNS 5.1 and later add and remove one record on the server (PATCH
 * changetype EXTEND and PRUNE), so two writers never lose each other's
 * value. Older servers (Debian 12 ships 4.7) only replace a whole RRset:
 * the set is read, changed and written back (REPLACE, or DELETE when ours
 * was the last value) under the solver's per-name lock (ZP_PROV_RMW). The
 * server's version decides, read at every call, so an upgrade of PowerDNS
 * needs no restart here. Either way the set is read first: an existing
 * value means nothing to write, and a set that already exists keeps its
 * TTL (EXTEND refuses records whose TTL differs from the set's). The
 * steps run in the RRset family's order (rrset.h); with no guard on the
 * write, there is one attempt.
 *
 * The read must show what the set holds beside the values DNS serves:
 * disabled records and comments, which a write must carry through
 * (powerdns_rrset.c). Before 5.0 a read of one name leaves disabled records
 * out, so the whole zone is read; a zone too large for that is refused
 * rather than written blind.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/powerdns_int.h"
#include "providers/provider.h"
#include "providers/rrset.h"
#include "providers/settings.h"

#define PD_KEY_MAX 4096 /* an api-key is a few dozen bytes */
#define PD_URL_MAX 2048
#define PD_ZONE_MAX (8u * 1024u * 1024u) /* a whole zone's read, before 5.0 */
#define PD_ZONE_MAX_TEXT "8 MB"
/* Self-hosted, no published limit: a bucket only against a runaway loop. */
#define PD_RATE 20.0
#define PD_BURST 40.0
#define PD_WHAT "PowerDNS"

struct pd_cfg {
    const struct zp_rs_ops *rs; /* first: rrset.h runs the calls */
    char *endpoint;             /* as configured, for messages */
    char *api;                  /* endpoint with /api/v1 */
    char *ca;
    struct zp_cred key; /* apiKeyFile or apiKeySecretRef */
    char *server_id;
    char *zone; /* zone override, canonical; NULL: the record's zone */
};

/* One present, cleanup or verify in flight (rrset.h: rs.zone without the trailing dot). */
struct pd_op {
    struct zp_rs_op rs;
    const char *zone;   /* the zone as the API and the sentences name it, trailing dot */
    struct zp_buf auth; /* "X-API-Key: <key>": a secret, wiped at the end */
    char rl_key[160];
    /* How the API is reached (begin); conn.max_response is the next request's cap. */
    struct zp_prov_api_conn conn;
    char sid_esc[256];      /* serverId, escaped for a path */
    int modern;             /* EXTEND and PRUNE are available */
    int whole;              /* a read of one name hides disabled records: read the whole zone */
    char kind[32];          /* the zone's kind: Native, Master, Slave, … */
    int too_big;            /* the last answer was larger than conn.max_response */
    cJSON *zone_read;       /* the zone read, with what it holds at the name */
    struct zp_pdns_set set; /* the TXT set at the name, borrowed from zone_read */
};

static const struct zp_rs_ops pd_rs;

/* serverId is checked after the table; api is derived from endpoint. */
static const struct zp_setting pd_settings[] = {
    ZP_SET_E(struct pd_cfg, endpoint, ca, ""),
    ZP_SET_C(struct pd_cfg, "apiKey", key, 1),
    ZP_SET_SD(struct pd_cfg, "serverId", server_id, "localhost"),
    ZP_SET_Z(struct pd_cfg, "zone", zone, 0),
    ZP_SET_O(struct pd_cfg, api),
    ZP_SET_LAST,
};

/* ---- configuration ------------------------------------------------------------------------ */

char *zp_pdns_api_url(const char *endpoint)
{
    size_t n = strlen(endpoint);

    /* Accept the webserver's URL, or one that already names the API. */
    if (n >= 7 && strcmp(endpoint + n - 7, "/api/v1") == 0)
        return zp_xstrdup(endpoint);
    if (n >= 4 && strcmp(endpoint + n - 4, "/api") == 0)
        return zp_xasprintf("%s/v1", endpoint);
    return zp_xasprintf("%s/api/v1", endpoint);
}

static void pd_config_free(void *p)
{
    zp_settings_free(pd_settings, p);
}

static int pd_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct pd_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    int rc = -1;

    if (zp_y_get(node, "endpoint") == NULL) {
        zp_y_fail(node, path, err,
                  "endpoint is required: the URL of the PowerDNS webserver that serves the API, "
                  "such as http://127.0.0.1:8081");
        goto out;
    }
    if (zp_settings_parse(node, path, pd_settings, cfg, err) == -1)
        goto out;
    if (*cfg->server_id == '\0' || strpbrk(cfg->server_id, "/?#% ") != NULL) {
        zp_y_fail(zp_y_get(node, "serverId"), path, err,
                  "serverId \"%s\" is not a server id; PowerDNS Authoritative calls itself "
                  "localhost",
                  cfg->server_id);
        goto out;
    }
    cfg->api = zp_pdns_api_url(cfg->endpoint);
    cfg->rs = &pd_rs;
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    pd_config_free(cfg);
    return rc;
}

/* ---- requests ----------------------------------------------------------------------------- */

/* Logs an upstream answer that was not a success; the body never reaches a sentence raw. */
static void pd_log_reply(const struct pd_op *op, const char *what, const struct zp_http_resp *r)
{
    const char *const sent[] = {zp_buf_str(&op->auth), NULL}, *const f[] = {"request", what, NULL};

    zp_prov_log_reply(ZP_LOG_WARN, "powerdns: unexpected answer", op->rs.call, f, r, NULL, sent);
}

/*
 * One exchange with the API; path follows /api/v1. 0 when any HTTP answer
 * arrived. Network failures get the hints PowerDNS's set-up calls for.
 */
static int pd_req(struct pd_op *op, const char *method, const char *path, const char *body,
                  struct zp_http_resp *resp, struct zp_err *err)
{
    struct zp_err e = {0};

    op->too_big = 0;
    if (zp_prov_json_send(&op->conn, op->rs.call, method, path, body, resp, &e) == 0)
        return 0;
    op->too_big = !zp_buf_ok(&resp->body); /* the answer ran past the cap */
    if (e.kind == ZP_ETRANSIENT && !op->too_big)
        return zp_err_set(err, e.kind,
                          "%s; check endpoint (the PowerDNS webserver, webserver-port, default "
                          "8081), that pdns runs with webserver=yes and api=yes, and that "
                          "webserver-allow-from includes this host (PowerDNS closes the connection "
                          "otherwise)",
                          e.msg);
    *err = e;
    return -1;
}

/* PowerDNS's refusals; 404 and 422 are the steps' own. Anything else it answers is transient. */
static const struct zp_prov_refusal pd_refusals[] = {
    {401, 401, NULL, ZP_EAUTH,
     "PowerDNS at {endpoint} rejected the API key in {setting} (401 Unauthorized); it must equal "
     "the api-key setting of that server"},
    {403, 403, NULL, ZP_EPERM,
     "PowerDNS at {endpoint} refused to {doing} (403 Forbidden); PowerDNS itself does not answer "
     "403, so a proxy in front of its API denies it: allow this host there"},
    {500, LONG_MAX, NULL, ZP_ETRANSIENT,
     "PowerDNS at {endpoint} failed to {doing} (HTTP {status}); the server's log says why (often "
     "its database is unreachable)"},
    {1, LONG_MAX, NULL, ZP_ETRANSIENT,
     "PowerDNS at {endpoint} answered HTTP {status} when asked to {doing}"},
    {0},
};

/* The sentence for an answer no step expected. */
static int pd_fail(const struct pd_op *op, const char *what, const struct zp_http_resp *r,
                   struct zp_err *err)
{
    const struct pd_cfg *cfg = op->rs.cfg;
    const char *const vars[] = {"endpoint", cfg->endpoint, "setting", cfg->key.setting,
                                "doing",    what,          NULL};

    pd_log_reply(op, what, r);
    return zp_prov_refuse(pd_refusals, r->status, NULL, vars, err);
}

/* Text from a reply fit to quote in a sentence: the api-key it may echo redacted. */
static const char *pd_shown(const struct pd_op *op, const char *text, char *out, size_t outsz)
{
    const char *const sent[] = {zp_buf_str(&op->auth), NULL};

    return zp_prov_text(text, op->rs.call, NULL, sent, out, outsz);
}

/* The "error" member of a PowerDNS JSON error, cut to fit a sentence; "" when there is none. */
static void pd_api_error(const struct pd_op *op, const struct zp_http_resp *r, char *out,
                         size_t outsz)
{
    cJSON *j = cJSON_ParseWithLength(zp_buf_str(&r->body), r->body.len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");

    pd_shown(op, cJSON_IsString(e) ? e->valuestring : "", out, outsz);
    cJSON_Delete(j);
}

/* ---- the server --------------------------------------------------------------------------- */

/* After a 404 for our server: is it the serverId, or is there no API at endpoint at all? */
static int pd_no_server(struct pd_op *op, struct zp_err *err)
{
    const struct pd_cfg *cfg = op->rs.cfg;
    struct zp_http_resp r;
    struct zp_buf ids;
    cJSON *j = NULL, *it;
    char shown[512];

    zp_http_resp_init(&r);
    zp_buf_init(&ids, 512);
    if (pd_req(op, "GET", "/servers", NULL, &r, err) == -1)
        goto out;
    if (r.status == 200 && (j = cJSON_ParseWithLength(zp_buf_str(&r.body), r.body.len)) != NULL) {
        cJSON_ArrayForEach(it, j)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
            if (cJSON_IsString(id))
                zp_buf_printf(&ids, "%s%s", ids.len ? ", " : "", id->valuestring);
        }
        /* a list too long for the sentence shows its first ids, each whole */
        zp_err_set(err, ZP_ECONFIG,
                   "PowerDNS at %s has no server \"%s\"; set serverId to one it has (%s%s)",
                   cfg->endpoint, cfg->server_id,
                   ids.len ? pd_shown(op, zp_buf_str(&ids), shown, sizeof(shown)) : "none",
                   zp_buf_ok(&ids) ? "" : ", …");
    } else {
        zp_err_set(err, ZP_ECONFIG,
                   "%s does not serve the PowerDNS API (HTTP %ld for %s/servers); point endpoint "
                   "at the PowerDNS webserver and set api=yes in pdns.conf",
                   cfg->endpoint, r.status, cfg->api);
    }
    err->upstream = 404;
out:
    cJSON_Delete(j);
    zp_buf_free(&ids);
    zp_http_resp_free(&r);
    return -1;
}

/* GET /servers/{id}: checks the key and serverId, and learns whether EXTEND/PRUNE exist. */
static int pd_server(struct pd_op *op, struct zp_err *err)
{
    struct zp_http_resp r;
    cJSON *j = NULL;
    const cJSON *type, *ver;
    char *path = zp_xasprintf("/servers/%s", op->sid_esc), shown[64];
    int rc = -1;

    zp_http_resp_init(&r);
    if (pd_req(op, "GET", path, NULL, &r, err) == -1)
        goto out;
    if (r.status == 404) {
        pd_no_server(op, err);
        goto out;
    }
    if (r.status != 200) {
        pd_fail(op, "read the server's description", &r, err);
        goto out;
    }
    if ((j = zp_json_parse(&r.body, PD_WHAT, err)) == NULL)
        goto out;
    type = cJSON_GetObjectItemCaseSensitive(j, "daemon_type");
    ver = cJSON_GetObjectItemCaseSensitive(j, "version");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "authoritative") != 0) {
        zp_err_set(err, ZP_ECONFIG,
                   "%s is a PowerDNS %s, not the Authoritative server; point endpoint at the "
                   "webserver of the pdns_server that holds the zone",
                   ((const struct pd_cfg *)op->rs.cfg)->endpoint,
                   pd_shown(op, type->valuestring, shown, sizeof(shown)));
        goto out;
    }
    op->modern = zp_pdns_version_modern(cJSON_IsString(ver) ? ver->valuestring : NULL);
    op->whole = !zp_pdns_filter_shows_disabled(cJSON_IsString(ver) ? ver->valuestring : NULL);
    rc = 0;
out:
    cJSON_Delete(j);
    zp_http_resp_free(&r);
    free(path);
    return rc;
}

/* ---- the zone and the set ----------------------------------------------------------------- */

static int pd_zone_path(const struct pd_op *op, const char *suffix, struct zp_buf *out)
{
    if (zp_buf_printf(out, "/servers/%s/zones/", op->sid_esc) == -1 ||
        zp_http_escape(op->zone, out) == -1)
        return -1;
    return zp_buf_puts(out, suffix);
}

static int pd_zone_missing(const struct pd_op *op, struct zp_err *err)
{
    const struct pd_cfg *cfg = op->rs.cfg;

    zp_err_set(err, ZP_ENOTFOUND,
               "zone %s not found on PowerDNS server \"%s\" at %s; create it there (pdnsutil "
               "create-zone), or set zone to the zone that holds %s",
               op->zone, cfg->server_id, cfg->endpoint, op->rs.rec->fqdn);
    err->upstream = 404;
    return -1;
}

/* The command line or a hook asks: advice names its flags, not the Issuer's. */
static int pd_cli(const struct pd_op *op)
{
    return op->rs.call != NULL && op->rs.call->cli;
}

/*
 * A CNAME at the name: the challenge was delegated and cert-manager did not
 * follow it. PowerDNS would refuse the TXT ("Conflicts with pre-existing
 * RRset"); say what to change instead.
 */
static int pd_check_cname(const struct pd_op *op, const cJSON *zone, struct zp_err *err)
{
    const struct pd_cfg *cfg = op->rs.cfg;
    const cJSON *rrset;

    cJSON_ArrayForEach(rrset, cJSON_GetObjectItemCaseSensitive(zone, "rrsets"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(rrset, "name");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(rrset, "type");
        const cJSON *rec =
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rrset, "records"), 0);
        const cJSON *target = cJSON_GetObjectItemCaseSensitive(rec, "content");
        char shown[ZP_DNAME_MAX];

        if (!cJSON_IsString(name) || !cJSON_IsString(type) ||
            strcmp(type->valuestring, "CNAME") != 0 ||
            strcasecmp(name->valuestring, op->rs.rec->fqdn) != 0)
            continue;
        pd_shown(op, cJSON_IsString(target) ? target->valuestring : "", shown, sizeof(shown));
        return zp_err_set(err, ZP_ECONFIG,
                          "%s is an alias (CNAME) of %s in zone %s on PowerDNS server \"%s\", "
                          "so it cannot hold TXT records; %s so the value is written at %s, and "
                          "list that name's zone in dnsZones",
                          op->rs.rec->fqdn, shown[0] ? shown : "?", op->zone, cfg->server_id,
                          pd_cli(op) ? "pass --follow-cname (or set followCNAME: true)"
                                     : "set cnameStrategy: Follow on the Issuer's solver",
                          shown[0] ? shown : "the target");
    }
    return 0;
}

/* The whole zone's read ran past its cap: before 5.0 no smaller read shows disabled records. */
static int pd_zone_too_big(const struct pd_op *op, struct zp_err *err)
{
    const struct pd_cfg *cfg = op->rs.cfg;

    return zp_err_set(err, ZP_ECONFIG,
                      "zone %s on PowerDNS server \"%s\" at %s is larger than zoneproof reads "
                      "whole (" PD_ZONE_MAX_TEXT "), and before PowerDNS 5.0 a read of one name "
                      "leaves disabled records out, so nothing was written: a disabled record at "
                      "%s could have been lost; upgrade PowerDNS to 5.0 or later, or move the "
                      "challenge to a smaller zone (a CNAME to it, with %s)",
                      op->zone, cfg->server_id, cfg->endpoint, op->rs.rec->fqdn,
                      pd_cli(op) ? "--follow-cname" : "cnameStrategy: Follow");
}

/* A secondary's copy is overwritten by its primary: refuse to write there. */
static int pd_zone_kind(struct pd_op *op, const cJSON *zone, struct zp_err *err)
{
    const struct pd_cfg *cfg = op->rs.cfg;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(zone, "kind");

    pd_shown(op, cJSON_IsString(kind) ? kind->valuestring : "", op->kind, sizeof(op->kind));
    if (strcasecmp(op->kind, "Slave") == 0 || strcasecmp(op->kind, "Secondary") == 0 ||
        strcasecmp(op->kind, "Consumer") == 0)
        return zp_err_set(err, ZP_ECONFIG,
                          "zone %s on PowerDNS server \"%s\" at %s is a %s zone, copied from its "
                          "primary, which would undo the change; point endpoint at the primary's "
                          "API",
                          op->zone, cfg->server_id, cfg->endpoint, op->kind);
    return 0;
}

/*
 * GET the zone with what it holds at our name, disabled records and
 * comments included: filtered to the name on 5.0+ (include_disabled=true),
 * the whole zone before (a read of one name leaves disabled records out).
 */
static int pd_zone_read(struct pd_op *op, struct zp_err *err)
{
    struct zp_http_resp r;
    struct zp_buf path;
    int rc = -1, got;

    zp_http_resp_init(&r);
    zp_buf_init(&path, PD_URL_MAX);
    if (op->whole ? pd_zone_path(op, "", &path) == -1
                  : pd_zone_path(op, "?rrset_name=", &path) == -1 ||
                        zp_http_escape(op->rs.rec->fqdn, &path) == -1 ||
                        zp_buf_puts(&path, "&include_disabled=true") == -1) {
        zp_err_set(err, ZP_EINTERNAL, "the URL for zone %s is too long", op->zone);
        goto out;
    }
    op->conn.max_response = op->whole ? PD_ZONE_MAX : 0;
    got = pd_req(op, "GET", zp_buf_str(&path), NULL, &r, err);
    op->conn.max_response = 0;
    if (got == -1) {
        if (op->too_big) {
            zp_log(ZP_LOG_WARN, "powerdns: zone too large to read whole",
                   ZP_S("instance", op->rs.call->instance), ZP_S("zone", op->zone),
                   ZP_I("cap_bytes", PD_ZONE_MAX), ZP_S("error", err->msg), ZP_END);
            zp_err_clear(err); /* httpc's sentence says too little: this one says why */
            pd_zone_too_big(op, err);
        }
        goto out;
    }
    if (r.status == 404) {
        pd_log_reply(op, "read the zone", &r);
        pd_zone_missing(op, err);
        goto out;
    }
    if (r.status != 200) {
        pd_fail(op, "read the zone", &r, err);
        goto out;
    }
    if ((op->zone_read = zp_json_parse(&r.body, PD_WHAT, err)) == NULL ||
        pd_zone_kind(op, op->zone_read, err) == -1)
        goto out;
    rc = 0;
out:
    zp_buf_free(&path);
    zp_http_resp_free(&r);
    return rc;
}

/* PATCH /zones/{id} with the rrsets entries given; 204 is success. */
static int pd_patch(struct pd_op *op, cJSON *rrsets, struct zp_err *err)
{
    cJSON *doc = cJSON_CreateObject();
    struct zp_http_resp r;
    struct zp_buf path;
    char *body = NULL, detail[512];
    int rc = -1;

    zp_http_resp_init(&r);
    zp_buf_init(&path, PD_URL_MAX);
    cJSON_AddItemToObject(doc, "rrsets", rrsets);
    body = cJSON_PrintUnformatted(doc);
    if (body == NULL || pd_zone_path(op, "", &path) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the change of TXT at %s", op->rs.rec->fqdn);
        goto out;
    }
    if (pd_req(op, "PATCH", zp_buf_str(&path), body, &r, err) == -1)
        goto out;
    if (r.status == 204 || r.status == 200) {
        rc = 0;
        goto out;
    }
    if (r.status == 404) {
        pd_log_reply(op, "change the zone", &r);
        pd_zone_missing(op, err);
    } else if (r.status == 422 || r.status == 400) {
        pd_log_reply(op, "change the zone", &r);
        pd_api_error(op, &r, detail, sizeof(detail));
        zp_err_set(err, ZP_EINVAL,
                   "PowerDNS at %s refused the change of TXT at %s in zone %s: %s; fix what it "
                   "names in the zone (pdnsutil check-zone shows the zone's problems)",
                   ((const struct pd_cfg *)op->rs.cfg)->endpoint, op->rs.rec->fqdn, op->zone,
                   detail[0] ? detail : "no reason given");
        err->upstream = (int)r.status;
    } else {
        pd_fail(op, "change the zone", &r, err);
    }
out:
    cJSON_free(body);
    cJSON_Delete(doc);
    zp_buf_free(&path);
    zp_http_resp_free(&r);
    return rc;
}

/* A primary's secondaries learn of the change by NOTIFY; a failure here only delays them. */
static void pd_notify(struct pd_op *op)
{
    struct zp_http_resp r;
    struct zp_buf path;
    struct zp_err e = {0};

    if (strcasecmp(op->kind, "Master") != 0 && strcasecmp(op->kind, "Primary") != 0 &&
        strcasecmp(op->kind, "Producer") != 0)
        return;
    zp_http_resp_init(&r);
    zp_buf_init(&path, PD_URL_MAX);
    if (pd_zone_path(op, "/notify", &path) == 0 &&
        pd_req(op, "PUT", zp_buf_str(&path), NULL, &r, &e) == 0 && r.status != 200)
        pd_log_reply(op, "notify the secondaries", &r);
    else if (e.kind != ZP_EOK)
        zp_log(ZP_LOG_WARN,
               "powerdns: notify failed; secondaries learn of the change at their "
               "next refresh",
               ZP_S("instance", op->rs.call->instance), ZP_S("zone", op->zone),
               ZP_S("error", e.msg), ZP_END);
    zp_buf_free(&path);
    zp_http_resp_free(&r);
}

/* ---- the RRset family's steps (rrset.h) ---------------------------------------------------- */

/*
 * What every call starts with: the zone, the api-key and the server (the
 * key and serverId checked, EXTEND/PRUNE learnt).
 */
static int pd_begin(struct zp_rs_op *rs, struct zp_err *err)
{
    struct pd_op *op = (struct pd_op *)rs;
    const struct pd_cfg *cfg = rs->cfg;
    const struct zp_record *rec = rs->rec;
    struct zp_buf key, sid;
    int rc = -1;

    zp_buf_init(&op->auth, PD_KEY_MAX + 32);
    zp_buf_init(&key, PD_KEY_MAX);
    zp_buf_init(&sid, sizeof(op->sid_esc));
    op->zone = cfg->zone ? cfg->zone : rec->zone;
    snprintf(rs->zone, sizeof(rs->zone), "%.*s", (int)strlen(op->zone) - 1, op->zone);
    snprintf(op->rl_key, sizeof(op->rl_key), "powerdns:%s",
             rs->call->instance ? rs->call->instance : "");
    if (!zp_dname_in_zone(rec->fqdn, op->zone)) {
        zp_err_set(err, ZP_ECONFIG, "%s is not inside zone %s; %s", rec->fqdn, op->zone,
                   cfg->zone ? "set zone to the zone that holds it, or remove zone"
                             : zp_prov_zone_unheld(rs->call));
        goto out;
    }
    if (zp_http_escape(cfg->server_id, &sid) == -1) {
        zp_err_set(err, ZP_EINVAL, "serverId or the TXT value for %s is too long", rec->fqdn);
        goto out;
    }
    snprintf(op->sid_esc, sizeof(op->sid_esc), "%s", zp_buf_str(&sid));
    if (zp_cred_read(&cfg->key, rs->call, &key, err) == -1)
        goto out;
    if (strpbrk(key.data, "\r\n") != NULL) {
        zp_err_set(err, ZP_ECONFIG,
                   "%s: %s holds more than one line; it must hold only "
                   "the api-key",
                   cfg->key.setting, cfg->key.where);
        goto out;
    }
    if (zp_buf_printf(&op->auth, "X-API-Key: %s", key.data) == -1) {
        zp_err_set(err, ZP_ECONFIG, "%s: %s is too long for an api-key", cfg->key.setting,
                   cfg->key.where);
        goto out;
    }
    op->conn = (struct zp_prov_api_conn){.what = PD_WHAT,
                                         .rate_key = op->rl_key,
                                         .rate = PD_RATE,
                                         .burst = PD_BURST,
                                         .base = cfg->api,
                                         .ca_file = cfg->ca,
                                         .auth = zp_buf_str(&op->auth)};
    rc = pd_server(op, err);
out:
    zp_buf_free_secret(&key);
    zp_buf_free(&sid);
    return rc;
}

/*
 * The zone at the name, and in it the TXT set. A present also checks for
 * a CNAME there (a cleanup does not). Our value counts as there for an add
 * only when enabled: a disabled copy is enabled by the write.
 */
static int pd_read(struct zp_rs_op *rs, struct zp_err *err)
{
    struct pd_op *op = (struct pd_op *)rs;
    const struct pd_cfg *cfg = rs->cfg;

    cJSON_Delete(op->zone_read);
    op->zone_read = NULL;
    if (pd_zone_read(op, err) == -1)
        return -1;
    if (rs->verify)
        return 0;
    if (!rs->del && pd_check_cname(op, op->zone_read, err) == -1)
        return -1;
    zp_pdns_find_set(op->zone_read, rs->rec->fqdn, rs->rec->value, (long)rs->rec->ttl, &op->set);
    if (op->set.unreadable > 0)
        return zp_err_set(err, ZP_ETRANSIENT,
                          "PowerDNS at %s answered with TXT records at %s in zone %s that "
                          "zoneproof cannot read, so nothing was written: the change would "
                          "rewrite them; check them with pdnsutil list-zone %s",
                          cfg->endpoint, rs->rec->fqdn, op->zone, op->zone);
    rs->has = rs->del ? op->set.ours_on || op->set.ours_off : op->set.ours_on;
    return 0;
}

/* PATCH the set with the changetype its state calls for, then NOTIFY a primary's secondaries. */
static int pd_write(struct zp_rs_op *rs, struct zp_err *err)
{
    struct pd_op *op = (struct pd_op *)rs;
    const struct zp_pdns_want want = {.fqdn = rs->rec->fqdn,
                                      .value = rs->rec->value,
                                      .quoted = zp_buf_str(&rs->quoted),
                                      .modern = op->modern,
                                      .del = rs->del};

    /* called only when the set must change, so the plan names a changetype */
    if (pd_patch(op, zp_pdns_plan(&op->set, &want, &rs->how), err) == -1)
        return -1;
    pd_notify(op);
    zp_log(ZP_LOG_INFO, "powerdns patch", ZP_S("instance", rs->call->instance),
           ZP_S("server", ((const struct pd_cfg *)rs->cfg)->server_id), ZP_S("zone", rs->zone),
           ZP_S("fqdn", rs->rec->fqdn), ZP_S("changetype", rs->how),
           ZP_S("read", op->whole ? "whole zone" : "name"), ZP_I("foreign", op->set.foreign),
           ZP_I("disabled", op->set.disabled), ZP_I("comments", op->set.ncomments), ZP_END);
    return 0;
}

static void pd_end(struct zp_rs_op *rs)
{
    struct pd_op *op = (struct pd_op *)rs;

    cJSON_Delete(op->zone_read);
    zp_buf_free_secret(&op->auth);
}

static const struct zp_rs_ops pd_rs = {
    .type = "powerdns",
    .what = PD_WHAT,
    .zone_word = "zone",
    .op_size = sizeof(struct pd_op),
    .attempts = 1, /* the API has no guard that reports a set changed since the read */
    .begin = pd_begin,
    .read = pd_read,
    .write = pd_write,
    .end = pd_end,
};

const struct zp_provider_ops zp_prov_powerdns = {
    .type = "powerdns",
    .flags = ZP_PROV_RMW,
    .settings = pd_settings,
    .config_parse = pd_config_parse,
    .config_free = pd_config_free,
    .present = zp_rs_present,
    .cleanup = zp_rs_cleanup,
    .verify = zp_rs_verify,
};
