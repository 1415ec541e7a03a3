/*
 * awssts.c — STS AssumeRoleWithWebIdentity and one credential cache per
 * provider instance.
 *
 * The call is unsigned: the web identity token (a JWT the cluster's OIDC
 * issuer signed) is the proof. The token file is re-read at every exchange
 * because the kubelet rotates it. Credentials are fetched outside the
 * cache's mutex, so no call waits on another call's deadline; two calls
 * that miss at once both fetch, and the later answer replaces the earlier.
 * Replies are XML, read by xml.h with AWS's limits (zp_r53_xml_parse),
 * which wipes what it held of them.
 */
#define _GNU_SOURCE /* timegm */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "providers/awssts.h"
#include "providers/awssts_int.h"
#include "providers/common.h"
#include "providers/route53_int.h"

#define STS_WHAT "AWS STS"
#define STS_TOKEN_MAX (64u * 1024u)
#define STS_REPLY_MAX (64u * 1024u)
#define STS_MARGIN_S 300  /* refresh this long before the credentials expire */
#define STS_TEXT_MAX 4096 /* an element's text in a reply (the session token is the longest) */

struct zp_awssts {
    pthread_mutex_t mu;
    struct zp_awssts_creds creds; /* under mu; wiped when replaced */
    time_t expires;               /* wall clock: STS states Expiration as a date */
};

struct zp_awssts *zp_awssts_new(void)
{
    struct zp_awssts *s = zp_xcalloc(1, sizeof(*s));

    pthread_mutex_init(&s->mu, NULL);
    return s;
}

void zp_awssts_creds_wipe(struct zp_awssts_creds *c)
{
    free(c->access_key_id);
    zp_free_secret(c->secret_access_key);
    zp_free_secret(c->session_token);
    memset(c, 0, sizeof(*c));
}

void zp_awssts_free(struct zp_awssts *s)
{
    if (s == NULL)
        return;
    zp_awssts_creds_wipe(&s->creds);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

int zp_awssts_endpoint(const struct zp_awssts_src *src, struct zp_buf *out)
{
    const char *region = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
    const char *mode = env("AWS_STS_REGIONAL_ENDPOINTS");

    if (src->endpoint != NULL)
        zp_buf_puts(out, src->endpoint);
    else if (region == NULL || (mode != NULL && strcmp(mode, "legacy") == 0))
        zp_buf_puts(out, "https://sts.amazonaws.com");
    else
        zp_buf_printf(out, "https://sts.%s.amazonaws.com%s", region,
                      strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
    return zp_buf_ok(out) ? 0 : -1;
}

static time_t parse_expiration(const char *s)
{
    struct tm tm;
    const char *rest;

    memset(&tm, 0, sizeof(tm));
    rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL)
        return (time_t)-1;
    return timegm(&tm);
}

/* The sentence for a refusal. Always returns -1. */
static int sts_fail(const struct zp_http_resp *resp, const char *role, const char *file,
                    const char *url, const struct zp_buf *token, struct zp_err *err)
{
    char code[64], msg[400];
    const char *const sent[] = {zp_buf_str(token), NULL}, *const f[] = {"endpoint", url, NULL};

    zp_prov_log_reply(ZP_LOG_WARN, "sts error reply", NULL, f, resp, NULL, sent);
    if (!zp_r53_error_parse(zp_buf_str(&resp->body), resp->body.len, code, sizeof(code), msg,
                            sizeof(msg)))
        code[0] = msg[0] = '\0';
    if (strcmp(code, "AccessDenied") == 0)
        zp_err_set(err, ZP_EPERM,
                   "AWS STS refused to let the web identity in %s assume role %s (AccessDenied): "
                   "the role's trust policy must allow sts:AssumeRoleWithWebIdentity to the "
                   "cluster's OIDC provider, with conditions that admit this pod's service "
                   "account (system:serviceaccount:<namespace>:<name>) and audience "
                   "sts.amazonaws.com",
                   file, role);
    else if (strcmp(code, "InvalidIdentityToken") == 0)
        zp_err_set(err, ZP_EAUTH,
                   "AWS STS rejected the web identity token in %s (InvalidIdentityToken): register "
                   "the cluster's OIDC issuer as an IAM identity provider with audience "
                   "sts.amazonaws.com, and project the service-account token with that audience",
                   file);
    else if (strcmp(code, "ExpiredTokenException") == 0 || strcmp(code, "ExpiredToken") == 0)
        zp_err_set(err, ZP_EAUTH,
                   "AWS STS found the web identity token in %s expired (%s): the kubelet no "
                   "longer refreshes it; check the pod's projected token volume and that the file "
                   "is the mounted one",
                   file, code);
    else if (strcmp(code, "IDPCommunicationError") == 0 || resp->status >= 500 ||
             strcmp(code, "Throttling") == 0)
        zp_err_set(err, ZP_ETRANSIENT,
                   "AWS STS could not exchange the web identity token now (HTTP %ld, %s); retry "
                   "later",
                   resp->status, code[0] ? code : "no error code");
    else
        zp_err_set(err, ZP_EAUTH,
                   "AWS STS refused AssumeRoleWithWebIdentity for role %s (HTTP %ld, %s): %.200s",
                   role, resp->status, code[0] ? code : "no error code", msg);
    err->upstream = (int)resp->status;
    return -1;
}

static int form_pair(struct zp_buf *b, const char *name, const char *value)
{
    return zp_buf_printf(b, "%s%s=", b->len ? "&" : "", name) == -1 ||
                   zp_http_escape(value, b) == -1
               ? -1
               : 0;
}

/* The role to assume and the token file that proves who asks: the instance's, else the pod's. */
static int sts_identity(const struct zp_awssts_src *src, const char **role, const char **file,
                        struct zp_err *err)
{
    *role = src->role_arn ? src->role_arn : env("AWS_ROLE_ARN");
    *file = src->token_file ? src->token_file : env("AWS_WEB_IDENTITY_TOKEN_FILE");
    if (*role == NULL)
        return zp_err_set(err, ZP_ECONFIG,
                          "no role to assume for ambient AWS credentials: AWS_ROLE_ARN is not set "
                          "and neither is roleArn; annotate the service account with "
                          "eks.amazonaws.com/role-arn (IRSA) or set roleArn");
    if (*file == NULL)
        return zp_err_set(err, ZP_ECONFIG,
                          "no web identity token for ambient AWS credentials: "
                          "AWS_WEB_IDENTITY_TOKEN_FILE is not set; annotate the service account "
                          "with eks.amazonaws.com/role-arn so the pod identity webhook mounts the "
                          "token, or set secretAccessKeyFile");
    return 0;
}

/* The credentials in a 200 reply to AssumeRoleWithWebIdentity, into *out and *expires. */
int zp_awssts_parse(const struct zp_buf *body, const char *role, struct zp_awssts_creds *out,
                    time_t *expires, struct zp_err *err)
{
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken"};
    char **const dst[] = {&out->access_key_id, &out->secret_access_key, &out->session_token};
    struct zp_xml x;
    char why[160] = "";
    const char *t;
    int rc = -1;

    if (zp_r53_xml_parse(zp_buf_str(body), body->len, STS_TEXT_MAX, &x, why, sizeof(why)) == -1)
        goto out;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        /* expat never passes a NUL on (XML has none), so the text is all of the value. */
        if ((t = zp_xml_get(&x, 0, names[i])) == NULL || t[0] == '\0')
            goto out;
        *dst[i] = zp_xstrdup(t);
    }
    if ((t = zp_xml_get(&x, 0, "Expiration")) == NULL ||
        (*expires = parse_expiration(t)) == (time_t)-1)
        goto out;
    rc = 0;
out:
    if (rc == -1)
        zp_err_set(err, ZP_ETRANSIENT,
                   "AWS STS answered AssumeRoleWithWebIdentity for role %s without usable "
                   "credentials%s%s%s",
                   role, why[0] ? " (" : "", why, why[0] ? ")" : "");
    zp_xml_free(&x);
    return rc;
}

/* One exchange: new credentials into *out and their expiry into *expires. */
static int sts_fetch(const struct zp_awssts_src *src, uint64_t deadline_ms,
                     struct zp_awssts_creds *out, time_t *expires, struct zp_err *err)
{
    const char *role, *file;
    struct zp_buf url, token, form;
    struct zp_http_resp resp;
    int rc = -1;

    zp_buf_init(&url, 2048);
    zp_buf_init(&token, STS_TOKEN_MAX);
    zp_buf_init(&form, 2 * STS_TOKEN_MAX);
    zp_http_resp_init(&resp);
    if (sts_identity(src, &role, &file, err) == -1 ||
        zp_secret_file_read(file, "AWS_WEB_IDENTITY_TOKEN_FILE", &token, err) == -1)
        goto out;
    if (form_pair(&form, "Action", "AssumeRoleWithWebIdentity") == -1 ||
        form_pair(&form, "Version", "2011-06-15") == -1 ||
        form_pair(&form, "RoleArn", role) == -1 ||
        form_pair(&form, "RoleSessionName", "zoneproof") == -1 ||
        form_pair(&form, "WebIdentityToken", zp_buf_str(&token)) == -1) {
        zp_err_set(err, ZP_ECONFIG, "the web identity token in %s is too long", file);
        goto out;
    }
    zp_awssts_endpoint(src, &url);
    zp_buf_puts(&url, "/");
    if (zp_buf_check(&url, "the AWS STS URL", err) == -1)
        goto out;
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", "Accept: text/xml",
                             NULL};
    struct zp_http_req req = {.method = "POST",
                              .url = zp_buf_str(&url),
                              .headers = headers,
                              .body = zp_buf_str(&form),
                              .body_len = form.len,
                              .deadline_ms = deadline_ms,
                              .max_response = STS_REPLY_MAX,
                              .ca_file = src->ca_file,
                              .what = STS_WHAT};
    if (zp_http_call(&req, &resp, err) == -1)
        goto out;
    if (resp.status != 200) {
        sts_fail(&resp, role, file, zp_buf_str(&url), &token, err);
        goto out;
    }
    if (zp_awssts_parse(&resp.body, role, out, expires, err) == -1)
        goto out;
    zp_log(ZP_LOG_INFO, "sts credentials", ZP_S("role", role), ZP_S("endpoint", zp_buf_str(&url)),
           ZP_S("access_key_id", out->access_key_id), ZP_I("valid_s", *expires - time(NULL)),
           ZP_END);
    rc = 0;
out:
    if (rc == -1)
        zp_awssts_creds_wipe(out);
    zp_buf_free(&url);
    zp_buf_free_secret(&token);
    zp_buf_free_secret(&form);
    if (resp.body.data != NULL)
        zp_wipe(resp.body.data, resp.body.len);
    zp_http_resp_free(&resp);
    return rc;
}

static void creds_copy(const struct zp_awssts_creds *from, struct zp_awssts_creds *to)
{
    to->access_key_id = zp_xstrdup(from->access_key_id);
    to->secret_access_key = zp_xstrdup(from->secret_access_key);
    to->session_token = zp_xstrdup(from->session_token);
}

int zp_awssts_get(struct zp_awssts *s, const struct zp_awssts_src *src, uint64_t deadline_ms,
                  struct zp_awssts_creds *out, struct zp_err *err)
{
    struct zp_awssts_creds fresh = {0};
    time_t expires = 0;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&s->mu);
    if (s->creds.access_key_id != NULL && time(NULL) + STS_MARGIN_S < s->expires) {
        creds_copy(&s->creds, out);
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    pthread_mutex_unlock(&s->mu);
    if (sts_fetch(src, deadline_ms, &fresh, &expires, err) == -1)
        return -1;
    creds_copy(&fresh, out);
    pthread_mutex_lock(&s->mu);
    zp_awssts_creds_wipe(&s->creds);
    s->creds = fresh;
    s->expires = expires;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void zp_awssts_forget(struct zp_awssts *s, const char *akid)
{
    pthread_mutex_lock(&s->mu);
    if (s->creds.access_key_id != NULL && akid != NULL && strcmp(s->creds.access_key_id, akid) == 0)
        zp_awssts_creds_wipe(&s->creds);
    pthread_mutex_unlock(&s->mu);
}
