/*
 * common.c — TXT quoting and comparison, credential files, endpoint
 * settings, JSON replies, requests with a cached bearer token, and upstream
 * text (a reply's body) made fit for the log and for sentences, for the
 * HTTP-API providers.
 */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/redact.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/provider.h"

#define SECRET_MAX (64u * 1024u) /* a service-account JSON is a few KB */

int zp_txt_quote(const char *value, struct zp_buf *out)
{
    if (zp_buf_puts(out, "\"") == -1)
        return -1;
    for (const char *p = value; *p; p++) {
        if ((*p == '"' || *p == '\\') && zp_buf_puts(out, "\\") == -1)
            return -1;
        if (zp_buf_append(out, p, 1) == -1)
            return -1;
    }
    return zp_buf_puts(out, "\"");
}

int zp_txt_equal(const char *stored, const char *value)
{
    size_t n = strlen(stored);
    const char *p, *v = value;

    if (n < 2 || stored[0] != '"' || stored[n - 1] != '"')
        return strcmp(stored, value) == 0;
    /* "a" "b" -> ab; \" and \\ unescaped */
    for (p = stored; p < stored + n;) {
        if (*p != '"')
            return 0;
        for (p++; p < stored + n && *p != '"'; p++) {
            if (*p == '\\' && p + 1 < stored + n)
                p++;
            if (*v++ != *p)
                return 0;
        }
        p++; /* closing quote */
        while (p < stored + n && *p == ' ')
            p++;
    }
    return *v == '\0';
}

/* zp_secret_file_read with a cap of max bytes. */
static int secret_file_read_max(const char *path, const char *setting, size_t max, int binary,
                                struct zp_buf *out, struct zp_err *err)
{
    if (zp_buf_read_file(out, path, max, setting, err) == -1)
        return -1;
    if (!binary)
        zp_buf_trim(out);
    if (out->len == 0)
        return zp_err_set(err, ZP_ECONFIG, "%s: %s is empty", setting, path);
    return 0;
}

/* zp_secret_file_check with a cap of max bytes. */
static int secret_file_check_max(const struct zp_ynode *map, const char *path, const char *key,
                                 const char *file, size_t max, struct zp_err *err)
{
    struct zp_buf b;
    struct zp_err e = {0};
    int rc;

    zp_buf_init(&b, max);
    rc = secret_file_read_max(file, key, max, 0, &b, &e);
    zp_buf_free_secret(&b);
    if (rc == -1)
        return zp_y_fail(zp_y_get(map, key), path, err, "%s", e.msg);
    /* Once, at configuration time: a warning, as a mount's mode is not always ours to set. */
    zp_file_warn_readable(file, key);
    return 0;
}

int zp_secret_file_read(const char *path, const char *setting, struct zp_buf *out,
                        struct zp_err *err)
{
    return secret_file_read_max(path, setting, SECRET_MAX, 0, out, err);
}

int zp_secret_file_check(const struct zp_ynode *map, const char *path, const char *key,
                         const char *file, struct zp_err *err)
{
    return secret_file_check_max(map, path, key, file, SECRET_MAX, err);
}

/* ---- credentials: a file or a Secret reference -------------------------------------------- */

#define CRED_NAME_MAX 253

/* A DNS-1123 subdomain, as Kubernetes requires of a Secret's name. */
static int cred_valid_name(const char *s)
{
    size_t n = strlen(s), label = 0;

    if (n == 0 || n > CRED_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
        if (c == '-' && label == 0)
            return 0;
        label++;
    }
    return label > 0 && s[n - 1] != '-';
}

/* A key of a Secret's data: [-._a-zA-Z0-9]+, at most 253, and not "." or "..". */
static int cred_valid_key(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > CRED_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static char *cred_join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = zp_xmalloc(na + nb + 1);

    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

static int cred_parse_ref(const struct zp_ynode *map, const char *path, const char *refkey,
                          struct zp_cred *cred, struct zp_err *err)
{
    static const char *const ref_keys[] = {"name", "key", NULL};
    const struct zp_ynode *ref = zp_y_get(map, refkey);
    const char *name = NULL, *key = NULL;
    char sub[512];

    if (ref->type != ZP_Y_MAP)
        return zp_y_fail(ref, path, err,
                         "%s must be a mapping with name (a Secret in the Issuer's namespace) "
                         "and key (the key of its data that holds the value)",
                         refkey);
    snprintf(sub, sizeof(sub), "%s.%s", path, refkey);
    if (zp_y_check_keys(ref, sub, ref_keys, err) == -1 ||
        zp_y_str(ref, sub, "name", 1, &name, err) == -1 ||
        zp_y_str(ref, sub, "key", 1, &key, err) == -1)
        return -1;
    if (!cred_valid_name(name))
        return zp_y_fail(zp_y_get(ref, "name"), sub, err,
                         "name \"%.300s\" is not a Secret's name (lower-case letters, digits, "
                         "'-' and '.', at most 253)",
                         name);
    if (!cred_valid_key(key))
        return zp_y_fail(zp_y_get(ref, "key"), sub, err,
                         "key \"%.300s\" is not a key a Secret may have (letters, digits, '-', "
                         "'_' and '.', at most 253)",
                         key);
    cred->ref_name = zp_xstrdup(name);
    cred->ref_key = zp_xstrdup(key);
    return 0;
}

int zp_cred_parse(const struct zp_ynode *map, const char *path, const char *base, int required,
                  struct zp_cred *cred, struct zp_err *err)
{
    return zp_cred_parse_max(map, path, base, required, SECRET_MAX, cred, err);
}

int zp_cred_parse_max(const struct zp_ynode *map, const char *path, const char *base, int required,
                      size_t max, struct zp_cred *cred, struct zp_err *err)
{
    char *filekey = cred_join(base, "File"), *refkey = cred_join(base, "SecretRef");
    const struct zp_ynode *fnode = zp_y_get(map, filekey), *rnode = zp_y_get(map, refkey);
    const char *file = NULL;
    char where[CRED_NAME_MAX * 2 + 32];
    int rc = -1;

    memset(cred, 0, sizeof(*cred));
    if (fnode != NULL && rnode != NULL) {
        zp_y_fail(rnode, path, err,
                  "%s and %s are both set; set only one: %s names the file of a mounted Secret, "
                  "%s a Secret in the Issuer's namespace",
                  filekey, refkey, filekey, refkey);
        goto out;
    }
    if (fnode == NULL && rnode == NULL) {
        if (required)
            zp_y_fail(map, path, err,
                      "%s or %s is required: the file of a mounted Secret, or {name, key} of a "
                      "Secret in the Issuer's namespace",
                      filekey, refkey);
        else
            rc = 0;
        goto out;
    }
    if (fnode != NULL) {
        if (zp_y_str(map, path, filekey, 1, &file, err) == -1 ||
            secret_file_check_max(map, path, filekey, file, max, err) == -1)
            goto out;
        cred->file = zp_xstrdup(file);
        cred->where = zp_xstrdup(file);
        cred->setting = filekey;
        filekey = NULL;
    } else {
        if (cred_parse_ref(map, path, refkey, cred, err) == -1)
            goto out;
        snprintf(where, sizeof(where), "secret %s, key %s", cred->ref_name, cred->ref_key);
        cred->where = zp_xstrdup(where);
        cred->setting = refkey;
        refkey = NULL;
    }
    cred->base = zp_xstrdup(base);
    cred->max = max;
    rc = 0;
out:
    if (rc == -1)
        zp_cred_free(cred);
    free(filekey);
    free(refkey);
    return rc;
}

int zp_cred_set(const struct zp_cred *cred)
{
    return cred->setting != NULL;
}

int zp_cred_read(const struct zp_cred *cred, const struct zp_prov_call *call, struct zp_buf *out,
                 struct zp_err *err)
{
    struct zp_err e = {0};
    const char *ns = call ? call->resource_namespace : NULL;

    if (cred->setting == NULL)
        return zp_err_set(err, ZP_EINTERNAL, "a credential was read that was never configured");
    if (cred->file != NULL)
        return secret_file_read_max(cred->file, cred->setting, cred->max ? cred->max : SECRET_MAX,
                                    cred->binary, out, err);
    if (call == NULL || call->secret_get == NULL)
        return zp_err_set(err, ZP_ECONFIG,
                          "%s needs a Kubernetes API: run zoneproof serve in a cluster or with "
                          "--kubeconfig, or use %sFile",
                          cred->setting, cred->base);
    if (ns == NULL || ns[0] == '\0')
        return zp_err_set(err, ZP_EINVAL,
                          "%s: the challenge names no resourceNamespace, so there is no "
                          "namespace to read secret %s from; cert-manager sends the Issuer's "
                          "namespace (or its cluster resource namespace for a ClusterIssuer)",
                          cred->setting, cred->ref_name);
    if (call->secret_get(call->secret_arg, ns, cred->ref_name, cred->ref_key, out, &e) == -1) {
        /* The source's sentence names the Secret, never its bytes; say which option led there. */
        return zp_err_set(err, e.kind != ZP_EOK ? e.kind : ZP_EINTERNAL, "%s: %s", cred->setting,
                          e.msg[0] ? e.msg : "the secret could not be read");
    }
    if (!cred->binary)
        zp_buf_trim(out);
    if (out->len == 0)
        return zp_err_set(err, ZP_ECONFIG, "%s: key %s of secret %s/%s is empty", cred->setting,
                          cred->ref_key, ns, cred->ref_name);
    return 0;
}

void zp_cred_free(struct zp_cred *cred)
{
    free(cred->file);
    free(cred->ref_name);
    free(cred->ref_key);
    free(cred->setting);
    free(cred->base);
    free(cred->where);
    memset(cred, 0, sizeof(*cred));
}

int zp_cafile_parse(const struct zp_ynode *map, const char *path, char **ca, struct zp_err *err)
{
    const char *cafile = NULL;
    struct zp_err e = {0};

    if (zp_y_str(map, path, "caFile", 0, &cafile, err) == -1)
        return -1;
    if (cafile != NULL && access(cafile, R_OK) != 0)
        return zp_y_fail(zp_y_get(map, "caFile"), path, err,
                         "caFile %s cannot be read: mount the CA bundle there or remove the "
                         "setting to trust the system's CAs",
                         cafile);
    if (cafile != NULL && zp_file_check_regular(cafile, "caFile", &e) == -1)
        return zp_y_fail(zp_y_get(map, "caFile"), path, err, "%s", e.msg);
    *ca = cafile ? zp_xstrdup(cafile) : NULL;
    return 0;
}

int zp_endpoint_parse(const struct zp_ynode *map, const char *path, const char *def_url,
                      char **endpoint, char **ca, struct zp_err *err)
{
    const char *url = def_url;
    size_t n;

    if (zp_y_str(map, path, "endpoint", 0, &url, err) == -1)
        return -1;
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        return zp_y_fail(zp_y_get(map, "endpoint"), path, err,
                         "endpoint \"%s\" must start with https:// (or http:// for a server on "
                         "a trusted network)",
                         url);
    n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (zp_cafile_parse(map, path, ca, err) == -1)
        return -1;
    *endpoint = zp_xstrndup(url, n);
    return 0;
}

struct cJSON *zp_json_parse(const struct zp_buf *body, const char *what, struct zp_err *err)
{
    cJSON *j = cJSON_ParseWithLength(zp_buf_str(body), body->len);

    if (j == NULL)
        zp_err_set(err, ZP_ETRANSIENT, "%s answered with something that is not JSON", what);
    return j;
}

/* ---- a request with a cached bearer token ------------------------------------------------- */

int zp_prov_bearer_send(const struct zp_prov_bearer *b, const struct zp_prov_api_conn *c,
                        const struct zp_prov_call *call, const char *method, const char *path,
                        const char *body, char **token, struct zp_http_resp *resp,
                        struct zp_err *err)
{
    struct zp_prov_api_conn with = *c;
    char *auth = NULL;
    int rc = -1;

    for (int again = 0;; again++) {
        if (*token == NULL && b->get(b->arg, token, err) == -1)
            goto out;
        zp_free_secret(auth);
        with.auth = auth = zp_xasprintf("Authorization: Bearer %s", *token);
        if (zp_prov_json_send(&with, call, method, path, body, resp, err) == -1)
            goto out;
        if (resp->status != 401 || again)
            break;
        /* Revoked or expired early: a new token may work, a second 401 will not. */
        b->drop(b->arg, *token);
        zp_free_secret(*token);
        *token = NULL;
    }
    rc = 0;
out:
    zp_free_secret(auth);
    return rc;
}

/* ---- upstream text for the log and for sentences ------------------------------------------ */

#define PROV_SECRETS_MAX 24

struct prov_secrets {
    char *v[PROV_SECRETS_MAX + 1];
    size_t n;
};

static void secrets_add(struct prov_secrets *s, const char *p, size_t len)
{
    if (len > 0 && s->n < PROV_SECRETS_MAX)
        s->v[s->n++] = zp_xstrndup(p, len);
}

/*
 * v itself, and when it is a header line ("Name: value") the value, each word
 * of it but a scheme before a credential ("Bearer", "sso-key") and the halves
 * of a "K:S" word: a server may echo any one of them.
 */
static void secrets_add_line(struct prov_secrets *s, const char *v)
{
    const char *colon = strstr(v, ": "), *w, *e, *half;

    secrets_add(s, v, strlen(v));
    if (colon == NULL)
        return;
    for (v = colon + 2; *v == ' ';)
        v++;
    secrets_add(s, v, strlen(v));
    if (strchr(v, ' ') != NULL) /* the first word names the scheme */
        v = strchr(v, ' ');
    for (w = v; *w; w = e) {
        while (*w == ' ')
            w++;
        for (e = w; *e && *e != ' ';)
            e++;
        secrets_add(s, w, (size_t)(e - w));
        if ((half = memchr(w, ':', (size_t)(e - w))) != NULL) {
            secrets_add(s, w, (size_t)(half - w));
            secrets_add(s, half + 1, (size_t)(e - half - 1));
        }
    }
}

const char *zp_prov_body(const char *body, size_t len, const struct zp_prov_call *call,
                         const struct zp_cred *const *creds, const char *const *vals, char *out,
                         size_t outsz)
{
    struct prov_secrets s = {.n = 0};

    for (size_t i = 0; creds != NULL && creds[i] != NULL; i++) {
        struct zp_buf v;
        struct zp_err e = {0};
        if (!zp_cred_set(creds[i]))
            continue;
        zp_buf_init(&v, creds[i]->max ? creds[i]->max : SECRET_MAX);
        if (zp_cred_read(creds[i], call, &v, &e) == 0) /* else the generic rules still apply */
            secrets_add(&s, v.data, v.len);
        zp_buf_free_secret(&v);
    }
    for (size_t i = 0; vals != NULL && vals[i] != NULL; i++)
        secrets_add_line(&s, vals[i]);
    s.v[s.n] = NULL;
    zp_redact(body, len, (const char *const *)s.v, out, outsz);
    for (size_t i = 0; i < s.n; i++)
        zp_free_secret(s.v[i]);
    return out;
}

void zp_prov_log_reply(enum zp_loglevel level, const char *msg, const struct zp_prov_call *call,
                       const char *const *fields, const struct zp_http_resp *r,
                       const struct zp_cred *const *creds, const char *const *vals)
{
    const char *k[ZP_PROV_LOG_FIELDS + 1], *v[ZP_PROV_LOG_FIELDS + 1];
    char body[ZP_PROV_LOG_BODY + 1];
    long long status = r->status;
    size_t n = 0;

    if (call != NULL) {
        k[n] = "instance";
        v[n++] = call->instance;
    }
    for (size_t i = 0; fields != NULL && fields[i] != NULL && i < 2 * ZP_PROV_LOG_FIELDS; i += 2) {
        k[n] = fields[i];
        v[n++] = fields[i + 1];
    }
    zp_prov_body(zp_buf_str(&r->body), r->body.len, call, creds, vals, body, sizeof(body));
    /* zp_log takes its fields as arguments: one call for each count. */
    switch (n) {
    case 0:
        zp_log(level, msg, ZP_I("status", status), ZP_S("body", body), ZP_END);
        break;
    case 1:
        zp_log(level, msg, ZP_S(k[0], v[0]), ZP_I("status", status), ZP_S("body", body), ZP_END);
        break;
    case 2:
        zp_log(level, msg, ZP_S(k[0], v[0]), ZP_S(k[1], v[1]), ZP_I("status", status),
               ZP_S("body", body), ZP_END);
        break;
    case 3:
        zp_log(level, msg, ZP_S(k[0], v[0]), ZP_S(k[1], v[1]), ZP_S(k[2], v[2]),
               ZP_I("status", status), ZP_S("body", body), ZP_END);
        break;
    default:
        zp_log(level, msg, ZP_S(k[0], v[0]), ZP_S(k[1], v[1]), ZP_S(k[2], v[2]), ZP_S(k[3], v[3]),
               ZP_I("status", status), ZP_S("body", body), ZP_END);
        break;
    }
}

const char *zp_prov_zone_unheld(const struct zp_prov_call *call)
{
    return call != NULL && call->cli
               ? "the zone taken from --zone, zone discovery or dnsZones does not hold the name"
               : "the zone cert-manager found does not hold the name";
}

const char *zp_prov_text(const char *text, const struct zp_prov_call *call,
                         const struct zp_cred *const *creds, const char *const *vals, char *out,
                         size_t outsz)
{
    if (outsz == 0)
        return out;
    if (text == NULL)
        text = "";
    zp_prov_body(text, strlen(text), call, creds, vals, out, outsz);
    /* A sentence is one line: a newline or an escape sequence from upstream would forge more. */
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return out;
}

/* ---- requests ------------------------------------------------------------------------------ */

int zp_prov_json_send(const struct zp_prov_api_conn *c, const struct zp_prov_call *call,
                      const char *method, const char *path, const char *body,
                      struct zp_http_resp *resp, struct zp_err *err)
{
    const char *headers[8];
    struct zp_http_req req = {.method = method,
                              .headers = headers,
                              .body = body,
                              .body_len = body ? strlen(body) : 0,
                              .deadline_ms = call->deadline_ms,
                              .max_response = c->max_response,
                              .ca_file = c->ca_file,
                              .what = c->what,
                              .sign = c->sign,
                              .sign_arg = c->sign_arg};
    size_t n = 0;
    int rc = -1;

    if (c->auth != NULL)
        headers[n++] = c->auth;
    for (size_t i = 0; c->headers != NULL && c->headers[i] != NULL && i < 4; i++)
        headers[n++] = c->headers[i];
    headers[n++] = "Accept: application/json";
    if (body != NULL)
        headers[n++] = "Content-Type: application/json";
    headers[n] = NULL;
    req.url = zp_xasprintf("%s%s", c->base, path);
    if (zp_ratelimit_take(c->rate_key, c->rate, c->burst, call->deadline_ms, c->what, err) == 0)
        rc = zp_http_call(&req, resp, err);
    free((char *)req.url);
    return rc;
}

/* ---- refusals ------------------------------------------------------------------------------ */

/*
 * tmpl with each {name} that vars names replaced by its value, cut to
 * outsz; other braces stay as they are.
 */
static void prov_expand(const char *tmpl, const char *const *vars, char *out, size_t outsz)
{
    size_t o = 0;

    for (const char *p = tmpl; *p != '\0'; p++) {
        const char *end = *p == '{' ? strchr(p, '}') : NULL, *src = p;
        size_t n = 1;
        const char *bar = end ? memchr(p, '|', (size_t)(end - p)) : NULL;
        size_t nlen = end ? (size_t)((bar ? bar : end) - p - 1) : 0;

        for (size_t i = 0; end != NULL && vars != NULL && vars[i] != NULL; i += 2)
            if (strlen(vars[i]) == nlen && memcmp(vars[i], p + 1, nlen) == 0) {
                src = vars[i + 1] ? vars[i + 1] : "";
                n = strlen(src);
                if (n == 0 && bar != NULL) { /* {name|word}: the word stands in */
                    src = bar + 1;
                    n = (size_t)(end - bar - 1);
                }
                break;
            }
        if (end != NULL && src == p && bar != NULL) { /* a name vars lacks: the word */
            src = bar + 1;
            n = (size_t)(end - bar - 1);
        }
        if (src != p)
            p = end;
        if (n > outsz - 1 - o)
            n = outsz - 1 - o;
        memcpy(out + o, src, n);
        o += n;
    }
    out[o] = '\0';
}

int zp_prov_refuse(const struct zp_prov_refusal *tab, long status, const char *code,
                   const char *const *vars, struct zp_err *err)
{
    const char *const fallback[2] = {
        "{what} answered HTTP {status} (server error) when asked to {doing}; it is tried again "
        "at the next attempt, and the provider's status page says whether it has an outage",
        "{what} answered HTTP {status} when asked to {doing}, which its API does not describe; "
        "the log holds the start of its answer"};
    const char **all;
    const char *tmpl = status >= 500 ? fallback[0] : fallback[1];
    enum zp_errkind kind = status >= 500 ? ZP_ETRANSIENT : ZP_EINTERNAL;
    char st[24], msg[ZP_ERR_MSG_MAX];
    size_t n = 0, nv = 0;

    for (; tab != NULL && tab->sentence != NULL; tab++)
        if (((tab->lo == 0 && tab->hi == 0) || (status >= tab->lo && status <= tab->hi)) &&
            (tab->code == NULL || (code != NULL && strcmp(tab->code, code) == 0))) {
            tmpl = tab->sentence;
            kind = tab->kind;
            break;
        }
    snprintf(st, sizeof(st), "%ld", status);
    while (vars != NULL && vars[nv] != NULL)
        nv += 2;
    all = zp_xcalloc(nv + 3, sizeof(*all));
    all[n++] = "status";
    all[n++] = st;
    for (size_t i = 0; i < nv; i++)
        all[n++] = vars[i];
    all[n] = NULL;
    prov_expand(tmpl, all, msg, sizeof(msg));
    free(all);
    zp_err_set(err, kind, "%s", msg);
    err->upstream = (int)status;
    return -1;
}

/* ---- the bearer token cache ---------------------------------------------------------------- */

void zp_tokcache_init(struct zp_tokcache *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
}

void zp_tokcache_fini(struct zp_tokcache *c)
{
    zp_free_secret(c->token);
    c->token = NULL;
    zp_wipe(c->key, sizeof(c->key));
    pthread_mutex_destroy(&c->mu);
}

int zp_tokcache_key(const void *cred, size_t len, unsigned char key[ZP_TOKCACHE_KEY])
{
    memset(key, 0, ZP_TOKCACHE_KEY);
    if (len == 0)
        return 0;
    return EVP_Digest(cred, len, key, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

char *zp_tokcache_get(struct zp_tokcache *c, const unsigned char key[ZP_TOKCACHE_KEY])
{
    char *copy = NULL;

    pthread_mutex_lock(&c->mu);
    if (c->token != NULL && memcmp(c->key, key, ZP_TOKCACHE_KEY) == 0 &&
        zp_now_ms() < c->fresh_until)
        copy = zp_xstrdup(c->token);
    pthread_mutex_unlock(&c->mu);
    return copy;
}

char *zp_tokcache_put(struct zp_tokcache *c, const unsigned char key[ZP_TOKCACHE_KEY], char *fresh,
                      long expires_in, long margin_s)
{
    long margin = expires_in > 2 * margin_s ? margin_s : expires_in / 2;
    char *copy = zp_xstrdup(fresh);

    pthread_mutex_lock(&c->mu);
    zp_free_secret(c->token);
    c->token = fresh;
    c->fresh_until = zp_now_ms() + (uint64_t)(expires_in - margin) * 1000u;
    memcpy(c->key, key, ZP_TOKCACHE_KEY);
    pthread_mutex_unlock(&c->mu);
    return copy;
}

void zp_tokcache_forget(struct zp_tokcache *c, const char *token)
{
    pthread_mutex_lock(&c->mu);
    if (c->token != NULL && strcmp(c->token, token) == 0) {
        zp_free_secret(c->token);
        c->token = NULL;
    }
    pthread_mutex_unlock(&c->mu);
}
