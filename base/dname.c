/*
 * dname.c — DNS names in presentation form and host:port strings.
 */
#include <arpa/inet.h>
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

/* The port after the colon: 1-65535 in decimal digits only (strtoul alone takes " 53", "+53"). */
static int port_parse(const char *p, unsigned *port, char *why, size_t whysz)
{
    unsigned long v = 0;
    size_t n = strlen(p);

    if (n == 0 || n > 5 || strspn(p, "0123456789") != n) {
        snprintf(why, whysz, "it has port \"%.16s\", and a port is a number from 1 to 65535", p);
        return -1;
    }
    v = strtoul(p, NULL, 10);
    if (v == 0 || v > 65535) {
        snprintf(why, whysz, "it has port %lu, and a port is a number from 1 to 65535", v);
        return -1;
    }
    *port = (unsigned)v;
    return 0;
}

/* host is an IPv4 address, or a DNS name; an IPv6 address only in brackets (v6 set). */
static int host_check(const char *host, int v6, char *why, size_t whysz)
{
    unsigned char a[16];
    char sub[128];

    if (v6) {
        if (inet_pton(AF_INET6, host, a) == 1)
            return 0;
        snprintf(why, whysz, "it has \"[%.64s]\", and brackets hold only an IPv6 address", host);
        return -1;
    }
    if (inet_pton(AF_INET, host, a) == 1)
        return 0;
    if (strchr(host, ':') != NULL) {
        snprintf(why, whysz,
                 "it has two ':' (an IPv6 address without brackets? write it as "
                 "[2001:db8::1]:53)");
        return -1;
    }
    if (zp_dname_check(host, 0, sub, sizeof(sub)) == -1) {
        snprintf(why, whysz, "its host is neither an IP address nor a host name: \"%.64s\" %s",
                 host, sub);
        return -1;
    }
    return 0;
}

int zp_hostport_parse(const char *s, unsigned default_port, char *host, size_t hostsz,
                      unsigned *port, char *why, size_t whysz)
{
    const char *hend, *colon = NULL;
    char scratch[8];
    unsigned p = default_port;
    size_t hl;
    int v6 = s != NULL && s[0] == '[';

    if (why == NULL || whysz == 0) {
        why = scratch; /* the caller wants only the verdict */
        whysz = sizeof(scratch);
    }
    if (s == NULL || *s == '\0') {
        snprintf(why, whysz, "it is empty");
        return -1;
    }
    for (const char *c = s; *c; c++)
        if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c)) {
            snprintf(why, whysz,
                     "it has a space or control character (write host:port with no "
                     "spaces)");
            return -1;
        }
    if (v6) {
        if ((hend = strchr(s, ']')) == NULL) {
            snprintf(why, whysz, "it has '[' without a closing ']'");
            return -1;
        }
        if (hend[1] != '\0' && hend[1] != ':') {
            snprintf(why, whysz, "it has \"%.16s\" after ']' where :port belongs", hend + 1);
            return -1;
        }
        colon = hend[1] == ':' ? hend + 1 : NULL;
        s++;
    } else {
        colon = strchr(s, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL)
            colon = NULL; /* two colons: host_check reports the bare IPv6 address */
        hend = colon ? colon : s + strlen(s);
    }
    if (colon != NULL && port_parse(colon + 1, &p, why, whysz) == -1)
        return -1;
    hl = (size_t)(hend - s);
    if (hl == 0) {
        snprintf(why, whysz, "it has no host before the ':'");
        return -1;
    }
    if (hl + 1 > hostsz) {
        snprintf(why, whysz, "its host is longer than %zu characters", hostsz - 1);
        return -1;
    }
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (host_check(host, v6, why, whysz) == -1)
        return -1;
    *port = p;
    return 0;
}

int zp_hostport_split(const char *s, unsigned default_port, char *host, size_t hostsz,
                      unsigned *port)
{
    return zp_hostport_parse(s, default_port, host, hostsz, port, NULL, 0);
}
