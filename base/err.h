/*
 * err.h — the one error type of zoneproof: a kind plus one stable sentence.
 *
 * The innermost failure writes the sentence; outer layers may prefix
 * context with zp_err_wrap(). The sentence is shown to users (cert-manager
 * copies it into Challenge.status.reason), so it carries no secrets, no
 * timestamps, no elapsed times and no upstream request ids: cert-manager
 * re-reconciles whenever the text changes. Raw upstream detail goes to the
 * log, never here.
 */
#ifndef ZP_BASE_ERR_H
#define ZP_BASE_ERR_H

#include <stddef.h>

enum zp_errkind {
    ZP_EOK = 0,
    ZP_EINVAL,       /* the caller's input is wrong: fix the request or config */
    ZP_ECONFIG,      /* the configuration file is wrong */
    ZP_EAUTH,        /* credentials rejected */
    ZP_EPERM,        /* credentials accepted, permission missing */
    ZP_ENOTFOUND,    /* zone, record or object does not exist */
    ZP_ETRANSIENT,   /* try again: upstream 5xx, network error */
    ZP_ETIMEOUT,     /* a deadline ran out */
    ZP_ERATELIMIT,   /* upstream asked us to slow down */
    ZP_EPROPAGATION, /* written, but not yet served by every nameserver */
    ZP_EINTERNAL,    /* a bug or resource exhaustion on our side */
};

#define ZP_ERR_MSG_MAX 3072

struct zp_err {
    enum zp_errkind kind;
    int upstream;             /* HTTP status or DNS rcode, 0 if none */
    char msg[ZP_ERR_MSG_MAX]; /* the sentence; "" while kind is ZP_EOK */
};

/* Sets the error unless one is already set (the innermost cause wins).
 * Always returns -1 so callers can write `return zp_err_set(...)`. */
int zp_err_set(struct zp_err *e, enum zp_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes "context: " to an error that is set; a no-op otherwise. */
void zp_err_wrap(struct zp_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void zp_err_clear(struct zp_err *e);
int zp_err_isset(const struct zp_err *e);

/* A short CamelCase name for the kind, used as Status.reason and in logs. */
const char *zp_errkind_name(enum zp_errkind kind);

/* Whether a retry of the same call may succeed without anyone changing anything. */
int zp_errkind_retryable(enum zp_errkind kind);

#endif
