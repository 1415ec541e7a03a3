/*
 * persist.c — the DNS-PERSIST-01 record (persist.h): validators, the
 * value, where it goes, set and check. The keeper, serve's loop over the
 * configuration's persist: list, is in persistkeep.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldns/ldns.h>

#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/mem.h"
#include "providers/provider.h"
#include "solver/dnsq.h"
#include "solver/persist.h"
#include "solver/precheck.h"
#include "solver/router.h"
#include "solver/solver.h"

/* An issuer domain name: at least two labels, letters, digits and hyphens. */
int zp_persist_issuer(const char *arg, const char *what, char *canon, size_t n, struct zp_err *err)
{
    char why[128], c[ZP_DNAME_MAX + 1];
    size_t len;

    if (zp_dname_check(arg, 0, why, sizeof(why)) == -1)
        return zp_err_set(err, ZP_EINVAL, "%s \"%.253s\" is not a domain name: %s", what, arg, why);
    if (strchr(arg, '_') != NULL || zp_dname_labels(arg) < 2 ||
        zp_dname_canon(arg, c, sizeof(c)) == -1)
        return zp_err_set(err, ZP_EINVAL,
                          "%s \"%.253s\" is not a CA's issuer domain name, such as "
                          "letsencrypt.org",
                          what, arg);
    len = strlen(c);
    c[len - 1] = '\0';
    zp_strlcpy(canon, c, n);
    return 0;
}

/* An https URL with a host, and nothing a TXT parameter cannot hold (';', space, quotes). */
int zp_persist_account(const char *uri, const char *what, struct zp_err *err)
{
    static const char scheme[] = "https://";
    size_t n = strlen(uri), hs = sizeof(scheme) - 1;

    if (n > ZP_PERSIST_URI_MAX)
        return zp_err_set(err, ZP_EINVAL, "%s is %zu characters long; at most %d", what, n,
                          ZP_PERSIST_URI_MAX);
    if (n <= hs || strncasecmp(uri, scheme, hs) != 0 || uri[hs] == '/')
        return zp_err_set(err, ZP_EINVAL,
                          "%s \"%.200s\" is not an https URL with a host, such as "
                          "https://acme-v02.api.letsencrypt.org/acme/acct/12345",
                          what, uri);
    for (size_t i = 0; i < n; i++)
        if (uri[i] <= 0x20 || uri[i] > 0x7e || strchr(";\"\\", uri[i]) != NULL)
            return zp_err_set(err, ZP_EINVAL,
                              "%s has a space, ';', a quote, a backslash or a byte "
                              "outside printable ASCII at position %zu",
                              what, i + 1);
    return 0;
}

/* "1767225600" or "2026-01-01T00:00:00Z" (fractions and a +hh:mm offset too) into *t. */
static int parse_time(const char *s, long long *t)
{
    struct tm tm;
    const char *p;
    char sep;
    int n = 0, sign, hh, mm;

    if (*s >= '0' && *s <= '9' && strspn(s, "0123456789") == strlen(s) && strlen(s) <= 12) {
        *t = strtoll(s, NULL, 10);
        return 0;
    }
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &sep,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 7 ||
        n != 19 || (sep != 'T' && sep != 't') || tm.tm_mon < 1 || tm.tm_mon > 12 ||
        tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon--;
    p = s + n;
    if (*p == '.')
        p += 1 + strspn(p + 1, "0123456789");
    *t = (long long)timegm(&tm);
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return 0;
    if ((*p != '+' && *p != '-') || strlen(p) != 6 || sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 ||
        p[3] != ':' || hh > 23 || mm > 59)
        return -1;
    sign = *p == '+' ? 1 : -1;
    *t -= sign * (hh * 3600LL + mm * 60LL);
    return 0;
}

int zp_persist_until(const char *arg, const char *what, long long *until, struct zp_err *err)
{
    if (parse_time(arg, until) == -1)
        return zp_err_set(err, ZP_EINVAL,
                          "%s \"%.64s\" is neither a unix time nor an RFC 3339 date "
                          "such as 2027-01-01T00:00:00Z",
                          what, arg);
    if (*until <= (long long)time(NULL))
        return zp_err_set(err, ZP_EINVAL, "%s \"%.64s\" is not in the future", what, arg);
    return 0;
}

/*
 * The name's base name and whether it asks for the wildcard policy: a name
 * "*.example.com" is example.com's record with policy=wildcard (the draft
 * puts the record at the base name; the policy covers its wildcard).
 */
static int name_base(const char *arg, const char *what, const char **base, int *wildcard,
                     struct zp_err *err)
{
    char why[128];

    *base = arg;
    if (strncmp(arg, "*.", 2) == 0) {
        *base = arg + 2;
        *wildcard = 1;
    }
    if (strchr(*base, '*') != NULL)
        return zp_err_set(err, ZP_EINVAL,
                          "%s \"%.253s\" has a '*' that is not the whole first label", what, arg);
    if (zp_dname_check(*base, 0, why, sizeof(why)) == -1)
        return zp_err_set(err, ZP_EINVAL, "%s \"%.253s\" is not a domain name: %s", what, arg, why);
    if (strlen(*base) + sizeof(ZP_PERSIST_LABEL) > 254)
        return zp_err_set(err, ZP_EINVAL, "%s \"%.253s\" is too long to hold a %s name", what, arg,
                          ZP_PERSIST_LABEL);
    return 0;
}

void zp_persist_value(const struct zp_persist_rec *r, char *out, size_t n)
{
    char until[32] = "";
    int wildcard = r->wildcard || strncmp(r->name, "*.", 2) == 0;

    if (r->until != 0)
        snprintf(until, sizeof(until), "; persistUntil=%lld", r->until);
    snprintf(out, n, "%s; accounturi=%s%s%s", r->issuer, r->account,
             wildcard ? "; policy=wildcard" : "", until);
}

int zp_persist_rec_check(const struct zp_persist_rec *r, const char *what, struct zp_err *err)
{
    const char *base;
    char v[1024];
    int wildcard = 0;

    if (name_base(r->name, what, &base, &wildcard, err) == -1)
        return -1;
    zp_persist_value(r, v, sizeof(v));
    if (strlen(v) > ZP_TXT_MAX)
        return zp_err_set(err, ZP_EINVAL, "the record's value is %zu characters long; at most %d",
                          strlen(v), ZP_TXT_MAX);
    return 0;
}

/* The zone written: --zone or discovery (zp_precheck_discover_zone), else the dnsZones entry. */
static void locate_zone(struct zp_precheck *pc, struct zp_persist_name *pn, const char *entry)
{
    zp_precheck_discover_zone(pc, pn->inst, entry, &pn->ch);
    pn->zone = pn->ch.zone[0] != '\0' ? pn->ch.zone : entry;
}

int zp_persist_locate(const struct zp_config *cfg, struct zp_precheck *pc,
                      const struct zp_persist_rec *r, enum zp_action act,
                      struct zp_persist_name *pn, struct zp_err *err)
{
    const char *zflag = cfg->cli ? "--zone" : "zone", *nflag = cfg->cli ? "NAME" : "name";
    char fqdn[ZP_DNAME_MAX + 32], zone[ZP_DNAME_MAX + 1], value[1024];
    const char *base, *entry = NULL;
    int wildcard = 0;

    memset(pn, 0, sizeof(*pn));
    if (name_base(r->name, nflag, &base, &wildcard, err) == -1)
        return -1;
    snprintf(fqdn, sizeof(fqdn), ZP_PERSIST_LABEL "%s%s", base,
             base[strlen(base) - 1] == '.' ? "" : ".");
    if (r->zone != NULL &&
        (zp_dname_canon(r->zone, zone, sizeof(zone)) == -1 || !zp_dname_in_zone(fqdn, zone)))
        return zp_err_set(err, ZP_EINVAL, "%s %.253s: %s is not inside %s %.253s", nflag, r->name,
                          fqdn, zflag, r->zone);
    zp_persist_value(r, value, sizeof(value));
    if (zp_challenge_make_txt(&pn->ch, act, fqdn, r->zone, value, "the record's value", r->provider,
                              err) == -1)
        return -1;
    pn->ch.persistent = 1;
    pn->cli = cfg->cli;
    pn->inst = zp_route(cfg, pn->ch.fqdn, pn->ch.provider, &entry, err);
    if (pn->inst == NULL)
        return -1;
    /* Only rfc2136 is known to split a long value into character-strings (rfc2136.c). */
    if (strlen(value) > ZP_KEY_MAX && strcmp(pn->inst->ops->type, "rfc2136") != 0)
        return zp_err_set(err, ZP_EINVAL,
                          "the record's value for %s is %zu characters long; over %d only the "
                          "rfc2136 provider writes, split into strings, and %s is %s",
                          pn->ch.fqdn, strlen(value), ZP_KEY_MAX, pn->inst->name,
                          pn->inst->ops->type);
    locate_zone(pc, pn, entry);
    if (pn->zone == NULL)
        return zp_err_set(err, ZP_EINVAL, "%s is inside none of %s's dnsZones; pass %s",
                          pn->ch.fqdn, pn->inst->name, zflag);
    return 0;
}

/* ---- reading what the nameservers serve ---------------------------------------------------- */

int zp_persist_read(const char *addr, const char *fqdn, uint64_t deadline,
                    struct zp_persist_values *pv, char *why, size_t whysz)
{
    struct zp_ns_target t;
    ldns_pkt *p = NULL;
    const ldns_rr_list *an;
    char buf[2048];
    int rc = -1;

    pv->n = 0;
    if (zp_ns_target_parse(addr, 53, &t, why, whysz) == -1 ||
        zp_dnsq_ask(&t, fqdn, LDNS_RR_TYPE_TXT, 0, deadline, 0, &p, why, whysz) == -1)
        return -1;
    if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR &&
        ldns_pkt_get_rcode(p) != LDNS_RCODE_NXDOMAIN) {
        snprintf(why, whysz, "rcode %d", (int)ldns_pkt_get_rcode(p));
        goto out;
    }
    an = ldns_pkt_answer(p);
    for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        size_t len;

        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT || pv->n == ZP_PERSIST_MAX_VALUES)
            continue;
        len = zp_dnsq_txt_join(rr, buf, sizeof(buf));
        if (len < sizeof(pv->v[0]) && memchr(buf, '\0', len) == NULL)
            zp_strlcpy(pv->v[pv->n++], buf, sizeof(pv->v[0]));
    }
    rc = 0;
out:
    ldns_pkt_free(p);
    return rc;
}

/* A value's issuer and accounturi (draft: "<issuer-domain>; key=value; ..."), into out. */
void zp_persist_fields(const char *v, char *issuer, size_t isz, char *account, size_t asz)
{
    const char *semi = strchr(v, ';'), *p;
    size_t n = semi ? (size_t)(semi - v) : strlen(v);

    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '.'))
        n--;
    while (n > 0 && (*v == ' ' || *v == '\t'))
        v++, n--;
    snprintf(issuer, isz, "%.*s", (int)n, v);
    account[0] = '\0';
    for (p = semi; p != NULL; p = strchr(p + 1, ';')) {
        const char *k = p + 1 + strspn(p + 1, " \t");
        if (strncasecmp(k, "accounturi=", 11) == 0) {
            snprintf(account, asz, "%.*s", (int)strcspn(k + 11, "; \t"), k + 11);
            break;
        }
    }
}

/* 1 when v is a value of r's issuer (and, with account, of its account). */
static int persist_ours(const struct zp_persist_rec *r, const char *v, int account)
{
    char issuer[ZP_DNAME_MAX], acct[ZP_TXT_MAX + 1];

    zp_persist_fields(v, issuer, sizeof(issuer), acct, sizeof(acct));
    if (strcasecmp(issuer, r->issuer) != 0)
        return 0;
    return !account || strcmp(acct, r->account) == 0;
}

/* Asks every authoritative nameserver of pn's zone once whether it serves pn's value. */
static int persist_survey(const struct zp_persist_name *pn, uint64_t timeout_ms,
                          struct zp_watch_report *rep, struct zp_err *err)
{
    struct zp_watch_spec spec;

    zp_solver_watch_spec(pn->inst, &pn->ch, pn->zone, &spec);
    spec.cli = pn->cli;
    if (zp_watch_check_once(&spec, (unsigned)timeout_ms, rep, err) == -1)
        return -1;
    if (rep->n == 0)
        return zp_err_set(err, ZP_EPROPAGATION, "%s: no authoritative nameserver to ask: %s",
                          pn->ch.fqdn,
                          rep->discovery_error[0] ? rep->discovery_error : "none found");
    return 0;
}

/* ---- set ------------------------------------------------------------------------------------ */

/* Other values of r's issuer on any nameserver that answers, into stale. */
static void persist_stale(const struct zp_persist_rec *r, const struct zp_persist_name *pn,
                          const struct zp_watch_report *rep, struct zp_persist_values *stale)
{
    struct zp_persist_values *pv = zp_xcalloc(1, sizeof(*pv));
    char why[128];

    stale->n = 0;
    for (size_t i = 0; i < rep->n; i++) {
        if (zp_persist_read(rep->ns[i].addr, pn->ch.fqdn, zp_now_ms() + 2000, pv, why, sizeof(why)))
            continue;
        for (size_t v = 0; v < pv->n; v++) {
            size_t s = 0;
            if (strcmp(pv->v[v], pn->ch.key) == 0 || !persist_ours(r, pv->v[v], 0))
                continue;
            while (s < stale->n && strcmp(stale->v[s], pv->v[v]) != 0)
                s++;
            if (s < stale->n || stale->n == ZP_PERSIST_MAX_VALUES)
                continue;
            zp_strlcpy(stale->v[stale->n++], pv->v[v], sizeof(stale->v[0]));
        }
    }
    free(pv);
}

/* Runs one challenge through the solver; -1 with its sentence. */
static int persist_run(struct zp_solver *s, const struct zp_challenge *ch, struct zp_err *err)
{
    struct zp_result *res = zp_xcalloc(1, sizeof(*res));
    int rc = 0;

    zp_solver_run(s, ch, res);
    if (!res->ok) {
        *err = res->err;
        rc = -1;
    }
    free(res);
    return rc;
}

/* Only after the new value is served (a renewal in between still finds one): the older ones. */
static int persist_drop_stale(struct zp_solver *s, const struct zp_persist_rec *r,
                              const struct zp_persist_name *pn,
                              const struct zp_persist_values *stale, struct zp_persist_set_res *res,
                              struct zp_err *err)
{
    struct zp_challenge old;

    for (size_t i = 0; i < stale->n; i++) {
        char acct[ZP_TXT_MAX + 1], issuer[ZP_DNAME_MAX];

        zp_persist_fields(stale->v[i], issuer, sizeof(issuer), acct, sizeof(acct));
        if (strcmp(acct, r->account) != 0) {
            zp_strlcpy(res->kept.v[res->kept.n++], stale->v[i], sizeof(res->kept.v[0]));
            continue;
        }
        if (zp_challenge_make_txt(&old, ZP_CLEANUP, pn->ch.fqdn, pn->ch.zone, stale->v[i],
                                  "the older value", r->provider, err) == 0) {
            old.persistent = 1;
            if (persist_run(s, &old, err) == 0) {
                zp_strlcpy(res->removed.v[res->removed.n++], stale->v[i],
                           sizeof(res->removed.v[0]));
                continue;
            }
        }
        zp_err_wrap(err, "%s is set, but the older value \"%s\" stays", pn->ch.fqdn, stale->v[i]);
        return -1;
    }
    return 0;
}

int zp_persist_set(const struct zp_config *cfg, struct zp_solver *s, const struct zp_persist_rec *r,
                   struct zp_persist_name *pn, struct zp_persist_set_res *res, struct zp_err *err)
{
    struct zp_watch_report *rep = zp_xcalloc(1, sizeof(*rep));
    struct zp_persist_values *stale = zp_xcalloc(1, sizeof(*stale));
    int rc = -1;

    memset(res, 0, sizeof(*res));
    if (zp_persist_locate(cfg, zp_solver_precheck(s), r, ZP_PRESENT, pn, err) == -1 ||
        persist_survey(pn, 2000, rep, err) == -1)
        goto out;
    persist_stale(r, pn, rep, stale);
    if (persist_run(s, &pn->ch, err) == -1)
        goto out;
    res->written = 1;
    rc = persist_drop_stale(s, r, pn, stale, res, err);
out:
    free(stale);
    free(rep);
    return rc;
}

/* ---- check ---------------------------------------------------------------------------------- */

const char *zp_persist_state_name(enum zp_persist_state st)
{
    static const char *const names[] = {"ok", "expiring", "unchecked", "missing", "different"};

    return (size_t)st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

/* What one nameserver says about pn's record, and what it serves instead in shown. */
static enum zp_persist_state check_ns(const struct zp_persist_rec *r,
                                      const struct zp_persist_name *pn,
                                      const struct zp_ns_status *ns, char *shown, size_t shownsz)
{
    struct zp_persist_values *pv;
    enum zp_persist_state v = ZP_PERSIST_MISSING;
    char why[128];

    shown[0] = '\0';
    if (ns->state == ZP_NS_HAS_VALUE)
        return ZP_PERSIST_OK;
    if (ns->state != ZP_NS_OTHER && ns->state != ZP_NS_NODATA && ns->state != ZP_NS_NXDOMAIN) {
        snprintf(shown, shownsz, "%s%s%s%s", zp_ns_state_name(ns->state), ns->detail[0] ? " (" : "",
                 ns->detail, ns->detail[0] ? ")" : "");
        return ZP_PERSIST_UNCHECKED;
    }
    pv = zp_xcalloc(1, sizeof(*pv));
    if (zp_persist_read(ns->addr, pn->ch.fqdn, zp_now_ms() + 2000, pv, why, sizeof(why)) == -1) {
        snprintf(shown, shownsz, "%s", why);
        v = ZP_PERSIST_UNCHECKED;
    }
    for (size_t i = 0; v == ZP_PERSIST_MISSING && i < pv->n; i++)
        if (persist_ours(r, pv->v[i], 1)) {
            snprintf(shown, shownsz, "\"%s\"", pv->v[i]);
            v = ZP_PERSIST_DIFFERENT;
        }
    if (v == ZP_PERSIST_MISSING)
        snprintf(shown, shownsz, "%s", zp_ns_state_name(ns->state));
    free(pv);
    return v;
}

int zp_persist_check(const struct zp_persist_rec *r, const struct zp_persist_name *pn,
                     uint64_t timeout_ms, struct zp_persist_check *c, struct zp_err *err)
{
    c->worst = ZP_PERSIST_OK;
    c->where = 0;
    if (persist_survey(pn, timeout_ms, &c->rep, err) == -1)
        return -1;
    for (size_t i = 0; i < c->rep.n; i++) {
        c->ns[i] = check_ns(r, pn, &c->rep.ns[i], c->shown[i], sizeof(c->shown[i]));
        if (c->ns[i] > c->worst) {
            c->worst = c->ns[i];
            c->where = i;
        }
    }
    if (c->worst == ZP_PERSIST_OK && r->until != 0 &&
        r->until - (long long)time(NULL) < ZP_PERSIST_SOON_S)
        c->worst = ZP_PERSIST_EXPIRING;
    return 0;
}
