/*
 * azuredns.c — the azuredns provider: Azure DNS public zones through Azure
 * Resource Manager (api-version 2018-05-01), where a TXT record set is
 * written whole.
 *
 * Adding or removing one value reads the set with its etag and writes the
 * merged set back only if the etag is unchanged (If-Match), or creates it
 * only if it still does not exist (If-None-Match: *); the last value goes
 * with a DELETE under the same condition. A concurrent writer gets us a
 * 412 and a fresh read, never a lost value. Deleting the whole set on
 * cleanup, or writing without an etag (as some clients do), would drop the
 * sibling value of an apex + wildcard pair validating at the same name.
 *
 * Values are raw (no quotes): each element of TXTRecords is one TXT record
 * and its value array that record's character-strings. Records read back
 * are written back as they came. The only mutable state is the token
 * cache in azauth.c.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/azauth.h"
#include "providers/common.h"
#include "providers/provider.h"
#include "providers/rrset.h"
#include "providers/settings.h"

#define AD_ENDPOINT "https://management.azure.com"
#define AD_AUTHORITY "https://login.microsoftonline.com"
#define AD_API "2018-05-01"
#define AD_WHAT "Azure DNS"
/* ARM allows a principal 10 writes a second (burst 200); stay below. */
#define AD_RATE 10.0
#define AD_BURST 50.0
#define AD_ATTEMPTS 6 /* read-and-write rounds lost to concurrent writers */
#define AD_REPLY_MAX (1024u * 1024u)
#define AD_STRING_MAX 255 /* one character-string */

struct ad_cfg {
    const struct zp_rs_ops *rs; /* first: rrset.h runs the calls */
    char *subscription;
    char *group;
    char *tenant;
    char *client_id;
    struct zp_cred secret; /* clientSecretFile or clientSecretSecretRef; unset: workload identity */
    char *zone;            /* NULL: the record's zone */
    char *endpoint;
    char *authority;
    char *scope;          /* endpoint + "/.default" */
    char *federated_file; /* workload identity (no secret): AZURE_FEDERATED_TOKEN_FILE */
    char *ca;
    struct zp_azauth *auth; /* the token cache: the only state shared by calls */
};

/* One present or cleanup (rrset.h: rs.zone without the trailing dot). */
struct ad_op {
    struct zp_rs_op rs;
    struct zp_azauth_src src;
    char rate_key[192];
    char *token;            /* a copy of the bearer token; wiped at the end */
    char rel[ZP_DNAME_MAX]; /* the record set's name in the zone, "@" at the apex */
    cJSON *set;             /* the set read; NULL: none at the name */
    char *body;             /* the PUT body the set must become; NULL when it must go */
    int last;               /* cleanup of the set's last value: DELETE the set */
};

static const struct zp_rs_ops ad_rs;

/*
 * clientId and tenantId are read by hand: either may come from the environment (workload
 * identity), and either is required (not empty) only with a client secret.
 */
static const char *const ad_keys[] = {"clientId", "tenantId", NULL};

static const struct zp_setting ad_settings[] = {
    ZP_SET_S(struct ad_cfg, "subscriptionId", subscription, 1),
    ZP_SET_S(struct ad_cfg, "resourceGroup", group, 1),
    ZP_SET_Z(struct ad_cfg, "zoneName", zone, 0),
    /* Checked now so a wrong path fails at start; read again at every call. */
    ZP_SET_C(struct ad_cfg, "clientSecret", secret, 0),
    ZP_SET_E(struct ad_cfg, endpoint, ca, AD_ENDPOINT),
    ZP_SET_SD(struct ad_cfg, "authorityEndpoint", authority, AD_AUTHORITY),
    ZP_SET_O(struct ad_cfg, tenant),
    ZP_SET_O(struct ad_cfg, client_id),
    ZP_SET_O(struct ad_cfg, scope),
    ZP_SET_O(struct ad_cfg, federated_file),
    ZP_SET_LAST,
};

/* ---- configuration ------------------------------------------------------------------------ */

static void ad_config_free(void *p)
{
    struct ad_cfg *cfg = p;

    if (cfg != NULL)
        zp_azauth_free(cfg->auth);
    zp_settings_free(ad_settings, cfg);
}

/* 8-4-4-4-12 hexadecimal digits. */
static int ad_is_guid(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

/* The value of an environment variable, NULL when unset or empty. */
static const char *ad_env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

static int ad_guid_fail(const struct zp_ynode *node, const char *path, const char *key,
                        const char *what, const char *s, struct zp_err *err)
{
    return zp_y_fail(zp_y_get(node, key), path, err,
                     "%s \"%s\" must be a GUID (the %s, as az account show or the portal "
                     "shows it)",
                     key, s, what);
}

/*
 * A required GUID setting. With env (workload identity), an absent setting
 * takes that variable, which the Azure workload identity webhook sets.
 */
static int ad_guid(const struct zp_ynode *node, const char *path, const char *key, const char *what,
                   const char *env, char **out, struct zp_err *err)
{
    const char *s = NULL;

    if (env != NULL && zp_y_get(node, key) == NULL) {
        if ((s = ad_env(env)) == NULL)
            return zp_y_fail(node, path, err,
                             "%s is not set and neither is %s: set %s, or run the pod with Azure "
                             "workload identity (label azure.workload.identity/use: \"true\" and "
                             "a service account annotated azure.workload.identity/client-id)",
                             key, env, key);
        if (!ad_is_guid(s))
            return zp_y_fail(node, path, err, "%s \"%s\" (from %s) must be a GUID", env, s, env);
        *out = zp_xstrdup(s);
        return 0;
    }
    if (zp_y_str(node, path, key, 1, &s, err) == -1)
        return -1;
    if (!ad_is_guid(s))
        return ad_guid_fail(node, path, key, what, s, err);
    *out = zp_xstrdup(s);
    return 0;
}

/* subscriptionId and resourceGroup (read by the table) and tenantId. */
static int ad_check_names(struct ad_cfg *cfg, const struct zp_ynode *node, const char *path,
                          struct zp_err *err)
{
    const char *group = cfg->group, *tenant = NULL;
    char why[128];
    size_t n = strlen(group);

    if (!ad_is_guid(cfg->subscription))
        return ad_guid_fail(node, path, "subscriptionId", "subscription id", cfg->subscription,
                            err);
    if (zp_y_str(node, path, "tenantId", zp_cred_set(&cfg->secret), &tenant, err) == -1)
        return -1;
    /* Workload identity: the webhook puts the tenant in the environment. */
    if (tenant == NULL && (tenant = ad_env("AZURE_TENANT_ID")) == NULL)
        return zp_y_fail(node, path, err,
                         "tenantId is not set and neither is AZURE_TENANT_ID: set tenantId, or "
                         "run the pod with Azure workload identity (label "
                         "azure.workload.identity/use: \"true\")");
    if (n == 0 || n > 90 || strpbrk(group, "/\\?#%&: ") != NULL || group[n - 1] == '.')
        return zp_y_fail(zp_y_get(node, "resourceGroup"), path, err,
                         "resourceGroup \"%s\" is not a resource group name (1 to 90 letters, "
                         "digits, '_', '-', '.', '(' or ')', not ending in '.')",
                         group);
    if (!ad_is_guid(tenant) && zp_dname_check(tenant, 0, why, sizeof(why)) == -1)
        return zp_y_fail(zp_y_get(node, "tenantId"), path, err,
                         "tenantId \"%s\" must be the directory (tenant) id, a GUID, or the "
                         "tenant's domain (contoso.onmicrosoft.com)",
                         tenant);
    cfg->tenant = zp_xstrdup(tenant);
    return 0;
}

/* Without a client secret: workload identity, which the environment describes. */
static void ad_ambient(struct ad_cfg *cfg, const struct zp_ynode *node, const char *path)
{
    /* The webhook names the cloud's authority; an explicit authorityEndpoint wins. */
    if (zp_y_get(node, "authorityEndpoint") == NULL && ad_env("AZURE_AUTHORITY_HOST")) {
        const char *h = ad_env("AZURE_AUTHORITY_HOST");
        size_t hn = strlen(h);
        while (hn > 0 && h[hn - 1] == '/')
            hn--;
        free(cfg->authority);
        cfg->authority = zp_xstrndup(h, hn);
    }
    if (ad_env("AZURE_FEDERATED_TOKEN_FILE"))
        cfg->federated_file = zp_xstrdup(ad_env("AZURE_FEDERATED_TOKEN_FILE"));
    zp_log(ZP_LOG_INFO, "azuredns uses ambient credentials", ZP_S("provider", path),
           ZP_S("source", "workload identity"), ZP_S("client_id", cfg->client_id),
           ZP_S("authority", cfg->authority), ZP_END);
}

static int ad_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct ad_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    char *auth;
    size_t n;
    int rc = -1;

    if (zp_settings_parse(node, path, ad_settings, cfg, err) == -1 ||
        ad_guid(node, path, "clientId", "application (client) id",
                zp_cred_set(&cfg->secret) ? NULL : "AZURE_CLIENT_ID", &cfg->client_id, err) == -1 ||
        ad_check_names(cfg, node, path, err) == -1)
        goto out;
    auth = cfg->authority;
    if (strncmp(auth, "https://", 8) != 0 && strncmp(auth, "http://", 7) != 0) {
        zp_y_fail(zp_y_get(node, "authorityEndpoint"), path, err,
                  "authorityEndpoint \"%s\" must start with https:// (as in %s)", auth,
                  AD_AUTHORITY);
        goto out;
    }
    n = strlen(auth);
    while (n > 0 && auth[n - 1] == '/')
        auth[--n] = '\0';
    if (!zp_cred_set(&cfg->secret))
        ad_ambient(cfg, node, path);
    /* The token's audience is the Resource Manager it is used with (sovereign clouds too). */
    cfg->scope = zp_xasprintf("%s/.default", cfg->endpoint);
    cfg->auth = zp_azauth_new();
    cfg->rs = &ad_rs;
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    ad_config_free(cfg);
    return rc;
}

/* ---- one API request ---------------------------------------------------------------------- */

/* ARM's {"error":{"code","message"}}; "" when absent. */
static void ad_error_fields(const cJSON *j, const char **code, const char **message)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");

    *code = cJSON_IsString(c) ? c->valuestring : "";
    *message = cJSON_IsString(m) ? m->valuestring : "";
}

/* The URL of the TXT set op names; -1 when url is full. */
static int ad_url(const struct ad_op *op, struct zp_buf *url)
{
    const struct ad_cfg *cfg = op->rs.cfg;

    zp_buf_printf(url, "%s/subscriptions/", cfg->endpoint);
    zp_http_escape(cfg->subscription, url);
    zp_buf_puts(url, "/resourceGroups/");
    zp_http_escape(cfg->group, url);
    zp_buf_puts(url, "/providers/Microsoft.Network/dnsZones/");
    zp_http_escape(op->rs.zone, url);
    zp_buf_puts(url, "/TXT/");
    if (strcmp(op->rel, "@") == 0)
        zp_buf_puts(url, "@");
    else
        zp_http_escape(op->rel, url);
    zp_buf_puts(url, "?api-version=" AD_API);
    return zp_buf_ok(url) ? 0 : -1;
}

/* zp_prov_bearer's hooks: the Entra ID token of op's credentials, cached by cfg->auth. */
static int ad_token_get(void *arg, char **token, struct zp_err *err)
{
    struct ad_op *op = arg;

    return zp_azauth_token(((const struct ad_cfg *)op->rs.cfg)->auth, &op->src,
                           op->rs.call->deadline_ms, token, err);
}

static void ad_token_drop(void *arg, const char *token)
{
    struct ad_op *op = arg;

    zp_azauth_forget(((const struct ad_cfg *)op->rs.cfg)->auth, token);
}

/*
 * One request on the TXT set, with cond ("If-Match: …") when not NULL. A
 * 401 drops the cached token and tries once more with a new one. Returns 0
 * with *status whenever an answer came; *reply is the parsed body or NULL.
 */
static int ad_api(struct ad_op *op, const char *method, const char *cond, const char *body,
                  long *status, cJSON **reply, struct zp_err *err)
{
    const struct ad_cfg *cfg = op->rs.cfg;
    const struct zp_prov_bearer bearer = {.get = ad_token_get, .drop = ad_token_drop, .arg = op};
    const char *const more[] = {cond, NULL};
    const struct zp_prov_api_conn conn = {.what = AD_WHAT,
                                          .rate_key = op->rate_key,
                                          .rate = AD_RATE,
                                          .burst = AD_BURST,
                                          .base = "",
                                          .ca_file = cfg->ca,
                                          .headers = more,
                                          .max_response = AD_REPLY_MAX};
    struct zp_http_resp resp;
    struct zp_buf url;
    int rc = -1;

    *reply = NULL;
    zp_http_resp_init(&resp);
    zp_buf_init(&url, 8192);
    if (ad_url(op, &url) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "the request URL for %s is too long", op->rs.rec->fqdn);
        goto out;
    }
    if (zp_prov_bearer_send(&bearer, &conn, op->rs.call, method, zp_buf_str(&url), body, &op->token,
                            &resp, err) == -1)
        goto out;
    *status = resp.status;
    *reply = cJSON_ParseWithLength(zp_buf_str(&resp.body), resp.body.len);
    /* A set is read and written back as JSON; a DELETE answers with no body. */
    if (resp.status / 100 == 2 && strcmp(method, "DELETE") != 0 && *reply == NULL) {
        zp_err_set(err, ZP_ETRANSIENT,
                   "%s answered %s of the TXT set at %s with something that is not JSON", AD_WHAT,
                   method, op->rs.rec->fqdn);
        goto out;
    }
    if (resp.status / 100 != 2 && !(resp.status == 404 && strcmp(method, "GET") == 0)) {
        const char *const sent[] = {op->token, NULL};
        const char *const f[] = {"method", method, "zone", op->rs.zone, "name", op->rel, NULL};
        zp_prov_log_reply(resp.status == 412 ? ZP_LOG_INFO : ZP_LOG_WARN,
                          "azuredns request refused", op->rs.call, f, &resp, NULL, sent);
    }
    rc = 0;
out:
    zp_buf_free(&url);
    zp_http_resp_free(&resp);
    return rc;
}

/* The action an AuthorizationFailed message names ("perform action 'X'"), else ours. */
static void ad_denied_action(const char *message, const char *ours, char *out, size_t outsz)
{
    const char *p = strstr(message, "perform action '");
    size_t n = p ? strcspn(p + 16, "'") : 0;

    if (p == NULL || n == 0 || n >= outsz ||
        strspn(p + 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh"
                       "ijklmnopqrstuvwxyz0123456789/._") < n) {
        zp_strlcpy(out, ours, outsz);
        return;
    }
    memcpy(out, p + 16, n);
    out[n] = '\0';
}

/* A 400 or 409: the request as sent is wrong for the set. */
#define AD_INVALID                                                                                 \
    "Azure DNS refused to {doing} at {fqdn} ({code|no code given}); the log has its message (a "   \
    "set holds at most 20 records; a CNAME at the name excludes TXT)"

/* Azure DNS's refusals, by status, then by ARM's error code. */
static const struct zp_prov_refusal ad_refusals[] = {
    {401, 401, NULL, ZP_EAUTH,
     "Azure Resource Manager rejected the token of application {client} even when new "
     "({code|401}); the application must belong to the tenant of subscription {sub}: check "
     "tenantId"},
    {403, 403, "AuthorizationFailed", ZP_EPERM,
     "application {client} may not perform {denied} on DNS zone {zone} in resource group {group} "
     "(subscription {sub}); assign it the DNS Zone Contributor role on the zone, or a role with "
     "Microsoft.Network/dnsZones/TXT/read, write and delete"},
    {403, 403, NULL, ZP_EPERM,
     "Azure refused application {client} to {doing} in DNS zone {zone} ({code|403}); the log has "
     "the reason (often an Azure Policy or a resource lock)"},
    {404, 404, "ResourceGroupNotFound", ZP_ENOTFOUND,
     "resource group {group} was not found in subscription {sub}; check resourceGroup (the group "
     "that holds DNS zone {zone})"},
    {404, 404, "SubscriptionNotFound", ZP_ENOTFOUND,
     "subscription {sub} was not found, or application {client} has no role in it; check "
     "subscriptionId"},
    {404, 404, NULL, ZP_ENOTFOUND,
     "DNS zone {zone} was not found in resource group {group} of subscription {sub}; create it "
     "there, or fix {fix}"},
    {400, 400, NULL, ZP_EINVAL, AD_INVALID},
    {409, 409, NULL, ZP_EINVAL, AD_INVALID},
    {500, LONG_MAX, NULL, ZP_ETRANSIENT,
     "Azure DNS answered HTTP {status}{sp}{code} to {doing} at {fqdn}; it is having trouble, retry "
     "later"},
    {0, 0, NULL, ZP_ETRANSIENT,
     "Azure DNS answered HTTP {status}{sp}{code} to {doing} at {fqdn}, which it should not"},
    {0},
};

/* The sentence for a refused request; action is the permission the request needs. */
static int ad_fail(const struct ad_op *op, long status, const cJSON *reply, const char *action,
                   const char *doing, struct zp_err *err)
{
    const struct ad_cfg *cfg = op->rs.cfg;
    const char *raw, *message, *fqdn = op->rs.rec->fqdn;
    const char *const sent[] = {op->token, NULL};
    const char *fix = cfg->zone ? "zoneName and resourceGroup" : "resourceGroup (or set zoneName)";
    char denied[128], code[128];

    ad_error_fields(reply, &raw, &message);
    /* ARM's code is quoted; it may be anything, even an echo of the bearer token. */
    zp_prov_text(raw, op->rs.call, NULL, sent, code, sizeof(code));
    ad_denied_action(message, action, denied, sizeof(denied));

    const char *const vars[] = {"client", cfg->client_id, "sub",   cfg->subscription,
                                "group",  cfg->group,     "zone",  op->rs.zone,
                                "fqdn",   fqdn,           "doing", doing,
                                "code",   code,           "sp",    code[0] ? " " : "",
                                "denied", denied,         "fix",   fix,
                                NULL};
    return zp_prov_refuse(ad_refusals, status, code, vars, err);
}

/* ---- the record set ----------------------------------------------------------------------- */

/* A TXT record's character-strings joined: the value it serves. */
static int ad_record_is(const cJSON *record, const char *value)
{
    const cJSON *s;
    size_t off = 0, vl = strlen(value);

    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(record, "value"))
    {
        size_t n;
        if (!cJSON_IsString(s))
            return 0;
        n = strlen(s->valuestring);
        if (off + n > vl || memcmp(value + off, s->valuestring, n) != 0)
            return 0;
        off += n;
    }
    return off == vl && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(record, "value"));
}

/* {"value":[…]}: value cut into character-strings. */
static cJSON *ad_record_new(const char *value)
{
    cJSON *r = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(r, "value");
    size_t n = strlen(value);

    for (size_t off = 0; off == 0 || off < n; off += AD_STRING_MAX) {
        char *part = zp_xstrndup(value + off, n - off > AD_STRING_MAX ? AD_STRING_MAX : n - off);
        cJSON_AddItemToArray(a, cJSON_CreateString(part));
        free(part);
    }
    return r;
}

/* The PUT body that moves op->set (NULL: absent) to what op wants; NULL when the set must go. */
static char *ad_plan(struct ad_op *op)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(op->set, "properties");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(props, "TTL");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(props, "metadata");
    const cJSON *r;
    cJSON *body, *p, *records;
    char *out = NULL;

    op->rs.has = 0;
    body = cJSON_CreateObject();
    p = cJSON_AddObjectToObject(body, "properties");
    if (cJSON_IsObject(meta) && meta->child != NULL)
        cJSON_AddItemToObject(p, "metadata", cJSON_Duplicate(meta, 1));
    cJSON_AddNumberToObject(p, "TTL", cJSON_IsNumber(ttl) ? ttl->valuedouble : op->rs.rec->ttl);
    records = cJSON_AddArrayToObject(p, "TXTRecords");
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(props, "TXTRecords"))
    {
        if (ad_record_is(r, op->rs.rec->value))
            op->rs.has = 1;
        if (!ad_record_is(r, op->rs.rec->value) || !op->rs.del)
            cJSON_AddItemToArray(records, cJSON_Duplicate(r, 1));
    }
    op->last = op->rs.del && cJSON_GetArraySize(records) == 0;
    if (!op->last) {
        if (!op->rs.del)
            cJSON_AddItemToArray(records, ad_record_new(op->rs.rec->value));
        out = cJSON_PrintUnformatted(body);
    }
    cJSON_Delete(body);
    return out;
}

/*
 * What every call does before its first read: the token source, the
 * ambient-credentials rule, and the zone and set names.
 */
static int ad_begin(struct zp_rs_op *rs, struct zp_err *err)
{
    struct ad_op *op = (struct ad_op *)rs;
    const struct ad_cfg *cfg = rs->cfg;
    char zone[ZP_DNAME_MAX];

    snprintf(op->rate_key, sizeof(op->rate_key), "azuredns:%s", rs->call->instance);
    op->src = (struct zp_azauth_src){.authority = cfg->authority,
                                     .tenant = cfg->tenant,
                                     .client_id = cfg->client_id,
                                     .secret = &cfg->secret,
                                     .call = rs->call,
                                     .federated_file = cfg->federated_file,
                                     .scope = cfg->scope,
                                     .ca_file = cfg->ca,
                                     .rate_key = op->rate_key,
                                     .rate = AD_RATE,
                                     .burst = AD_BURST};
    /* No secret file: the pod's workload identity, which only the request can allow. */
    if (!zp_cred_set(&cfg->secret) && !rs->call->allow_ambient)
        return zp_err_set(err, ZP_ECONFIG,
                          "azuredns instance %s has no clientSecretFile or clientSecretSecretRef "
                          "and the Issuer does not allow ambient credentials: set "
                          "clientSecretFile or clientSecretSecretRef, or use a ClusterIssuer "
                          "(cert-manager allows ambient credentials for ClusterIssuers by "
                          "default) or start cert-manager with --issuer-ambient-credentials",
                          rs->call->instance ? rs->call->instance : "(unnamed)");
    zp_strlcpy(zone, cfg->zone ? cfg->zone : rs->rec->zone, sizeof(zone));
    if (zp_dname_relative(rs->rec->fqdn, zone, op->rel, sizeof(op->rel)) == -1)
        return zp_err_set(err, ZP_ECONFIG, "%s is not inside zone %s; %s", rs->rec->fqdn, zone,
                          cfg->zone ? "set zoneName to the zone that holds it, or remove zoneName"
                                    : zp_prov_zone_unheld(rs->call));
    zp_strlcpy(rs->zone, zone, sizeof(rs->zone));
    if (strlen(rs->zone) > 1 && rs->zone[strlen(rs->zone) - 1] == '.')
        rs->zone[strlen(rs->zone) - 1] = '\0';
    return 0;
}

/* Whether an etag can be sent back in If-Match: visible characters, a blank at most. */
static int ad_etag_ok(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* GET the TXT set at the name (op->set NULL when there is none), and plan its change. */
static int ad_read(struct zp_rs_op *rs, struct zp_err *err)
{
    struct ad_op *op = (struct ad_op *)rs;
    const char *code, *message;
    long status = 0;

    cJSON_Delete(op->set);
    op->set = NULL;
    free(op->body);
    op->body = NULL;
    if (ad_api(op, "GET", NULL, NULL, &status, &op->set, err) == -1)
        return -1;
    if (status != 200) {
        ad_error_fields(op->set, &code, &message);
        if (status != 404 || strcmp(code, "NotFound") != 0)
            return ad_fail(op, status, op->set, "Microsoft.Network/dnsZones/TXT/read",
                           "read the TXT set", err);
        cJSON_Delete(op->set);
        op->set = NULL; /* no set at the name */
    }
    op->body = ad_plan(op);
    return 0;
}

/* PUT (or DELETE) over the set read, or only where there is none. */
static int ad_write(struct zp_rs_op *rs, struct zp_err *err)
{
    struct ad_op *op = (struct ad_op *)rs;
    const cJSON *etag = cJSON_GetObjectItemCaseSensitive(op->set, "etag");
    cJSON *reply = NULL;
    char *cond = NULL;
    long status = 0;
    int rc = -1;

    /* The etag goes into a header line: a CR or LF in it would add headers of its own. */
    if (op->set != NULL && (!cJSON_IsString(etag) || !ad_etag_ok(etag->valuestring)))
        return zp_err_set(err, ZP_ETRANSIENT, "%s returned the TXT set at %s without a usable etag",
                          AD_WHAT, rs->rec->fqdn);
    cond =
        op->set ? zp_xasprintf("If-Match: %s", etag->valuestring) : zp_xstrdup("If-None-Match: *");
    rs->how = op->last ? "DELETE set" : "PUT";
    if (ad_api(op, op->last ? "DELETE" : "PUT", cond, op->body, &status, &reply, err) == -1)
        goto out;
    /* A set deleted already took our value with it; 412: someone wrote since the read. */
    if (status == 200 || status == 201 ||
        (op->last && (status == 202 || status == 204 || status == 404)))
        rc = 0;
    else if (status == 412)
        rc = 1;
    else
        ad_fail(op, status, reply,
                op->last ? "Microsoft.Network/dnsZones/TXT/delete"
                         : "Microsoft.Network/dnsZones/TXT/write",
                op->last  ? "delete the TXT set"
                : rs->del ? "remove the value from the TXT set"
                          : "add the value to the TXT set",
                err);
out:
    zp_free_secret(cond);
    cJSON_Delete(reply);
    return rc;
}

static int ad_raced(struct zp_rs_op *rs, struct zp_err *err)
{
    return zp_err_set(err, ZP_ETRANSIENT,
                      "the TXT set at %s in DNS zone %s changed between each read and write, %d "
                      "times; another client writes the same name, retry later",
                      rs->rec->fqdn, rs->zone, AD_ATTEMPTS);
}

static void ad_end(struct zp_rs_op *rs)
{
    struct ad_op *op = (struct ad_op *)rs;

    zp_free_secret(op->token);
    cJSON_Delete(op->set);
    free(op->body);
}

static const struct zp_rs_ops ad_rs = {
    .type = "azuredns",
    .what = AD_WHAT,
    .zone_word = "zone",
    .op_size = sizeof(struct ad_op),
    .attempts = AD_ATTEMPTS,
    .begin = ad_begin,
    .read = ad_read,
    .write = ad_write,
    .raced = ad_raced,
    .end = ad_end,
};

const struct zp_provider_ops zp_prov_azuredns = {
    .type = "azuredns",
    .flags = ZP_PROV_RMW,
    .keys = ad_keys,
    .settings = ad_settings,
    .config_parse = ad_config_parse,
    .config_free = ad_config_free,
    .present = zp_rs_present,
    .cleanup = zp_rs_cleanup,
    .verify = zp_rs_verify,
};
