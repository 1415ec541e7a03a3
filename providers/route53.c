/*
 * route53.c — the route53 provider: AWS Route 53's REST API (2013-04-01),
 * requests signed with SigV4 (sigv4.c).
 *
 * Route 53 writes whole record sets, so adding or removing one value is a
 * read-modify-write. The write is one atomic change batch: DELETE of the
 * set exactly as it was read, then CREATE of the new set. If anyone changed
 * the set in between, the DELETE no longer matches, Route 53 refuses the
 * whole batch (InvalidChangeBatch) and we read again: the API's own
 * compare-and-swap. UPSERT, which lego and acme.sh use, would silently drop
 * a value written meanwhile (the other half of an apex + wildcard pair).
 * After the change, GetChange is polled until Route 53 reports INSYNC.
 * rrset.h runs the read, the batch and the reads again; the XML of replies
 * and batches is route53_xml.c's, the settings are route53_config.c's.
 *
 * Without accessKeyId and the secret access key (secretAccessKeyFile or
 * secretAccessKeySecretRef) an instance is ambient: when
 * the request allows it, calls are signed with temporary credentials that
 * STS trades for the pod's web identity token (awssts.c, IRSA).
 */
#define _GNU_SOURCE /* strcasestr */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "providers/awssts.h"
#include "providers/common.h"
#include "providers/provider.h"
#include "providers/route53_config_int.h"
#include "providers/route53_int.h"
#include "providers/rrset.h"
#include "providers/sigv4.h"

#define R53_API "/2013-04-01"
#define R53_WHAT "Route 53"
#define R53_RATE 5.0 /* requests a second for the whole account (the historic, strictest rule) */
#define R53_BURST 5.0
#define R53_REPLY_MAX (1024u * 1024u)
#define R53_ZONE_PAGES 5
#define R53_CHANGE_TRIES 5 /* batches refused because the set changed under us */
#define R53_THROTTLE_FIRST_MS 400u
#define R53_THROTTLE_MAX_MS 8000u
#define R53_POLL_FIRST_MS 500u

/* One present or cleanup (rrset.h: rs.zone is rec->zone without the trailing dot). */
struct r53_op {
    struct zp_rs_op rs;
    struct zp_buf secret;
    struct zp_awssts_creds tmp; /* ambient: the temporary credentials of this call */
    const char *key_id;         /* cfg->key_id or tmp.access_key_id */
    char who[320]; /* "access key AKIA…" or "role arn:…": who acts, for sentences */
    char zone_id[R53_ID_MAX];
    char rl_key[192];
    struct zp_r53_rrset set;  /* the TXT set read */
    struct zp_r53_rrset prev; /* the set a refused batch was written over */
    int refused;              /* the last batch was refused (InvalidChangeBatch) */
    char why[400];            /* Route 53's reason for that, fit to quote */
    char change[R53_ID_MAX];  /* the change made, for GetChange */
};

/* ---- requests ----------------------------------------------------------------------------- */

static void r53_log_reply(const struct r53_op *op, const char *action,
                          const struct zp_http_resp *resp)
{
    const char *const sent[] = {zp_buf_str(&op->secret),
                                op->tmp.secret_access_key ? op->tmp.secret_access_key : "",
                                op->tmp.session_token ? op->tmp.session_token : "", NULL};
    const char *const f[] = {"action", action, NULL};

    zp_prov_log_reply(ZP_LOG_WARN, "route53 error reply", op->rs.call, f, resp, NULL, sent);
}

/* Text of a reply fit to quote: a message may echo what was signed (the session token too). */
static const char *r53_shown(const struct r53_op *op, const char *text, char *out, size_t outsz)
{
    const char *const sent[] = {zp_buf_str(&op->secret),
                                op->tmp.secret_access_key ? op->tmp.secret_access_key : "",
                                op->tmp.session_token ? op->tmp.session_token : "", NULL};

    return zp_prov_text(text, op->rs.call, NULL, sent, out, outsz);
}

/* Who may not call what (AccessDenied), when the action is not one with its own row. */
#define R53_DENIED                                                                                 \
    "{who} may not call route53:{action} for TXT at {fqdn} in hosted zone {zone} (AccessDenied); " \
    "allow it on arn:aws:route53:::hostedzone/{zone} in the key's IAM policy, with conditions "    \
    "that admit TXT records named {name}"

/* Route 53's refusals: by the word r53_word finds, whatever the status; then by status. */
static const struct zp_prov_refusal r53_refusals[] = {
    {0, 0, "ExpiredToken", ZP_ETRANSIENT,
     "Route 53 found the temporary credentials of {who} expired (ExpiredToken); they are renewed "
     "on the next attempt"},
    {0, 0, "InvalidClientTokenId", ZP_EAUTH,
     "Route 53 does not know {who} ({code}): check accessKeyId, and that the key is active in IAM"},
    {0, 0, "RequestExpired", ZP_EAUTH,
     "Route 53 refused the request signed with {who} as expired: this host's clock is more than 5 "
     "minutes off; fix its time (NTP)"},
    {0, 0, "SignatureDoesNotMatch, temporary", ZP_EAUTH,
     "Route 53 rejected the signature made with {who} (SignatureDoesNotMatch); check region "
     "({region}) and that endpoint is Route 53's"},
    {0, 0, "SignatureDoesNotMatch", ZP_EAUTH,
     "Route 53 rejected the signature made with {who} (SignatureDoesNotMatch): {setting} ({where}) "
     "does not hold that key's secret access key"},
    {0, 0, "IncompleteSignature", ZP_EAUTH,
     "Route 53 rejected the signature made with {who} ({code}); check accessKeyId, "
     "{setting|secretAccessKeyFile} and region ({region})"},
    {0, 0, "ListHostedZonesByName", ZP_EPERM,
     "{who} may not call route53:ListHostedZonesByName (AccessDenied), needed to find the hosted "
     "zone of {reczone}; allow it (Resource \"*\") in the key's IAM policy, or set hostedZoneId to "
     "skip the lookup"},
    {0, 0, "GetChange", ZP_EPERM,
     "{who} may not call route53:GetChange (AccessDenied); the change of TXT at {fqdn} was made, "
     "but its progress cannot be followed: allow route53:GetChange on "
     "arn:aws:route53:::change/* in the key's IAM policy"},
    {0, 0, "AccessDenied", ZP_EPERM, R53_DENIED},
    {0, 0, "NoSuchHostedZone", ZP_ENOTFOUND,
     "hosted zone {zone} does not exist in the AWS account of {who}; {hint}"},
    {400, 499, "other", ZP_EINVAL,
     "Route 53 refused {action} for TXT at {fqdn} in hosted zone {zone} ({code}): {msg200}"},
    {500, LONG_MAX, NULL, ZP_ETRANSIENT,
     "Route 53 answered HTTP {status} ({code|no error code}) to {action}: the service is failing "
     "or unavailable; retry later"},
    {0, 0, NULL, ZP_ETRANSIENT,
     "Route 53 answered HTTP {status} ({code|no error code}) to {action}, which was not expected"},
    {0},
};

/*
 * The word r53_refusals is searched by: a code it has a row for, or the one
 * a code means the same as; "other" for any other code, "" for none. Then
 * what is not the code's alone: only temporary credentials expire, a
 * message about an expired signature outweighs all but a key Route 53 does
 * not know, and the credentials and the action choose among rows.
 */
static const char *r53_word(const struct r53_op *op, const char *action, const char *code,
                            const char *msg)
{
    const struct zp_r53_cfg *cfg = op->rs.cfg;
    static const char *const known[][2] = {{"ExpiredToken", "ExpiredToken"},
                                           {"InvalidClientTokenId", "InvalidClientTokenId"},
                                           {"UnrecognizedClientException", "InvalidClientTokenId"},
                                           {"RequestExpired", "RequestExpired"},
                                           {"SignatureDoesNotMatch", "SignatureDoesNotMatch"},
                                           {"IncompleteSignature", "IncompleteSignature"},
                                           {"MissingAuthenticationToken", "IncompleteSignature"},
                                           {"InvalidSignatureException", "IncompleteSignature"},
                                           {"AccessDenied", "AccessDenied"},
                                           {"AccessDeniedException", "AccessDenied"},
                                           {"NoSuchHostedZone", "NoSuchHostedZone"}};
    const char *w = code[0] != '\0' ? "other" : "";

    for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
        if (strcmp(code, known[i][0]) == 0)
            w = known[i][1];
    if (strcmp(w, "ExpiredToken") == 0 && cfg->sts == NULL)
        w = "other";
    if (strcasestr(msg, "signature expired") != NULL && strcmp(w, "ExpiredToken") != 0 &&
        strcmp(w, "InvalidClientTokenId") != 0)
        w = "RequestExpired";
    if (strcmp(w, "SignatureDoesNotMatch") == 0 && cfg->key_id == NULL)
        w = "SignatureDoesNotMatch, temporary";
    if (strcmp(w, "AccessDenied") == 0 &&
        (strcmp(action, "ListHostedZonesByName") == 0 || strcmp(action, "GetChange") == 0))
        w = action;
    return w;
}

/* The sentence for a reply that is not a success. Always returns -1. */
static int r53_fail(const struct r53_op *op, const char *action, const struct zp_http_resp *resp,
                    struct zp_err *err)
{
    const struct zp_r53_cfg *cfg = op->rs.cfg;
    const char *fqdn = op->rs.rec->fqdn, *zone = op->zone_id[0] ? op->zone_id : "(not found yet)";
    /* Of a key pair: ambient credentials have no setting. */
    const char *setting = cfg->key_id ? cfg->secret.setting : NULL;
    const char *hint = cfg->zone_id ? "check hostedZoneId (the console's Hosted zone ID)"
                                    : "it was deleted while zoneproof used it";
    char raw_code[64], raw_msg[400], code[64], msg[400], msg200[201], name[ZP_DNAME_MAX];

    r53_log_reply(op, action, resp);
    zp_r53_error_parse(zp_buf_str(&resp->body), resp->body.len, raw_code, sizeof(raw_code), raw_msg,
                       sizeof(raw_msg));
    r53_shown(op, raw_code, code, sizeof(code));
    r53_shown(op, raw_msg, msg, sizeof(msg));
    /* Temporary credentials that Route 53 no longer takes are not reused by the next call. */
    if (cfg->sts != NULL &&
        (strcmp(code, "ExpiredToken") == 0 || strcmp(code, "InvalidClientTokenId") == 0))
        zp_awssts_forget(cfg->sts, op->key_id);
    snprintf(msg200, sizeof(msg200), "%.200s", msg); /* the cuts the sentences always had */
    snprintf(name, sizeof(name), "%.*s", (int)strlen(fqdn) - 1, fqdn);

    const char *const vars[] = {"who",     op->who,
                                "code",    code,
                                "action",  action,
                                "fqdn",    fqdn,
                                "name",    name,
                                "zone",    zone,
                                "reczone", op->rs.rec->zone,
                                "region",  cfg->region,
                                "setting", setting,
                                "where",   cfg->secret.where,
                                "msg200",  msg200,
                                "hint",    hint,
                                NULL};
    return zp_prov_refuse(r53_refusals, resp->status, r53_word(op, action, code, msg), vars, err);
}

/* One request as it is sent on every try; only its date and signature change. */
struct r53_req {
    const char *method, *path, *body;
    struct zp_sigv4_key key;
    struct zp_buf query, url, h_host, h_token, auth, h_date;
};

/* The parts of a request that are the same on every try: key, query, URL, Host and token. */
static int r53_req_init(const struct r53_op *op, struct r53_req *rq, const char *const *pairs,
                        size_t npairs, struct zp_err *err)
{
    const struct zp_r53_cfg *cfg = op->rs.cfg;

    rq->key = (struct zp_sigv4_key){.access_key_id = op->key_id,
                                    .secret_access_key = op->tmp.secret_access_key
                                                             ? op->tmp.secret_access_key
                                                             : op->secret.data,
                                    .session_token = op->tmp.session_token,
                                    .region = cfg->region,
                                    .service = "route53"};
    zp_buf_init(&rq->query, 8192);
    zp_buf_init(&rq->url, 16384);
    zp_buf_init(&rq->auth, 1024);
    zp_buf_init(&rq->h_host, 512);
    zp_buf_init(&rq->h_date, 64);
    zp_buf_init(&rq->h_token, 8192);
    if ((rq->key.session_token != NULL &&
         zp_buf_printf(&rq->h_token, "X-Amz-Security-Token: %s", rq->key.session_token) == -1) ||
        zp_sigv4_query(pairs, npairs, &rq->query) == -1 ||
        zp_buf_printf(&rq->url, "%s%s%s%s", cfg->endpoint, rq->path, rq->query.len ? "?" : "",
                      zp_buf_str(&rq->query)) == -1 ||
        zp_buf_printf(&rq->h_host, "Host: %s", cfg->host) == -1)
        return zp_err_set(err, ZP_EINTERNAL, "the Route 53 request for %s is too long",
                          op->rs.rec->fqdn);
    return 0;
}

static void r53_req_free(struct r53_req *rq)
{
    zp_buf_free(&rq->query);
    zp_buf_free(&rq->url);
    zp_buf_free(&rq->auth);
    zp_buf_free(&rq->h_host);
    zp_buf_free(&rq->h_date);
    zp_buf_free_secret(&rq->h_token);
}

/* One try: signed with the time now, sent within the account's rate; 0 with whatever reply. */
static int r53_req_send(const struct r53_op *op, struct r53_req *rq, struct zp_http_resp *resp,
                        struct zp_err *err)
{
    const struct zp_r53_cfg *cfg = op->rs.cfg;
    const char *body = rq->body;
    char sent_path[2048], date[ZP_SIGV4_DATE_LEN + 1];

    snprintf(sent_path, sizeof(sent_path), "%s%s", cfg->prefix, rq->path);
    zp_sigv4_date(time(NULL), date);
    struct zp_sigv4_req sr = {.method = rq->method,
                              .host = cfg->host,
                              .path = sent_path,
                              .query = zp_buf_str(&rq->query),
                              .body = body,
                              .body_len = body ? strlen(body) : 0,
                              .amz_date = date};
    zp_buf_reset(&rq->auth);
    zp_buf_reset(&rq->h_date);
    if (zp_buf_puts(&rq->auth, "Authorization: ") == -1 ||
        zp_sigv4_authorization(&rq->key, &sr, &rq->auth) == -1 ||
        zp_buf_printf(&rq->h_date, "X-Amz-Date: %s", date) == -1)
        return zp_err_set(err, ZP_EINTERNAL, "cannot sign the Route 53 request for %s",
                          op->rs.rec->fqdn);
    const char *headers[] = {zp_buf_str(&rq->h_host),
                             zp_buf_str(&rq->h_date),
                             zp_buf_str(&rq->auth),
                             rq->key.session_token ? zp_buf_str(&rq->h_token) : NULL,
                             body ? "Content-Type: text/xml" : NULL,
                             NULL};
    /* A NULL ends the list: close the gap a long-term key leaves. */
    if (headers[3] == NULL) {
        headers[3] = headers[4];
        headers[4] = NULL;
    }
    struct zp_http_req req = {.method = rq->method,
                              .url = zp_buf_str(&rq->url),
                              .headers = headers,
                              .body = body,
                              .body_len = body ? strlen(body) : 0,
                              .deadline_ms = op->rs.call->deadline_ms,
                              .max_response = R53_REPLY_MAX,
                              .ca_file = cfg->ca,
                              .what = R53_WHAT};
    if (zp_ratelimit_take(op->rl_key, R53_RATE, R53_BURST, op->rs.call->deadline_ms, R53_WHAT,
                          err) == -1 ||
        zp_http_call(&req, resp, err) == -1)
        return -1;
    return 0;
}

/*
 * Throttling and PriorRequestNotComplete, waited out: 1 after the wait
 * (send again), 0 for any other reply, -1 when the wait would not end
 * before the deadline.
 */
static int r53_throttled(const struct r53_op *op, const char *method,
                         const struct zp_http_resp *resp, uint64_t *backoff, struct zp_err *err)
{
    char code[64], msg[256];
    uint64_t wait;

    if (resp->status != 400 ||
        !zp_r53_error_parse(zp_buf_str(&resp->body), resp->body.len, code, sizeof(code), msg,
                            sizeof(msg)) ||
        (strcmp(code, "Throttling") != 0 && strcmp(code, "PriorRequestNotComplete") != 0))
        return 0;
    /* Jitter keeps instances that were throttled together from retrying together. */
    wait = *backoff + zp_now_ms() % (*backoff / 4 + 1);
    if (wait + 500u >= zp_ms_left(op->rs.call->deadline_ms)) {
        r53_log_reply(op, method, resp);
        /* The jittered wait differs every time: the log has it, the sentence does not. */
        zp_log(ZP_LOG_WARN, "route53 throttled past the deadline",
               ZP_S("instance", op->rs.call->instance), ZP_S("code", code), ZP_I("wait_ms", wait),
               ZP_I("left_ms", zp_ms_left(op->rs.call->deadline_ms)), ZP_END);
        zp_err_set(err, ZP_ERATELIMIT, ZP_HTTP_RATE_SENTENCE, R53_WHAT);
        err->upstream = 400;
        return -1;
    }
    zp_log(ZP_LOG_INFO, "route53 throttled", ZP_S("instance", op->rs.call->instance),
           ZP_S("code", code), ZP_I("wait_ms", wait), ZP_END);
    zp_sleep_ms(wait);
    *backoff = *backoff * 2 > R53_THROTTLE_MAX_MS ? R53_THROTTLE_MAX_MS : *backoff * 2;
    return 1;
}

/*
 * One signed request. Throttling and PriorRequestNotComplete come back as
 * 400 and are waited out here (zp_http_call retries only 429 and 5xx).
 * Returns 0 with whatever reply arrived.
 */
static int r53_send(struct r53_op *op, const char *method, const char *path,
                    const char *const *pairs, size_t npairs, const char *body,
                    struct zp_http_resp *resp, struct zp_err *err)
{
    struct r53_req rq = {.method = method, .path = path, .body = body};
    uint64_t backoff = R53_THROTTLE_FIRST_MS;
    int rc = -1, again;

    if (r53_req_init(op, &rq, pairs, npairs, err) == -1)
        goto out;
    do {
        if (r53_req_send(op, &rq, resp, err) == -1)
            goto out;
        again = r53_throttled(op, method, resp, &backoff, err);
    } while (again == 1);
    rc = again;
out:
    r53_req_free(&rq);
    return rc;
}

/* ---- the API calls ------------------------------------------------------------------------ */

/* A 200 reply as XML: -1 with a sentence when it is not XML that can be read. */
static int r53_xml(const struct r53_op *op, const char *action, const struct zp_http_resp *resp,
                   struct zp_xml *x, struct zp_err *err)
{
    char why[160];

    if (zp_r53_xml_parse(zp_buf_str(&resp->body), resp->body.len, ZP_R53_TEXT_MAX, x, why,
                         sizeof(why)) == 0)
        return 0;
    r53_log_reply(op, action, resp);
    return zp_err_set(err, ZP_ETRANSIENT,
                      "Route 53 answered %s with a reply that cannot be read (%s); retry later",
                      action, why);
}

/* ListHostedZonesByName: the one public zone named rec->zone. */
static int r53_zone_lookup(struct r53_op *op, struct zp_err *err)
{
    const char *zone = op->rs.rec->zone, *name, *priv, *id;
    char dnsname[ZP_R53_NAME_MAX], next_id[R53_ID_MAX] = "";
    struct zp_http_resp resp;
    struct zp_xml x = {0};
    int found = 0, privates = 0, done = 0, rc = -1;
    long hz;

    zp_http_resp_init(&resp);
    snprintf(dnsname, sizeof(dnsname), "%s", zone);
    if (dnsname[0] != '\0' && dnsname[strlen(dnsname) - 1] == '.')
        dnsname[strlen(dnsname) - 1] = '\0';
    for (int page = 0; page < R53_ZONE_PAGES && !done; page++) {
        const char *pairs[] = {"dnsname", dnsname, "maxitems", "10", "hostedzoneid", next_id};
        zp_xml_free(&x);
        if (r53_send(op, "GET", R53_API "/hostedzonesbyname", pairs, next_id[0] ? 3 : 2, NULL,
                     &resp, err) == -1)
            goto out;
        if (resp.status != 200) {
            r53_fail(op, "ListHostedZonesByName", &resp, err);
            goto out;
        }
        if (r53_xml(op, "ListHostedZonesByName", &resp, &x, err) == -1)
            goto out;
        /* Ordered by name from dnsname on: the zones of that name first, then others. */
        for (size_t i = 0; !done && (hz = zp_xml_find(&x, i, x.n, "HostedZone")) >= 0;
             i = x.e[hz].end) {
            name = zp_xml_get(&x, (size_t)hz, "Name");
            priv = zp_xml_get(&x, (size_t)hz, "PrivateZone");
            id = zp_xml_get(&x, (size_t)hz, "Id");
            if (id != NULL && strncmp(id, "/hostedzone/", 12) == 0)
                id += 12;
            if (name == NULL || !zp_r53_name_eq(name, zone)) {
                done = 1;
            } else if (priv != NULL && strcmp(priv, "true") == 0) {
                privates++;
            } else if (id != NULL && zp_r53_id_ok(id)) {
                if (found) {
                    zp_err_set(err, ZP_ECONFIG,
                               "the AWS account of %s has several public hosted zones "
                               "named %s (%s, %s, …); set hostedZoneId to the one the domain is "
                               "delegated to",
                               op->who, zone, op->zone_id, id);
                    goto out;
                }
                snprintf(op->zone_id, sizeof(op->zone_id), "%s", id);
                found = 1;
            }
        }
        name = zp_xml_get(&x, 0, "IsTruncated");
        id = zp_xml_get(&x, 0, "NextHostedZoneId");
        if (!done &&
            (name == NULL || strcmp(name, "true") != 0 || id == NULL ||
             (name = zp_xml_get(&x, 0, "NextDNSName")) == NULL || !zp_r53_name_eq(name, zone)))
            done = 1;
        if (!done)
            snprintf(next_id, sizeof(next_id), "%s",
                     strncmp(id, "/hostedzone/", 12) == 0 ? id + 12 : id);
    }
    if (!found) {
        zp_err_set(err, ZP_ENOTFOUND,
                   "no public hosted zone named %s in the AWS account of %s%s; create "
                   "it there, use the access key of the account that holds it, or set "
                   "hostedZoneId",
                   zone, op->who,
                   privates ? " (only a private one, which the internet cannot see)" : "");
        goto out;
    }
    rc = 0;
out:
    zp_http_resp_free(&resp);
    zp_xml_free(&x);
    return rc;
}

/* ListResourceRecordSets from the TXT set at fqdn: that set, or found = 0. */
static int r53_read(struct zp_rs_op *rs, struct zp_err *err)
{
    struct r53_op *op = (struct r53_op *)rs;
    const char *pairs[] = {"name", rs->rec->fqdn, "type", "TXT", "maxitems", "1"};
    struct zp_http_resp resp;
    struct zp_xml x = {0};
    struct zp_buf path, why;
    int rc = -1;

    zp_r53_rrset_free(&op->set);
    zp_http_resp_init(&resp);
    zp_buf_init(&path, 512);
    zp_buf_init(&why, 256);
    zp_buf_printf(&path, R53_API "/hostedzone/%s/rrset", op->zone_id);
    if (zp_buf_check(&path, "the record set path", err) == -1 ||
        r53_send(op, "GET", zp_buf_str(&path), pairs, 3, NULL, &resp, err) == -1)
        goto out;
    if (resp.status != 200) {
        r53_fail(op, "ListResourceRecordSets", &resp, err);
        goto out;
    }
    if (r53_xml(op, "ListResourceRecordSets", &resp, &x, err) == -1)
        goto out;
    if (zp_r53_rrset_read(&x, rs->rec->fqdn, &op->set, &why) == -1) {
        zp_err_set(err, ZP_ECONFIG,
                   "TXT at %s in hosted zone %s is %s, which zoneproof does not change; remove it "
                   "(another ACME client may have left it) or use a name without it",
                   rs->rec->fqdn, op->zone_id, zp_buf_str(&why));
        goto out;
    }
    rs->has = zp_r53_rrset_find(&op->set, rs->rec->value) >= 0;
    rc = 0;
out:
    zp_http_resp_free(&resp);
    zp_xml_free(&x);
    zp_buf_free(&path);
    zp_buf_free(&why);
    return rc;
}

/*
 * ChangeResourceRecordSets. On success the change id in op->change; a batch
 * refused with InvalidChangeBatch sets op->refused and op->why instead (not
 * an error).
 */
static int r53_change(struct r53_op *op, const char *batch, struct zp_err *err)
{
    struct zp_http_resp resp;
    struct zp_buf path;
    char code[64], raw[400], text[R53_ID_MAX + 8], *cid = text;
    int rc = -1;

    op->refused = 0;
    zp_http_resp_init(&resp);
    zp_buf_init(&path, 512);
    zp_buf_printf(&path, R53_API "/hostedzone/%s/rrset/", op->zone_id);
    if (zp_buf_check(&path, "the record set path", err) == -1 ||
        r53_send(op, "POST", zp_buf_str(&path), NULL, 0, batch, &resp, err) == -1)
        goto out;
    if (resp.status == 400 &&
        zp_r53_error_parse(resp.body.data, resp.body.len, code, sizeof(code), raw, sizeof(raw)) &&
        strcmp(code, "InvalidChangeBatch") == 0) {
        r53_shown(op, raw, op->why, sizeof(op->why)); /* the caller quotes it */
        zp_log(ZP_LOG_INFO, "route53 batch refused", ZP_S("instance", op->rs.call->instance),
               ZP_S("fqdn", op->rs.rec->fqdn), ZP_S("message", op->why), ZP_END);
        op->refused = 1;
        rc = 0;
        goto out;
    }
    if (resp.status != 200) {
        r53_fail(op, "ChangeResourceRecordSets", &resp, err);
        goto out;
    }
    if (!zp_r53_xml_first(zp_buf_str(&resp.body), resp.body.len, "Id", text, sizeof(text))) {
        zp_err_set(err, ZP_ETRANSIENT,
                   "Route 53 accepted the change of TXT at %s but its answer "
                   "holds no change id",
                   op->rs.rec->fqdn);
        goto out;
    }
    if (strncmp(cid, "/change/", 8) == 0)
        cid += 8;
    if (!zp_r53_id_ok(cid)) {
        zp_err_set(err, ZP_ETRANSIENT,
                   "Route 53 accepted the change of TXT at %s but its answer "
                   "holds a change id that is not one",
                   op->rs.rec->fqdn);
        goto out;
    }
    zp_strlcpy(op->change, cid, sizeof(op->change));
    rc = 0;
out:
    zp_http_resp_free(&resp);
    zp_buf_free(&path);
    return rc;
}

/* GetChange until INSYNC (every Route 53 nameserver has the change) or the deadline. */
static int r53_wait(struct zp_rs_op *rs, struct zp_err *err)
{
    struct r53_op *op = (struct r53_op *)rs;
    const char *id = op->change;
    struct zp_http_resp resp;
    struct zp_buf path;
    char status[16];
    uint64_t cap = ((const struct zp_r53_cfg *)rs->cfg)->poll_max_ms;
    uint64_t interval = R53_POLL_FIRST_MS < cap ? R53_POLL_FIRST_MS : cap;
    int rc = -1;

    zp_http_resp_init(&resp);
    zp_buf_init(&path, 256);
    zp_buf_printf(&path, R53_API "/change/%s", id);
    if (zp_buf_check(&path, "the change path", err) == -1)
        goto out;
    for (;;) {
        if (r53_send(op, "GET", zp_buf_str(&path), NULL, 0, NULL, &resp, err) == -1)
            goto out;
        if (resp.status != 200) {
            r53_fail(op, "GetChange", &resp, err);
            goto out;
        }
        if (zp_r53_xml_first(zp_buf_str(&resp.body), resp.body.len, "Status", status,
                             sizeof(status)) &&
            strcmp(status, "INSYNC") == 0)
            break;
        if (interval + 300u >= zp_ms_left(op->rs.call->deadline_ms)) {
            zp_log(ZP_LOG_INFO, "route53 change pending at deadline",
                   ZP_S("instance", op->rs.call->instance), ZP_S("change", id), ZP_END);
            zp_err_set(err, ZP_ETIMEOUT,
                       "Route 53 accepted the change of TXT at %s, but it was not yet in sync on "
                       "Route 53's nameservers (PENDING) when the deadline ran out; a retry finds "
                       "it done",
                       op->rs.rec->fqdn);
            goto out;
        }
        zp_sleep_ms(interval);
        interval = interval * 2 > cap ? cap : interval * 2;
    }
    rc = 0;
out:
    zp_http_resp_free(&resp);
    zp_buf_free(&path);
    return rc;
}

/* ---- present and cleanup ------------------------------------------------------------------ */

/*
 * The key that signs this call: the configured access key, or, for an
 * ambient instance that the request allows, temporary credentials from STS.
 */
static int r53_credentials(struct r53_op *op, struct zp_err *err)
{
    const struct zp_r53_cfg *cfg = op->rs.cfg;
    const struct zp_prov_call *call = op->rs.call;

    if (cfg->key_id != NULL) {
        op->key_id = cfg->key_id;
        snprintf(op->who, sizeof(op->who), "access key %s", cfg->key_id);
        return zp_cred_read(&cfg->secret, call, &op->secret, err);
    }
    if (!call->allow_ambient)
        return zp_err_set(err, ZP_ECONFIG,
                          "route53 instance %s has no secretAccessKeyFile or "
                          "secretAccessKeySecretRef and the Issuer does not allow ambient "
                          "credentials: set secretAccessKeyFile or secretAccessKeySecretRef, or "
                          "use a "
                          "ClusterIssuer (cert-manager allows ambient credentials for "
                          "ClusterIssuers by default) or start cert-manager with "
                          "--issuer-ambient-credentials",
                          call->instance ? call->instance : "(unnamed)");
    const struct zp_awssts_src src = {
        .endpoint = cfg->sts_endpoint, .role_arn = cfg->role_arn, .ca_file = cfg->ca};
    const char *role = cfg->role_arn ? cfg->role_arn : getenv("AWS_ROLE_ARN");
    if (zp_awssts_get(cfg->sts, &src, call->deadline_ms, &op->tmp, err) == -1)
        return -1;
    op->key_id = op->tmp.access_key_id;
    snprintf(op->who, sizeof(op->who), "role %s", role ? role : "(AWS_ROLE_ARN)");
    return 0;
}

/* The signing key, then the hosted zone: hostedZoneId, or the public zone named rec->zone. */
static int r53_begin(struct zp_rs_op *rs, struct zp_err *err)
{
    struct r53_op *op = (struct r53_op *)rs;
    const struct zp_r53_cfg *cfg = rs->cfg;

    snprintf(rs->zone, sizeof(rs->zone), "%.*s", (int)strlen(rs->rec->zone) - 1, rs->rec->zone);
    snprintf(op->rl_key, sizeof(op->rl_key), "route53:%s",
             rs->call->instance ? rs->call->instance : "");
    zp_buf_init(&op->secret, 4096);
    if (r53_credentials(op, err) == -1)
        return -1;
    if (cfg->zone_id) {
        snprintf(op->zone_id, sizeof(op->zone_id), "%s", cfg->zone_id);
        return 0;
    }
    return r53_zone_lookup(op, err);
}

/* After a batch refused as invalid, a set read again unchanged: the batch itself was wrong. */
static int r53_refusal(const struct r53_op *op, struct zp_err *err)
{
    if (!op->refused || !zp_r53_rrset_same(&op->set, &op->prev))
        return 0;
    return zp_err_set(err, ZP_EINVAL,
                      "Route 53 refused the change of TXT at %s in hosted zone %s "
                      "(InvalidChangeBatch): %.250s",
                      op->rs.rec->fqdn, op->zone_id, op->why);
}

/* One batch: DELETE of the set as read, CREATE of the set it must become; 1 when refused. */
static int r53_write(struct zp_rs_op *rs, struct zp_err *err)
{
    struct r53_op *op = (struct r53_op *)rs;
    const struct zp_r53_rrset *set = &op->set;
    unsigned long ttl = set->found ? set->ttl : rs->rec->ttl;
    struct zp_buf batch;
    char **v;
    int rc = -1;

    if (r53_refusal(op, err) == -1)
        return -1;
    zp_buf_init(&batch, 256 * 1024);
    v = zp_xcalloc(set->n + 1, sizeof(*v));
    size_t n = zp_r53_rrset_next(set, rs->del, rs->rec->value, zp_buf_str(&rs->quoted), v);
    if (zp_r53_batch(rs->rec->fqdn, set, v, n, ttl, &batch) == -1) {
        zp_err_set(err, ZP_EINVAL, "the TXT set at %s is too large to rewrite", rs->rec->fqdn);
        goto out;
    }
    if (r53_change(op, zp_buf_str(&batch), err) == -1)
        goto out;
    rc = op->refused;
    if (op->refused) { /* kept: the next read tells a race from a bad batch */
        zp_r53_rrset_free(&op->prev);
        op->prev = op->set;
        memset(&op->set, 0, sizeof(op->set));
    }
out:
    free(v);
    zp_buf_free(&batch);
    return rc;
}

static int r53_raced(struct zp_rs_op *rs, struct zp_err *err)
{
    const struct r53_op *op = (const struct r53_op *)rs;

    if (r53_refusal(op, err) == -1)
        return -1;
    return zp_err_set(err, ZP_ETRANSIENT,
                      "the TXT set at %s in hosted zone %s changed %d times while zoneproof "
                      "tried to %s one value; something else keeps writing it, retry later",
                      rs->rec->fqdn, op->zone_id, R53_CHANGE_TRIES, rs->del ? "remove" : "add");
}

static void r53_end(struct zp_rs_op *rs)
{
    struct r53_op *op = (struct r53_op *)rs;

    zp_buf_free_secret(&op->secret);
    zp_awssts_creds_wipe(&op->tmp);
    zp_r53_rrset_free(&op->set);
    zp_r53_rrset_free(&op->prev);
}

const struct zp_rs_ops zp_r53_rs = {
    .type = "route53",
    .what = R53_WHAT,
    .zone_word = "zone",
    .op_size = sizeof(struct r53_op),
    .one_string = 1,
    .attempts = R53_CHANGE_TRIES,
    .begin = r53_begin,
    .read = r53_read,
    .write = r53_write,
    .raced = r53_raced,
    .settle = r53_wait,
    .end = r53_end,
};

const struct zp_provider_ops zp_prov_route53 = {
    .type = "route53",
    .flags = ZP_PROV_RMW,
    .settings = zp_r53_settings,
    .config_parse = zp_r53_config_parse,
    .config_free = zp_r53_config_free,
    .present = zp_rs_present,
    .cleanup = zp_rs_cleanup,
    .verify = zp_rs_verify,
};
