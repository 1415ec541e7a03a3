/*
 * azauth.c — Entra ID tokens for Azure Resource Manager: the client
 * credentials grant (v2.0 endpoint) and one cache per provider instance.
 *
 * The secret file is read at every call (Secrets rotate) and hashed; a
 * cached token is reused only while the file is unchanged, so a rotated
 * secret is used at once and a revoked one fails at once. Tokens are
 * fetched outside the cache's mutex, so no call waits on another call's
 * deadline; two calls that miss at once both fetch.
 *
 * Workload identity (no secret file): the client assertion is the
 * projected service-account token, re-read at every exchange because the
 * kubelet rotates it; the access token it bought stays good until it
 * expires, whatever the file holds meanwhile.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "providers/azauth.h"
#include "providers/common.h"

#define AZ_SECRET_MAX 4096 /* a client secret is 40 characters */
#define AZ_ASSERTION_MAX (64u * 1024u)
#define AZ_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define AZ_TOKEN_MAX 16384 /* Entra ID tokens are JWTs of a few KB */
#define AZ_LIFETIME 3599
#define AZ_EXPIRES_MAX 86400L /* a token said to last longer is not believed: they last 1-2 h */
#define AZ_MARGIN_S 300       /* refresh this long before a token expires */
#define AZ_WHAT "Microsoft Entra ID"

struct zp_azauth {
    struct zp_tokcache cache; /* keyed by the secret or federated token that bought it */
};

/* Wipes every string of a tree that held a token, then frees it. */
static void az_json_wipe(cJSON *j)
{
    for (; j != NULL; j = j->next) {
        if (j->valuestring != NULL)
            zp_wipe(j->valuestring, strlen(j->valuestring));
        az_json_wipe(j->child);
    }
}

/* The AADSTS number of a refusal: error_codes[0], else the description's prefix. */
static long az_aadsts(const cJSON *j)
{
    const cJSON *codes = cJSON_GetObjectItemCaseSensitive(j, "error_codes");
    const cJSON *c = cJSON_GetArrayItem(codes, 0);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "error_description");

    /* Bounded before the conversion: 1e300 is a JSON number too. */
    if (cJSON_IsNumber(c))
        return c->valuedouble >= 0 && c->valuedouble < 1e9 ? (long)c->valuedouble : 0;
    if (cJSON_IsString(d) && strncmp(d->valuestring, "AADSTS", 6) == 0)
        return strtol(d->valuestring + 6, NULL, 10);
    return 0;
}

/* Whether the instance has a client secret (else: workload identity). */
static int az_has_secret(const struct zp_azauth_src *src)
{
    return src->secret != NULL && zp_cred_set(src->secret);
}

/* The client secret's setting, for messages. */
static const char *az_setting(const struct zp_azauth_src *src)
{
    return az_has_secret(src) ? src->secret->setting : "clientSecretFile";
}

/*
 * The sentence for a refused grant: each AADSTS code has its own fix. sent is
 * the secret or assertion the request carried, which the error may echo.
 */
static int az_refused(const struct zp_azauth_src *src, long status, const cJSON *j,
                      const char *sent, struct zp_err *err)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *app = src->client_id, *tenant = src->tenant;
    const char *const vals[] = {sent, NULL};
    long aadsts = az_aadsts(j);
    char code[128];

    zp_prov_text(cJSON_IsString(e) ? e->valuestring : "", src->call, NULL, vals, code,
                 sizeof(code));

    if (status >= 500)
        zp_err_set(err, ZP_ETRANSIENT,
                   "%s answered HTTP %ld to the token request of application %s; it is having "
                   "trouble, retry later",
                   AZ_WHAT, status, app);
    else if (!az_has_secret(src) && (aadsts == 70021 || aadsts == 700211))
        zp_err_set(err, ZP_EAUTH,
                   "%s found no federated credential of application %s in tenant %s that matches "
                   "this pod's service-account token (AADSTS%ld): add one with the cluster's OIDC "
                   "issuer URL, subject system:serviceaccount:<namespace>:<name> of the pod's "
                   "service account and audience api://AzureADTokenExchange",
                   AZ_WHAT, app, tenant, aadsts);
    else if (!az_has_secret(src) && (aadsts == 700024 || aadsts == 700027))
        zp_err_set(err, ZP_EAUTH,
                   "%s refused the service-account token in %s as the client assertion of "
                   "application %s (AADSTS%ld: expired or not yet valid): the kubelet no longer "
                   "refreshes it; check the pod's azure-identity-token volume",
                   AZ_WHAT, src->federated_file, app, aadsts);
    else if (aadsts == 7000215)
        zp_err_set(err, ZP_EAUTH,
                   "%s rejected the client secret of application %s in tenant %s (AADSTS7000215): "
                   "%s must hold the secret's Value (not its Secret ID) of that application",
                   AZ_WHAT, app, tenant, az_setting(src));
    else if (aadsts == 7000222)
        zp_err_set(err, ZP_EAUTH,
                   "the client secret of application %s in tenant %s has expired (AADSTS7000222); "
                   "create a new secret (az ad app credential reset) and update the Secret of %s",
                   app, tenant, az_setting(src));
    else if (aadsts == 700016)
        zp_err_set(err, ZP_EAUTH,
                   "application %s was not found in tenant %s (AADSTS700016); check clientId and "
                   "tenantId, and that the application has a service principal in that tenant",
                   app, tenant);
    else if (aadsts == 90002 || aadsts == 900023)
        zp_err_set(err, ZP_EAUTH,
                   "tenant %s was not found (AADSTS%ld); tenantId must be the directory (tenant) "
                   "id of the application's tenant",
                   tenant, aadsts);
    else if (aadsts == 70011 || aadsts == 1002012 || strcmp(code, "invalid_scope") == 0)
        zp_err_set(err, ZP_ECONFIG,
                   "%s refused the scope %s for application %s (AADSTS%ld); endpoint must be the "
                   "Resource Manager URL of the application's cloud",
                   AZ_WHAT, src->scope, app, aadsts);
    else if (aadsts != 0)
        zp_err_set(err, ZP_EAUTH,
                   "%s refused a token for application %s in tenant %s (HTTP %ld%s%s, AADSTS%ld); "
                   "check clientId, tenantId and the secret in %s",
                   AZ_WHAT, app, tenant, status, code[0] ? ", " : "", code, aadsts,
                   az_setting(src));
    else
        /* No AADSTS code: probably not Entra ID at all. */
        zp_err_set(
            err, ZP_EAUTH,
            "the token request for application %s in tenant %s was refused with HTTP %ld%s%s "
            "and no Entra ID error code; check authorityEndpoint (%s)",
            app, tenant, status, code[0] ? ", " : "", code, src->authority);
    err->upstream = (int)status;
    return -1;
}

/* One client-credentials exchange; *token and *expires_in on success. */
static int az_fetch(const struct zp_azauth_src *src, const struct zp_buf *secret,
                    uint64_t deadline_ms, char **token, long *expires_in, struct zp_err *err)
{
    static const char *const hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                                       "Accept: application/json", NULL};
    struct zp_http_req req = {.method = "POST",
                              .headers = hdrs,
                              .deadline_ms = deadline_ms,
                              .max_response = 256u * 1024u,
                              .ca_file = src->ca_file,
                              .what = AZ_WHAT};
    struct zp_http_resp resp;
    struct zp_buf url, form;
    cJSON *j = NULL;
    const cJSON *at, *ex;
    int rc = -1;

    zp_http_resp_init(&resp);
    zp_buf_init(&url, 4096);
    zp_buf_init(&form, 8192);
    if (zp_buf_printf(&url, "%s/", src->authority) == -1 ||
        zp_http_escape(src->tenant, &url) == -1 || zp_buf_puts(&url, "/oauth2/v2.0/token") == -1 ||
        zp_buf_puts(&form, "grant_type=client_credentials&client_id=") == -1 ||
        zp_http_escape(src->client_id, &form) == -1 ||
        zp_buf_puts(&form, az_has_secret(src) ? "&client_secret="
                                              : "&client_assertion_type=" AZ_ASSERTION_TYPE
                                                "&client_assertion=") == -1 ||
        zp_http_escape(zp_buf_str(secret), &form) == -1 || zp_buf_puts(&form, "&scope=") == -1 ||
        zp_http_escape(src->scope, &form) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the token request for application %s",
                   src->client_id);
        goto out;
    }
    req.url = url.data;
    req.body = form.data;
    req.body_len = form.len;
    if (zp_ratelimit_take(src->rate_key, src->rate, src->burst, deadline_ms, AZ_WHAT, err) == -1 ||
        zp_http_call(&req, &resp, err) == -1)
        goto out;
    j = cJSON_ParseWithLength(zp_buf_str(&resp.body), resp.body.len);
    if (resp.status / 100 != 2) {
        /* A refusal carries no token, but may echo the secret or assertion sent. */
        const char *const sent[] = {zp_buf_str(secret), NULL};
        const char *const f[] = {"application", src->client_id, "tenant", src->tenant, NULL};
        zp_prov_log_reply(ZP_LOG_WARN, "entra id token request refused", NULL, f, &resp, NULL,
                          sent);
        az_refused(src, resp.status, j, zp_buf_str(secret), err);
        goto out;
    }
    at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    ex = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    if (!cJSON_IsString(at) || at->valuestring[0] == '\0' ||
        strlen(at->valuestring) > AZ_TOKEN_MAX ||
        strspn(at->valuestring, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789-._~+/=") != strlen(at->valuestring)) {
        zp_err_set(err, ZP_ETRANSIENT,
                   "%s answered the token request of application %s without a usable "
                   "access_token",
                   AZ_WHAT, src->client_id);
        goto out;
    }
    *token = zp_xstrdup(at->valuestring);
    /* v2.0 sends a number; older answers sent a string. Bounded before a number's conversion. */
    if (cJSON_IsNumber(ex) && ex->valuedouble >= 1 && ex->valuedouble <= AZ_EXPIRES_MAX)
        *expires_in = (long)ex->valuedouble;
    else if (cJSON_IsString(ex))
        *expires_in = strtol(ex->valuestring, NULL, 10);
    if (*expires_in <= 0 || *expires_in > AZ_EXPIRES_MAX)
        *expires_in = AZ_LIFETIME;
    rc = 0;
out:
    az_json_wipe(j);
    cJSON_Delete(j);
    zp_http_resp_free(&resp);
    zp_buf_free(&url);
    zp_buf_free_secret(&form);
    return rc;
}

struct zp_azauth *zp_azauth_new(void)
{
    struct zp_azauth *a = zp_xcalloc(1, sizeof(*a));

    zp_tokcache_init(&a->cache);
    return a;
}

void zp_azauth_free(struct zp_azauth *a)
{
    if (a == NULL)
        return;
    zp_tokcache_fini(&a->cache);
    free(a);
}

void zp_azauth_forget(struct zp_azauth *a, const char *token)
{
    zp_tokcache_forget(&a->cache, token);
}

int zp_azauth_token(struct zp_azauth *a, const struct zp_azauth_src *src, uint64_t deadline_ms,
                    char **token, struct zp_err *err)
{
    struct zp_buf secret;
    unsigned char key[ZP_TOKCACHE_KEY] = {0};
    char *fresh = NULL;
    long expires_in = 0;
    int rc = -1;

    *token = NULL;
    zp_buf_init(&secret, az_has_secret(src) ? AZ_SECRET_MAX : AZ_ASSERTION_MAX);
    if (!az_has_secret(src)) {
        /* Workload identity: the cache holds while the token is fresh; the file only buys one. */
        zp_tokcache_key(NULL, 0, key);
        if ((*token = zp_tokcache_get(&a->cache, key)) != NULL) {
            rc = 0;
            goto out;
        }
        if (src->federated_file == NULL) {
            zp_err_set(err, ZP_ECONFIG,
                       "no Azure workload identity: AZURE_FEDERATED_TOKEN_FILE is not set; label "
                       "the pod azure.workload.identity/use: \"true\" and annotate its service "
                       "account with azure.workload.identity/client-id, or set clientSecretFile or "
                       "clientSecretSecretRef");
            goto out;
        }
        if (zp_secret_file_read(src->federated_file, "AZURE_FEDERATED_TOKEN_FILE", &secret, err) ==
            -1)
            goto out;
    } else {
        if (zp_cred_read(src->secret, src->call, &secret, err) == -1)
            goto out;
        if (zp_tokcache_key(secret.data, secret.len, key) == -1) {
            zp_err_set(err, ZP_EINTERNAL, "cannot hash the client secret of %s", src->client_id);
            goto out;
        }
        if ((*token = zp_tokcache_get(&a->cache, key)) != NULL) {
            rc = 0;
            goto out;
        }
    }
    if (az_fetch(src, &secret, deadline_ms, &fresh, &expires_in, err) == -1)
        goto out;
    *token = zp_tokcache_put(&a->cache, key, fresh, expires_in, AZ_MARGIN_S);
    fresh = NULL;
    zp_log(ZP_LOG_DEBUG, "entra id token", ZP_S("application", src->client_id),
           ZP_I("expires_in", expires_in), ZP_END);
    rc = 0;
out:
    zp_free_secret(fresh);
    zp_wipe(key, sizeof(key));
    zp_buf_free_secret(&secret);
    return rc;
}
