/*
 * err.c — the error type: set once, wrap with context, name the kind.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

int zp_err_set(struct zp_err *e, enum zp_errkind kind, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL || e->kind != ZP_EOK)
        return -1;
    e->kind = kind == ZP_EOK ? ZP_EINTERNAL : kind;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

void zp_err_wrap(struct zp_err *e, const char *fmt, ...)
{
    char prefix[512];
    size_t pl, ol;
    va_list ap;

    if (e == NULL || e->kind == ZP_EOK)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    /* "prefix: old", cutting the end of old when the whole would not fit. */
    pl = strlen(prefix);
    ol = strlen(e->msg);
    if (pl + 2 + ol > sizeof(e->msg) - 1)
        ol = sizeof(e->msg) - 1 - pl - 2;
    memmove(e->msg + pl + 2, e->msg, ol);
    memcpy(e->msg, prefix, pl);
    e->msg[pl] = ':';
    e->msg[pl + 1] = ' ';
    e->msg[pl + 2 + ol] = '\0';
}

void zp_err_clear(struct zp_err *e)
{
    e->kind = ZP_EOK;
    e->upstream = 0;
    e->msg[0] = '\0';
}

int zp_err_isset(const struct zp_err *e)
{
    return e->kind != ZP_EOK;
}

const char *zp_errkind_name(enum zp_errkind kind)
{
    switch (kind) {
    case ZP_EOK:
        return "OK";
    case ZP_EINVAL:
        return "BadRequest";
    case ZP_ECONFIG:
        return "BadConfig";
    case ZP_EAUTH:
        return "Unauthorized";
    case ZP_EPERM:
        return "Forbidden";
    case ZP_ENOTFOUND:
        return "NotFound";
    case ZP_ETRANSIENT:
        return "Unavailable";
    case ZP_ETIMEOUT:
        return "Timeout";
    case ZP_ERATELIMIT:
        return "RateLimited";
    case ZP_EPROPAGATION:
        return "NotPropagated";
    case ZP_EINTERNAL:
        return "InternalError";
    }
    return "InternalError";
}

int zp_errkind_retryable(enum zp_errkind kind)
{
    return kind == ZP_ETRANSIENT || kind == ZP_ETIMEOUT || kind == ZP_ERATELIMIT ||
           kind == ZP_EPROPAGATION;
}
