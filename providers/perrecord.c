/*
 * perrecord.c — the per-record bearer-token providers' authenticated
 * request and add/remove-one-value algorithm.
 *
 * The algorithm is deliberately list-then-act rather than act-then-handle-
 * conflict: DigitalOcean and Linode accept a second identical TXT record
 * without complaint, so only a look first keeps Present idempotent there,
 * and Cloudflare costs the same either way. Cleanup deletes every record
 * whose value equals the challenge's (an earlier crash may have left two)
 * and never a record because of its name alone.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "providers/common.h"
#include "providers/perrecord.h"
#include "providers/provider.h"

#define PR_TOKEN_MAX 8192 /* bearer tokens are under 100 bytes; a JWT-style one under 2 KB */
#define PR_AUTH_MAX (PR_TOKEN_MAX + 64)
#define PR_RESPONSE_MAX (1024u * 1024u) /* one page of records; the APIs cap pages far below */
#define PR_URL_MAX 4096
#define PR_FILTER_MAX 1024
#define PR_VALUE_MAX 2048 /* a quoted value */

/* ---- one request -------------------------------------------------------------------------- */

/*
 * A token is one word of printable ASCII. Anything else would break the
 * header (or smuggle a second one), and usually means the file holds
 * "Bearer …", a key pair, or a JSON credential instead of the token.
 */
static int pr_token_check(const struct zp_buf *tok, const struct zp_cred *cred, struct zp_err *err)
{
    for (size_t i = 0; i < tok->len; i++) {
        unsigned char ch = (unsigned char)tok->data[i];
        if (ch <= 0x20 || ch >= 0x7f)
            return zp_err_set(err, ZP_ECONFIG,
                              "%s: %s holds more than one word; it must hold only the API "
                              "token (without \"Bearer\", quotes or other lines)",
                              cred->setting, cred->where);
    }
    return 0;
}

int zp_pr_send(const struct zp_pr_api *api, const struct zp_pr_conn *conn,
               const struct zp_prov_call *call, const struct zp_pr_req *req,
               struct zp_http_resp *resp, struct zp_err *err)
{
    const struct zp_cred *cred = req->token ? req->token : &conn->token;
    const char *more[2] = {NULL, NULL};
    struct zp_buf tok, auth, xf;
    char key[256], *f = req->filter ? cJSON_PrintUnformatted(req->filter) : NULL;
    struct zp_prov_api_conn c = {.what = api->what,
                                 .rate_key = key,
                                 .rate = api->rate,
                                 .burst = api->burst,
                                 .base = conn->endpoint,
                                 .ca_file = conn->ca_file,
                                 .headers = more,
                                 .max_response = PR_RESPONSE_MAX};
    int rc = -1;

    zp_buf_init(&tok, PR_TOKEN_MAX);
    zp_buf_init(&auth, PR_AUTH_MAX);
    zp_buf_init(&xf, PR_FILTER_MAX);
    if (f != NULL && zp_buf_printf(&xf, "X-Filter: %s", f) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "a %s filter is longer than %d bytes", api->what,
                   PR_FILTER_MAX);
        goto out;
    }
    more[0] = f ? zp_buf_str(&xf) : NULL;
    snprintf(key, sizeof(key), "%s:%s", api->type, call->instance ? call->instance : "");
    if (zp_cred_read(cred, call, &tok, err) == -1 || pr_token_check(&tok, cred, err) == -1)
        goto out;
    if (zp_buf_puts(&auth, "Authorization: Bearer ") == -1 ||
        zp_buf_append(&auth, tok.data, tok.len) == -1) {
        zp_err_set(err, ZP_ECONFIG, "%s: %s holds a token longer than %u bytes", cred->setting,
                   cred->where, PR_TOKEN_MAX);
        goto out;
    }
    c.auth = zp_buf_str(&auth);
    rc = zp_prov_json_send(&c, call, req->method, req->path, req->body, resp, err);
out:
    cJSON_free(f);
    zp_buf_free(&xf);
    zp_buf_free_secret(&auth);
    zp_buf_free_secret(&tok);
    return rc;
}

void zp_pr_log_reply(const struct zp_pr_api *api, const struct zp_cred *token,
                     const struct zp_prov_call *call, const char *doing,
                     const struct zp_http_resp *resp)
{
    const struct zp_cred *const creds[] = {token, NULL};
    const char *const f[] = {"provider", api->type, "doing", doing, NULL};

    /* The token sent was wiped: it is read again, so an echo of it can be found. */
    zp_prov_log_reply(ZP_LOG_WARN, "provider API refused", call, f, resp, creds, NULL);
}

int zp_pr_fail_status(const struct zp_pr_api *api, const char *doing,
                      const struct zp_http_resp *resp, struct zp_err *err)
{
    const char *const vars[] = {"what", api->what, "doing", doing, NULL};

    return zp_prov_refuse(NULL, resp->status, NULL, vars, err);
}

/* ---- JSON and ids ------------------------------------------------------------------------- */

/* Ids go into URL paths: letters, digits, '-', '_' and '.' only, and never "." or "..". */
static int pr_id_safe(const char *s)
{
    if (s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

int zp_pr_json_id(const cJSON *obj, const char *key, char *out, size_t outsz)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    int n;

    if (cJSON_IsString(v) && pr_id_safe(v->valuestring))
        n = snprintf(out, outsz, "%s", v->valuestring);
    else if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9007199254740992.0 &&
             v->valuedouble == (double)(long long)v->valuedouble)
        n = snprintf(out, outsz, "%lld", (long long)v->valuedouble);
    else
        return -1;
    return n > 0 && (size_t)n < outsz ? 0 : -1;
}

const char *zp_pr_json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int zp_pr_ids_add(struct zp_pr_ids *ids, const char *id)
{
    if (ids->n >= ZP_PR_IDS_MAX)
        return -1;
    zp_strlcpy(ids->id[ids->n++], id, ZP_PR_ID_MAX);
    return 0;
}

/* ---- the algorithm ------------------------------------------------------------------------ */

/* Copies name without its trailing dot. */
static void pr_nodot(const char *name, char *out, size_t outsz)
{
    size_t n = strlen(name);

    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, name, n);
    out[n] = '\0';
}

int zp_pr_target_set(struct zp_pr_target *t, const struct zp_pr_api *api, const char *zone,
                     const char *fqdn, const char *override, struct zp_err *err)
{
    memset(t, 0, sizeof(*t));
    pr_nodot(zone, t->zone, sizeof(t->zone));
    pr_nodot(fqdn, t->fqdn, sizeof(t->fqdn));
    if (!zp_dname_in_zone(fqdn, zone) || zp_dname_labels(zone) < 1 ||
        zp_dname_relative(fqdn, zone, t->rel, sizeof(t->rel)) == -1) {
        if (override != NULL)
            return zp_err_set(err, ZP_ECONFIG,
                              "%s: %s is not inside zone %s set by %s; set %s to the %s domain "
                              "that holds it, or remove the setting",
                              api->what, t->fqdn, t->zone, override, override, api->what);
        return zp_err_set(err, ZP_EINVAL, "%s: %s is not inside zone %s", api->what, t->fqdn,
                          t->zone);
    }
    return 0;
}

/* The zone's records, after the endpoint: <zones><zone id><records>; -1 when url is full. */
static int pr_records_url(const struct zp_pr_ops *ops, const struct zp_pr_target *t,
                          struct zp_buf *url)
{
    zp_buf_puts(url, ops->zones);
    zp_http_escape(ops->zone_by_name ? t->zone : t->zone_id, url);
    zp_buf_puts(url, ops->records);
    return zp_buf_ok(url) ? 0 : -1;
}

/* 0: success; 1: (create) it exists already; -1: refused, err set. */
static int pr_judge(const struct zp_pr_ops *ops, const void *cfg, const struct zp_prov_call *call,
                    enum zp_pr_step step, const struct zp_pr_target *t, const char *doing,
                    const struct zp_http_resp *resp, struct zp_err *err)
{
    for (size_t i = 0; i < 3 && ops->ok[step][i] != 0; i++)
        if (resp->status == ops->ok[step][i])
            return 0;
    return ops->refused(cfg, call, step, t, doing, resp, err);
}

/* One page of the list of TXT records at t->fqdn; -1 when url is full. */
static int pr_list_url(const struct zp_pr_ops *ops, const struct zp_pr_target *t, int page,
                       struct zp_buf *url)
{
    zp_buf_reset(url);
    pr_records_url(ops, t, url);
    if (ops->name_query != NULL) {
        zp_buf_puts(url, ops->name_query);
        zp_http_escape(t->fqdn, url); /* the filters want the full name */
        zp_buf_printf(url, "&%s=%d&page=%d", ops->size_key, ops->page_size, page);
    } else {
        zp_buf_printf(url, "?page=%d&%s=%d", page, ops->size_key, ops->page_size);
    }
    return zp_buf_ok(url) ? 0 : -1;
}

/*
 * The zone step, which fills t, then the ids of the TXT records at t->fqdn
 * that hold rec->value; with first, one is enough.
 */
static int pr_find(const struct zp_pr_ops *ops, void *cfg, struct zp_pr_target *t,
                   const struct zp_record *rec, const struct zp_prov_call *call, int first,
                   struct zp_pr_ids *ids, struct zp_err *err)
{
    struct zp_pr_req req = {.method = "GET"};
    struct zp_http_resp resp;
    struct zp_buf url;
    cJSON *filter = NULL, *root = NULL;
    char doing[ZP_DNAME_MAX + 32], msg[96];
    int rc = -1, pages = 1;

    if (ops->zone(cfg, rec, call, t, err) == -1)
        return -1;
    zp_http_resp_init(&resp);
    zp_buf_init(&url, PR_URL_MAX);
    if (ops->xfilter) {
        req.filter = filter = cJSON_CreateObject();
        cJSON_AddStringToObject(filter, "type", "TXT");
        cJSON_AddStringToObject(filter, "name", t->rel);
    }
    snprintf(doing, sizeof(doing), "list TXT records at %s", t->fqdn);
    for (int page = 1; page <= pages; page++) {
        if (page > ops->pages_max) {
            snprintf(msg, sizeof(msg), "%s: too many TXT records at one name; read the first",
                     ops->api->type);
            zp_log(ZP_LOG_WARN, msg, ZP_S("instance", call->instance), ZP_S("fqdn", t->fqdn),
                   ZP_I("pages", ops->pages_max), ZP_END);
            break;
        }
        pr_list_url(ops, t, page, &url);
        req.path = zp_buf_str(&url);
        cJSON_Delete(root);
        root = NULL;
        if (zp_buf_check(&url, "the TXT record list URL", err) == -1 ||
            zp_pr_send(ops->api, cfg, call, &req, &resp, err) == -1 ||
            pr_judge(ops, cfg, call, ZP_PR_LIST, t, doing, &resp, err) == -1 ||
            (root = zp_json_parse(&resp.body, ops->api->what, err)) == NULL)
            goto out;
        if (ops->match(root, t->rel, t->fqdn, rec->value, ids, &pages) == -1) {
            zp_err_set(err, ZP_ETRANSIENT,
                       "%s answered the list of TXT records at %s without a list", ops->api->what,
                       t->fqdn);
            goto out;
        }
        if ((first && ids->n > 0) || ids->n >= ZP_PR_IDS_MAX)
            break;
    }
    rc = 0;
out:
    cJSON_Delete(filter);
    cJSON_Delete(root);
    zp_buf_free(&url);
    zp_http_resp_free(&resp);
    return rc;
}

/* Creates the record; id receives its id, or "" when the API says it exists already. */
static int pr_create(const struct zp_pr_ops *ops, void *cfg, const struct zp_pr_target *t,
                     const struct zp_record *rec, const struct zp_prov_call *call, char *id,
                     size_t idsz, struct zp_err *err)
{
    struct zp_pr_req req = {.method = "POST"};
    struct zp_http_resp resp;
    struct zp_buf url, quoted;
    cJSON *body = cJSON_CreateObject(), *root = NULL;
    const char *value = rec->value;
    char *json = NULL, doing[ZP_DNAME_MAX + 32];
    int rc = -1, ok = 0;

    zp_http_resp_init(&resp);
    zp_buf_init(&url, PR_URL_MAX);
    zp_buf_init(&quoted, PR_VALUE_MAX);
    if (ops->quote) {
        if (zp_txt_quote(rec->value, &quoted) == -1) {
            zp_err_set(err, ZP_EINVAL, "the TXT value for %s is too long", rec->fqdn);
            goto out;
        }
        value = zp_buf_str(&quoted);
    }
    snprintf(doing, sizeof(doing), "add TXT at %s", t->fqdn);
    cJSON_AddStringToObject(body, "type", "TXT");
    cJSON_AddStringToObject(body, "name", ops->name_abs ? t->fqdn : t->rel);
    cJSON_AddStringToObject(body, ops->value_key, value);
    cJSON_AddNumberToObject(body, ops->ttl_key, ops->ttl(rec->ttl));
    req.body = json = cJSON_PrintUnformatted(body);
    pr_records_url(ops, t, &url);
    req.path = zp_buf_str(&url);
    if (zp_buf_check(&url, "the TXT record URL", err) == -1 ||
        zp_pr_send(ops->api, cfg, call, &req, &resp, err) == -1 ||
        (ok = pr_judge(ops, cfg, call, ZP_PR_CREATE, t, doing, &resp, err)) == -1)
        goto out;
    root = cJSON_ParseWithLength(zp_buf_str(&resp.body), resp.body.len);
    if (ok == 1)
        id[0] = '\0';
    else if (zp_pr_json_id(ops->created ? cJSON_GetObjectItemCaseSensitive(root, ops->created)
                                        : root,
                           "id", id, idsz) == -1)
        zp_strlcpy(id, "unknown", idsz);
    rc = 0;
out:
    cJSON_free(json);
    cJSON_Delete(body);
    cJSON_Delete(root);
    zp_buf_free(&url);
    zp_buf_free(&quoted);
    zp_http_resp_free(&resp);
    return rc;
}

/* Deletes one record by id; "no such record" is success (another cleanup got there first). */
static int pr_remove(const struct zp_pr_ops *ops, void *cfg, const struct zp_pr_target *t,
                     const char *id, const struct zp_prov_call *call, struct zp_err *err)
{
    struct zp_pr_req req = {.method = "DELETE"};
    struct zp_http_resp resp;
    struct zp_buf url;
    char doing[ZP_DNAME_MAX + ZP_PR_ID_MAX + 32];
    int rc = -1;

    zp_http_resp_init(&resp);
    zp_buf_init(&url, PR_URL_MAX);
    snprintf(doing, sizeof(doing), "delete TXT record %s at %s", id, t->fqdn);
    pr_records_url(ops, t, &url);
    zp_buf_puts(&url, "/");
    zp_http_escape(id, &url);
    req.path = zp_buf_str(&url);
    if (zp_buf_check(&url, "the TXT record URL", err) == -1 ||
        zp_pr_send(ops->api, cfg, call, &req, &resp, err) == -1 ||
        pr_judge(ops, cfg, call, ZP_PR_DELETE, t, doing, &resp, err) == -1)
        goto out;
    rc = 0;
out:
    zp_buf_free(&url);
    zp_http_resp_free(&resp);
    return rc;
}

static void pr_log_done(const struct zp_pr_ops *ops, const char *action, const char *outcome,
                        const struct zp_pr_target *t, const struct zp_record *rec,
                        const struct zp_prov_call *call, const char *id, size_t n)
{
    zp_log(ZP_LOG_INFO, "provider record change", ZP_S("provider", ops->api->type),
           ZP_S("instance", call->instance), ZP_S("action", action), ZP_S("outcome", outcome),
           ZP_S("zone", t->zone), ZP_S("zone_id", t->zone_id), ZP_S("fqdn", rec->fqdn),
           ZP_S("value", rec->value), ZP_S("record_id", id), ZP_I("records", n), ZP_END);
}

static void pr_log_failed(const struct zp_pr_ops *ops, const char *action,
                          const struct zp_record *rec, const struct zp_prov_call *call,
                          const struct zp_err *err)
{
    zp_log(ZP_LOG_WARN, "provider record change failed", ZP_S("provider", ops->api->type),
           ZP_S("instance", call->instance), ZP_S("action", action), ZP_S("fqdn", rec->fqdn),
           ZP_S("kind", zp_errkind_name(err->kind)), ZP_S("error", err->msg), ZP_END);
}

int zp_pr_verify(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                 struct zp_err *err)
{
    const struct zp_pr_ops *ops = ((const struct zp_pr_conn *)cfg)->ops;
    struct zp_pr_target t;
    struct zp_pr_ids *ids = zp_xcalloc(1, sizeof(*ids));
    int rc = -1;

    /* The same reads a Present starts with: the zone, then the records at the name. */
    if (pr_find(ops, cfg, &t, rec, call, 1, ids, err) == -1)
        goto out;
    snprintf(err->msg, sizeof(err->msg),
             "the %s credentials can read zone %s and the TXT "
             "records at %s; whether they may write shows only in a write test",
             ops->api->what, t.zone, t.fqdn);
    rc = 0;
out:
    free(ids);
    return rc;
}

int zp_pr_present(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                  struct zp_err *err)
{
    const struct zp_pr_ops *ops = ((const struct zp_pr_conn *)cfg)->ops;
    struct zp_pr_target t;
    struct zp_pr_ids *ids = zp_xcalloc(1, sizeof(*ids));
    char id[ZP_PR_ID_MAX] = "";
    int rc = -1;

    if (pr_find(ops, cfg, &t, rec, call, 1, ids, err) == -1)
        goto out;
    if (ids->n > 0) {
        pr_log_done(ops, "present", "already there", &t, rec, call, ids->id[0], ids->n);
        rc = 0;
        goto out;
    }
    if (pr_create(ops, cfg, &t, rec, call, id, sizeof(id), err) == -1)
        goto out;
    pr_log_done(ops, "present", id[0] ? "created" : "already there", &t, rec, call, id, 1);
    rc = 0;
out:
    if (rc == -1)
        pr_log_failed(ops, "present", rec, call, err);
    free(ids);
    return rc;
}

int zp_pr_cleanup(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                  struct zp_err *err)
{
    const struct zp_pr_ops *ops = ((const struct zp_pr_conn *)cfg)->ops;
    struct zp_pr_target t;
    struct zp_pr_ids *ids = zp_xcalloc(1, sizeof(*ids));
    int rc = -1;

    if (pr_find(ops, cfg, &t, rec, call, 0, ids, err) == -1)
        goto out;
    for (size_t i = 0; i < ids->n; i++)
        if (pr_remove(ops, cfg, &t, ids->id[i], call, err) == -1)
            goto out;
    pr_log_done(ops, "cleanup", ids->n ? "deleted" : "already gone", &t, rec, call,
                ids->n ? ids->id[0] : "", ids->n);
    rc = 0;
out:
    if (rc == -1)
        pr_log_failed(ops, "cleanup", rec, call, err);
    free(ids);
    return rc;
}
