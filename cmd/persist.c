/*
 * persist.c — `zoneproof persist set|check|remove`: the DNS-PERSIST-01
 * record (draft-ietf-acme-dns-persist) at _validation-persist.<name>, TXT
 * "<issuer>; accounturi=<uri>[; policy=wildcard][; persistUntil=<unix>]".
 *
 * set writes it through the solver, as Present does (so it returns once
 * every authoritative nameserver serves it), then removes a stale value of
 * the same issuer and account. Values of other issuers, and of other
 * accounts at the same issuer, stay: each authorises someone else. check
 * asks every authoritative nameserver once; remove deletes exactly the
 * value the flags describe.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldns/ldns.h>

#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "cmd/cmd.h"
#include "solver/challenge.h"
#include "solver/config.h"
#include "solver/dnsq.h"
#include "solver/precheck.h"
#include "solver/router.h"
#include "solver/solver.h"
#include "solver/watch.h"
#include "solver/zone.h"
#include "providers/provider.h"

#define PERSIST_LABEL "_validation-persist."
#define PERSIST_SOON_S (30LL * 24 * 3600) /* check calls a record expiring within this */
#define PERSIST_MAX_VALUES 32             /* TXT values read at one name */
#define PERSIST_URI_MAX 500

static const char persist_help[] =
    "usage: zoneproof persist set|check|remove --issuer DOMAIN --account-uri URI [flags] NAME...\n"
    "\n"
    "Keeps the DNS-PERSIST-01 record of each NAME: _validation-persist.NAME TXT\n"
    "\"DOMAIN; accounturi=URI[; policy=wildcard][; persistUntil=UNIX]\", which lets the ACME\n"
    "account URI of the CA whose issuer domain is DOMAIN validate NAME without a DNS write.\n"
    "\n"
    "set     writes the value and waits until every authoritative nameserver serves it; then\n"
    "        removes an older value of the same issuer and account. Values of other CAs, and of\n"
    "        other accounts at the same CA, stay.\n"
    "check   asks every authoritative nameserver once and says, per NAME, ok, missing,\n"
    "        different (another value of this CA) or expiring (persistUntil within 30 days).\n"
    "        Exits 0 only when every NAME is ok.\n"
    "remove  removes exactly the value the flags describe.\n"
    "\n"
    "  --issuer DOMAIN       the CA's issuer domain name, e.g. letsencrypt.org\n"
    "  --account-uri URI     the ACME account URL (https://...)\n"
    "  --wildcard            policy=wildcard: the account may also validate *.NAME\n"
    "                        (a NAME written as *.example.com means this, for example.com)\n"
    "  --persist-until TIME  persistUntil: a unix time or an RFC 3339 date, in the future\n"
    "  --config FILE         configuration (default $ZONEPROOF_CONFIG or " ZP_DEFAULT_CONFIG ")\n"
    "  --provider NAME       use this provider instance instead of routing by dnsZones\n"
    "  --zone ZONE           the zone to write in (default: the zone DNS says holds the name)\n"
    "  --timeout DUR         check: time for each NAME (default 2s)\n"
    "  --log-level LEVEL     debug, info, warn (default) or error\n";

struct persist_opts {
    const char *verb;
    const char *config, *provider, *zone, *issuer_arg, *account, *until_arg;
    int wildcard;
    uint64_t timeout_ms;
    char issuer[ZP_DNAME_MAX]; /* lower case, no trailing dot */
    long long until;           /* 0: no persistUntil */
    char **names;
    int n_names;
};

/* One NAME, resolved: where the record is, its value, and who writes it. */
struct persist_name {
    struct zp_challenge ch;
    const struct zp_instance *inst;
    const char *zone; /* ch.zone, or the dnsZones entry */
};

struct persist_ctx {
    const struct persist_opts *o;
    struct zp_config *cfg;
    struct zp_solver *solver; /* set and remove */
    struct zp_precheck *pc;   /* check's own; else the solver's */
};

/* An issuer domain name: at least two labels, letters, digits and hyphens. */
static int check_issuer(struct persist_opts *o, struct zp_err *err)
{
    char why[128], canon[ZP_DNAME_MAX + 1];
    size_t n;

    if (zp_dname_check(o->issuer_arg, 0, why, sizeof(why)) == -1)
        return zp_err_set(err, ZP_EINVAL, "--issuer \"%.253s\" is not a domain name: %s",
                          o->issuer_arg, why);
    if (strchr(o->issuer_arg, '_') != NULL || zp_dname_labels(o->issuer_arg) < 2 ||
        zp_dname_canon(o->issuer_arg, canon, sizeof(canon)) == -1)
        return zp_err_set(err, ZP_EINVAL,
                          "--issuer \"%.253s\" is not a CA's issuer domain name, such as "
                          "letsencrypt.org",
                          o->issuer_arg);
    n = strlen(canon);
    canon[n - 1] = '\0';
    zp_strlcpy(o->issuer, canon, sizeof(o->issuer));
    return 0;
}

/* An https URL with a host, and nothing a TXT parameter cannot hold (';', space, quotes). */
static int check_account(const char *uri, struct zp_err *err)
{
    static const char scheme[] = "https://";
    size_t n = strlen(uri), hs = sizeof(scheme) - 1;

    if (n > PERSIST_URI_MAX)
        return zp_err_set(err, ZP_EINVAL, "--account-uri is %zu characters long; at most %d", n,
                          PERSIST_URI_MAX);
    if (n <= hs || strncasecmp(uri, scheme, hs) != 0 || uri[hs] == '/')
        return zp_err_set(err, ZP_EINVAL,
                          "--account-uri \"%.200s\" is not an https URL with a host, such as "
                          "https://acme-v02.api.letsencrypt.org/acme/acct/12345",
                          uri);
    for (size_t i = 0; i < n; i++)
        if (uri[i] <= 0x20 || uri[i] > 0x7e || strchr(";\"\\", uri[i]) != NULL)
            return zp_err_set(err, ZP_EINVAL,
                              "--account-uri has a space, ';', a quote, a backslash or a byte "
                              "outside printable ASCII at position %zu",
                              i + 1);
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

static int check_until(struct persist_opts *o, struct zp_err *err)
{
    if (o->until_arg == NULL)
        return 0;
    if (parse_time(o->until_arg, &o->until) == -1)
        return zp_err_set(err, ZP_EINVAL,
                          "--persist-until \"%.64s\" is neither a unix time nor an RFC 3339 date "
                          "such as 2027-01-01T00:00:00Z",
                          o->until_arg);
    if (o->until <= (long long)time(NULL))
        return zp_err_set(err, ZP_EINVAL, "--persist-until \"%.64s\" is not in the future",
                          o->until_arg);
    return 0;
}

/* Flags into o; -1 on bad usage (reported), 1 for --help. */
static int persist_parse(int argc, char **argv, struct persist_opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"provider", required_argument, NULL, 'p'},
        {"zone", required_argument, NULL, 'z'},
        {"issuer", required_argument, NULL, 'i'},
        {"account-uri", required_argument, NULL, 'a'},
        {"persist-until", required_argument, NULL, 'u'},
        {"wildcard", no_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *timeout = NULL;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        const char **slot = c == 'c'   ? &o->config
                            : c == 'p' ? &o->provider
                            : c == 'z' ? &o->zone
                            : c == 'i' ? &o->issuer_arg
                            : c == 'a' ? &o->account
                            : c == 'u' ? &o->until_arg
                            : c == 't' ? &timeout
                                       : NULL;
        if (slot != NULL) {
            *slot = optarg;
        } else if (c == 'w') {
            o->wildcard = 1;
        } else if (c == 'l') {
            if (zp_cmd_log_level(optarg) == -1)
                return -1;
        } else if (c == 'h') {
            fputs(persist_help, stdout);
            return 1;
        } else {
            fputs(persist_help, stderr);
            return -1;
        }
    }
    if (timeout != NULL && (zp_duration_parse(timeout, &o->timeout_ms) == -1 ||
                            o->timeout_ms == 0 || o->timeout_ms > 60000)) {
        fprintf(stderr, "zoneproof: --timeout \"%s\" must be a duration from 1ms to 60s\n",
                timeout);
        return -1;
    }
    o->names = argv + optind;
    o->n_names = argc - optind;
    return 0;
}

/*
 * NAME's base name and whether it asks for the wildcard policy: a NAME
 * "*.example.com" is example.com's record with policy=wildcard (the draft
 * puts the record at the base name; the policy covers its wildcard).
 */
static int name_base(const char *arg, const char **base, int *wildcard, struct zp_err *err)
{
    char why[128];

    *base = arg;
    if (strncmp(arg, "*.", 2) == 0) {
        *base = arg + 2;
        *wildcard = 1;
    }
    if (strchr(*base, '*') != NULL)
        return zp_err_set(err, ZP_EINVAL,
                          "NAME \"%.253s\" has a '*' that is not the whole first label", arg);
    if (zp_dname_check(*base, 0, why, sizeof(why)) == -1)
        return zp_err_set(err, ZP_EINVAL, "NAME \"%.253s\" is not a domain name: %s", arg, why);
    if (strlen(*base) + sizeof(PERSIST_LABEL) > 254)
        return zp_err_set(err, ZP_EINVAL, "NAME \"%.253s\" is too long to hold a %s name", arg,
                          PERSIST_LABEL);
    return 0;
}

/* The record's value for this issuer and account; wildcard adds the policy. */
static void persist_value(const struct persist_opts *o, int wildcard, char *out, size_t n)
{
    char until[32] = "";

    if (o->until != 0)
        snprintf(until, sizeof(until), "; persistUntil=%lld", o->until);
    snprintf(out, n, "%s; accounturi=%s%s%s", o->issuer, o->account,
             wildcard ? "; policy=wildcard" : "", until);
}

/* The flags checked; -1 after the sentence. */
static int persist_validate(struct persist_opts *o)
{
    struct zp_err err = {0};

    if (o->issuer_arg == NULL || o->account == NULL || o->n_names == 0) {
        fprintf(stderr,
                "zoneproof: --issuer, --account-uri and at least one NAME are required\n\n%s",
                persist_help);
        return -1;
    }
    if (check_issuer(o, &err) == -1 || check_account(o->account, &err) == -1 ||
        check_until(o, &err) == -1) {
        zp_cmd_fail(&err);
        return -1;
    }
    for (int i = 0; i < o->n_names; i++) {
        const char *base;
        char v[1024];
        int wildcard = o->wildcard;
        if (name_base(o->names[i], &base, &wildcard, &err) == -1) {
            zp_cmd_fail(&err);
            return -1;
        }
        persist_value(o, wildcard, v, sizeof(v));
        if (strlen(v) > ZP_TXT_MAX) {
            fprintf(stderr, "zoneproof: the record's value is %zu characters long; at most %d\n",
                    strlen(v), ZP_TXT_MAX);
            return -1;
        }
    }
    return 0;
}

/* NAME into the record's challenge, instance and zone; -1 with a sentence. */
static int persist_name(const struct persist_ctx *x, const char *arg, enum zp_action act,
                        struct persist_name *pn, struct zp_err *err)
{
    const struct persist_opts *o = x->o;
    char fqdn[ZP_DNAME_MAX + 32], zone[ZP_DNAME_MAX + 1], value[1024];
    const char *base, *entry = NULL;
    int wildcard = o->wildcard;

    memset(pn, 0, sizeof(*pn));
    if (name_base(arg, &base, &wildcard, err) == -1)
        return -1;
    snprintf(fqdn, sizeof(fqdn), PERSIST_LABEL "%s%s", base,
             base[strlen(base) - 1] == '.' ? "" : ".");
    if (o->zone != NULL &&
        (zp_dname_canon(o->zone, zone, sizeof(zone)) == -1 || !zp_dname_in_zone(fqdn, zone)))
        return zp_err_set(err, ZP_EINVAL, "NAME %.253s: %s is not inside --zone %.253s", arg, fqdn,
                          o->zone);
    persist_value(o, wildcard, value, sizeof(value));
    if (zp_challenge_make_txt(&pn->ch, act, fqdn, o->zone, value, "the record's value", o->provider,
                              err) == -1)
        return -1;
    pn->inst = zp_route(x->cfg, pn->ch.fqdn, pn->ch.provider, &entry, err);
    if (pn->inst == NULL)
        return -1;
    /* Only rfc2136 is known to split a long value into character-strings (rfc2136.c). */
    if (strlen(value) > ZP_KEY_MAX && strcmp(pn->inst->ops->type, "rfc2136") != 0)
        return zp_err_set(err, ZP_EINVAL,
                          "the record's value for %s is %zu characters long; over %d only the "
                          "rfc2136 provider writes, split into strings, and %s is %s",
                          pn->ch.fqdn, strlen(value), ZP_KEY_MAX, pn->inst->name,
                          pn->inst->ops->type);
    zp_cmd_discover_zone(x->pc, pn->inst, entry, &pn->ch);
    pn->zone = pn->ch.zone[0] != '\0' ? pn->ch.zone : entry;
    if (pn->zone == NULL)
        return zp_err_set(err, ZP_EINVAL, "%s is inside none of %s's dnsZones; pass --zone",
                          pn->ch.fqdn, pn->inst->name);
    return 0;
}

/* ---- reading what the nameservers serve ---------------------------------------------------- */

struct persist_values {
    size_t n;
    char v[PERSIST_MAX_VALUES][ZP_TXT_MAX + 1];
};

/*
 * The TXT values at fqdn on the nameserver at addr, each one's strings
 * joined as the CA joins them. -1 with a phrase in why when it did not
 * answer NOERROR or NXDOMAIN.
 */
static int persist_read(const char *addr, const char *fqdn, uint64_t deadline,
                        struct persist_values *pv, char *why, size_t whysz)
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

        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT || pv->n == PERSIST_MAX_VALUES)
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
static void persist_fields(const char *v, char *issuer, size_t isz, char *account, size_t asz)
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

/* 1 when v is a value of this issuer (and, with account, of this account). */
static int persist_ours(const struct persist_opts *o, const char *v, int account)
{
    char issuer[ZP_DNAME_MAX], acct[ZP_TXT_MAX + 1];

    persist_fields(v, issuer, sizeof(issuer), acct, sizeof(acct));
    if (strcasecmp(issuer, o->issuer) != 0)
        return 0;
    return !account || strcmp(acct, o->account) == 0;
}

/* Asks every authoritative nameserver of pn's zone once whether it serves pn's value. */
static int persist_survey(const struct persist_name *pn, uint64_t timeout_ms,
                          struct zp_watch_report *rep, struct zp_err *err)
{
    struct zp_watch_spec spec;

    zp_solver_watch_spec(pn->inst, &pn->ch, pn->zone, &spec);
    if (zp_watch_check_once(&spec, (unsigned)timeout_ms, rep, err) == -1)
        return -1;
    if (rep->n == 0)
        return zp_err_set(err, ZP_EPROPAGATION, "%s: no authoritative nameserver to ask: %s",
                          pn->ch.fqdn,
                          rep->discovery_error[0] ? rep->discovery_error : "none found");
    return 0;
}

/* ---- set, check, remove --------------------------------------------------------------------- */

/*
 * Older values of this issuer and account on any nameserver that answers,
 * into stale; says which values of other accounts of the issuer it keeps.
 */
static void persist_stale(const struct persist_opts *o, const struct persist_name *pn,
                          const struct zp_watch_report *rep, struct persist_values *stale)
{
    struct persist_values *pv = zp_xcalloc(1, sizeof(*pv));
    char why[128];

    stale->n = 0;
    for (size_t i = 0; i < rep->n; i++) {
        if (persist_read(rep->ns[i].addr, pn->ch.fqdn, zp_now_ms() + 2000, pv, why, sizeof(why)))
            continue;
        for (size_t v = 0; v < pv->n; v++) {
            size_t s = 0;
            if (strcmp(pv->v[v], pn->ch.key) == 0 || !persist_ours(o, pv->v[v], 0))
                continue;
            while (s < stale->n && strcmp(stale->v[s], pv->v[v]) != 0)
                s++;
            if (s < stale->n || stale->n == PERSIST_MAX_VALUES)
                continue;
            zp_strlcpy(stale->v[stale->n++], pv->v[v], sizeof(stale->v[0]));
        }
    }
    free(pv);
}

/* Runs one challenge through the solver; -1 with its sentence. */
static int persist_run(struct persist_ctx *x, const struct zp_challenge *ch, struct zp_err *err)
{
    struct zp_result *res = zp_xcalloc(1, sizeof(*res));
    int rc = 0;

    zp_solver_run(x->solver, ch, res);
    if (!res->ok) {
        *err = res->err;
        rc = -1;
    }
    free(res);
    return rc;
}

static int persist_set_one(struct persist_ctx *x, const char *arg, struct zp_err *err)
{
    struct persist_name pn;
    struct zp_watch_report *rep = zp_xcalloc(1, sizeof(*rep));
    struct persist_values *stale = zp_xcalloc(1, sizeof(*stale));
    struct zp_challenge old;
    int rc = -1;

    if (persist_name(x, arg, ZP_PRESENT, &pn, err) == -1 || persist_survey(&pn, 2000, rep, err))
        goto out;
    persist_stale(x->o, &pn, rep, stale);
    if (persist_run(x, &pn.ch, err) == -1)
        goto out;
    printf("set %s TXT \"%s\" via %s (%s)\n", pn.ch.fqdn, pn.ch.key, pn.inst->name,
           pn.inst->ops->type);
    /* Only after the new value is served: a renewal in between still finds one. */
    for (size_t s = 0; s < stale->n; s++) {
        char acct[ZP_TXT_MAX + 1], issuer[ZP_DNAME_MAX];

        persist_fields(stale->v[s], issuer, sizeof(issuer), acct, sizeof(acct));
        if (strcmp(acct, x->o->account) != 0) {
            printf("kept %s TXT \"%s\": another account of %s\n", pn.ch.fqdn, stale->v[s],
                   x->o->issuer);
            continue;
        }
        if (zp_challenge_make_txt(&old, ZP_CLEANUP, pn.ch.fqdn, pn.ch.zone, stale->v[s],
                                  "the older value", x->o->provider, err) == -1 ||
            persist_run(x, &old, err) == -1) {
            zp_err_wrap(err, "%s is set, but the older value \"%s\" stays", pn.ch.fqdn,
                        stale->v[s]);
            goto out;
        }
        printf("removed the older %s TXT \"%s\"\n", pn.ch.fqdn, stale->v[s]);
    }
    rc = 0;
out:
    free(stale);
    free(rep);
    return rc;
}

static int persist_remove_one(struct persist_ctx *x, const char *arg, struct zp_err *err)
{
    struct persist_name pn;

    if (persist_name(x, arg, ZP_CLEANUP, &pn, err) == -1 || persist_run(x, &pn.ch, err) == -1)
        return -1;
    printf("removed %s TXT \"%s\" via %s (%s)\n", pn.ch.fqdn, pn.ch.key, pn.inst->name,
           pn.inst->ops->type);
    return 0;
}

enum persist_verdict { PV_OK, PV_EXPIRING, PV_UNCHECKED, PV_MISSING, PV_DIFFERENT };

/* What one nameserver says about pn's record, printed; the verdict for it. */
static enum persist_verdict persist_check_ns(const struct persist_opts *o,
                                             const struct persist_name *pn,
                                             const struct zp_ns_status *ns, char *shown,
                                             size_t shownsz)
{
    struct persist_values *pv;
    enum persist_verdict v = PV_MISSING;
    char why[128];

    shown[0] = '\0';
    if (ns->state == ZP_NS_HAS_VALUE) {
        printf("  %-22s ok\n", ns->addr);
        return PV_OK;
    }
    if (ns->state != ZP_NS_OTHER && ns->state != ZP_NS_NODATA && ns->state != ZP_NS_NXDOMAIN) {
        snprintf(shown, shownsz, "%s%s%s%s", zp_ns_state_name(ns->state), ns->detail[0] ? " (" : "",
                 ns->detail, ns->detail[0] ? ")" : "");
        printf("  %-22s unchecked: %s\n", ns->addr, shown);
        return PV_UNCHECKED;
    }
    pv = zp_xcalloc(1, sizeof(*pv));
    if (persist_read(ns->addr, pn->ch.fqdn, zp_now_ms() + 2000, pv, why, sizeof(why)) == -1) {
        snprintf(shown, shownsz, "%s", why);
        v = PV_UNCHECKED;
    }
    for (size_t i = 0; v == PV_MISSING && i < pv->n; i++)
        if (persist_ours(o, pv->v[i], 1)) {
            snprintf(shown, shownsz, "\"%s\"", pv->v[i]);
            v = PV_DIFFERENT;
        }
    if (v == PV_MISSING)
        snprintf(shown, shownsz, "%s", zp_ns_state_name(ns->state));
    printf("  %-22s %s: %s\n", ns->addr,
           v == PV_DIFFERENT   ? "different"
           : v == PV_UNCHECKED ? "unchecked"
                               : "missing",
           shown);
    free(pv);
    return v;
}

/* 0 when every nameserver serves the value and it is not expiring; else -1 with the sentence. */
static int persist_check_one(struct persist_ctx *x, const char *arg, struct zp_err *err)
{
    static const char *const what[] = {"ok", "expiring", "unchecked", "missing", "different"};
    struct persist_name pn;
    struct zp_watch_report *rep = zp_xcalloc(1, sizeof(*rep));
    enum persist_verdict worst = PV_OK;
    char shown[ZP_TXT_MAX + 160], worst_shown[sizeof(shown)] = "", date[32];
    const char *where = "";
    int rc = -1;

    if (persist_name(x, arg, ZP_PRESENT, &pn, err) == -1 ||
        persist_survey(&pn, x->o->timeout_ms, rep, err) == -1)
        goto out;
    printf("%s TXT \"%s\" in zone %s\n", pn.ch.fqdn, pn.ch.key, rep->zone);
    for (size_t i = 0; i < rep->n; i++) {
        enum persist_verdict v = persist_check_ns(x->o, &pn, &rep->ns[i], shown, sizeof(shown));
        if (v > worst) {
            worst = v;
            where = rep->ns[i].addr;
            zp_strlcpy(worst_shown, shown, sizeof(worst_shown));
        }
    }
    if (worst == PV_OK && x->o->until != 0 && x->o->until - (long long)time(NULL) < PERSIST_SOON_S)
        worst = PV_EXPIRING;
    if (worst == PV_OK) {
        printf("%s: ok: every authoritative nameserver serves it\n", pn.ch.fqdn);
        rc = 0;
    } else if (worst == PV_EXPIRING) {
        time_t t = (time_t)x->o->until;
        struct tm tm;
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        zp_err_set(err, ZP_EINVAL, "%s: expiring: persistUntil %s is within 30 days", pn.ch.fqdn,
                   date);
    } else {
        zp_err_set(err, ZP_EPROPAGATION, "%s: %s at %s: %s", pn.ch.fqdn, what[worst], where,
                   worst_shown);
    }
out:
    free(rep);
    return rc;
}

/* The configuration, and the solver (set, remove) or the checks alone (check). */
static int persist_open(struct persist_ctx *x, int check, struct zp_err *err)
{
    if (zp_cmd_load_cli_config(x->o->config, &x->cfg, err) == -1)
        return -1;
    if (check)
        return zp_precheck_new(x->cfg, &x->pc, err);
    x->solver = zp_solver_new(x->cfg, err);
    if (x->solver == NULL)
        return -1;
    x->pc = zp_solver_precheck(x->solver);
    return 0;
}

int zp_cmd_persist(int argc, char **argv)
{
    struct persist_opts o = {.timeout_ms = 2000};
    struct persist_ctx x = {.o = &o};
    struct zp_err err = {0};
    int (*one)(struct persist_ctx *, const char *, struct zp_err *) = NULL;
    int rc = ZP_EXIT_USAGE, p;

    zp_log_set_level(ZP_LOG_WARN);
    o.verb = argc > 1 ? argv[1] : "";
    if (strcmp(o.verb, "--help") == 0 || strcmp(o.verb, "-h") == 0) {
        fputs(persist_help, stdout);
        return ZP_EXIT_OK;
    }
    one = strcmp(o.verb, "set") == 0      ? persist_set_one
          : strcmp(o.verb, "check") == 0  ? persist_check_one
          : strcmp(o.verb, "remove") == 0 ? persist_remove_one
                                          : NULL;
    if (one == NULL) {
        fprintf(stderr, "zoneproof: persist needs set, check or remove, not \"%s\"\n\n%s", o.verb,
                persist_help);
        return ZP_EXIT_USAGE;
    }
    if ((p = persist_parse(argc - 1, argv + 1, &o)) != 0)
        return p == 1 ? ZP_EXIT_OK : ZP_EXIT_USAGE;
    if (persist_validate(&o) == -1)
        goto out;
    if (persist_open(&x, one == persist_check_one, &err) == -1) {
        zp_cmd_fail(&err);
        goto out;
    }
    rc = ZP_EXIT_OK;
    for (int i = 0; i < o.n_names; i++) {
        memset(&err, 0, sizeof(err));
        if (one(&x, o.names[i], &err) == -1) {
            zp_cmd_fail(&err);
            rc = ZP_EXIT_FAIL;
        }
    }
out:
    if (one != persist_check_one)
        x.pc = NULL; /* the solver's */
    zp_precheck_free(x.pc);
    zp_solver_free(x.solver);
    zp_config_free(x.cfg);
    return rc;
}
