/*
 * route53_xml.c — Route 53's XML: reading its replies (record sets, errors,
 * names with \NNN escapes) and writing change batches. Pure functions,
 * unit-tested on their own (tests/unit/providers/test_route53.c).
 *
 * Replies are small, fixed-shape documents in which no element nests in
 * one of its own name: a few lines of scanning read them, without a
 * general XML parser.
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "providers/common.h"
#include "providers/route53_int.h"

#define R53_XMLNS "https://route53.amazonaws.com/doc/2013-04-01/"

int zp_r53_xml_elem(const char *p, const char *end, const char *name, const char **cs,
                    const char **ce, const char **next)
{
    size_t n = strlen(name);
    char close[72];

    if (n + 4 > sizeof(close))
        return 0;
    snprintf(close, sizeof(close), "</%s>", name);
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p)), *gt, *c;
        if (lt == NULL || (size_t)(end - lt) < n + 2)
            return 0;
        if (memcmp(lt + 1, name, n) == 0 && lt[n + 1] != '\0' &&
            strchr(" \t\r\n/>", lt[n + 1]) != NULL) {
            gt = memchr(lt, '>', (size_t)(end - lt));
            if (gt == NULL)
                return 0;
            if (gt[-1] == '/') { /* <Name/> */
                *cs = *ce = *next = gt + 1;
                return 1;
            }
            c = memmem(gt + 1, (size_t)(end - gt - 1), close, n + 3);
            if (c == NULL)
                return 0;
            *cs = gt + 1;
            *ce = c;
            *next = c + n + 3;
            return 1;
        }
        p = lt + 1;
    }
    return 0;
}

/* Appends the UTF-8 form of code point u. */
static int utf8_put(unsigned long u, struct zp_buf *out)
{
    char b[4];
    size_t n;

    if (u < 0x80) {
        b[0] = (char)u;
        n = 1;
    } else if (u < 0x800) {
        b[0] = (char)(0xC0 | (u >> 6));
        b[1] = (char)(0x80 | (u & 0x3F));
        n = 2;
    } else if (u < 0x10000) {
        b[0] = (char)(0xE0 | (u >> 12));
        b[1] = (char)(0x80 | ((u >> 6) & 0x3F));
        b[2] = (char)(0x80 | (u & 0x3F));
        n = 3;
    } else if (u < 0x110000) {
        b[0] = (char)(0xF0 | (u >> 18));
        b[1] = (char)(0x80 | ((u >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((u >> 6) & 0x3F));
        b[3] = (char)(0x80 | (u & 0x3F));
        n = 4;
    } else {
        return -1;
    }
    return zp_buf_append(out, b, n);
}

int zp_r53_xml_text(const char *cs, const char *ce, struct zp_buf *out)
{
    static const struct {
        const char *ent;
        char ch;
    } ents[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};

    zp_buf_reset(out);
    for (const char *p = cs; p < ce;) {
        size_t i, left = (size_t)(ce - p);
        if (*p != '&') {
            if (zp_buf_append(out, p++, 1) == -1)
                return -1;
            continue;
        }
        for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
            size_t el = strlen(ents[i].ent);
            if (left >= el && memcmp(p, ents[i].ent, el) == 0) {
                if (zp_buf_append(out, &ents[i].ch, 1) == -1)
                    return -1;
                p += el;
                break;
            }
        }
        if (i < sizeof(ents) / sizeof(ents[0]))
            continue;
        if (left > 3 && p[1] == '#') {
            char num[16], *e;
            const char *semi = memchr(p, ';', left < sizeof(num) ? left : sizeof(num));
            int hex = p[2] == 'x' || p[2] == 'X';
            if (semi != NULL && semi - p - 2 - hex > 0) {
                size_t nl = (size_t)(semi - p - 2 - hex);
                memcpy(num, p + 2 + hex, nl);
                num[nl] = '\0';
                unsigned long u = strtoul(num, &e, hex ? 16 : 10);
                if (*e == '\0' && u > 0 && utf8_put(u, out) == 0) {
                    p = semi + 1;
                    continue;
                }
            }
        }
        return -1; /* not well-formed XML */
    }
    return 0;
}

/* The decoded text of the first <name> in [p, end) into out; 0 when absent or malformed. */
int zp_r53_xml_get(const char *p, const char *end, const char *name, struct zp_buf *out)
{
    const char *cs, *ce, *next;

    return zp_r53_xml_elem(p, end, name, &cs, &ce, &next) && zp_r53_xml_text(cs, ce, out) == 0;
}

static int x_escape(const char *s, struct zp_buf *out)
{
    for (; *s; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        if (e ? zp_buf_puts(out, e) == -1 : zp_buf_append(out, s, 1) == -1)
            return -1;
    }
    return 0;
}

int zp_r53_name_eq(const char *got, const char *want)
{
    const char *g = got, *w = want;

    while (*g && *w) {
        int c = (unsigned char)*g++;
        /* Route 53 returns characters outside [a-z0-9_-] as \NNN (octal): '*' is \052. */
        if (c == '\\' && g[0] >= '0' && g[0] <= '3' && g[1] >= '0' && g[1] <= '7' && g[2] >= '0' &&
            g[2] <= '7') {
            c = (g[0] - '0') * 64 + (g[1] - '0') * 8 + (g[2] - '0');
            g += 3;
        }
        if (tolower(c) != tolower((unsigned char)*w))
            return 0;
        w++;
    }
    /* Either side may omit the root dot. */
    return (*g == '\0' || strcmp(g, ".") == 0) && (*w == '\0' || strcmp(w, ".") == 0);
}

int zp_r53_rrset_parse(const char *body, size_t len, const char *fqdn, struct zp_r53_rrset *set,
                       struct zp_buf *why)
{
    const char *end = body + len, *cs, *ce, *next, *p;
    struct zp_buf t;
    int rc = -1;

    memset(set, 0, sizeof(*set));
    zp_buf_init(&t, 4096);
    /* A start-from cursor, not a filter: the first set may be another name or type. */
    if (!zp_r53_xml_elem(body, end, "ResourceRecordSet", &cs, &ce, &next)) {
        rc = 0;
        goto out;
    }
    if (!zp_r53_xml_get(cs, ce, "Name", &t) || !zp_r53_name_eq(zp_buf_str(&t), fqdn) ||
        !zp_r53_xml_get(cs, ce, "Type", &t) || strcmp(zp_buf_str(&t), "TXT") != 0) {
        rc = 0;
        goto out;
    }
    if (zp_r53_xml_get(cs, ce, "SetIdentifier", &t)) {
        (void)zp_buf_printf(why, "a record set with a routing policy (SetIdentifier \"%.64s\")",
                            zp_buf_str(&t));
        goto out;
    }
    if (!zp_r53_xml_get(cs, ce, "TTL", &t)) {
        (void)zp_buf_puts(why, "a TXT record set without a TTL (an alias record)");
        goto out;
    }
    set->ttl = strtoul(zp_buf_str(&t), NULL, 10);
    set->found = 1;
    for (p = cs; zp_r53_xml_elem(p, ce, "Value", &cs, &next, &p);) {
        if (zp_r53_xml_text(cs, next, &t) == -1) {
            (void)zp_buf_puts(why, "a value that is not well-formed XML");
            goto out;
        }
        set->v = zp_xrealloc(set->v, (set->n + 1) * sizeof(*set->v));
        set->v[set->n++] = zp_xstrdup(zp_buf_str(&t));
    }
    rc = 0;
out:
    zp_buf_free(&t);
    return rc;
}

void zp_r53_rrset_free(struct zp_r53_rrset *set)
{
    for (size_t i = 0; i < set->n; i++)
        free(set->v[i]);
    free(set->v);
    memset(set, 0, sizeof(*set));
}

/* Whether two reads returned the same set: then a refused batch was not a race. */
int zp_r53_rrset_same(const struct zp_r53_rrset *a, const struct zp_r53_rrset *b)
{
    if (a->found != b->found || a->ttl != b->ttl || a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return 0;
    return 1;
}

static int rrset_xml(struct zp_buf *b, const char *action, const char *fqdn, unsigned long ttl,
                     char *const *v, size_t n)
{
    if (zp_buf_printf(b,
                      "<Change><Action>%s</Action><ResourceRecordSet><Name>%s</Name>"
                      "<Type>TXT</Type><TTL>%lu</TTL><ResourceRecords>",
                      action, fqdn, ttl) == -1)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (zp_buf_puts(b, "<ResourceRecord><Value>") == -1 || x_escape(v[i], b) == -1 ||
            zp_buf_puts(b, "</Value></ResourceRecord>") == -1)
            return -1;
    return zp_buf_puts(b, "</ResourceRecords></ResourceRecordSet></Change>");
}

int zp_r53_batch(const char *fqdn, const struct zp_r53_rrset *old, char *const *v, size_t n,
                 unsigned long ttl, struct zp_buf *out)
{
    if (zp_buf_puts(out, "<ChangeResourceRecordSetsRequest xmlns=\"" R53_XMLNS "\"><ChangeBatch>"
                         "<Comment>zoneproof dns-01 challenge</Comment><Changes>") == -1)
        return -1;
    /* Deleting the set exactly as read is what makes a concurrent change fail the batch. */
    if (old->found && rrset_xml(out, "DELETE", fqdn, old->ttl, old->v, old->n) == -1)
        return -1;
    if (n > 0 && rrset_xml(out, "CREATE", fqdn, ttl, v, n) == -1)
        return -1;
    return zp_buf_puts(out, "</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>");
}

int zp_r53_error_parse(const char *body, size_t len, char *code, size_t codesz, char *msg,
                       size_t msgsz)
{
    const char *end = body + len, *cs, *ce, *next;
    struct zp_buf t;
    int found = 0;

    zp_buf_init(&t, 8192);
    code[0] = msg[0] = '\0';
    /* InvalidChangeBatch has a root of its own; everything else is an ErrorResponse. */
    if (zp_r53_xml_elem(body, end, "InvalidChangeBatch", &cs, &ce, &next)) {
        snprintf(code, codesz, "InvalidChangeBatch");
        if (zp_r53_xml_get(cs, ce, "Message", &t))
            snprintf(msg, msgsz, "%s", zp_buf_str(&t));
        found = 1;
    } else if (zp_r53_xml_elem(body, end, "Error", &cs, &ce, &next) &&
               zp_r53_xml_get(cs, ce, "Code", &t)) {
        snprintf(code, codesz, "%s", zp_buf_str(&t));
        if (zp_r53_xml_get(cs, ce, "Message", &t))
            snprintf(msg, msgsz, "%s", zp_buf_str(&t));
        found = 1;
    }
    /* Shown to users: one line, printable. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    zp_buf_free(&t);
    return found;
}

long zp_r53_rrset_find(const struct zp_r53_rrset *set, const char *value)
{
    for (size_t i = 0; set->found && i < set->n; i++)
        if (zp_txt_equal(set->v[i], value))
            return (long)i;
    return -1;
}

/* The values the set must hold after the change: borrowed from set, or quoted. */
size_t zp_r53_rrset_next(const struct zp_r53_rrset *set, int del, const char *value,
                         const char *quoted, char **v)
{
    size_t n = 0;

    for (size_t i = 0; set->found && i < set->n; i++)
        if (!del || !zp_txt_equal(set->v[i], value))
            v[n++] = set->v[i];
    if (!del)
        v[n++] = (char *)quoted;
    return n;
}
