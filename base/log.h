/*
 * log.h — structured logs: one JSON object per line on stderr.
 *
 * Fields are passed as typed key/value pairs ending with ZP_END:
 *
 *     zp_log(ZP_LOG_INFO, "challenge done", ZP_S("action", "Present"),
 *            ZP_S("fqdn", fqdn), ZP_I("elapsed_ms", ms), ZP_END);
 *
 * Never pass a secret: the logger does not know one. A body from upstream
 * goes through zp_redact (base/redact.h) first.
 * Every line is valid JSON: strings are escaped, bytes that are not UTF-8
 * become U+FFFD, and a line past 8 KB keeps the fields that fit (a string
 * cut short, whole fields left out) and adds "truncated":true.
 * Thread-safe: each line is written with a single write(2).
 */
#ifndef ZP_BASE_LOG_H
#define ZP_BASE_LOG_H

/*
 * ZP_LOG_AUDIT: a line of the audit trail, written at any log level (unless
 * zp_log_set_audit(0)) as level "info" with "audit":true after "msg".
 */
enum zp_loglevel { ZP_LOG_DEBUG, ZP_LOG_INFO, ZP_LOG_WARN, ZP_LOG_ERROR, ZP_LOG_AUDIT };

enum zp_logtype { ZP_LOGT_END = 0, ZP_LOGT_STR, ZP_LOGT_INT, ZP_LOGT_BOOL };

#define ZP_S(k, v) ZP_LOGT_STR, (const char *)(k), (const char *)(v)
#define ZP_I(k, v) ZP_LOGT_INT, (const char *)(k), (long long)(v)
#define ZP_B(k, v) ZP_LOGT_BOOL, (const char *)(k), (int)(v)
#define ZP_END ZP_LOGT_END

void zp_log(enum zp_loglevel level, const char *msg, ...);
void zp_log_set_level(enum zp_loglevel level);
/* "debug", "info", "warn", "error"; -1 if unknown. */
int zp_log_parse_level(const char *s);
/* Whether audit lines are written (default 1). */
void zp_log_set_audit(int on);
/* Sends lines to fd instead of stderr (tests, benchmarks). */
void zp_log_set_fd(int fd);

#endif
