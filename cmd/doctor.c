/*
 * doctor.c — `zoneproof doctor NAME...`: the checks of solver/doctor.c for
 * each certificate name, printed for a person (or as JSON), and the exit
 * code a script can use: 0 when nothing fails, 1 otherwise, 2 for usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "cmd/cmd.h"
#include "solver/config.h"
#include "solver/doctor.h"
#include "solver/precheck.h"
#include "solver/solver.h"

#define NAMES_MAX 100

static const char doctor_help[] =
    "usage: zoneproof doctor [flags] NAME...\n"
    "\n"
    "Checks, before issuing, whether a DNS-01 challenge for each NAME (as in a Certificate:\n"
    "example.com, *.example.com) can succeed: routing, the zone and its delegation, every\n"
    "nameserver, the challenge name, CAA, DNSSEC, the Public Suffix List, split horizon and the\n"
    "provider's credentials. Read-only unless --write-test. Each check is ok, warn or fail with\n"
    "the cause, the fix and a dig command. Exits 0 when nothing fails, 1 otherwise.\n"
    "\n"
    "  --config FILE      configuration (default $ZONEPROOF_CONFIG or " ZP_DEFAULT_CONFIG ")\n"
    "  --issuer DOMAIN    the CA's CAA identity, e.g. letsencrypt.org (default: caaIssuers)\n"
    "  --provider NAME    check with this provider instance instead of routing by dnsZones\n"
    "  --write-test       also present, check and clean up a throwaway TXT value\n"
    "  --timeout DUR      time for one name (default 10s)\n"
    "  --json             print the report as JSON\n"
    "  --log-level LEVEL  debug, info, warn (default) or error; logs go to stderr\n";

struct doctor_opts {
    const char *config, *issuer, *provider;
    uint64_t timeout;
    int write_test, json;
};

/* Returns -1 on bad usage (reported), 1 for --help, 0 otherwise; optind is the first name. */
static int parse(int argc, char **argv, struct doctor_opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"issuer", required_argument, NULL, 'i'},
        {"provider", required_argument, NULL, 'p'},
        {"write-test", no_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->timeout = 10000;
    zp_log_set_level(ZP_LOG_WARN);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 'i':
            o->issuer = optarg;
            break;
        case 'p':
            o->provider = optarg;
            break;
        case 'w':
            o->write_test = 1;
            break;
        case 'j':
            o->json = 1;
            break;
        case 't':
            if (zp_duration_parse(optarg, &o->timeout) == -1 || o->timeout == 0 ||
                o->timeout > 120000) {
                fprintf(stderr,
                        "zoneproof: --timeout \"%s\" must be a duration from 1ms to "
                        "2m\n",
                        optarg);
                return -1;
            }
            break;
        case 'l':
            if (zp_cmd_log_level(optarg) == -1)
                return -1;
            break;
        case 'h':
            fputs(doctor_help, stdout);
            return 1;
        default:
            fputs(doctor_help, stderr);
            return -1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "zoneproof: doctor needs at least one NAME\n\n%s", doctor_help);
        return -1;
    }
    if (argc - optind > NAMES_MAX) {
        fprintf(stderr, "zoneproof: at most %d names at once\n", NAMES_MAX);
        return -1;
    }
    return 0;
}

static void print_text(const struct zp_doctor_report *rep)
{
    printf("%s  (%s, zone %s, provider %s): %s\n", rep->name, rep->fqdn,
           rep->zone[0] ? rep->zone : "unknown", rep->instance ? rep->instance : "none",
           zp_verdict_name(zp_doctor_verdict(rep)));
    for (size_t i = 0; i < rep->n; i++) {
        const struct zp_check *k = &rep->checks[i];
        printf("  %-4s %-13s %s\n", zp_verdict_name(k->verdict), k->id, k->cause);
        if (k->servers[0] && k->verdict != ZP_CHECK_OK)
            printf("       %-13s servers: %s\n", "", k->servers);
        if (k->fix[0] && k->verdict != ZP_CHECK_OK)
            printf("       %-13s fix: %s\n", "", k->fix);
        if (k->dig[0] && k->verdict != ZP_CHECK_OK)
            printf("       %-13s see: %s\n", "", k->dig);
    }
}

int zp_cmd_doctor(int argc, char **argv)
{
    struct doctor_opts o;
    struct zp_config *cfg = NULL;
    struct zp_precheck *pc = NULL;
    struct zp_solver *solver = NULL;
    struct zp_doctor_report *reps = NULL;
    struct zp_doctor_opts dopt;
    struct zp_err err = {0};
    size_t n = 0;
    int rc = ZP_EXIT_USAGE, p, failed = 0;

    if ((p = parse(argc, argv, &o)) != 0)
        return p == 1 ? ZP_EXIT_OK : ZP_EXIT_USAGE;
    if (zp_cmd_load_config(o.config, &cfg, &err) == -1 || zp_precheck_new(cfg, &pc, &err) == -1) {
        zp_cmd_fail(&err);
        goto out;
    }
    if (o.provider != NULL && zp_config_instance(cfg, o.provider) == NULL) {
        fprintf(stderr, "zoneproof: --provider \"%s\" is not a provider instance of %s\n",
                o.provider, cfg->file);
        goto out;
    }
    if (o.write_test && (solver = zp_solver_new(cfg, &err)) == NULL) {
        zp_cmd_fail(&err);
        rc = ZP_EXIT_FAIL;
        goto out;
    }
    memset(&dopt, 0, sizeof(dopt));
    dopt.cfg = cfg;
    dopt.pc = pc;
    dopt.solver = solver;
    dopt.issuer = o.issuer;
    dopt.provider = o.provider;
    dopt.timeout_ms = o.timeout;
    reps = calloc((size_t)(argc - optind), sizeof(*reps));
    if (reps == NULL) {
        fputs("zoneproof: out of memory\n", stderr);
        rc = ZP_EXIT_FAIL;
        goto out;
    }
    for (int i = optind; i < argc; i++, n++) {
        if (zp_doctor_run(&dopt, argv[i], &reps[n]) == -1) {
            fprintf(stderr,
                    "zoneproof: \"%s\" is not a DNS name (expected example.com or "
                    "*.example.com)\n",
                    argv[i]);
            goto out;
        }
        failed |= zp_doctor_verdict(&reps[n]) == ZP_CHECK_FAIL;
    }
    if (o.json) {
        struct zp_buf js;
        int ok;
        zp_buf_init(&js, 4u << 20);
        ok = zp_doctor_json(reps, n, &js) == 0;
        if (ok)
            puts(zp_buf_str(&js));
        else
            fprintf(stderr, "zoneproof: the report is larger than %zu bytes of JSON\n", js.max);
        zp_buf_free(&js);
        if (!ok) {
            rc = ZP_EXIT_FAIL;
            goto out;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            print_text(&reps[i]);
    }
    rc = failed ? ZP_EXIT_FAIL : ZP_EXIT_OK;
out:
    free(reps);
    zp_solver_free(solver);
    zp_precheck_free(pc);
    zp_config_free(cfg);
    return rc;
}
