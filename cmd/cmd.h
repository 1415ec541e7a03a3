/*
 * cmd.h — what the zoneproof subcommands share: exit codes, loading the
 * configuration named by --config, and printing the one sentence of an error.
 */
#ifndef ZP_CMD_CMD_H
#define ZP_CMD_CMD_H

struct zp_config;
struct zp_err;

#define ZP_EXIT_OK 0
#define ZP_EXIT_FAIL 1  /* the challenge or check failed; the sentence says why */
#define ZP_EXIT_USAGE 2 /* bad flags or configuration */

#define ZP_DEFAULT_CONFIG "/etc/zoneproof/config.yaml"

int zp_cmd_serve(int argc, char **argv);
int zp_cmd_present(int argc, char **argv); /* present and cleanup */
int zp_cmd_check(int argc, char **argv);
int zp_cmd_check_config(int argc, char **argv);
int zp_cmd_doctor(int argc, char **argv);
int zp_cmd_sweep(int argc, char **argv);
int zp_cmd_persist(int argc, char **argv); /* persist set|check|remove: DNS-PERSIST-01 */

/* --config, else $ZONEPROOF_CONFIG, else the default path. */
const char *zp_cmd_config_path(const char *flag);
int zp_cmd_load_config(const char *flag, struct zp_config **cfg, struct zp_err *err);
/* "zoneproof: <sentence>" on stderr. */
void zp_cmd_fail(const struct zp_err *err);
/* Applies --log-level; returns -1 (after a message) when the level is unknown. */
int zp_cmd_log_level(const char *s);

#endif
