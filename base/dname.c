/*
 * dname.c — DNS names in presentation form and host:port strings.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/dname.h"

int zp_dname_check(const char *name, int need_dot, char *why, size_t whysz)
{
    size_t len = strlen(name), label = 0;

    if (len == 0) {
        snprintf(why, whysz, "is empty");
        return -1;
    }
    if (need_dot && name[len - 1] != '.') {
        snprintf(why, whysz, "must end with a dot (\"%s.\")", name);
        return -1;
    }
    if (strcmp(name, ".") == 0) {
        snprintf(why, whysz, "is the root; name a zone");
        return -1;
    }
    if (len - (name[len - 1] == '.') > 253) {
        snprintf(why, whysz, "is longer than 253 characters");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '.') {
            if (label == 0) {
                snprintf(why, whysz, "has an empty label");
                return -1;
            }
            label = 0;
            continue;
        }
        if (!isalnum(c) && c != '-' && c != '_') {
            snprintf(why, whysz, "has the character '%s%c' that is not allowed in a DNS name",
                     isprint(c) ? "" : "\\", isprint(c) ? c : '?');
            return -1;
        }
        if (++label > 63) {
            snprintf(why, whysz, "has a label longer than 63 characters");
            return -1;
        }
    }
    return 0;
}

int zp_dname_canon(const char *name, char *out, size_t outsz)
{
    size_t len = strlen(name);

    while (len > 0 && name[len - 1] == '.')
        len--;
    if (len + 2 > outsz)
        return -1;
    for (size_t i = 0; i < len; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    out[len] = '.';
    out[len + 1] = '\0';
    return 0;
}

int zp_dname_labels(const char *name)
{
    int n = 0;
    size_t len = strlen(name);

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '.')
            n++;
    return n + 1;
}

/* Length without trailing dots. */
static size_t bare_len(const char *s)
{
    size_t len = strlen(s);

    while (len > 0 && s[len - 1] == '.')
        len--;
    return len;
}

int zp_dname_in_zone(const char *name, const char *zone)
{
    size_t nl = bare_len(name), zl = bare_len(zone);

    if (zl == 0)
        return 1; /* everything is below the root */
    if (zl > nl || strncasecmp(name + nl - zl, zone, zl) != 0)
        return 0;
    return nl == zl || name[nl - zl - 1] == '.';
}

int zp_dname_relative(const char *name, const char *zone, char *out, size_t outsz)
{
    size_t nl = bare_len(name), zl = bare_len(zone);

    if (!zp_dname_in_zone(name, zone))
        return -1;
    if (nl == zl) {
        if (outsz < 2)
            return -1;
        memcpy(out, "@", 2);
        return 0;
    }
    nl -= zl + (zl ? 1 : 0);
    if (nl + 1 > outsz)
        return -1;
    memcpy(out, name, nl);
    out[nl] = '\0';
    return 0;
}

int zp_hostport_split(const char *s, unsigned default_port, char *host, size_t hostsz,
                      unsigned *port)
{
    const char *colon, *hend;
    char *end;
    unsigned long p = default_port;

    if (s == NULL || *s == '\0')
        return -1;
    if (s[0] == '[') {
        hend = strchr(s, ']');
        if (hend == NULL)
            return -1;
        s++;
        colon = hend[1] == ':' ? hend + 1 : NULL;
        if (hend[1] != '\0' && colon == NULL)
            return -1;
    } else {
        colon = strrchr(s, ':');
        if (colon && strchr(s, ':') != colon)
            colon = NULL; /* bare IPv6 address: no port */
        hend = colon ? colon : s + strlen(s);
    }
    if (colon) {
        p = strtoul(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end != '\0' || p == 0 || p > 65535)
            return -1;
    }
    if ((size_t)(hend - s) + 1 > hostsz || hend == s)
        return -1;
    memcpy(host, s, (size_t)(hend - s));
    host[hend - s] = '\0';
    *port = (unsigned)p;
    return 0;
}
