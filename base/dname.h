/*
 * dname.h — DNS names as text: validation, label-wise suffix matching,
 * zone-relative names, and "host:port" addresses.
 *
 * All comparisons are label-wise and case-insensitive, so badexample.com is
 * not inside example.com. A trailing dot is optional on input unless a
 * function says otherwise.
 */
#ifndef ZP_BASE_DNAME_H
#define ZP_BASE_DNAME_H

#include <stddef.h>

#define ZP_DNAME_MAX 256 /* 253 characters, a trailing dot, NUL, and slack */

/*
 * Checks a name in presentation form: labels of 1–63 letters, digits,
 * hyphens or underscores, at most 253 characters. With need_dot the name
 * must end in a dot. On failure writes why (a phrase) and returns -1.
 */
int zp_dname_check(const char *name, int need_dot, char *why, size_t whysz);
/* Lower-case copy that ends in exactly one dot; -1 if it does not fit. */
int zp_dname_canon(const char *name, char *out, size_t outsz);
/* Number of labels; the root is 0. */
int zp_dname_labels(const char *name);
/* Whether name equals zone or lies below it, label-wise. */
int zp_dname_in_zone(const char *name, const char *zone);
/* name relative to zone without dots ("_acme-challenge"), or "@" at the apex. */
int zp_dname_relative(const char *name, const char *zone, char *out, size_t outsz);
/*
 * The one parser of "host", "host:port", "IPv4:port", "[IPv6]" and
 * "[IPv6]:port" (no port: default_port). Strict, so a typo fails at
 * configuration time rather than at the first challenge: no white space, a
 * port of 1-65535 in digits, an IPv6 address only in brackets, the host an
 * IP address or a DNS name. host receives it without brackets. -1 with why
 * ("it has port 0, ...", to follow "is not host:port: ") when s is none of these.
 */
int zp_hostport_parse(const char *s, unsigned default_port, char *host, size_t hostsz,
                      unsigned *port, char *why, size_t whysz);
/* zp_hostport_parse without the reason. */
int zp_hostport_split(const char *s, unsigned default_port, char *host, size_t hostsz,
                      unsigned *port);

#endif
