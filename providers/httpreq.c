/*
 * httpreq.c — the httpreq provider: lego's "HTTP request" protocol, so that a
 * small in-house service can stand in front of any DNS host zoneproof has no
 * provider for. This file owns the protocol's client side: the settings, the
 * two requests and the sentences for what the service answers.
 *
 * The protocol is two calls, POST <endpoint>/present and POST
 * <endpoint>/cleanup, each with the JSON body {"fqdn": "<name with its
 * trailing dot>", "value": "<TXT value>"} (lego's default mode; its RAW mode
 * is not spoken), optionally with HTTP basic authentication; any 2xx is
 * success and the reply's body is not read. There is no read, so zoneproof
 * keeps no state and checks nothing before a write: the service adds or
 * removes exactly one value, atomically, and must treat a value it already
 * has (or no longer has) as success. zoneproof only ever repeats the same
 * request (httpc's retries after a 5xx, cert-manager repeating Present),
 * which is safe against such a service; two calls for one name may run at
 * once (an apex and a wildcard certificate), so flags stay 0.
 *
 * The basic-auth password is read at every call (Secrets rotate), kept only
 * for the call and wiped after it; it is sent over https, or over plain http
 * only to a loopback address (a sidecar).
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/provider.h"
#include "providers/settings.h"

#define HR_WHAT "the httpreq service"
#define HR_USER_MAX 256
#define HR_PASS_MAX 4096
#define HR_MSG_MAX 200 /* the service's own words, in a sentence */
/* An in-house service publishes no limit: a bucket only against a runaway loop. */
#define HR_RATE 10.0
#define HR_BURST 20.0

struct hr_cfg {
    char *endpoint; /* no trailing slash; /present and /cleanup follow it */
    char *ca;
    char *username;          /* NULL: no basic authentication */
    struct zp_cred password; /* passwordFile or passwordSecretRef, with username */
};

/* One present or cleanup in flight. */
struct hr_op {
    const struct hr_cfg *cfg;
    const struct zp_record *rec;
    const struct zp_prov_call *call;
    int del;            /* cleanup */
    char *url;          /* <endpoint>/present or <endpoint>/cleanup */
    struct zp_buf pass; /* the password, read for this call: a secret */
    struct zp_buf auth; /* "Authorization: Basic <base64>": a secret */
};

/* endpoint is checked by hand first (hr_endpoint_check); username and password after. */
static const struct zp_setting hr_settings[] = {
    ZP_SET_E(struct hr_cfg, endpoint, ca, ""),
    ZP_SET_S(struct hr_cfg, "username", username, 0),
    ZP_SET_C(struct hr_cfg, "password", password, 0),
    ZP_SET_LAST,
};

/* ---- configuration ------------------------------------------------------------------------ */

static void hr_config_free(void *p)
{
    zp_settings_free(hr_settings, p);
}

/* 127.0.0.0/8, ::1 or localhost: a name that never leaves the pod. */
static int hr_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/*
 * endpoint, read by hand before the table: its presence, and what
 * zp_endpoint_parse leaves to each provider: /present and /cleanup are
 * appended, so no query or fragment; credentials belong in username and
 * passwordFile, not in the URL (which sentences quote); and plain http only
 * to a loopback address, as the password and the challenge cross it.
 */
static int hr_endpoint_check(const struct zp_ynode *node, const char *path, struct zp_err *err)
{
    const struct zp_ynode *at = zp_y_get(node, "endpoint");
    const char *url = NULL, *authority;
    char hostport[ZP_DNAME_MAX + 16], host[ZP_DNAME_MAX];
    unsigned port;
    size_t n;
    int http;

    if (at == NULL)
        return zp_y_fail(node, path, err,
                         "endpoint is required: the URL under which the service answers POST "
                         "/present and POST /cleanup, such as https://dns-api.internal/acme");
    if (zp_y_str(node, path, "endpoint", 1, &url, err) == -1)
        return -1;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return zp_y_fail(at, path, err,
                             "endpoint has a blank or a control character; write the URL "
                             "with spaces percent-encoded (%%20)");
    http = strncmp(url, "http://", 7) == 0;
    if (!http && strncmp(url, "https://", 8) != 0)
        return zp_y_fail(at, path, err,
                         "endpoint \"%.200s\" must start with https:// (http:// only for a "
                         "service on a loopback address, such as a sidecar at "
                         "http://127.0.0.1:8080)",
                         url);
    authority = url + (http ? 7 : 8);
    n = strcspn(authority, "/?#");
    if (memchr(authority, '@', n) != NULL)
        return zp_y_fail(at, path, err,
                         "endpoint must not carry credentials (user:password@host): set "
                         "username and passwordFile (or passwordSecretRef) instead");
    if (strpbrk(url, "?#") != NULL)
        return zp_y_fail(at, path, err,
                         "endpoint \"%.200s\" has a query or a fragment; zoneproof appends "
                         "/present and /cleanup to it, so it must end with the path",
                         url);
    snprintf(hostport, sizeof(hostport), "%.*s", (int)n, authority);
    if (http &&
        (n >= sizeof(hostport) ||
         zp_hostport_split(hostport, 80, host, sizeof(host), &port) == -1 || !hr_loopback(host)))
        return zp_y_fail(at, path, err,
                         "endpoint \"%.200s\" is plain http:// to a host that is not a loopback "
                         "address, so the password and the challenge would cross the network "
                         "unencrypted; use https:// (with caFile for a private CA), or http:// "
                         "only to 127.0.0.1, ::1 or localhost (a sidecar)",
                         url);
    return 0;
}

/* username and the password: both, or neither (no basic authentication). */
static int hr_auth_check(const struct hr_cfg *cfg, const struct zp_ynode *node, const char *path,
                         struct zp_err *err)
{
    const char *user = cfg->username;
    size_t n;

    if (user == NULL && !zp_cred_set(&cfg->password))
        return 0;
    if (user == NULL)
        return zp_y_fail(zp_y_get(node, cfg->password.setting), path, err,
                         "%s is set but username is not: basic authentication needs both; set "
                         "username, or remove %s",
                         cfg->password.setting, cfg->password.setting);
    if (!zp_cred_set(&cfg->password))
        return zp_y_fail(zp_y_get(node, "username"), path, err,
                         "username is set but passwordFile or passwordSecretRef is not: basic "
                         "authentication needs both; set one, or remove username");
    n = strlen(user);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f || user[i] == ':')
            n = 0;
    if (n == 0 || n > HR_USER_MAX)
        return zp_y_fail(zp_y_get(node, "username"), path, err,
                         "username must be 1 to %u characters without ':' or control characters "
                         "(a basic-auth user-id, RFC 7617)",
                         HR_USER_MAX);
    return 0;
}

static int hr_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct hr_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));

    if (hr_endpoint_check(node, path, err) == -1 ||
        zp_settings_parse(node, path, hr_settings, cfg, err) == -1 ||
        hr_auth_check(cfg, node, path, err) == -1) {
        hr_config_free(cfg);
        return -1;
    }
    *cfgp = cfg;
    return 0;
}

/* ---- what the service answered ------------------------------------------------------------ */

/* Text from the service fit for a sentence: the password and the header it may echo redacted. */
static const char *hr_shown(const struct hr_op *op, const char *text, char *out, size_t outsz)
{
    const char *const sent[] = {zp_buf_str(&op->auth), zp_buf_str(&op->pass), NULL};

    return zp_prov_text(text, op->call, NULL, sent, out, outsz);
}

/* Whether a reply is a page (HTML, XML): a proxy's or a framework's, whose tags say nothing. */
static int hr_markup(const struct zp_http_resp *r)
{
    const char *b = zp_buf_str(&r->body);
    char ctype[128];

    b += strspn(b, " \t\r\n");
    return *b == '<' || (zp_http_header(r, "Content-Type", ctype, sizeof(ctype)) != NULL &&
                         strncasecmp(ctype, "text/html", 9) == 0);
}

/*
 * The service's own words for a failure, cut to HR_MSG_MAX: a JSON reply's
 * "message", "error" or "detail" (or a JSON string), else the start of a
 * reply that is not JSON; "" for a page of markup, or for nothing.
 */
static void hr_message(const struct hr_op *op, const struct zp_http_resp *r, char *out,
                       size_t outsz)
{
    static const char *const names[] = {"message", "error", "detail"};
    cJSON *j = cJSON_ParseWithLength(zp_buf_str(&r->body), r->body.len);
    const char *text = NULL;
    size_t n;

    if (cJSON_IsString(j))
        text = j->valuestring;
    for (size_t i = 0; cJSON_IsObject(j) && text == NULL && i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, names[i]);
        if (cJSON_IsString(v))
            text = v->valuestring;
    }
    if (j == NULL && !hr_markup(r))
        text = zp_buf_str(&r->body);
    hr_shown(op, text, out, outsz);
    for (n = strlen(out); n > 0 && out[n - 1] == ' ';)
        out[--n] = '\0';
    for (n = 0; out[n] == ' ';)
        n++;
    memmove(out, out + n, strlen(out + n) + 1);
    cJSON_Delete(j);
}

/*
 * The service's refusals; {said} is the status with the service's words.
 * A 401 comes with the code "anonymous" when no credentials were sent.
 */
static const struct zp_prov_refusal hr_refusals[] = {
    {401, 401, "anonymous", ZP_EAUTH,
     "the httpreq service at {ep} asks for credentials ({said}) and none are configured: set "
     "username and passwordFile (or passwordSecretRef) to the basic-auth credentials it expects"},
    {401, 401, NULL, ZP_EAUTH,
     "the httpreq service at {ep} rejected the basic-auth credentials of user \"{user}\" "
     "({said}): put the password the service expects for that user in {setting} ({where}), or "
     "correct username"},
    {403, 403, NULL, ZP_EPERM,
     "the httpreq service at {ep} refused to {verb} the TXT value at {fqdn} ({said}): {hint}"},
    {404, 405, NULL, ZP_ECONFIG,
     "{url} answered {st} to POST: nothing there speaks lego's httpreq protocol; set endpoint to "
     "the URL under which the service answers POST /present and POST /cleanup (zoneproof appends "
     "those paths to it)"},
    {300, 399, NULL, ZP_ECONFIG,
     "{url} answered POST with a redirect ({st}), and zoneproof follows none: set endpoint to the "
     "URL the service answers at itself"},
    {400, 499, NULL, ZP_EINVAL,
     "the httpreq service at {ep} refused to {verb} the TXT value at {fqdn} ({why})"},
    {500, LONG_MAX, NULL, ZP_ETRANSIENT,
     "the httpreq service at {ep} failed to {verb} the TXT value at {fqdn} ({st}): it is failing "
     "or unavailable; its log says why, and {retry|cert-manager retries}"},
    /* Anything else (1xx, a 2xx is success): worth another try, as it always was. */
    {0, 0, NULL, ZP_ETRANSIENT,
     "the httpreq service at {ep} answered {st} to POST {url}; success is any 2xx"},
    {0},
};

/* The sentence for an answer that is not a 2xx. Returns -1. */
static int hr_fail(const struct hr_op *op, const struct zp_http_resp *r, struct zp_err *err)
{
    const struct hr_cfg *cfg = op->cfg;
    const char *reason = zp_http_reason(r->status);
    char msg[HR_MSG_MAX + 1], st[64], said[HR_MSG_MAX + 72];
    const char *const sent[] = {zp_buf_str(&op->auth), zp_buf_str(&op->pass), NULL};
    const char *const f[] = {"request", op->del ? "cleanup" : "present", NULL};
    const char *hint = cfg->username ? "the credentials were accepted but may not change that "
                                       "name; allow it for this user in the service, or use "
                                       "credentials that may"
                                     : "it wants credentials or another client address; set "
                                       "username and passwordFile, or allow this client";

    zp_prov_log_reply(ZP_LOG_WARN, "httpreq: unexpected answer", op->call, f, r, NULL, sent);
    hr_message(op, r, msg, sizeof(msg));
    snprintf(st, sizeof(st), "HTTP %ld%s%s", r->status, reason[0] ? " " : "", reason);
    snprintf(said, sizeof(said), "%s%s%s", st, msg[0] ? ": " : "", msg);
    const char *const vars[] = {"ep",      cfg->endpoint,
                                "url",     op->url,
                                "verb",    op->del ? "remove" : "add",
                                "fqdn",    op->rec->fqdn,
                                "user",    cfg->username,
                                "setting", cfg->password.setting,
                                "where",   cfg->password.where,
                                "st",      st,
                                "said",    said,
                                "why",     msg[0] ? said : st,
                                "hint",    hint,
                                "retry",   op->call->cli ? "a later run may succeed" : NULL,
                                NULL};
    return zp_prov_refuse(hr_refusals, r->status, cfg->username ? NULL : "anonymous", vars, err);
}

/* ---- the request -------------------------------------------------------------------------- */

/* Reads the password now (Secrets rotate) into the Authorization header; nothing without one. */
static int hr_auth(struct hr_op *op, struct zp_err *err)
{
    const struct zp_cred *pw = &op->cfg->password;
    struct zp_buf pair; /* "user:password": a secret */
    int rc = -1;

    if (op->cfg->username == NULL)
        return 0;
    zp_buf_init(&pair, HR_USER_MAX + HR_PASS_MAX + 2);
    if (zp_cred_read(pw, op->call, &op->pass, err) == -1)
        goto out;
    if (memchr(op->pass.data, '\n', op->pass.len) != NULL ||
        memchr(op->pass.data, '\r', op->pass.len) != NULL) {
        zp_err_set(err, ZP_ECONFIG, "%s (%s) must hold the password alone, on one line",
                   pw->setting, pw->where);
        goto out;
    }
    (void)zp_buf_printf(&pair, "%s:", op->cfg->username);
    (void)zp_buf_append(&pair, op->pass.data, op->pass.len);
    (void)zp_buf_puts(&op->auth, "Authorization: Basic ");
    if (!zp_buf_ok(&pair) || zp_b64_encode(pair.data, pair.len, &op->auth) == -1) {
        zp_err_set(err, ZP_ECONFIG, "%s (%s) holds more than a password of %u bytes", pw->setting,
                   pw->where, HR_PASS_MAX);
        goto out;
    }
    rc = 0;
out:
    zp_buf_free_secret(&pair);
    return rc;
}

/* One POST of body to op->url. 0 when any HTTP answer arrived, whatever its status. */
static int hr_post(struct hr_op *op, const char *body, struct zp_http_resp *resp,
                   struct zp_err *err)
{
    char rl_key[160];
    const struct zp_prov_api_conn c = {.what = HR_WHAT,
                                       .rate_key = rl_key,
                                       .rate = HR_RATE,
                                       .burst = HR_BURST,
                                       .base = op->url,
                                       .ca_file = op->cfg->ca,
                                       .auth = op->auth.len > 0 ? zp_buf_str(&op->auth) : NULL};

    snprintf(rl_key, sizeof(rl_key), "httpreq:%s", op->call->instance ? op->call->instance : "");
    /* No answer, or a 429 not waited out: httpc's sentence already says what to check. */
    return zp_prov_json_send(&c, op->call, "POST", "", body, resp, err);
}

/* ---- present and cleanup ------------------------------------------------------------------ */

static int hr_call(void *p, const struct zp_record *rec, const struct zp_prov_call *call, int del,
                   struct zp_err *err)
{
    struct hr_op op = {.cfg = p, .rec = rec, .call = call, .del = del};
    const char *action = del ? "cleanup" : "present";
    struct zp_http_resp resp;
    cJSON *doc = cJSON_CreateObject();
    char *body = NULL;
    int rc = -1;

    op.url = zp_xasprintf("%s/%s", op.cfg->endpoint, action);
    zp_buf_init(&op.pass, HR_PASS_MAX);
    zp_buf_init(&op.auth, HR_USER_MAX + HR_PASS_MAX * 2);
    zp_http_resp_init(&resp);
    if (cJSON_AddStringToObject(doc, "fqdn", rec->fqdn) == NULL ||
        cJSON_AddStringToObject(doc, "value", rec->value) == NULL ||
        (body = cJSON_PrintUnformatted(doc)) == NULL) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the %s request for %s", action, rec->fqdn);
        goto out;
    }
    if (hr_auth(&op, err) == -1 || hr_post(&op, body, &resp, err) == -1)
        goto out;
    if (resp.status < 200 || resp.status > 299) {
        hr_fail(&op, &resp, err);
        goto out;
    }
    zp_log(ZP_LOG_INFO, "httpreq change", ZP_S("instance", call->instance), ZP_S("request", action),
           ZP_S("fqdn", rec->fqdn), ZP_S("value", rec->value), ZP_I("status", resp.status), ZP_END);
    rc = 0;
out:
    if (rc == -1)
        zp_log(ZP_LOG_WARN, "httpreq change failed", ZP_S("instance", call->instance),
               ZP_S("request", action), ZP_S("fqdn", rec->fqdn), ZP_S("error", err->msg), ZP_END);
    zp_buf_free_secret(&op.pass);
    zp_buf_free_secret(&op.auth);
    zp_http_resp_free(&resp);
    cJSON_free(body);
    cJSON_Delete(doc);
    free(op.url);
    return rc;
}

static int hr_present(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return hr_call(cfg, rec, call, 0, err);
}

static int hr_cleanup(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return hr_call(cfg, rec, call, 1, err);
}

const struct zp_provider_ops zp_prov_httpreq = {
    .type = "httpreq",
    .flags = 0, /* the service adds and removes one value; nothing is read and written back */
    .settings = hr_settings,
    .config_parse = hr_config_parse,
    .config_free = hr_config_free,
    .present = hr_present,
    .cleanup = hr_cleanup,
};
