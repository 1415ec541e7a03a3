/*
 * gauth.c — Google service-account tokens: the key file, the RS256 JWT
 * signed with OpenSSL's EVP interface, the jwt-bearer exchange at the
 * token endpoint, and one cache per provider instance.
 *
 * The key file is read at every call (Secrets rotate) and hashed; a cached
 * token is reused only while the file is byte-for-byte the one it was
 * bought with, so a rotated or replaced key takes effect at once. Tokens
 * are fetched outside the cache's mutex: two calls that miss at once both
 * fetch, which costs one extra request and never makes a call wait for
 * another call's deadline.
 */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "providers/common.h"
#include "providers/gauth.h"

#define GA_KEYFILE_MAX (64u * 1024u)
#define GA_LIFETIME 3600     /* seconds: the longest assertion Google accepts */
#define GA_EXPIRES_MAX 86400 /* a token said to last longer is not believed: they last an hour */
#define GA_MARGIN_S 300      /* refresh this long before a token expires */
#define GA_TOKEN_MAX 4096    /* Google's tokens are a few hundred bytes */
#define GA_WHAT "Google OAuth"
#define GA_GRANT "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"

struct zp_gauth {
    struct zp_tokcache cache; /* keyed by the key file that bought it; ambient: zeros */
};

/* Wipes every string of a tree that held a private key or a token, then frees it. */
static void ga_json_wipe(cJSON *j)
{
    for (; j != NULL; j = j->next) {
        if (j->valuestring != NULL)
            zp_wipe(j->valuestring, strlen(j->valuestring));
        ga_json_wipe(j->child);
    }
}

static void ga_json_free_secret(cJSON *j)
{
    ga_json_wipe(j);
    cJSON_Delete(j);
}

static char *ga_json_strdup(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(v) && v->valuestring[0] ? zp_xstrdup(v->valuestring) : NULL;
}

/* ---- the key file ------------------------------------------------------------------------- */

/* Whether s is one word of visible ASCII. */
static int ga_visible(const char *s)
{
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e)
            return 0;
    return 1;
}

int zp_gauth_key_parse(const char *json, size_t len, const char *setting, const char *file,
                       struct zp_gauth_key *k, struct zp_err *err)
{
    cJSON *j = cJSON_ParseWithLength(json, len);
    const cJSON *type;
    const char *bad = NULL;
    int rc = -1;

    memset(k, 0, sizeof(*k));
    if (!cJSON_IsObject(j)) {
        zp_err_set(err, ZP_ECONFIG,
                   "%s: %s is not JSON; it must hold a service-account key as created by gcloud "
                   "iam service-accounts keys create",
                   setting, file);
        goto out;
    }
    type = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "service_account") != 0) {
        char shown[64]; /* the file's text, quoted: made fit for a sentence */
        zp_err_set(err, ZP_ECONFIG,
                   "%s: %s holds a credential of type \"%s\", not a service-account key; create "
                   "a key for a service account (gcloud iam service-accounts keys create)",
                   setting, file,
                   cJSON_IsString(type)
                       ? zp_prov_text(type->valuestring, NULL, NULL, NULL, shown, sizeof(shown))
                       : "(none)");
        goto out;
    }
    k->client_email = ga_json_strdup(j, "client_email");
    k->private_key = ga_json_strdup(j, "private_key");
    k->private_key_id = ga_json_strdup(j, "private_key_id");
    k->token_uri = ga_json_strdup(j, "token_uri");
    if (k->client_email == NULL || k->private_key == NULL) {
        zp_err_set(err, ZP_ECONFIG, "%s: %s has no %s; download the key file again", setting, file,
                   k->client_email == NULL ? "client_email" : "private_key");
        goto out;
    }
    /* Both are quoted in sentences and logs: one word of visible ASCII, as Google writes them. */
    if (!ga_visible(k->client_email) || strchr(k->client_email, '@') == NULL)
        bad = "a client_email that is not an e-mail address";
    else if (k->private_key_id != NULL && !ga_visible(k->private_key_id))
        bad = "a private_key_id with blanks or control characters";
    if (bad != NULL) {
        zp_err_set(err, ZP_ECONFIG, "%s: %s has %s; download the key file again", setting, file,
                   bad);
        goto out;
    }
    if (k->token_uri == NULL)
        k->token_uri = zp_xstrdup(ZP_GAUTH_TOKEN_URI);
    /* It is the URL the assertion goes to: a blank or control character would bend it. */
    if (strncmp(k->token_uri, "https://", 8) != 0 || !ga_visible(k->token_uri)) {
        zp_err_set(err, ZP_ECONFIG,
                   "%s: %s names a token_uri that is not https:// or holds blanks; the signed "
                   "assertion is only sent over TLS, to one URL",
                   setting, file);
        goto out;
    }
    rc = 0;
out:
    if (rc == -1)
        zp_gauth_key_free(k);
    ga_json_free_secret(j);
    return rc;
}

void zp_gauth_key_free(struct zp_gauth_key *k)
{
    free(k->client_email);
    free(k->private_key_id);
    free(k->token_uri);
    zp_free_secret(k->private_key);
    memset(k, 0, sizeof(*k));
}

/* Never asks for a pass phrase: a service-account key is not encrypted. */
static int ga_no_pass(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

static EVP_PKEY *ga_load_key(const struct zp_gauth_key *k, struct zp_err *err)
{
    BIO *bio = BIO_new_mem_buf(k->private_key, -1);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, ga_no_pass, NULL) : NULL;

    BIO_free(bio);
    if (pkey == NULL) {
        zp_err_set(err, ZP_ECONFIG,
                   "the private_key of service account %s is not a PEM private key; download the "
                   "key file again",
                   k->client_email);
        return NULL;
    }
    if (!EVP_PKEY_is_a(pkey, "RSA")) {
        EVP_PKEY_free(pkey);
        zp_err_set(err, ZP_ECONFIG,
                   "the private_key of service account %s is not an RSA key; Google signs "
                   "service-account assertions with RS256 only",
                   k->client_email);
        return NULL;
    }
    return pkey;
}

/* ---- the assertion ------------------------------------------------------------------------ */

/* Appends b64url(JSON of j). */
static int ga_b64_json(const cJSON *j, struct zp_buf *out)
{
    char *s = cJSON_PrintUnformatted(j);
    int rc = s ? zp_b64url_encode(s, strlen(s), out) : -1;

    free(s);
    return rc;
}

int zp_gauth_jwt(const struct zp_gauth_key *k, const char *scope, const char *aud, long long now,
                 struct zp_buf *out, struct zp_err *err)
{
    cJSON *hdr = cJSON_CreateObject(), *claims = cJSON_CreateObject();
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *md = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    int rc = -1;

    zp_buf_reset(out);
    cJSON_AddStringToObject(hdr, "alg", "RS256");
    cJSON_AddStringToObject(hdr, "typ", "JWT");
    if (k->private_key_id != NULL)
        cJSON_AddStringToObject(hdr, "kid", k->private_key_id);
    cJSON_AddStringToObject(claims, "iss", k->client_email);
    cJSON_AddStringToObject(claims, "scope", scope);
    cJSON_AddStringToObject(claims, "aud", aud);
    cJSON_AddNumberToObject(claims, "iat", (double)now);
    cJSON_AddNumberToObject(claims, "exp", (double)(now + GA_LIFETIME));
    if (ga_b64_json(hdr, out) == -1 || zp_buf_puts(out, ".") == -1 ||
        ga_b64_json(claims, out) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot encode the assertion for %s", k->client_email);
        goto out;
    }
    if ((pkey = ga_load_key(k, err)) == NULL)
        goto out;
    md = EVP_MD_CTX_new();
    /* EVP's default RSA padding is PKCS#1 v1.5: exactly RS256. */
    if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)out->data, out->len) != 1 ||
        (sig = zp_xmalloc(siglen)) == NULL ||
        EVP_DigestSign(md, sig, &siglen, (const unsigned char *)out->data, out->len) != 1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot sign the assertion for %s with its private key",
                   k->client_email);
        goto out;
    }
    if (zp_buf_puts(out, ".") == -1 || zp_b64url_encode(sig, siglen, out) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot encode the assertion for %s", k->client_email);
        goto out;
    }
    rc = 0;
out:
    free(sig);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    cJSON_Delete(hdr);
    cJSON_Delete(claims);
    return rc;
}

int zp_gauth_check(const char *file, const char *setting, struct zp_err *err)
{
    struct zp_gauth_key k;
    struct zp_buf b;
    EVP_PKEY *pkey = NULL;
    int rc = -1;

    zp_buf_init(&b, GA_KEYFILE_MAX);
    if (zp_secret_file_read(file, setting, &b, err) == -1 ||
        zp_gauth_key_parse(b.data, b.len, setting, file, &k, err) == -1)
        goto out;
    pkey = ga_load_key(&k, err);
    zp_gauth_key_free(&k);
    rc = pkey ? 0 : -1;
out:
    EVP_PKEY_free(pkey);
    zp_buf_free_secret(&b);
    return rc;
}

/* ---- the exchange ------------------------------------------------------------------------- */

/*
 * A reply's expires_in: seconds, else GA_LIFETIME. Bounded before the
 * conversion: a number past a long's range (1e300) cannot be converted.
 */
static long ga_expires_in(const cJSON *ex)
{
    if (!cJSON_IsNumber(ex) || !(ex->valuedouble >= 1 && ex->valuedouble <= GA_EXPIRES_MAX))
        return GA_LIFETIME;
    return (long)ex->valuedouble;
}

/*
 * Whether an access_token can be sent as "Authorization: Bearer <token>":
 * RFC 6750's token characters, bounded. Checked for the metadata server's
 * too: a CR or LF in it would add header lines to every API request.
 */
static int ga_token_ok(const cJSON *at)
{
    return cJSON_IsString(at) && at->valuestring[0] != '\0' &&
           strlen(at->valuestring) <= GA_TOKEN_MAX &&
           strspn(at->valuestring, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-._~+/=") == strlen(at->valuestring);
}

/*
 * The sentence for a refused grant: Google's error codes mean different
 * fixes. jwt is the assertion sent, which the error may echo.
 */
static int ga_refused(const struct zp_gauth_key *k, const struct zp_gauth_src *src, long status,
                      const cJSON *j, const char *jwt, struct zp_err *err)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "error_description");
    const char *desc = cJSON_IsString(d) ? d->valuestring : "";
    const char *kid = k->private_key_id ? k->private_key_id : "(none)";
    const char *const vals[] = {jwt, NULL};
    char code[128];

    zp_prov_text(cJSON_IsString(e) ? e->valuestring : "", src->call, NULL, vals, code,
                 sizeof(code));

    if (status >= 500)
        zp_err_set(err, ZP_ETRANSIENT,
                   "Google's token endpoint answered HTTP %ld to the token request of service "
                   "account %s; it is having trouble, retry later",
                   status, k->client_email);
    else if (strcmp(code, "invalid_grant") == 0 && strstr(desc, "Signature") != NULL)
        zp_err_set(err, ZP_EAUTH,
                   "Google rejected the key of service account %s (invalid_grant: invalid JWT "
                   "signature): key %s in %s was deleted, disabled or belongs to another account; "
                   "create a new key and put it in the Secret",
                   k->client_email, kid, src->setting);
    else if (strcmp(code, "invalid_grant") == 0 &&
             (strstr(desc, "iat") != NULL || strstr(desc, "timeframe") != NULL))
        zp_err_set(err, ZP_EAUTH,
                   "Google rejected the token request of service account %s because this host's "
                   "clock is wrong (invalid_grant: iat/exp out of range); fix NTP on the node",
                   k->client_email);
    else if (strcmp(code, "invalid_grant") == 0 || strcmp(code, "invalid_client") == 0 ||
             strcmp(code, "unauthorized_client") == 0)
        zp_err_set(err, ZP_EAUTH,
                   "Google refused a token for service account %s (%s): the account does not "
                   "exist or is disabled, or key %s was revoked; check the account and the key in "
                   "%s",
                   k->client_email, code, kid, src->setting);
    else if (strcmp(code, "invalid_scope") == 0)
        zp_err_set(err, ZP_ECONFIG,
                   "Google refused the scope %s for service account %s (invalid_scope)", src->scope,
                   k->client_email);
    else
        zp_err_set(err, ZP_EAUTH,
                   "Google refused a token for service account %s (HTTP %ld%s%s); check the key "
                   "in %s and, if set, tokenEndpoint",
                   k->client_email, status, code[0] ? ", " : "", code, src->setting);
    err->upstream = (int)status;
    return -1;
}

/* Exchanges a fresh assertion for a token; *token and *expires_in on success. */
static int ga_fetch(const struct zp_gauth_key *k, const struct zp_gauth_src *src,
                    uint64_t deadline_ms, char **token, long *expires_in, struct zp_err *err)
{
    static const char *const hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                                       "Accept: application/json", NULL};
    struct zp_buf jwt, form;
    struct zp_http_resp resp;
    struct zp_http_req req = {.method = "POST",
                              .headers = hdrs,
                              .max_response = 64u * 1024u,
                              .deadline_ms = deadline_ms,
                              .ca_file = src->ca_file,
                              .what = GA_WHAT};
    cJSON *j = NULL;
    const cJSON *at, *ex;
    int rc = -1;

    zp_buf_init(&jwt, 16384);
    zp_buf_init(&form, 16384);
    zp_http_resp_init(&resp);
    if (zp_gauth_jwt(k, src->scope, k->token_uri, (long long)time(NULL), &jwt, err) == -1)
        goto out;
    /* base64url needs no escaping in a form. */
    if (zp_buf_printf(&form, "grant_type=%s&assertion=%s", GA_GRANT, zp_buf_str(&jwt)) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the token request for %s", k->client_email);
        goto out;
    }
    req.url = src->token_endpoint ? src->token_endpoint : k->token_uri;
    req.body = form.data;
    req.body_len = form.len;
    if (zp_ratelimit_take(src->rate_key, src->rate, src->burst, deadline_ms, GA_WHAT, err) == -1 ||
        zp_http_call(&req, &resp, err) == -1)
        goto out;
    j = cJSON_ParseWithLength(zp_buf_str(&resp.body), resp.body.len);
    if (resp.status / 100 != 2) {
        /* A refusal carries no token, but may echo the assertion sent. */
        const char *const sent[] = {zp_buf_str(&jwt), NULL};
        const char *const f[] = {"account", k->client_email, NULL};
        zp_prov_log_reply(ZP_LOG_WARN, "google token request refused", NULL, f, &resp, NULL, sent);
        ga_refused(k, src, resp.status, j, zp_buf_str(&jwt), err);
        goto out;
    }
    at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    ex = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    if (!ga_token_ok(at)) {
        zp_err_set(err, ZP_ETRANSIENT,
                   "Google's token endpoint answered the token request of service account %s "
                   "without a usable access_token",
                   k->client_email);
        goto out;
    }
    *token = zp_xstrdup(at->valuestring);
    *expires_in = ga_expires_in(ex);
    rc = 0;
out:
    ga_json_free_secret(j);
    zp_http_resp_free(&resp);
    zp_buf_free_secret(&jwt);
    zp_buf_free_secret(&form);
    return rc;
}

/* ---- ambient: the metadata server ------------------------------------------------------- */

/* A token of the pod's identity from the metadata server; *token and *expires_in on success. */
static int ga_fetch_metadata(const struct zp_gauth_src *src, uint64_t deadline_ms, char **token,
                             long *expires_in, struct zp_err *err)
{
    /* Without this header the server refuses, which proves no redirect fetched the token. */
    static const char *const hdrs[] = {"Metadata-Flavor: Google", "Accept: application/json", NULL};
    const char *host = getenv("GCE_METADATA_HOST");
    struct zp_http_resp resp;
    struct zp_buf url;
    cJSON *j = NULL;
    const cJSON *at, *ex;
    int rc = -1;

    if (host == NULL || host[0] == '\0')
        host = ZP_GAUTH_METADATA_HOST;
    zp_http_resp_init(&resp);
    zp_buf_init(&url, 2048);
    if (zp_buf_printf(&url, "http://%s/computeMetadata/v1/instance/service-accounts/default/token",
                      host) == -1) {
        zp_err_set(err, ZP_ECONFIG, "GCE_METADATA_HOST is too long");
        goto out;
    }
    struct zp_http_req req = {.method = "GET",
                              .url = zp_buf_str(&url),
                              .headers = hdrs,
                              .max_response = 64u * 1024u,
                              .deadline_ms = deadline_ms,
                              .what = "the GKE metadata server"};
    if (zp_ratelimit_take(src->rate_key, src->rate, src->burst, deadline_ms, GA_WHAT, err) == -1)
        goto out;
    if (zp_http_call(&req, &resp, err) == -1) {
        zp_err_set(err, err->kind,
                   "no Google credentials: the instance has no serviceAccountFile or "
                   "serviceAccountSecretRef and the metadata server (%s) did not answer; enable "
                   "GKE Workload Identity on the cluster and node pool, or set "
                   "serviceAccountFile or serviceAccountSecretRef",
                   host);
        goto out;
    }
    j = cJSON_ParseWithLength(zp_buf_str(&resp.body), resp.body.len);
    if (resp.status / 100 != 2) {
        const char *const f[] = {"host", host, NULL};
        zp_prov_log_reply(ZP_LOG_WARN, "metadata token request refused", NULL, f, &resp, NULL,
                          NULL);
        if (resp.status == 404 || resp.status == 403)
            zp_err_set(err, ZP_EAUTH,
                       "the GKE metadata server (%s) has no token for this pod (HTTP %ld): bind "
                       "its Kubernetes service account to a Google service account "
                       "(iam.gke.io/gcp-service-account annotation and "
                       "roles/iam.workloadIdentityUser), or grant the Kubernetes service account "
                       "itself on the zone",
                       host, resp.status);
        else
            zp_err_set(err, ZP_ETRANSIENT,
                       "the GKE metadata server (%s) answered HTTP %ld to the token request; "
                       "retry later",
                       host, resp.status);
        err->upstream = (int)resp.status;
        goto out;
    }
    at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    ex = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    if (!ga_token_ok(at)) {
        zp_err_set(err, ZP_ETRANSIENT,
                   "the GKE metadata server (%s) answered without a usable access_token", host);
        goto out;
    }
    *token = zp_xstrdup(at->valuestring);
    *expires_in = ga_expires_in(ex);
    rc = 0;
out:
    ga_json_free_secret(j);
    if (resp.body.data != NULL)
        zp_wipe(resp.body.data, resp.body.len);
    zp_http_resp_free(&resp);
    zp_buf_free(&url);
    return rc;
}

/* ---- the cache ---------------------------------------------------------------------------- */

struct zp_gauth *zp_gauth_new(void)
{
    struct zp_gauth *g = zp_xcalloc(1, sizeof(*g));

    zp_tokcache_init(&g->cache);
    return g;
}

void zp_gauth_free(struct zp_gauth *g)
{
    if (g == NULL)
        return;
    zp_tokcache_fini(&g->cache);
    free(g);
}

void zp_gauth_forget(struct zp_gauth *g, const char *token)
{
    zp_tokcache_forget(&g->cache, token);
}

/* The service account's key, from a file or a Secret: its bytes go into file, parsed into k. */
static int ga_key_read(const struct zp_gauth_src *src, struct zp_buf *file, struct zp_gauth_key *k,
                       struct zp_err *err)
{
    if (src->key_file != NULL) {
        if (zp_secret_file_read(src->key_file, src->setting, file, err) == -1)
            return -1;
        return zp_gauth_key_parse(file->data, file->len, src->setting, src->key_file, k, err);
    }
    if (zp_cred_read(src->cred, src->call, file, err) == -1)
        return -1;
    return zp_gauth_key_parse(file->data, file->len, src->cred->setting, src->cred->where, k, err);
}

int zp_gauth_token(struct zp_gauth *g, const struct zp_gauth_src *src, uint64_t deadline_ms,
                   char **token, char *who, size_t whosz, struct zp_err *err)
{
    struct zp_gauth_key k = {0};
    struct zp_buf file;
    unsigned char key[ZP_TOKCACHE_KEY] = {0};
    char *fresh = NULL;
    long expires_in = 0;
    int rc = -1;

    *token = NULL;
    zp_buf_init(&file, GA_KEYFILE_MAX);
    if (src->key_file == NULL && (src->cred == NULL || !zp_cred_set(src->cred))) {
        /* Ambient: no key file to hash; the cache holds while the token is fresh. */
        zp_strlcpy(who, ZP_GAUTH_AMBIENT_WHO, whosz);
        if ((*token = zp_tokcache_get(&g->cache, key)) == NULL &&
            ga_fetch_metadata(src, deadline_ms, &fresh, &expires_in, err) == -1)
            goto out;
    } else {
        if (ga_key_read(src, &file, &k, err) == -1)
            goto out;
        /* The key's bytes, from a file or a Secret, key the cache: a rotated key buys a new token.
         */
        zp_strlcpy(who, k.client_email, whosz);
        if (zp_tokcache_key(file.data, file.len, key) == -1) {
            zp_err_set(err, ZP_EINTERNAL, "cannot hash the key file of %s", k.client_email);
            goto out;
        }
        if ((*token = zp_tokcache_get(&g->cache, key)) == NULL &&
            ga_fetch(&k, src, deadline_ms, &fresh, &expires_in, err) == -1)
            goto out;
    }
    if (fresh != NULL) {
        *token = zp_tokcache_put(&g->cache, key, fresh, expires_in, GA_MARGIN_S);
        fresh = NULL;
        zp_log(ZP_LOG_DEBUG, "google token",
               ZP_S("account", k.client_email ? k.client_email : "metadata server"),
               ZP_I("expires_in", expires_in), ZP_END);
    }
    rc = 0;
out:
    zp_free_secret(fresh);
    zp_wipe(key, sizeof(key));
    zp_gauth_key_free(&k);
    zp_buf_free_secret(&file);
    return rc;
}
