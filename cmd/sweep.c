/*
 * sweep.c — `zoneproof sweep`: one pass of the sweeper (solver/sweep.h) by
 * hand, over a --state-dir journal (the CLI's) or, in a cluster, serve's
 * journal in ConfigMaps with the Challenges as oracle, printing what it
 * found and did. Exits 0 when every orphan was removed (or none was
 * found), 1 when a removal failed, 2 for usage.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "cmd/cmd.h"
#include "k8s/challenges.h"
#include "k8s/kclient.h"
#include "k8s/kjournal.h"
#include "solver/config.h"
#include "solver/journal.h"
#include "solver/sweep.h"

static const char sweep_help[] =
    "usage: zoneproof sweep (--state-dir DIR | --kubeconfig FILE | in a pod) [flags]\n"
    "\n"
    "Removes every challenge value recorded in the journal whose cleanup never ran (the hook or\n"
    "the pod that wrote it was killed), exactly as cleanup would: only that value, through the\n"
    "provider instance that wrote it. In a cluster (serve's journal in ConfigMaps) an entry is\n"
    "an orphan once no cert-manager Challenge carries its value; outside one, zoneproof cannot\n"
    "ask, so an entry is an orphan once it is older than --older-than.\n"
    "\n"
    "  --config FILE      configuration (default $ZONEPROOF_CONFIG or " ZP_DEFAULT_CONFIG ")\n"
    "  --state-dir DIR    the journal written by present/cleanup --state-dir\n"
    "  --kubeconfig FILE  the cluster whose journal to sweep (default: the pod's service account)\n"
    "  --older-than DUR   age at which an entry is an orphan (default: cleanup.orphanAfter,\n"
    "                     24h; 0 for all)\n"
    "  --dry-run          list the orphans, change nothing\n"
    "  --log-level LEVEL  debug, info (default) , warn or error; logs go to stderr\n";

struct sweep_opts {
    const char *config, *state_dir, *kubeconfig;
    uint64_t older_than_ms;
    int dry_run;
};

/* Returns -1 on bad usage (reported), 1 for --help, 0 otherwise. */
static int parse(int argc, char **argv, struct sweep_opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"state-dir", required_argument, NULL, 's'},
        {"kubeconfig", required_argument, NULL, 'k'},
        {"older-than", required_argument, NULL, 'o'},
        {"dry-run", no_argument, NULL, 'n'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    o->older_than_ms = UINT64_MAX; /* unset: the configuration's cleanup.orphanAfter */
    zp_log_set_level(ZP_LOG_INFO);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 's':
            o->state_dir = optarg;
            break;
        case 'k':
            o->kubeconfig = optarg;
            break;
        case 'o':
            if (strcmp(optarg, "0") != 0 && zp_duration_parse(optarg, &o->older_than_ms) == -1) {
                fprintf(stderr, "zoneproof: --older-than \"%s\" is not a duration (24h, 90m)\n",
                        optarg);
                return -1;
            }
            if (strcmp(optarg, "0") == 0)
                o->older_than_ms = 0;
            break;
        case 'n':
            o->dry_run = 1;
            break;
        case 'l':
            if (zp_cmd_log_level(optarg) == -1)
                return -1;
            break;
        case 'h':
            fputs(sweep_help, stdout);
            return 1;
        default:
            fputs(sweep_help, stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "zoneproof: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* --state-dir's journal, or the cluster's (with the Challenges to ask); neither: usage. */
static int open_journal(const struct sweep_opts *o, const struct zp_config *cfg,
                        struct zp_kclient **k, struct zp_journal **j, struct zp_challenges **ch,
                        struct zp_err *err)
{
    if (o->state_dir != NULL)
        return zp_journal_dir_open(o->state_dir, j, err);
    if (zp_kclient_new(o->kubeconfig, k, err) == -1)
        return -1;
    if (*k == NULL)
        return zp_err_set(err, ZP_EINVAL,
                          "no journal to sweep: give --state-dir (the CLI's journal), or run in "
                          "a cluster or with --kubeconfig (serve's journal)");
    if (zp_kjournal_open(*k, j, err) == -1)
        return -1;
    *ch = zp_challenges_new(*k, cfg->cluster_ns);
    return 0;
}

int zp_cmd_sweep(int argc, char **argv)
{
    struct sweep_opts o;
    struct zp_config *cfg = NULL;
    struct zp_journal *journal = NULL;
    struct zp_kclient *k = NULL;
    struct zp_challenges *ch = NULL;
    struct zp_sweep_opts so = {0};
    struct zp_sweep_result res;
    struct zp_err err = {0};
    int rc = ZP_EXIT_USAGE, p;

    if ((p = parse(argc, argv, &o)) != 0)
        return p == 1 ? ZP_EXIT_OK : ZP_EXIT_USAGE;
    if (zp_cmd_load_config(o.config, &cfg, &err) == -1 ||
        open_journal(&o, cfg, &k, &journal, &ch, &err) == -1) {
        zp_cmd_fail(&err);
        goto out;
    }
    if (ch != NULL)
        zp_challenges_sweep_opts(ch, k, &so);
    so.older_than_s =
        (o.older_than_ms == UINT64_MAX ? cfg->orphan_after_ms : o.older_than_ms) / 1000;
    so.dry_run = o.dry_run;
    if (zp_sweep_run(cfg, journal, &so, &res, &err) == -1) {
        zp_cmd_fail(&err);
        rc = ZP_EXIT_FAIL;
        goto out;
    }
    printf("%zu journal entries, %zu orphans, %zu removed%s, %zu failed\n", res.entries,
           res.orphans, res.removed, o.dry_run ? " (dry run)" : "", res.failed);
    rc = res.failed ? ZP_EXIT_FAIL : ZP_EXIT_OK;
out:
    zp_journal_free(journal);
    zp_challenges_free(ch);
    zp_kclient_free(k);
    zp_config_free(cfg);
    return rc;
}
