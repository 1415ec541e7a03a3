/*
 * main.c — the zoneproof entry point: global library set-up before any
 * thread starts, then dispatch to a subcommand. No logic lives here.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "cmd/cmd.h"
#include "solver/config.h"

#ifndef ZP_VERSION
#define ZP_VERSION "dev"
#endif

static const char usage[] =
    "usage: zoneproof <command> [flags]\n"
    "\n"
    "cert-manager DNS-01 webhook solver: presents TXT records through your DNS provider and\n"
    "acknowledges only once every authoritative nameserver serves them.\n"
    "\n"
    "commands:\n"
    "  serve     serve the webhook API to kube-apiserver over mutual TLS\n"
    "  present   add a TXT value and wait until every authoritative nameserver serves it\n"
    "  cleanup   remove exactly one TXT value\n"
    "  certbot-auth, certbot-cleanup  present and cleanup as certbot's manual hooks\n"
    "  check     ask every authoritative nameserver whether it serves a value\n"
    "  check-config  load and validate the configuration, then exit\n"
    "  doctor    check names before issuing: zone, delegation, CAA, DNSSEC, PSL, credentials\n"
    "  sweep     remove challenge values whose cleanup never ran (--state-dir journal)\n"
    "  persist   set, check or remove a DNS-PERSIST-01 record (_validation-persist.NAME)\n"
    "  version   print the version\n"
    "\n"
    "Run 'zoneproof <command> --help' for a command's flags. Configuration: "
    "docs/configuration.md\n";

const char *zp_cmd_config_path(const char *flag)
{
    const char *env = getenv("ZONEPROOF_CONFIG");

    if (flag != NULL)
        return flag;
    if (env != NULL && *env != '\0')
        return env;
    return ZP_DEFAULT_CONFIG;
}

/* Errors about the file itself name where its path came from: the flag or the variable. */
int zp_cmd_load_config(const char *flag, struct zp_config **cfg, struct zp_err *err)
{
    const char *env = getenv("ZONEPROOF_CONFIG"), *what = "configuration file (pass --config)";

    if (flag != NULL)
        what = "--config";
    else if (env != NULL && *env != '\0')
        what = "ZONEPROOF_CONFIG";
    return zp_config_load_as(zp_cmd_config_path(flag), what, cfg, err);
}

int zp_cmd_load_cli_config(const char *flag, struct zp_config **cfg, struct zp_err *err)
{
    if (zp_cmd_load_config(flag, cfg, err) == -1)
        return -1;
    (*cfg)->cli = 1;
    return 0;
}

void zp_cmd_fail(const struct zp_err *err)
{
    fprintf(stderr, "zoneproof: %s\n", err->msg[0] ? err->msg : "failed");
}

int zp_cmd_log_level(const char *s)
{
    int lvl = zp_log_parse_level(s);

    if (lvl < 0) {
        fprintf(stderr,
                "zoneproof: --log-level \"%s\" is unknown: use debug, info, warn or error\n", s);
        return -1;
    }
    zp_log_set_level((enum zp_loglevel)lvl);
    return 0;
}

/*
 * ZP_TEST_CLOCK=fast is for the integration tests only: sleeps (backoff,
 * Retry-After, status polls) return at once and move the clock forward, so
 * deadlines run out as they would without the tests waiting for them. Read
 * once, before any thread starts. Never set it in a deployment.
 */
static int test_clock(void)
{
    const char *v = getenv("ZP_TEST_CLOCK");
    enum zp_clock_mode m;

    if (v == NULL || *v == '\0')
        return 0;
    if (zp_clock_mode_parse(v, &m) == -1 || m == ZP_CLOCK_MANUAL) {
        fprintf(stderr,
                "zoneproof: ZP_TEST_CLOCK \"%s\" is unknown: use real or fast (tests only)\n", v);
        return -1;
    }
    zp_clock_set_mode(m);
    if (m != ZP_CLOCK_REAL)
        zp_log(ZP_LOG_WARN,
               "test clock: sleeps return at once; never set ZP_TEST_CLOCK outside tests",
               ZP_S("ZP_TEST_CLOCK", v), ZP_END);
    return 0;
}

/*
 * Every command below reads credentials: a core dump would write them to
 * disk, and a dumpable process lets any other process of the same user
 * read its memory (ptrace, /proc/<pid>/mem). Neither, from here on.
 */
static void no_dumps(void)
{
    struct rlimit none = {0, 0};

    if (setrlimit(RLIMIT_CORE, &none) == -1 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
        zp_log(ZP_LOG_WARN, "cannot turn core dumps off", ZP_END);
}

int main(int argc, char **argv)
{
    const char *cmd;
    int rc;

    if (argc < 2) {
        fputs(usage, stderr);
        return ZP_EXIT_USAGE;
    }
    cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return ZP_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("zoneproof %s (%s)\n", ZP_VERSION, curl_version());
        return ZP_EXIT_OK;
    }
    if (test_clock() == -1)
        return ZP_EXIT_USAGE;
    no_dumps();
    /* A peer closing a socket must be an error return, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("zoneproof: cannot initialise libcurl\n", stderr);
        return ZP_EXIT_FAIL;
    }
    if (strcmp(cmd, "serve") == 0)
        rc = zp_cmd_serve(argc - 1, argv + 1);
    else if (strcmp(cmd, "present") == 0 || strcmp(cmd, "cleanup") == 0 ||
             strcmp(cmd, "certbot-auth") == 0 || strcmp(cmd, "certbot-cleanup") == 0)
        rc = zp_cmd_present(argc - 1, argv + 1);
    else if (strcmp(cmd, "check") == 0)
        rc = zp_cmd_check(argc - 1, argv + 1);
    else if (strcmp(cmd, "doctor") == 0)
        rc = zp_cmd_doctor(argc - 1, argv + 1);
    else if (strcmp(cmd, "sweep") == 0)
        rc = zp_cmd_sweep(argc - 1, argv + 1);
    else if (strcmp(cmd, "persist") == 0)
        rc = zp_cmd_persist(argc - 1, argv + 1);
    else if (strcmp(cmd, "check-config") == 0)
        rc = zp_cmd_check_config(argc - 1, argv + 1);
    else {
        fprintf(stderr, "zoneproof: unknown command \"%s\"\n\n%s", cmd, usage);
        rc = ZP_EXIT_USAGE;
    }
    curl_global_cleanup();
    return rc;
}
