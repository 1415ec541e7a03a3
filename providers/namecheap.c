/*
 * namecheap.c — the namecheap provider: Namecheap's XML API, whose only
 * write (namecheap.domains.dns.setHosts) replaces every host record of a
 * domain.
 *
 * That makes every change a read-modify-write of the whole domain, with the
 * highest blast radius of any API: a host left out of the write is deleted.
 * So a write happens only after a getHosts whose reply was understood
 * completely (namecheap_xml.c refuses anything else), every host goes back
 * with every field as it came (and the domain's EmailType, or its mail
 * settings would change), only the exact (name, TXT, value) record is added
 * or removed, and nothing is written when nothing has to change.
 *
 * The solver serialises calls per name (ZP_PROV_RMW), but two names of one
 * domain share its host list, so each instance also holds a lock per domain
 * around getHosts → setHosts. Requests are POSTed: the ApiKey is a form
 * field, never part of a URL that could be logged.
 *
 * A reply can be well formed and still incomplete, and setHosts would then
 * delete every host it lacks. So nothing is written after a read that lists
 * no host at all, or that lost hosts since this process last read (or
 * wrote) the domain: the lock of each domain keeps what that list held. The
 * same shorter list, read again ZP_NC_CONFIRM_MS after it was first refused,
 * is taken as real (hosts removed on purpose), so a deletion in the
 * dashboard delays writes to the domain instead of blocking them for good.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/namecheap_int.h"
#include "providers/provider.h"
#include "providers/settings.h"

#define NC_DEFAULT_ENDPOINT "https://api.namecheap.com/xml.response"
#define NC_RPM_DEFAULT 20ul /* requestsPerMinute: Namecheap allows about 20 calls a minute */
#define NC_BURST 5.0
#define NC_FORM_MAX (2u * 1024u * 1024u)
#define NC_LOG_MAX 8000 /* the host list logged before a write, for recovery */

/* The lock of one domain: getHosts → setHosts of one instance never overlap. */
struct nc_lock {
    struct nc_lock *next;
    char domain[ZP_DNAME_MAX];
    pthread_mutex_t mu;
    struct zp_nc_seen seen; /* what this process last read or wrote there */
};

struct nc_cfg {
    char *endpoint;
    char *ca;
    char *api_user;
    char *username;
    struct zp_cred key; /* apiKeyFile or apiKeySecretRef */
    char *client_ip;
    char *domain;             /* domain override, lower case, no dot; NULL: the record's zone */
    unsigned long rpm;        /* requestsPerMinute */
    char host[256];           /* the endpoint's host, for sentences */
    pthread_mutex_t locks_mu; /* guards locks; the only mutable state */
    struct nc_lock *locks;
};

/* One present or cleanup in flight. */
struct nc_op {
    struct nc_cfg *cfg;
    const struct zp_record *rec;
    const struct zp_prov_call *call;
    char domain[ZP_DNAME_MAX]; /* "example.co.uk" */
    char sld[ZP_DNAME_MAX];    /* "example" */
    const char *tld;           /* "co.uk", inside domain */
    char name[ZP_DNAME_MAX];   /* the host name relative to domain, "@" at the apex */
    char ratekey[160];
    struct zp_buf key; /* the ApiKey, wiped at the end */
};

/* ---- configuration ------------------------------------------------------------------------ */

static const struct zp_setting nc_settings[] = {
    ZP_SET_S(struct nc_cfg, "apiUser", api_user, 1),
    ZP_SET_S(struct nc_cfg, "username", username, 0),
    ZP_SET_S(struct nc_cfg, "clientIp", client_ip, 1),
    ZP_SET_U(struct nc_cfg, "requestsPerMinute", rpm, NC_RPM_DEFAULT, 1, 6000),
    ZP_SET_E(struct nc_cfg, endpoint, ca, NC_DEFAULT_ENDPOINT),
    ZP_SET_C(struct nc_cfg, "apiKey", key, 1),
    ZP_SET_O(struct nc_cfg, domain),
    ZP_SET_LAST,
};

/* Read by hand: its sentence asks for a registered domain, not only a domain name. */
static const char *const nc_keys[] = {"domain", NULL};

static void nc_config_free(void *p)
{
    struct nc_cfg *cfg = p;

    if (cfg == NULL)
        return;
    for (struct nc_lock *l = cfg->locks, *next; l; l = next) {
        next = l->next;
        pthread_mutex_destroy(&l->mu);
        zp_nc_seen_free(&l->seen);
        free(l);
    }
    pthread_mutex_destroy(&cfg->locks_mu);
    zp_settings_free(nc_settings, cfg);
}

static int nc_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct nc_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    const char *domain = NULL;
    char why[128], canon[ZP_DNAME_MAX];
    struct in_addr a4;
    struct in6_addr a6;
    int rc = -1;

    pthread_mutex_init(&cfg->locks_mu, NULL);
    if (zp_settings_parse(node, path, nc_settings, cfg, err) == -1)
        goto out;
    if (inet_pton(AF_INET, cfg->client_ip, &a4) != 1) {
        zp_y_fail(zp_y_get(node, "clientIp"), path, err,
                  inet_pton(AF_INET6, cfg->client_ip, &a6) == 1
                      ? "clientIp \"%s\" is IPv6; Namecheap accepts only the public IPv4 address "
                        "this host calls from, whitelisted in the account"
                      : "clientIp \"%s\" must be the public IPv4 address this host calls from, "
                        "whitelisted in the account",
                  cfg->client_ip);
        goto out;
    }
    if (zp_y_str(node, path, "domain", 0, &domain, err) == -1)
        goto out;
    if (domain != NULL) {
        if (zp_dname_check(domain, 0, why, sizeof(why)) == -1 ||
            zp_dname_canon(domain, canon, sizeof(canon)) == -1 || zp_dname_labels(canon) < 2) {
            zp_y_fail(zp_y_get(node, "domain"), path, err,
                      "domain \"%s\" must be a domain registered at Namecheap, such as example.com",
                      domain);
            goto out;
        }
        canon[strlen(canon) - 1] = '\0';
        cfg->domain = zp_xstrdup(canon);
    }
    if (cfg->username == NULL)
        cfg->username = zp_xstrdup(cfg->api_user);
    zp_http_url_host(cfg->endpoint, cfg->host, sizeof(cfg->host));
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    nc_config_free(cfg);
    return rc;
}

/* ---- the per-domain lock ------------------------------------------------------------------ */

static struct nc_lock *nc_lock_of(struct nc_cfg *cfg, const char *domain)
{
    struct nc_lock *l;

    pthread_mutex_lock(&cfg->locks_mu);
    for (l = cfg->locks; l && strcmp(l->domain, domain) != 0; l = l->next)
        ;
    if (l == NULL) {
        l = zp_xcalloc(1, sizeof(*l));
        zp_strlcpy(l->domain, domain, sizeof(l->domain));
        pthread_mutex_init(&l->mu, NULL);
        l->next = cfg->locks;
        cfg->locks = l;
    }
    pthread_mutex_unlock(&cfg->locks_mu);
    return l;
}

/* What comes of a failure worth another try: cert-manager's retry, or the user's. */
static const char *nc_retry(const struct nc_op *op)
{
    return op->call->cli ? "run it again later" : "cert-manager retries";
}

/* Waits for the domain's lock until the call's deadline. */
static int nc_lock(struct nc_op *op, pthread_mutex_t *mu, struct zp_err *err)
{
    uint64_t left = zp_ms_left(op->call->deadline_ms);
    struct timespec ts;
    int e;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(left / 1000u);
    ts.tv_nsec += (long)(left % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    e = pthread_mutex_timedlock(mu, &ts);
    if (e == 0)
        return 0;
    if (e == ETIMEDOUT)
        return zp_err_set(err, ZP_ETIMEOUT,
                          "another change to domain %s was still in progress when the deadline "
                          "ran out; %s",
                          op->domain, nc_retry(op));
    return zp_err_set(err, ZP_EINTERNAL, "cannot lock domain %s: %s", op->domain, strerror(e));
}

/* ---- calls -------------------------------------------------------------------------------- */

/* An error's text fit for a sentence too: one line, the ApiKey redacted. */
static const char *nc_shown(const struct nc_op *op, const char *text, char *out, size_t outsz)
{
    const char *const sent[] = {zp_buf_str(&op->key), NULL};

    return zp_prov_text(text, op->call, NULL, sent, out, outsz);
}

/*
 * Namecheap's error numbers (its "status" here: the HTTP status is 200
 * either way); the first digit is the class, 1 and 2 the caller's doing.
 */
#define NC_NOT_OURS                                                                                \
    "domain {domain} is not in the Namecheap account of user {user}; check the zone, username, "   \
    "or set domain to the domain registered at Namecheap"
#define NC_REFUSED "Namecheap refused {command} for domain {domain}: error {status}: {text}"
static const struct zp_prov_refusal nc_refusals[] = {
    {1011102, 1011102, NULL, ZP_EAUTH,
     "Namecheap rejected the API key of API user {apiuser}: it is invalid or API access is not "
     "enabled; check {setting} and apiUser, and enable API access under Profile > Tools > "
     "Namecheap API Access"},
    {1011150, 1011150, NULL, ZP_EPERM,
     "Namecheap refused the request from clientIp {ip}: that address is not whitelisted for API "
     "user {apiuser} (or this host calls from another address); whitelist it under Profile > "
     "Tools > Namecheap API Access, or set clientIp to the address this host calls from"},
    {1011105, 1011105, NULL, ZP_ECONFIG,
     "Namecheap says clientIp {ip} is invalid; set it to this host's public IPv4 address"},
    {2019166, 2019166, NULL, ZP_ENOTFOUND, NC_NOT_OURS},
    {2016166, 2016166, NULL, ZP_ENOTFOUND, NC_NOT_OURS},
    {2030288, 2030288, NULL, ZP_ECONFIG,
     "domain {domain} does not use Namecheap's DNS servers, so Namecheap cannot change its "
     "records; switch it to Namecheap BasicDNS or PremiumDNS, or use a provider for the servers "
     "it uses"},
    {2030166, 2030166, NULL, ZP_EPERM,
     "Namecheap user {user} may not edit the records of domain {domain}; give the user access to "
     "the domain, or use its owner's account"},
    {3013288, 3013288, NULL, ZP_EINVAL,
     "domain {domain} has as many host records as Namecheap allows; remove some before issuing "
     "certificates"},
    {LONG_MIN, 2999999, NULL, ZP_EINVAL, NC_REFUSED},
    {3000000, LONG_MAX, NULL, ZP_ETRANSIENT, NC_REFUSED},
    {0},
};

/* The sentence for an <Error> in a reply. */
static int nc_api_error(const struct nc_op *op, const char *command, const struct zp_nc_apierr *a,
                        struct zp_err *err)
{
    const struct nc_cfg *cfg = op->cfg;
    char shown[512];
    const char *text = nc_shown(op, a->text, shown, sizeof(shown));
    const char *const vars[] = {
        "domain",      op->domain, "user",         cfg->username, "apiuser",
        cfg->api_user, "ip",       cfg->client_ip, "setting",     cfg->key.setting,
        "command",     command,    "text",         text,          "what",
        "Namecheap",   "doing",    command,        NULL};

    zp_log(ZP_LOG_WARN, "namecheap: error", ZP_S("instance", op->call->instance),
           ZP_S("command", command), ZP_S("domain", op->domain), ZP_I("number", a->number),
           ZP_S("text", text), ZP_END);
    return zp_prov_refuse(nc_refusals, a->number, NULL, vars, err);
}

/*
 * One API call: the global parameters, SLD and TLD, then extra (a form
 * tail starting with "&"). The reply body is left in resp.
 */
static int nc_call(struct nc_op *op, const char *command, const char *extra,
                   struct zp_http_resp *resp, struct zp_err *err)
{
    const struct nc_cfg *cfg = op->cfg;
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
                             "Accept: application/xml", NULL};
    struct zp_buf form;
    struct zp_http_req req;
    const char *fields[][2] = {{"ApiUser", cfg->api_user},
                               {"ApiKey", zp_buf_str(&op->key)},
                               {"UserName", cfg->username},
                               {"ClientIp", cfg->client_ip},
                               {"Command", command},
                               {"SLD", op->sld},
                               {"TLD", op->tld}};
    int rc = -1;

    zp_buf_init(&form, NC_FORM_MAX);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (zp_buf_printf(&form, "%s%s=", i ? "&" : "", fields[i][0]) == -1 ||
            zp_http_escape(fields[i][1], &form) == -1) {
            zp_err_set(err, ZP_EINTERNAL, "cannot build the Namecheap request %s", command);
            goto out;
        }
    if (extra != NULL && zp_buf_puts(&form, extra) == -1) {
        zp_err_set(err, ZP_EINVAL, "the host list of domain %s is too large to send", op->domain);
        goto out;
    }
    if (zp_ratelimit_take(op->ratekey, (double)op->cfg->rpm / 60.0, NC_BURST, op->call->deadline_ms,
                          "Namecheap", err) == -1)
        goto out;
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = cfg->endpoint;
    req.headers = headers;
    req.body = zp_buf_str(&form);
    req.body_len = form.len;
    req.deadline_ms = op->call->deadline_ms;
    req.max_response = ZP_NC_REPLY_MAX;
    req.ca_file = cfg->ca;
    req.what = "Namecheap";
    if (zp_http_call(&req, resp, err) == -1)
        goto out;
    if (resp->status != 200) {
        /* The body in the log: the ApiKey and the like redacted. */
        const char *const sent[] = {zp_buf_str(&op->key), NULL};
        const char *const f[] = {"command", command, NULL};
        zp_prov_log_reply(ZP_LOG_WARN, "namecheap: HTTP error", op->call, f, resp, NULL, sent);
        zp_err_set(err, ZP_ETRANSIENT, "Namecheap (%s) answered HTTP %ld to %s for domain %s%s%s",
                   cfg->host, resp->status, command, op->domain,
                   resp->status >= 500 ? ": a server error on Namecheap's side; "
                                       : "; check endpoint",
                   resp->status >= 500 ? nc_retry(op) : "");
        err->upstream = (int)resp->status;
        goto out;
    }
    rc = 0;
out:
    zp_buf_free_secret(&form);
    return rc;
}

/* A reply that was not understood goes to the log (bounded), so its cause can be seen. */
static void nc_log_reply(const struct nc_op *op, const char *command,
                         const struct zp_http_resp *resp)
{
    const char *const sent[] = {zp_buf_str(&op->key), NULL};
    const char *const f[] = {"command", command, "domain", op->domain, NULL};

    zp_prov_log_reply(ZP_LOG_WARN, "namecheap: reply not understood", op->call, f, resp, NULL,
                      sent);
}

static int nc_get_hosts(struct nc_op *op, struct zp_nc_hosts *hosts, struct zp_err *err)
{
    struct zp_http_resp resp;
    struct zp_nc_apierr a;
    int rc = -1, got;

    zp_http_resp_init(&resp);
    if (nc_call(op, "namecheap.domains.dns.getHosts", NULL, &resp, err) == -1)
        goto out;
    got = zp_nc_parse_gethosts(zp_buf_str(&resp.body), resp.body.len, op->domain, hosts, &a, err);
    if (got == 1)
        nc_api_error(op, "getHosts", &a, err);
    else if (got == -1 && err->kind == ZP_ETRANSIENT)
        nc_log_reply(op, "getHosts", &resp);
    rc = got == 0 ? 0 : -1;
out:
    zp_http_resp_free(&resp);
    return rc;
}

/* The host list as it was, in the log: the way back if a write ever went wrong. */
static void nc_log_hosts(const struct nc_op *op, const struct zp_nc_hosts *hosts)
{
    struct zp_buf b;
    size_t i;

    zp_buf_init(&b, NC_LOG_MAX);
    for (i = 0; i < hosts->n; i++) {
        const struct zp_nc_host *h = &hosts->host[i];
        if (zp_buf_printf(&b, "%s%s %s %s %s \"%s\"", i ? "; " : "", h->name, h->ttl, h->type,
                          h->mxpref, h->address) == -1)
            break;
    }
    /* A list too long for one log line shows its first i hosts, each whole. */
    zp_log(ZP_LOG_INFO, "namecheap: hosts before the write", ZP_S("instance", op->call->instance),
           ZP_S("domain", op->domain), ZP_S("email_type", hosts->email_type),
           ZP_I("count", hosts->n), ZP_I("shown", i), ZP_S("hosts", zp_buf_str(&b)), ZP_END);
    zp_buf_free(&b);
}

static int nc_set_hosts(struct nc_op *op, const struct zp_nc_hosts *hosts, struct zp_err *err)
{
    struct zp_http_resp resp;
    struct zp_nc_apierr a;
    struct zp_buf extra;
    int rc = -1, got;

    zp_http_resp_init(&resp);
    zp_buf_init(&extra, NC_FORM_MAX);
    if (zp_nc_form_hosts(hosts, &extra) == -1) {
        zp_err_set(err, ZP_EINVAL, "the host list of domain %s is too large to send", op->domain);
        goto out;
    }
    if (nc_call(op, "namecheap.domains.dns.setHosts", zp_buf_str(&extra), &resp, err) == -1)
        goto out;
    got = zp_nc_parse_sethosts(zp_buf_str(&resp.body), resp.body.len, op->domain, &a, err);
    if (got == 1)
        nc_api_error(op, "setHosts", &a, err);
    else if (got == -1)
        nc_log_reply(op, "setHosts", &resp);
    rc = got == 0 ? 0 : -1;
out:
    zp_buf_free(&extra);
    zp_http_resp_free(&resp);
    return rc;
}

/* ---- what a read may have lost ----------------------------------------------------------- */

/* TXT records at challenge names come and go with other writers of challenges (replicas). */
static int nc_key_compared(const struct zp_nc_host *h)
{
    return !(strcmp(h->type, "TXT") == 0 && (strcasecmp(h->name, "_acme-challenge") == 0 ||
                                             strncasecmp(h->name, "_acme-challenge.", 16) == 0));
}

static int nc_key_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void zp_nc_keys_of(const struct zp_nc_hosts *hosts, struct zp_nc_keys *out)
{
    out->n = 0;
    out->key = zp_xcalloc(hosts->n + 1, sizeof(*out->key));
    for (size_t i = 0; i < hosts->n; i++) {
        const struct zp_nc_host *h = &hosts->host[i];
        char *k;
        if (!nc_key_compared(h))
            continue;
        k = zp_xasprintf("%s %s", h->type, h->name);
        for (char *c = k + strlen(h->type) + 1; *c; c++)
            *c = (char)((*c >= 'A' && *c <= 'Z') ? *c - 'A' + 'a' : *c);
        out->key[out->n++] = k;
    }
    qsort(out->key, out->n, sizeof(*out->key), nc_key_cmp);
}

const char *zp_nc_keys_lost(const struct zp_nc_keys *before, const struct zp_nc_keys *after,
                            size_t *nlost)
{
    const char *first = NULL;
    size_t i = 0, j = 0;
    int c;

    *nlost = 0;
    while (i < before->n) {
        c = j < after->n ? strcmp(before->key[i], after->key[j]) : -1;
        if (c == 0) {
            i++;
            j++;
        } else if (c > 0) {
            j++; /* a host the read added */
        } else {
            first = first ? first : before->key[i];
            (*nlost)++;
            i++;
        }
    }
    return first;
}

int zp_nc_keys_equal(const struct zp_nc_keys *a, const struct zp_nc_keys *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->key[i], b->key[i]) != 0)
            return 0;
    return 1;
}

void zp_nc_keys_free(struct zp_nc_keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->key[i]);
    free(k->key);
    k->key = NULL;
    k->n = 0;
}

void zp_nc_seen_keep(struct zp_nc_seen *seen, const struct zp_nc_hosts *hosts)
{
    zp_nc_seen_free(seen);
    zp_nc_keys_of(hosts, &seen->last);
    seen->known = 1;
}

void zp_nc_seen_free(struct zp_nc_seen *seen)
{
    zp_nc_keys_free(&seen->last);
    zp_nc_keys_free(&seen->shorter);
    memset(seen, 0, sizeof(*seen));
}

int zp_nc_seen_judge(struct zp_nc_seen *seen, struct zp_nc_keys *now, uint64_t now_ms, char *lost,
                     size_t lostsz, size_t *nlost)
{
    const char *first = NULL;

    *nlost = 0;
    lost[0] = '\0';
    if (seen->known)
        first = zp_nc_keys_lost(&seen->last, now, nlost);
    if (first == NULL) {
        zp_nc_seen_free(seen);
        seen->last = *now;
        seen->known = 1;
        return ZP_NC_READ_OK;
    }
    snprintf(lost, lostsz, "%s", first);
    if (seen->has_shorter && zp_nc_keys_equal(&seen->shorter, now)) {
        if (now_ms - seen->shorter_since_ms >= ZP_NC_CONFIRM_MS) {
            zp_nc_seen_free(seen);
            seen->last = *now;
            seen->known = 1;
            return ZP_NC_READ_CONFIRMED;
        }
        zp_nc_keys_free(now); /* the same list again, too soon: the clock keeps running */
        return ZP_NC_READ_LOST;
    }
    zp_nc_keys_free(&seen->shorter);
    seen->shorter = *now;
    seen->has_shorter = 1;
    seen->shorter_since_ms = now_ms;
    return ZP_NC_READ_LOST;
}

/*
 * Whether a read may be written back: it lists some host, and none that
 * the last read or write of this process held is missing (zp_nc_seen_judge).
 * The numbers go to the log; the sentence stays the same.
 */
static int nc_read_ok(const struct nc_op *op, struct zp_nc_seen *seen,
                      const struct zp_nc_hosts *hosts, struct zp_err *err)
{
    struct zp_nc_keys now;
    char lost[300];
    size_t nlost, before = seen->last.n, tlen;
    int verdict;

    if (hosts->n == 0)
        return zp_err_set(
            err, ZP_ETRANSIENT,
            "Namecheap's getHosts reply for domain %s lists no host records at all; zoneproof "
            "wrote nothing, since setHosts replaces every record of the domain and a reply that "
            "lost them would delete them all: check the domain's records in Namecheap's "
            "dashboard, and if it really has none, add one (any record) so its list is never empty",
            op->domain);
    zp_nc_keys_of(hosts, &now);
    verdict = zp_nc_seen_judge(seen, &now, zp_now_ms(), lost, sizeof(lost), &nlost);
    if (verdict != ZP_NC_READ_OK)
        zp_log(ZP_LOG_WARN,
               verdict == ZP_NC_READ_LOST
                   ? "namecheap: getHosts lost hosts since the last read; nothing written"
                   : "namecheap: a shorter host list read again, taken as real",
               ZP_S("instance", op->call->instance), ZP_S("domain", op->domain),
               ZP_I("count_before", before), ZP_I("count_now", hosts->n), ZP_I("lost", nlost),
               ZP_S("first_lost", lost), ZP_END);
    if (verdict != ZP_NC_READ_LOST)
        return 0;
    tlen = strcspn(lost, " ");
    return zp_err_set(err, ZP_ETRANSIENT,
                      "Namecheap's getHosts reply for domain %s lacks hosts that its previous "
                      "reply listed, such as \"%.64s\" (%.*s); zoneproof wrote nothing, since "
                      "setHosts replaces every record of the domain and would delete them: check "
                      "the domain's records in Namecheap's dashboard; if they were removed on "
                      "purpose, an attempt " ZP_NC_CONFIRM_TEXT " after the first that reads the "
                      "same shorter list goes ahead",
                      op->domain, lost[tlen] ? lost + tlen + 1 : "", (int)(tlen < 16 ? tlen : 16),
                      lost);
}

/* ---- present and cleanup ------------------------------------------------------------------ */

/* Domain, SLD/TLD, host name and key: everything a call needs before its first request. */
static int nc_begin(struct nc_op *op, struct zp_err *err)
{
    const struct nc_cfg *cfg = op->cfg;
    char canon[ZP_DNAME_MAX];
    size_t dot;

    if (zp_dname_canon(cfg->domain ? cfg->domain : op->rec->zone, canon, sizeof(canon)) == -1)
        return zp_err_set(err, ZP_EINVAL, "zone %s is not a domain name", op->rec->zone);
    if (!zp_dname_in_zone(op->rec->fqdn, canon))
        return zp_err_set(err, ZP_ECONFIG, "%s is not inside domain %s; %s", op->rec->fqdn, canon,
                          cfg->domain ? "set domain to the Namecheap domain that holds it"
                                      : zp_prov_zone_unheld(op->call));
    if (zp_dname_labels(canon) < 2)
        return zp_err_set(err, ZP_ECONFIG,
                          "zone %s is not a domain Namecheap can hold; set domain to the domain "
                          "registered at Namecheap",
                          canon);
    if (zp_dname_relative(op->rec->fqdn, canon, op->name, sizeof(op->name)) == -1)
        return zp_err_set(err, ZP_EINVAL, "cannot name %s relative to %s", op->rec->fqdn, canon);
    canon[strlen(canon) - 1] = '\0';
    zp_strlcpy(op->domain, canon, sizeof(op->domain));
    /* The zone is the registered domain: its first label is the SLD, the rest the TLD. */
    dot = strcspn(op->domain, ".");
    snprintf(op->sld, sizeof(op->sld), "%.*s", (int)dot, op->domain);
    op->tld = op->domain + dot + 1;
    snprintf(op->ratekey, sizeof(op->ratekey), "namecheap:%s", op->call->instance);
    return zp_cred_read(&cfg->key, op->call, &op->key, err);
}

static int nc_is_value(const struct zp_nc_host *h, const struct nc_op *op)
{
    return strcmp(h->type, "TXT") == 0 && strcasecmp(h->name, op->name) == 0 &&
           strcmp(h->address, op->rec->value) == 0;
}

static int nc_run(void *p, const struct zp_record *rec, const struct zp_prov_call *call, int del,
                  struct zp_err *err)
{
    struct nc_op op;
    struct zp_nc_hosts hosts = {0};
    struct nc_lock *lk = NULL;
    size_t before = 0, matched = 0;
    char ttl[16];
    int rc = -1, locked = 0;

    memset(&op, 0, sizeof(op));
    op.cfg = p;
    op.rec = rec;
    op.call = call;
    zp_buf_init(&op.key, 4096);
    if (nc_begin(&op, err) == -1)
        goto out;
    lk = nc_lock_of(op.cfg, op.domain);
    if (nc_lock(&op, &lk->mu, err) == -1)
        goto out;
    locked = 1;
    /* An incomplete list could also say "already gone" wrongly: judged before anything else. */
    if (nc_get_hosts(&op, &hosts, err) == -1 || nc_read_ok(&op, &lk->seen, &hosts, err) == -1)
        goto out;
    before = hosts.n;
    /* Only the exact (name, TXT, value) record: never another value, type or name. */
    for (size_t i = 0; i < hosts.n; i++)
        matched += nc_is_value(&hosts.host[i], &op);
    if (del ? matched == 0 : matched > 0) {
        zp_log(ZP_LOG_INFO, "namecheap: nothing to change", ZP_S("instance", call->instance),
               ZP_S("domain", op.domain), ZP_S("fqdn", rec->fqdn), ZP_S("value", rec->value),
               ZP_B("present", matched > 0), ZP_END);
        rc = 0;
        goto out;
    }
    nc_log_hosts(&op, &hosts);
    if (del) {
        for (size_t i = hosts.n; i-- > 0;)
            if (nc_is_value(&hosts.host[i], &op))
                zp_nc_hosts_remove(&hosts, i);
    } else {
        snprintf(ttl, sizeof(ttl), "%u", rec->ttl < 60 ? 60 : rec->ttl > 60000 ? 60000 : rec->ttl);
        zp_nc_hosts_add(&hosts, op.name, "TXT", rec->value, "10", ttl);
    }
    if (nc_set_hosts(&op, &hosts, err) == -1)
        goto out;
    zp_nc_seen_keep(&lk->seen, &hosts);
    zp_log(ZP_LOG_INFO, del ? "namecheap: value removed" : "namecheap: value added",
           ZP_S("instance", call->instance), ZP_S("domain", op.domain), ZP_S("fqdn", rec->fqdn),
           ZP_S("value", rec->value), ZP_I("count_before", before), ZP_I("count_after", hosts.n),
           ZP_END);
    rc = 0;
out:
    if (locked)
        pthread_mutex_unlock(&lk->mu);
    if (rc == -1)
        zp_log(ZP_LOG_WARN, "namecheap: call failed", ZP_S("instance", call->instance),
               ZP_S("domain", op.domain), ZP_S("fqdn", rec->fqdn), ZP_S("error", err->msg), ZP_END);
    zp_nc_hosts_free(&hosts);
    zp_buf_free_secret(&op.key);
    return rc;
}

static int nc_present(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return nc_run(cfg, rec, call, 0, err);
}

static int nc_cleanup(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return nc_run(cfg, rec, call, 1, err);
}

/*
 * doctor: the read a Present starts with (getHosts, the domain's whole host
 * list, understood completely), no change. No domain lock: nothing is
 * written, so a change in flight cannot be lost.
 */
static int nc_verify(void *p, const struct zp_record *rec, const struct zp_prov_call *call,
                     struct zp_err *err)
{
    struct nc_op op;
    struct zp_nc_hosts hosts = {0};
    int rc = -1;

    memset(&op, 0, sizeof(op));
    op.cfg = p;
    op.rec = rec;
    op.call = call;
    zp_buf_init(&op.key, 4096);
    if (nc_begin(&op, err) == -1 || nc_get_hosts(&op, &hosts, err) == -1)
        goto out;
    snprintf(err->msg, sizeof(err->msg),
             "the Namecheap credentials can read domain %s and the TXT records at %.*s; whether "
             "they may write shows only in a write test",
             op.domain, (int)strlen(rec->fqdn) - 1, rec->fqdn);
    rc = 0;
out:
    zp_nc_hosts_free(&hosts);
    zp_buf_free_secret(&op.key);
    return rc;
}

const struct zp_provider_ops zp_prov_namecheap = {
    .type = "namecheap",
    .flags = ZP_PROV_RMW, /* the whole domain is rewritten; see also the per-domain lock */
    .keys = nc_keys,
    .settings = nc_settings,
    .config_parse = nc_config_parse,
    .config_free = nc_config_free,
    .present = nc_present,
    .cleanup = nc_cleanup,
    .verify = nc_verify,
};
