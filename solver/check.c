/*
 * check.c — the finding type the DNS checks share (check.h): setting one,
 * the verdict's name, and the dig command that shows a finding.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/dname.h"
#include "base/mem.h"
#include "solver/check.h"

void zp_check_set(struct zp_check *c, const char *id, enum zp_verdict v, const char *fix,
                  const char *servers, const char *dig, const char *fmt, ...)
{
    va_list ap;

    c->id = id;
    c->verdict = v;
    va_start(ap, fmt);
    vsnprintf(c->cause, sizeof(c->cause), fmt, ap);
    va_end(ap);
    zp_strlcpy(c->fix, fix ? fix : "", sizeof(c->fix));
    zp_strlcpy(c->servers, servers ? servers : "", sizeof(c->servers));
    zp_strlcpy(c->dig, dig ? dig : "", sizeof(c->dig));
}

const char *zp_verdict_name(enum zp_verdict v)
{
    switch (v) {
    case ZP_CHECK_OK:
        return "ok";
    case ZP_CHECK_WARN:
        return "warn";
    case ZP_CHECK_FAIL:
        return "fail";
    }
    return "fail";
}

void zp_check_dig(char *out, size_t outsz, const char *addr, int norec, const char *flags,
                  const char *name, const char *type)
{
    char host[ZP_DNAME_MAX];
    unsigned port = 53;

    if (addr == NULL || addr[0] == '\0' ||
        zp_hostport_split(addr, 53, host, sizeof(host), &port) == -1) {
        snprintf(out, outsz, "dig %s%s%s%s %s", norec ? "+norec " : "", flags ? flags : "",
                 flags && flags[0] ? " " : "", name, type);
        return;
    }
    if (port == 53)
        snprintf(out, outsz, "dig %s%s%s@%s %s %s", norec ? "+norec " : "", flags ? flags : "",
                 flags && flags[0] ? " " : "", host, name, type);
    else
        snprintf(out, outsz, "dig %s%s%s@%s -p %u %s %s", norec ? "+norec " : "",
                 flags ? flags : "", flags && flags[0] ? " " : "", host, port, name, type);
}
