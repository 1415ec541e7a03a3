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
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "cmd/cmd.h"
#include "solver/config.h"
#include "solver/persist.h"
#include "solver/precheck.h"
#include "solver/solver.h"
#include "providers/provider.h"

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

struct persist_ctx {
    const struct persist_opts *o;
    struct zp_config *cfg;
    struct zp_solver *solver; /* set and remove */
    struct zp_precheck *pc;   /* check's own; else the solver's */
};

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

/* The record of one NAME, as the flags describe it (solver/persist.h). */
static void persist_rec(const struct persist_opts *o, const char *name, struct zp_persist_rec *r)
{
    memset(r, 0, sizeof(*r));
    r->name = (char *)name;
    r->issuer = (char *)o->issuer;
    r->account = (char *)o->account;
    r->wildcard = o->wildcard;
    r->until = o->until;
    r->provider = (char *)o->provider;
    r->zone = (char *)o->zone;
}

/* The flags checked; -1 after the sentence. */
static int persist_validate(struct persist_opts *o)
{
    struct zp_err err = {0};
    struct zp_persist_rec r;

    if (o->issuer_arg == NULL || o->account == NULL || o->n_names == 0) {
        fprintf(stderr,
                "zoneproof: --issuer, --account-uri and at least one NAME are required\n\n%s",
                persist_help);
        return -1;
    }
    if (zp_persist_issuer(o->issuer_arg, "--issuer", o->issuer, sizeof(o->issuer), &err) == -1 ||
        zp_persist_account(o->account, "--account-uri", &err) == -1 ||
        (o->until_arg != NULL &&
         zp_persist_until(o->until_arg, "--persist-until", &o->until, &err) == -1)) {
        zp_cmd_fail(&err);
        return -1;
    }
    for (int i = 0; i < o->n_names; i++) {
        persist_rec(o, o->names[i], &r);
        if (zp_persist_rec_check(&r, "NAME", &err) == -1) {
            zp_cmd_fail(&err);
            return -1;
        }
    }
    return 0;
}

/* ---- set, check, remove --------------------------------------------------------------------- */

static int persist_set_one(struct persist_ctx *x, const char *arg, struct zp_err *err)
{
    struct zp_persist_set_res *res = zp_xcalloc(1, sizeof(*res));
    struct zp_persist_name pn;
    struct zp_persist_rec r;
    int rc;

    persist_rec(x->o, arg, &r);
    rc = zp_persist_set(x->cfg, x->solver, &r, &pn, res, err);
    if (res->written)
        printf("set %s TXT \"%s\" via %s (%s)\n", pn.ch.fqdn, pn.ch.key, pn.inst->name,
               pn.inst->ops->type);
    for (size_t i = 0; i < res->kept.n; i++)
        printf("kept %s TXT \"%s\": another account of %s\n", pn.ch.fqdn, res->kept.v[i],
               x->o->issuer);
    for (size_t i = 0; i < res->removed.n; i++)
        printf("removed the older %s TXT \"%s\"\n", pn.ch.fqdn, res->removed.v[i]);
    free(res);
    return rc;
}

static int persist_remove_one(struct persist_ctx *x, const char *arg, struct zp_err *err)
{
    struct zp_persist_name pn;
    struct zp_persist_rec r;
    struct zp_result *res;
    int rc = 0;

    persist_rec(x->o, arg, &r);
    if (zp_persist_locate(x->cfg, x->pc, &r, ZP_CLEANUP, &pn, err) == -1)
        return -1;
    res = zp_xcalloc(1, sizeof(*res));
    zp_solver_run(x->solver, &pn.ch, res);
    if (!res->ok) {
        *err = res->err;
        rc = -1;
    } else {
        printf("removed %s TXT \"%s\" via %s (%s)\n", pn.ch.fqdn, pn.ch.key, pn.inst->name,
               pn.inst->ops->type);
    }
    free(res);
    return rc;
}

/* Each nameserver's line, then the verdict's sentence in err (not ok) or its line (ok). */
static int persist_check_say(const struct persist_opts *o, const struct zp_persist_name *pn,
                             const struct zp_persist_check *c, struct zp_err *err)
{
    char date[32];

    printf("%s TXT \"%s\" in zone %s\n", pn->ch.fqdn, pn->ch.key, c->rep.zone);
    for (size_t i = 0; i < c->rep.n; i++)
        if (c->ns[i] == ZP_PERSIST_OK)
            printf("  %-22s ok\n", c->rep.ns[i].addr);
        else
            printf("  %-22s %s: %s\n", c->rep.ns[i].addr, zp_persist_state_name(c->ns[i]),
                   c->shown[i]);
    if (c->worst == ZP_PERSIST_OK) {
        printf("%s: ok: every authoritative nameserver serves it\n", pn->ch.fqdn);
        return 0;
    }
    if (c->worst == ZP_PERSIST_EXPIRING) {
        time_t t = (time_t)o->until;
        struct tm tm;
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        return zp_err_set(err, ZP_EINVAL, "%s: expiring: persistUntil %s is within 30 days",
                          pn->ch.fqdn, date);
    }
    return zp_err_set(err, ZP_EPROPAGATION, "%s: %s at %s: %s", pn->ch.fqdn,
                      zp_persist_state_name(c->worst), c->rep.ns[c->where].addr,
                      c->shown[c->where]);
}

/* 0 when every nameserver serves the value and it is not expiring; else -1 with the sentence. */
static int persist_check_one(struct persist_ctx *x, const char *arg, struct zp_err *err)
{
    struct zp_persist_check *c = zp_xcalloc(1, sizeof(*c));
    struct zp_persist_name pn;
    struct zp_persist_rec r;
    int rc = -1;

    persist_rec(x->o, arg, &r);
    if (zp_persist_locate(x->cfg, x->pc, &r, ZP_PRESENT, &pn, err) == -1 ||
        zp_persist_check(&r, &pn, x->o->timeout_ms, c, err) == -1)
        goto out;
    rc = persist_check_say(x->o, &pn, c, err);
out:
    free(c);
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
