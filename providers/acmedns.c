/*
 * acmedns.c — the acmedns provider: challenge values written to an
 * acme-dns server (joohoi/acme-dns), to which _acme-challenge names are
 * delegated by CNAME.
 *
 * acme-dns keeps exactly two values per account and each /update replaces
 * the older one; there is no read and no delete in its API. So:
 *  - Present posts the value, but first asks the acme-dns DNS server
 *    whether it already serves it. Posting a value that is already the
 *    newer of the two would evict the other one: the apex value of an apex
 *    + wildcard pair, when cert-manager retries the wildcard's Present.
 *    The check and the update are a read-modify-write: two at once for the
 *    same name could both find the value missing, so ZP_PROV_RMW.
 *  - CleanUp cannot remove anything; it succeeds, and the value ages out
 *    when two newer ones replace it.
 * The record is served at the account's fulldomain (the CNAME target), so
 * the Issuer uses cnameStrategy: Follow and the name the solver asks for,
 * and watches, is the fulldomain itself.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/provider.h"
#include "providers/settings.h"

#define AD_ACCOUNTS_MAX (1024u * 1024u) /* thousands of accounts */
#define AD_VALUE_LEN 43                 /* what acme-dns accepts: an ACME key authorization hash */
#define AD_QUERY_MS 1000u /* the check before an update; acme-dns answers at once or not at all */
/* acme-dns has no limit of its own: a bucket only against a runaway loop. */
#define AD_RATE 10.0
#define AD_BURST 20.0
#define AD_WHAT "acme-dns"

struct ad_cfg {
    char *endpoint;
    char *ca;
    struct zp_cred accounts;    /* accountsFile or accountsSecretRef */
    char *nameserver;           /* as configured; NULL: the endpoint's host */
    char ns_host[ZP_DNAME_MAX]; /* the acme-dns DNS server; "" when the check is off */
    unsigned ns_port;
};

/* The account that serves one name, copied out of the accounts file. */
struct ad_account {
    char key[ZP_DNAME_MAX]; /* the accounts file's key, for messages */
    char fulldomain[ZP_DNAME_MAX];
    char *subdomain;
    struct zp_buf user; /* "X-Api-User: <uuid>" */
    struct zp_buf pass; /* "X-Api-Key: <password>": a secret */
};

static const struct zp_setting ad_settings[] = {
    ZP_SET_E(struct ad_cfg, endpoint, ca, ""),
    ZP_SET_CM(struct ad_cfg, "accounts", accounts, 1, AD_ACCOUNTS_MAX),
    ZP_SET_S(struct ad_cfg, "nameserver", nameserver, 0),
    ZP_SET_LAST,
};

/* ---- the accounts file -------------------------------------------------------------------- */

/* Overwrites every string of a parsed accounts file before it is freed: it held passwords. */
static void ad_json_wipe(cJSON *j)
{
    cJSON *it;

    if (j == NULL)
        return;
    if (cJSON_IsString(j) && j->valuestring != NULL)
        zp_wipe(j->valuestring, strlen(j->valuestring));
    cJSON_ArrayForEach(it, j) ad_json_wipe(it);
}

static const char *ad_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/*
 * One account of the file: what an update needs, and a fulldomain and a
 * subdomain that are DNS names (both are quoted in sentences and sent).
 */
static int ad_account_check(const struct zp_cred *cred, const struct zp_prov_call *call,
                            const cJSON *it, struct zp_err *err)
{
    static const char *const need[] = {"username", "password", "fulldomain", "subdomain"};
    char key[204], why[128];

    /* The key is the file's text, quoted in the sentence: made fit for one. */
    zp_prov_text(it->string, call, NULL, NULL, key, sizeof(key));
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        if (ad_str(it, need[i]) == NULL)
            return zp_err_set(err, ZP_ECONFIG,
                              "%s: %s: the account for \"%s\" has no \"%s\"; copy the "
                              "whole answer of acme-dns's /register into it",
                              cred->setting, cred->where, key, need[i]);
    for (size_t i = 2; i < sizeof(need) / sizeof(need[0]); i++)
        if (zp_dname_check(ad_str(it, need[i]), 0, why, sizeof(why)) == -1)
            return zp_err_set(err, ZP_ECONFIG,
                              "%s: %s: the %s of the account for \"%s\" %s; copy it from the "
                              "answer of acme-dns's /register",
                              cred->setting, cred->where, need[i], key, why);
    return 0;
}

/* Reads and parses the accounts; checks every entry has what an update needs. */
static cJSON *ad_accounts_load(const struct zp_cred *cred, const struct zp_prov_call *call,
                               struct zp_err *err)
{
    struct zp_buf b;
    cJSON *j = NULL, *it;

    /* Room for hundreds of accounts: a credential is capped at 64 KB, this at AD_ACCOUNTS_MAX. */
    zp_buf_init(&b, AD_ACCOUNTS_MAX);
    if (zp_cred_read(cred, call, &b, err) == -1)
        goto out;
    j = cJSON_ParseWithLength(zp_buf_str(&b), b.len);
    if (!cJSON_IsObject(j)) {
        zp_err_set(err, ZP_ECONFIG,
                   "%s: %s is not a JSON object of domain -> {username, password, "
                   "fulldomain, subdomain} (the ACMEDNS format of cert-manager and lego)",
                   cred->setting, cred->where);
        goto fail;
    }
    cJSON_ArrayForEach(it, j)
    {
        if (ad_account_check(cred, call, it, err) == -1)
            goto fail;
    }
    goto out;
fail:
    ad_json_wipe(j);
    cJSON_Delete(j);
    j = NULL;
out:
    zp_buf_free_secret(&b);
    return j;
}

/* Whether an accounts-file key ("example.com", "*.example.com", "Example.com.") names domain. */
static int ad_key_is(const char *key, const char *domain)
{
    char a[ZP_DNAME_MAX], b[ZP_DNAME_MAX];

    if (strncmp(key, "*.", 2) == 0)
        key += 2;
    return zp_dname_canon(key, a, sizeof(a)) == 0 && zp_dname_canon(domain, b, sizeof(b)) == 0 &&
           strcmp(a, b) == 0;
}

static void ad_account_free(struct ad_account *a)
{
    free(a->subdomain);
    zp_buf_free_secret(&a->user);
    zp_buf_free_secret(&a->pass);
}

/*
 * The account for fqdn: the one whose fulldomain is fqdn (cnameStrategy:
 * Follow), else the one keyed by the domain, fqdn without _acme-challenge.
 */
static int ad_account_find(const struct ad_cfg *cfg, const char *fqdn,
                           const struct zp_prov_call *call, struct ad_account *out,
                           struct zp_err *err)
{
    cJSON *j = ad_accounts_load(&cfg->accounts, call, err), *it, *hit = NULL;
    const char *domain = fqdn;
    char canon[ZP_DNAME_MAX];
    int rc = -1;

    if (j == NULL)
        return -1;
    if (strncmp(fqdn, "_acme-challenge.", 16) == 0)
        domain = fqdn + 16;
    cJSON_ArrayForEach(it, j)
    {
        if (zp_dname_canon(ad_str(it, "fulldomain"), canon, sizeof(canon)) == 0 &&
            strcmp(canon, fqdn) == 0) {
            hit = it;
            break;
        }
    }
    cJSON_ArrayForEach(it, j)
    {
        if (hit == NULL && ad_key_is(it->string, domain))
            hit = it;
    }
    if (hit == NULL) {
        zp_err_set(err, ZP_ENOTFOUND,
                   "no acme-dns account for %s in %s %s (looked for an account whose "
                   "fulldomain is that name, or one keyed by %.*s); register one with the "
                   "acme-dns server's /register, add it to the accounts, and point "
                   "_acme-challenge.%.*s at its fulldomain with a CNAME",
                   fqdn, cfg->accounts.setting, cfg->accounts.where, (int)strlen(domain) - 1,
                   domain, (int)strlen(domain) - 1, domain);
        goto out;
    }
    zp_dname_canon(ad_str(hit, "fulldomain"), out->fulldomain, sizeof(out->fulldomain));
    zp_prov_text(hit->string, call, NULL, NULL, out->key, sizeof(out->key)); /* for sentences */
    out->subdomain = zp_xstrdup(ad_str(hit, "subdomain"));
    if (zp_buf_printf(&out->user, "X-Api-User: %s", ad_str(hit, "username")) == -1 ||
        zp_buf_printf(&out->pass, "X-Api-Key: %s", ad_str(hit, "password")) == -1 ||
        strpbrk(out->user.data, "\r\n") || strpbrk(out->pass.data, "\r\n")) {
        zp_err_set(err, ZP_ECONFIG,
                   "%s: %s: the username or password of the account for \"%s\" is not "
                   "a single line of text",
                   cfg->accounts.setting, cfg->accounts.where, out->key);
        goto out;
    }
    rc = 0;
out:
    ad_json_wipe(j);
    cJSON_Delete(j);
    return rc;
}

/* ---- configuration ------------------------------------------------------------------------ */

static void ad_config_free(void *p)
{
    zp_settings_free(ad_settings, p);
}

/* The DNS server to ask: nameserver, else the endpoint's host on port 53. */
static int ad_parse_ns(struct ad_cfg *cfg, const struct zp_ynode *node, const char *path,
                       struct zp_err *err)
{
    const char *ns = cfg->nameserver, *host = strstr(cfg->endpoint, "://") + 3;
    char hostport[ZP_DNAME_MAX], why[192];

    if (ns != NULL && (strcmp(ns, "none") == 0 || *ns == '\0'))
        return 0;
    if (ns == NULL) {
        snprintf(hostport, sizeof(hostport), "%.*s", (int)strcspn(host, "/?#"), host);
        ns = hostport;
    }
    if (zp_hostport_parse(ns, 53, cfg->ns_host, sizeof(cfg->ns_host), &cfg->ns_port, why,
                          sizeof(why)) == -1)
        return zp_y_fail(zp_y_get(node, "nameserver"), path, err,
                         "nameserver \"%s\" is not host:port: %s; write host, host:port or "
                         "[IPv6]:port, or none",
                         ns, why);
    if (ns == hostport)
        cfg->ns_port = 53; /* the endpoint's port is the HTTP one */
    return 0;
}

static int ad_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct ad_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    struct zp_err e = {0};
    cJSON *j = NULL;
    int rc = -1;

    if (zp_y_get(node, "endpoint") == NULL) {
        zp_y_fail(node, path, err,
                  "endpoint is required: the URL of the acme-dns server's API, such as "
                  "https://auth.example.org");
        goto out;
    }
    if (zp_settings_parse(node, path, ad_settings, cfg, err) == -1 ||
        ad_parse_ns(cfg, node, path, err) == -1)
        goto out;
    /*
     * A file's shape is checked now so a broken one fails at start; a Secret's
     * needs the challenge's namespace. Both are read again at every call.
     */
    if (cfg->accounts.file != NULL && (j = ad_accounts_load(&cfg->accounts, NULL, &e)) == NULL) {
        zp_y_fail(zp_y_get(node, cfg->accounts.setting), path, err, "%s", e.msg);
        goto out;
    }
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    ad_json_wipe(j);
    cJSON_Delete(j);
    ad_config_free(cfg);
    return rc;
}

/* ---- is it served already? ---------------------------------------------------------------- */

/* Whether the TXT RR holds value as its one character-string (or several joined). */
static int ad_rr_is(const ldns_rr *rr, const char *value)
{
    char buf[512];
    size_t n = 0;

    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *f = ldns_rr_rdf(rr, i);
        const uint8_t *d = ldns_rdf_data(f);
        if (ldns_rdf_size(f) < 1 || (size_t)d[0] + 1 > ldns_rdf_size(f) || n + d[0] >= sizeof(buf))
            return 0;
        memcpy(buf + n, d + 1, d[0]);
        n += d[0];
    }
    buf[n] = '\0';
    return strcmp(buf, value) == 0;
}

/*
 * Asks the acme-dns DNS server for the TXT at fulldomain: 1 when value is
 * served, 0 when not or when the question gets no answer (then the update
 * is sent: the check only saves the other value from an eviction).
 */
static int ad_served(const struct ad_cfg *cfg, const char *fulldomain, const char *value,
                     uint64_t deadline_ms)
{
    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai = NULL;
    ldns_resolver *res = NULL;
    ldns_rdf *ns = NULL, *name = NULL;
    ldns_pkt *reply = NULL;
    ldns_rr_list *txt = NULL;
    uint64_t left = zp_ms_left(deadline_ms);
    char addr[INET6_ADDRSTRLEN];
    int served = 0;

    if (cfg->ns_host[0] == '\0' || left < 2 * AD_QUERY_MS)
        return 0;
    if (getaddrinfo(cfg->ns_host, NULL, &hints, &ai) != 0 || ai == NULL)
        goto out;
    if (ai->ai_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, addr, sizeof(addr));
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, addr, sizeof(addr));
    ns =
        ldns_rdf_new_frm_str(ai->ai_family == AF_INET ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA, addr);
    name = ldns_dname_new_frm_str(fulldomain);
    if ((res = ldns_resolver_new()) == NULL || ns == NULL || name == NULL ||
        ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK)
        goto out;
    ldns_resolver_set_port(res, (uint16_t)cfg->ns_port);
    ldns_resolver_set_recursive(res, false);
    ldns_resolver_set_retry(res, 1);
    ldns_resolver_set_timeout(res, (struct timeval){.tv_sec = 0, .tv_usec = AD_QUERY_MS * 1000});
    if (ldns_resolver_query_status(&reply, res, name, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0) !=
            LDNS_STATUS_OK ||
        reply == NULL)
        goto out;
    txt = ldns_pkt_rr_list_by_type(reply, LDNS_RR_TYPE_TXT, LDNS_SECTION_ANSWER);
    for (size_t i = 0; txt != NULL && i < ldns_rr_list_rr_count(txt); i++)
        served |= ad_rr_is(ldns_rr_list_rr(txt, i), value);
out:
    zp_log(ZP_LOG_DEBUG, "acme-dns: asked whether the value is served", ZP_S("fqdn", fulldomain),
           ZP_S("nameserver", cfg->ns_host), ZP_B("served", served),
           ZP_B("answered", reply != NULL), ZP_END);
    ldns_rr_list_deep_free(txt);
    ldns_pkt_free(reply);
    ldns_rdf_deep_free(name);
    ldns_resolver_deep_free(res);
    ldns_rdf_deep_free(ns); /* the resolver keeps its own copy */
    if (ai != NULL)
        freeaddrinfo(ai);
    return served;
}

/* ---- the update --------------------------------------------------------------------------- */

/* The "error" of an acme-dns answer, fit for a sentence (sent redacted); "" when there is none. */
static void ad_error(const struct zp_http_resp *r, const struct zp_prov_call *call,
                     const char *const *sent, char *out, size_t outsz)
{
    cJSON *j = cJSON_ParseWithLength(zp_buf_str(&r->body), r->body.len);

    zp_prov_text(ad_str(j, "error"), call, NULL, sent, out, outsz);
    cJSON_Delete(j);
}

/* acme-dns's refusals; {code} is its "error". */
static const struct zp_prov_refusal ad_refusals[] = {
    {401, 401, NULL, ZP_EAUTH,
     "acme-dns at {ep} rejected the credentials of the account for \"{key}\" in {setting} (401 "
     "{code|forbidden}): the username and password must be the ones /register returned for "
     "subdomain {subdomain}, and this host's address must be inside the account's allowfrom"},
    {400, 400, "bad_subdomain", ZP_ECONFIG,
     "acme-dns at {ep} refused the subdomain \"{subdomain}\" of the account for \"{key}\" in "
     "{setting} (400 bad_subdomain); it must be the subdomain /register returned"},
    {400, 400, "bad_txt", ZP_EINVAL,
     "acme-dns at {ep} refused the TXT value for {fqdn} (400 bad_txt): it accepts only 43 "
     "characters of A-Z a-z 0-9 - _"},
    {404, 405, NULL, ZP_ECONFIG,
     "{ep} has no acme-dns update API (HTTP {status} for POST /update); point endpoint at the "
     "acme-dns server's API"},
    {500, LONG_MAX, NULL, ZP_ETRANSIENT,
     "acme-dns at {ep} failed to store the TXT value for {fqdn} (HTTP {status} {code}); its log "
     "says why (often its database)"},
    /* Anything else: worth another try, unlike the shared fallback's unexplained answer. */
    {0, 0, NULL, ZP_ETRANSIENT,
     "acme-dns at {ep} answered HTTP {status} {code} to the update of {fqdn}"},
    {0},
};

static int ad_fail(const struct ad_cfg *cfg, const struct ad_account *a,
                   const struct zp_prov_call *call, const struct zp_http_resp *r,
                   struct zp_err *err)
{
    char code[64];
    const char *const sent[] = {zp_buf_str(&a->pass), NULL}, *const f[] = {"account", a->key, NULL};

    zp_prov_log_reply(ZP_LOG_WARN, "acme-dns: unexpected answer", call, f, r, NULL, sent);
    ad_error(r, call, sent, code, sizeof(code));
    const char *const vars[] = {"ep",      cfg->endpoint,         "key",       a->key,
                                "setting", cfg->accounts.setting, "subdomain", a->subdomain,
                                "fqdn",    a->fulldomain,         "code",      code,
                                NULL};
    return zp_prov_refuse(ad_refusals, r->status, code[0] ? code : NULL, vars, err);
}

static int ad_update(const struct ad_cfg *cfg, const struct ad_account *a,
                     const struct zp_record *rec, const struct zp_prov_call *call,
                     struct zp_err *err)
{
    const char *const headers[] = {zp_buf_str(&a->user), zp_buf_str(&a->pass), NULL};
    char rl_key[160];
    const struct zp_prov_api_conn c = {.what = AD_WHAT,
                                       .rate_key = rl_key,
                                       .rate = AD_RATE,
                                       .burst = AD_BURST,
                                       .base = cfg->endpoint,
                                       .ca_file = cfg->ca,
                                       .headers = headers};
    struct zp_http_resp r;
    cJSON *doc = cJSON_CreateObject();
    char *body = NULL;
    int rc = -1;

    zp_http_resp_init(&r);
    snprintf(rl_key, sizeof(rl_key), "acmedns:%s", call->instance ? call->instance : "");
    cJSON_AddStringToObject(doc, "subdomain", a->subdomain);
    cJSON_AddStringToObject(doc, "txt", rec->value);
    if ((body = cJSON_PrintUnformatted(doc)) == NULL) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the update for %s", a->fulldomain);
        goto out;
    }
    if (zp_prov_json_send(&c, call, "POST", "/update", body, &r, err) == -1)
        goto out;
    if (r.status != 200) {
        ad_fail(cfg, a, call, &r, err);
        goto out;
    }
    rc = 0;
out:
    cJSON_free(body);
    cJSON_Delete(doc);
    zp_http_resp_free(&r);
    return rc;
}

/* ---- present and cleanup ------------------------------------------------------------------ */

static int ad_value_ok(const char *v, const char *fqdn, struct zp_err *err)
{
    size_t n = strlen(v);

    if (n != AD_VALUE_LEN || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789-_") != n)
        return zp_err_set(err, ZP_EINVAL,
                          "acme-dns stores only 43-character base64url values, as ACME's DNS-01 "
                          "challenge makes them; the value for %s is %zu characters%s",
                          fqdn, n, n == AD_VALUE_LEN ? " with other characters" : "");
    return 0;
}

static int ad_present(void *p, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    const struct ad_cfg *cfg = p;
    struct ad_account a = {0};
    const char *did = "update";
    int rc = -1;

    zp_buf_init(&a.user, 512);
    zp_buf_init(&a.pass, 512);
    if (ad_value_ok(rec->value, rec->fqdn, err) == -1 ||
        ad_account_find(cfg, rec->fqdn, call, &a, err) == -1)
        goto out;
    if (strcmp(a.fulldomain, rec->fqdn) != 0)
        zp_log(ZP_LOG_WARN,
               call->cli ? "acme-dns: the value is served at the account's fulldomain, not at the "
                           "name asked for; pass --follow-cname (or set followCNAME: true) so "
                           "propagation is checked where the value is served"
                         : "acme-dns: the value is served at the account's fulldomain, not at the "
                           "name asked for; set cnameStrategy: Follow on the Issuer's solver so "
                           "propagation is checked where the value is served",
               ZP_S("instance", call->instance), ZP_S("fqdn", rec->fqdn),
               ZP_S("fulldomain", a.fulldomain), ZP_END);
    if (ad_served(cfg, a.fulldomain, rec->value, call->deadline_ms)) {
        did = "none (already served)";
    } else if (ad_update(cfg, &a, rec, call, err) == -1) {
        goto out;
    }
    rc = 0;
out:
    if (rc == 0)
        zp_log(ZP_LOG_INFO, "acme-dns change", ZP_S("instance", call->instance),
               ZP_S("account", a.key), ZP_S("fqdn", a.fulldomain), ZP_S("value", rec->value),
               ZP_S("request", did), ZP_END);
    else
        zp_log(ZP_LOG_WARN, "acme-dns change failed", ZP_S("instance", call->instance),
               ZP_S("fqdn", rec->fqdn), ZP_S("error", err->msg), ZP_END);
    ad_account_free(&a);
    return rc;
}

static int ad_cleanup(void *p, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    (void)p;
    (void)err;
    zp_log(ZP_LOG_INFO,
           "acme-dns: nothing to remove; acme-dns has no delete, and the value stops being "
           "served when two newer values for the same account replace it",
           ZP_S("instance", call->instance), ZP_S("fqdn", rec->fqdn), ZP_S("value", rec->value),
           ZP_END);
    return 0;
}

const struct zp_provider_ops zp_prov_acmedns = {
    .type = "acmedns",
    .flags = ZP_PROV_RMW | ZP_PROV_OWN_NAMES,
    .settings = ad_settings,
    .config_parse = ad_config_parse,
    .config_free = ad_config_free,
    .present = ad_present,
    .cleanup = ad_cleanup,
};
