/*
 * cli.c — the commands that work outside Kubernetes: present, cleanup and
 * check. They print the same sentence the webhook would return, and exit
 * non-zero when it is a failure.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "cmd/cmd.h"
#include "solver/challenge.h"
#include "solver/config.h"
#include "solver/journal.h"
#include "solver/precheck.h"
#include "solver/router.h"
#include "solver/solver.h"
#include "providers/provider.h"
#include "solver/watch.h"

struct cli_opts {
    const char *config;
    const char *fqdn;
    const char *key;
    const char *zone;
    const char *provider;
    const char *timeout;
    const char *state_dir;
    const char *log_level;
    int json;
    int follow_cname;
    int hook; /* a client's hook protocol (cmd/hook.c) gave the name and the value */
};

static const char present_help[] =
    "usage: zoneproof present|cleanup --fqdn NAME --key VALUE [flags]\n"
    "       zoneproof present|cleanup NAME VALUE [flags]   (lego's exec provider: EXEC_PATH)\n"
    "\n"
    "present adds one TXT value at NAME through the provider that owns it and waits until every\n"
    "authoritative nameserver serves it; cleanup removes exactly that value.\n"
    "\n"
    "  --config FILE      configuration (default $ZONEPROOF_CONFIG or " ZP_DEFAULT_CONFIG ")\n"
    "  --fqdn NAME        the record name, e.g. _acme-challenge.example.com.\n"
    "  --key VALUE        the TXT value (base64url, as ACME computes it)\n"
    "  --zone ZONE        the zone to write in (default: the zone DNS says holds NAME)\n"
    "  --provider NAME    use this provider instance instead of routing by dnsZones\n"
    "  --follow-cname     when NAME is an alias (CNAME), write at the name its CNAME chain ends\n"
    "                     at, through the provider and zone that hold that name (also\n"
    "                     followCNAME: true in the configuration)\n"
    "  --state-dir DIR    journal every value written in DIR (present records it before the\n"
    "                     write, cleanup removes it), so that `zoneproof sweep` removes a value\n"
    "                     whose cleanup never ran (the hook was killed)\n"
    "  --log-level LEVEL  debug, info, warn (default; error for NAME VALUE) or error; logs go to\n"
    "                     stderr\n";

static const char check_help[] =
    "usage: zoneproof check --fqdn NAME --key VALUE [flags]\n"
    "\n"
    "Asks every authoritative nameserver of the zone, once and directly, whether it serves the\n"
    "TXT value, and prints what each one answered. Exits 0 only when all of them serve it.\n"
    "\n"
    "  --config FILE      configuration (default $ZONEPROOF_CONFIG or " ZP_DEFAULT_CONFIG ")\n"
    "  --fqdn NAME        the record name, e.g. _acme-challenge.example.com.\n"
    "  --key VALUE        the TXT value to look for\n"
    "  --zone ZONE        the zone whose nameservers to ask (default: the zone DNS says holds "
    "NAME)\n"
    "  --provider NAME    take propagation settings from this provider instance\n"
    "  --follow-cname     when NAME is an alias (CNAME), check the name its CNAME chain ends at\n"
    "  --timeout DUR      time for the whole check (default 2s; each query waits at most 1s)\n"
    "  --json             print the report as JSON\n"
    "  --log-level LEVEL  debug, info, warn (default) or error\n";

/* The flags that only set a field: 0 when c is one of them. */
static int take_flag(int c, struct cli_opts *o)
{
    switch (c) {
    case 'c':
        o->config = optarg;
        break;
    case 'f':
        o->fqdn = optarg;
        break;
    case 'k':
        o->key = optarg;
        break;
    case 'z':
        o->zone = optarg;
        break;
    case 'p':
        o->provider = optarg;
        break;
    case 't':
        o->timeout = optarg;
        break;
    case 'j':
        o->json = 1;
        break;
    case 's':
        o->state_dir = optarg;
        break;
    case 'C':
        o->follow_cname = 1;
        break;
    case 'l':
        o->log_level = optarg;
        break;
    default:
        return -1;
    }
    return 0;
}

/*
 * Returns -1 on bad usage (already reported), 1 for --help, 0 otherwise.
 * hooks: without --fqdn and --key, a client's hook protocol may give them.
 */
static int parse(int argc, char **argv, const char *help, int hooks, struct cli_opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"fqdn", required_argument, NULL, 'f'},
        {"key", required_argument, NULL, 'k'},
        {"zone", required_argument, NULL, 'z'},
        {"provider", required_argument, NULL, 'p'},
        {"timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"log-level", required_argument, NULL, 'l'},
        {"state-dir", required_argument, NULL, 's'},
        {"follow-cname", no_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *pos[3];
    int c, npos = 0;

    memset(o, 0, sizeof(*o));
    optind = 1;
    /* "-": hooks take positional arguments in order (RETURN_IN_ORDER), see case 1. */
    while ((c = getopt_long(argc, argv, hooks ? "-h" : "h", longopts, NULL)) != -1) {
        switch (c) {
        case 1:
            /* lego's NAME VALUE: an ACME value is base64url and may start with '-'
             * (one in 64), so the argument after NAME is the value, never a flag. */
            pos[npos < 3 ? npos++ : 2] = optarg;
            if (npos == 1 && optind < argc)
                pos[npos++] = argv[optind++];
            break;
        case 'h':
            fputs(hooks ? zp_cmd_hook_help(argv[0], help) : help, stdout);
            return 1;
        default:
            if (take_flag(c, o) == 0)
                break;
            fputs(help, stderr);
            return -1;
        }
    }
    while (hooks && optind < argc) /* after "--" */
        pos[npos < 3 ? npos++ : 2] = argv[optind++];
    if (npos > 0 && (o->fqdn != NULL || o->key != NULL)) {
        fprintf(stderr, "zoneproof: unexpected argument \"%s\"\n", pos[0]);
        return -1;
    }
    if (hooks && o->fqdn == NULL && o->key == NULL &&
        (o->hook = zp_cmd_hook_args(argv[0], npos, pos, &o->fqdn, &o->key)) == -1)
        return -1;
    /* A hook's output is the one sentence: errors only, no audit lines, unless asked. */
    if (zp_cmd_log_level(o->log_level ? o->log_level : o->hook ? "error" : "warn") == -1)
        return -1;
    zp_log_set_audit(!o->hook || o->log_level != NULL);
    if (optind < argc) {
        fprintf(stderr, "zoneproof: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    if (o->fqdn == NULL || o->key == NULL) {
        fprintf(stderr, "zoneproof: --fqdn and --key are required\n\n%s", help);
        return -1;
    }
    return 0;
}

/* Once, before anything is written: a CA never looks for a DNS-01 value at other names. */
static void warn_name(const char *fqdn)
{
    static const char acme[] = "_acme-challenge.", persist[] = "_validation-persist.";

    if (strncasecmp(fqdn, acme, sizeof(acme) - 1) != 0 &&
        strncasecmp(fqdn, persist, sizeof(persist) - 1) != 0)
        fprintf(stderr,
                "zoneproof: warning: %s does not start with _acme-challenge.: a CA looks for the "
                "DNS-01 value at _acme-challenge.<name>; writing where asked\n",
                fqdn);
}

/*
 * --follow-cname: the end of the CNAME chain at ch's name becomes the name
 * written, checked or cleaned up, through the provider that holds it (or
 * --provider); orig keeps the name asked for.
 */
static int follow_cname(struct zp_precheck *pc, const struct zp_config *cfg,
                        struct zp_challenge *ch, char *orig, size_t origsz, struct zp_err *err)
{
    const struct zp_instance *inst;
    char target[ZP_DNAME_MAX];
    struct zp_buf chain;
    struct zp_err e = {0};
    int rc = -1;

    inst = zp_route(cfg, ch->fqdn, ch->provider, NULL, &e);
    if (inst == NULL && ch->provider[0] != '\0') {
        *err = e;
        return -1;
    }
    if (inst == NULL)
        inst = &cfg->inst[0]; /* the name's zone may have no provider: acme-dns delegation */
    zp_buf_init(&chain, 4096);
    if (zp_precheck_follow(pc, inst, ch->fqdn, zp_now_ms() + inst->prop.timeout_ms, target,
                           sizeof(target), &chain, err) == -1)
        goto out;
    if (strcmp(target, ch->fqdn) != 0) {
        if (ch->provider[0] == '\0' && zp_route(cfg, target, NULL, NULL, &e) == NULL) {
            zp_err_set(err, e.kind, "the CNAME chain at %s ends at %s: %s", ch->fqdn, target,
                       e.msg);
            goto out;
        }
        zp_log(ZP_LOG_INFO, "CNAME followed", ZP_S("fqdn", ch->fqdn), ZP_S("target", target),
               ZP_S("chain", zp_buf_str(&chain)), ZP_END);
        zp_strlcpy(orig, ch->fqdn, origsz);
        zp_strlcpy(ch->fqdn, target, sizeof(ch->fqdn));
    }
    rc = 0;
out:
    zp_buf_free(&chain);
    return rc;
}

/*
 * Which name, before anything is written: the warning, the end of its CNAME
 * chain with follow (orig "" when it has none), then its zone.
 */
static int resolve_name(struct zp_precheck *pc, const struct zp_config *cfg, int follow,
                        struct zp_challenge *ch, char *orig, size_t origsz, struct zp_err *err)
{
    const struct zp_instance *inst;
    const char *entry = NULL;
    struct zp_err e = {0};

    orig[0] = '\0';
    warn_name(ch->fqdn);
    if ((follow || cfg->follow_cname) && follow_cname(pc, cfg, ch, orig, origsz, err) == -1)
        return -1;
    /* A name no instance takes stays as it is: Present's routing says so. */
    if (ch->zone[0] == '\0' && (inst = zp_route(cfg, ch->fqdn, ch->provider, &entry, &e)) != NULL)
        zp_precheck_discover_zone(pc, inst, entry, ch);
    return 0;
}

int zp_cmd_present(int argc, char **argv)
{
    struct cli_opts o;
    struct zp_config *cfg = NULL;
    struct zp_solver *solver = NULL;
    struct zp_challenge ch;
    struct zp_result *res = NULL;
    struct zp_journal *journal = NULL;
    struct zp_err err = {0};
    char orig[ZP_DNAME_MAX];
    enum zp_action action = strcmp(argv[0], "cleanup") == 0 ? ZP_CLEANUP : ZP_PRESENT;
    int rc = ZP_EXIT_USAGE, p;

    if (strcmp(argv[0], "certbot-cleanup") == 0)
        action = ZP_CLEANUP;
    if ((p = parse(argc, argv, present_help, 1, &o)) != 0)
        return p == 1 ? ZP_EXIT_OK : ZP_EXIT_USAGE;
    if (zp_cmd_load_cli_config(o.config, &cfg, &err) == -1 ||
        zp_challenge_make(&ch, action, o.fqdn, o.zone, o.key, o.provider, &err) == -1 ||
        (o.state_dir != NULL && zp_journal_dir_open(o.state_dir, &journal, &err) == -1)) {
        zp_cmd_fail(&err);
        goto out;
    }
    solver = zp_solver_new(cfg, &err);
    if (solver == NULL) {
        zp_cmd_fail(&err);
        rc = ZP_EXIT_FAIL;
        goto out;
    }
    zp_solver_set_journal(solver, journal);
    /* CleanUp too: removing from the wrong zone "succeeds" and leaves the record. */
    if (resolve_name(zp_solver_precheck(solver), cfg, o.follow_cname, &ch, orig, sizeof(orig),
                     &err) == -1) {
        zp_cmd_fail(&err);
        rc = ZP_EXIT_FAIL;
        goto out;
    }
    res = zp_xcalloc(1, sizeof(*res));
    zp_solver_run(solver, &ch, res);
    if (!res->ok) {
        zp_cmd_fail(&res->err);
        rc = ZP_EXIT_FAIL;
        goto out;
    }
    printf("%s %s TXT \"%s\" via %s (%s) in %llu ms%s%s%s\n",
           action == ZP_PRESENT ? "presented" : "cleaned up", ch.fqdn, ch.key, res->instance,
           res->type, (unsigned long long)res->elapsed_ms,
           orig[0] ? " (followed the CNAME at " : "", orig, orig[0] ? ")" : "");
    rc = ZP_EXIT_OK;
out:
    zp_solver_free(solver);
    zp_journal_free(journal);
    zp_config_free(cfg);
    free(res);
    return rc;
}

static void print_report(const struct zp_watch_report *rep)
{
    printf("%s TXT \"%s\" in zone %s\n", rep->fqdn, rep->value, rep->zone);
    if (rep->discovery_error[0])
        printf("  nameserver discovery failed: %s\n", rep->discovery_error);
    for (size_t i = 0; i < rep->n; i++) {
        const struct zp_ns_status *ns = &rep->ns[i];
        printf("  %-32s %-22s %s", ns->name, ns->addr, zp_ns_state_name(ns->state));
        for (unsigned v = 0; v < ns->n_other; v++)
            printf("%s\"%s\" (ttl %u)", v ? ", " : ": other values ", ns->other[v],
                   ns->other_ttl[v]);
        if (ns->detail[0])
            printf(" (%s)", ns->detail);
        putchar('\n');
    }
}

/* The report as text or, with --json, as JSON; -1 when the JSON outgrows its cap. */
static int print_check(const struct cli_opts *o, const struct zp_watch_report *rep)
{
    struct zp_buf js;
    int ok;

    if (!o->json) {
        print_report(rep);
        return 0;
    }
    zp_buf_init(&js, 1 << 20);
    ok = zp_watch_report_json(rep, &js) == 0;
    if (ok)
        puts(zp_buf_str(&js));
    else
        fprintf(stderr, "zoneproof: the report is larger than %zu bytes of JSON\n", js.max);
    zp_buf_free(&js);
    return ok ? 0 : -1;
}

int zp_cmd_check(int argc, char **argv)
{
    struct cli_opts o;
    struct zp_config *cfg = NULL;
    struct zp_challenge ch;
    struct zp_watch_spec spec;
    struct zp_watch_report *rep = NULL;
    struct zp_precheck *pc = NULL;
    const struct zp_instance *inst;
    const char *zone = NULL;
    struct zp_err err = {0};
    char orig[ZP_DNAME_MAX];
    uint64_t timeout = 2000;
    int rc = ZP_EXIT_USAGE, p;

    if ((p = parse(argc, argv, check_help, 0, &o)) != 0)
        return p == 1 ? ZP_EXIT_OK : ZP_EXIT_USAGE;
    if (o.timeout != NULL &&
        (zp_duration_parse(o.timeout, &timeout) == -1 || timeout == 0 || timeout > 60000)) {
        fprintf(stderr, "zoneproof: --timeout \"%s\" must be a duration from 1ms to 60s\n",
                o.timeout);
        return ZP_EXIT_USAGE;
    }
    if (zp_cmd_load_cli_config(o.config, &cfg, &err) == -1 ||
        zp_precheck_new(cfg, &pc, &err) == -1 ||
        zp_challenge_make(&ch, ZP_PRESENT, o.fqdn, o.zone, o.key, o.provider, &err) == -1) {
        zp_cmd_fail(&err);
        goto out;
    }
    /* A CNAME chain that loops is what DNS serves, not a wrong flag: a failure, as in present. */
    if (resolve_name(pc, cfg, o.follow_cname, &ch, orig, sizeof(orig), &err) == -1) {
        rc = ZP_EXIT_FAIL;
        zp_cmd_fail(&err);
        goto out;
    }
    if ((inst = zp_route(cfg, ch.fqdn, ch.provider, &zone, &err)) == NULL) {
        zp_cmd_fail(&err);
        goto out;
    }
    if (ch.zone[0])
        zone = ch.zone;
    if (zone == NULL) {
        fprintf(stderr, "zoneproof: %s is inside none of %s's dnsZones; pass --zone\n", ch.fqdn,
                inst->name);
        goto out;
    }
    rc = ZP_EXIT_FAIL;
    /* What Present would refuse before writing, check reports the same way. */
    if (zp_precheck_present(pc, inst, &ch, zone, zp_now_ms() + timeout, &err) == -1) {
        zp_err_wrap(&err, "%s (%s)", inst->name, inst->ops->type);
        zp_cmd_fail(&err);
        goto out;
    }
    zp_solver_watch_spec(inst, &ch, zone, &spec);
    spec.cli = cfg->cli;
    rep = zp_xcalloc(1, sizeof(*rep));
    if (zp_watch_check_once(&spec, (unsigned)timeout, rep, &err) == -1) {
        zp_cmd_fail(&err);
        goto out;
    }
    if (print_check(&o, rep) == -1)
        goto out; /* rc is ZP_EXIT_FAIL */
    if (rep->complete &&
        zp_precheck_view(inst, ch.fqdn, ch.key, zp_now_ms() + timeout, &err) == 0) {
        rc = ZP_EXIT_OK;
    } else {
        if (!rep->complete) {
            const char *lag = zp_precheck_doubled_where(rep);
            zp_watch_explain(rep, &err);
            if (lag != NULL)
                zp_precheck_doubled(lag, ch.fqdn, zone, ch.key, zp_now_ms() + 1000, &err);
        }
        zp_cmd_fail(&err);
    }
out:
    zp_precheck_free(pc);
    zp_config_free(cfg);
    free(rep);
    return rc;
}

/*
 * check-config: what serve would load, validated (credential files included),
 * without starting anything. For CI of a chart's values and for operators.
 */
int zp_cmd_check_config(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    struct zp_config *cfg = NULL;
    struct zp_precheck *pc = NULL;
    struct zp_err err = {0};
    int c;

    zp_log_set_level(ZP_LOG_WARN);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'c') {
            config = optarg;
        } else if (c == 'h') {
            puts("usage: zoneproof check-config [--config FILE]\n\nLoads and validates the "
                 "configuration as serve would, then exits: 0 when it is valid, 2 otherwise.");
            return ZP_EXIT_OK;
        } else {
            return ZP_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "zoneproof: unexpected argument \"%s\"\n", argv[optind]);
        return ZP_EXIT_USAGE;
    }
    /* The lists Present loads (trust anchors, the Public Suffix List) must load too. */
    if (zp_cmd_load_config(config, &cfg, &err) == -1 || zp_precheck_new(cfg, &pc, &err) == -1) {
        zp_cmd_fail(&err);
        zp_config_free(cfg);
        return ZP_EXIT_USAGE;
    }
    zp_precheck_free(pc);
    printf("%s: valid; %zu provider%s:", cfg->file, cfg->n_inst, cfg->n_inst == 1 ? "" : "s");
    for (size_t i = 0; i < cfg->n_inst; i++)
        printf(" %s (%s)", cfg->inst[i].name, cfg->inst[i].ops->type);
    putchar('\n');
    zp_config_free(cfg);
    return ZP_EXIT_OK;
}
