/*
 * cmd.h — what the zoneproof subcommands share: exit codes, loading the
 * configuration named by --config, and printing the one sentence of an error.
 */
#ifndef ZP_CMD_CMD_H
#define ZP_CMD_CMD_H

struct zp_challenge;
struct zp_config;
struct zp_err;
struct zp_instance;
struct zp_precheck;

#define ZP_EXIT_OK 0
#define ZP_EXIT_FAIL 1  /* the challenge or check failed; the sentence says why */
#define ZP_EXIT_USAGE 2 /* bad flags or configuration */

#define ZP_DEFAULT_CONFIG "/etc/zoneproof/config.yaml"

int zp_cmd_serve(int argc, char **argv);
/* present and cleanup, by flags or a hook's protocol; certbot-auth and certbot-cleanup */
int zp_cmd_present(int argc, char **argv);
int zp_cmd_check(int argc, char **argv);
int zp_cmd_check_config(int argc, char **argv);
int zp_cmd_doctor(int argc, char **argv);
int zp_cmd_sweep(int argc, char **argv);
int zp_cmd_persist(int argc, char **argv); /* persist set|check|remove: DNS-PERSIST-01 */

/* --config, else $ZONEPROOF_CONFIG, else the default path. */
const char *zp_cmd_config_path(const char *flag);
int zp_cmd_load_config(const char *flag, struct zp_config **cfg, struct zp_err *err);
/* zp_cmd_load_config for a command run by hand or by a hook: sentences name flags, not Issuers. */
int zp_cmd_load_cli_config(const char *flag, struct zp_config **cfg, struct zp_err *err);
/* "zoneproof: <sentence>" on stderr. */
void zp_cmd_fail(const struct zp_err *err);
/* Applies --log-level; returns -1 (after a message) when the level is unknown. */
int zp_cmd_log_level(const char *s);

/*
 * Hook protocols (cmd/hook.c), for present|cleanup and certbot-* once the
 * flags are read: the name and the value from args (lego's exec provider:
 * NAME VALUE) or from certbot's environment. Returns 1 when they were given
 * so, 0 when not (the flags must give them), -1 after a usage message.
 */
int zp_cmd_hook_args(const char *cmd, int n, char **args, const char **fqdn, const char **key);
/* The --help text for cmd: certbot-*'s own, else help. */
const char *zp_cmd_hook_help(const char *cmd, const char *help);

#endif
