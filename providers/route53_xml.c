/*
 * route53_xml.c — Route 53's XML: reading its replies (record sets, errors,
 * names with \NNN escapes) and writing change batches. AWS STS replies are
 * read with the same limits (awssts.c). Pure functions, unit-tested on their
 * own (tests/unit/providers/test_route53.c).
 *
 * Replies are read by xml.h (expat): well-formedness, entities, CDATA and
 * namespaces are its job, and elements are matched by local name. What a
 * reply controls is bounded here: no DTD, a cap on each element's text, on
 * nesting and on the number of elements.
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "providers/common.h"
#include "providers/route53_int.h"

#define R53_XMLNS "https://route53.amazonaws.com/doc/2013-04-01/"
#define R53_DEPTH_MAX 32
#define R53_ELEMS_MAX 8192 /* a full page of record sets is a few hundred */
#define R53_ERROR_TEXT_MAX 8192

/* ---- reading: xml.h with AWS's limits ---------------------------------------------------- */

static struct zp_xml_limits r53_limits(size_t textmax)
{
    return (struct zp_xml_limits){.depth = R53_DEPTH_MAX,
                                  .elems = R53_ELEMS_MAX,
                                  .attrs = 16,
                                  .name = 256,
                                  .value = 1024,
                                  .text = textmax,
                                  .markup = "a DTD (<!DOCTYPE>), which AWS replies do not have"};
}

int zp_r53_xml_parse(const char *body, size_t len, size_t textmax, struct zp_xml *x, char *why,
                     size_t whysz)
{
    const struct zp_xml_limits lim = r53_limits(textmax);

    return zp_xml_parse(body, len, &lim, x, why, whysz);
}

int zp_r53_xml_first(const char *body, size_t len, const char *name, char *out, size_t outsz)
{
    const struct zp_xml_limits lim = r53_limits(ZP_R53_TEXT_MAX);

    return zp_xml_first(body, len, &lim, name, out, outsz);
}

/* ---- record sets, change batches and errors ----------------------------------------------- */

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

int zp_r53_rrset_read(const struct zp_xml *x, const char *fqdn, struct zp_r53_rrset *set,
                      struct zp_buf *why)
{
    long rs = zp_xml_find(x, 0, x->n, "ResourceRecordSet"), v;
    const char *name, *type, *id, *ttl;

    memset(set, 0, sizeof(*set));
    /* A start-from cursor, not a filter: the first set may be another name or type. */
    if (rs < 0)
        return 0;
    name = zp_xml_get(x, (size_t)rs, "Name");
    type = zp_xml_get(x, (size_t)rs, "Type");
    if (name == NULL || !zp_r53_name_eq(name, fqdn) || type == NULL || strcmp(type, "TXT") != 0)
        return 0;
    if ((id = zp_xml_get(x, (size_t)rs, "SetIdentifier")) != NULL) {
        (void)zp_buf_printf(why, "a record set with a routing policy (SetIdentifier \"%.64s\")",
                            id);
        return -1;
    }
    if ((ttl = zp_xml_get(x, (size_t)rs, "TTL")) == NULL) {
        (void)zp_buf_puts(why, "a TXT record set without a TTL (an alias record)");
        return -1;
    }
    set->ttl = strtoul(ttl, NULL, 10);
    set->found = 1;
    for (v = rs; (v = zp_xml_find(x, (size_t)v + 1, x->e[rs].end, "Value")) >= 0;) {
        set->v = zp_xrealloc(set->v, (set->n + 1) * sizeof(*set->v));
        set->v[set->n++] = zp_xstrdup(x->e[v].text);
    }
    return 0;
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
    const char *c = NULL, *m = NULL;
    struct zp_xml x;
    long i;

    code[0] = msg[0] = '\0';
    if (zp_r53_xml_parse(body, len, R53_ERROR_TEXT_MAX, &x, NULL, 0) == 0) {
        /* InvalidChangeBatch has a root of its own; everything else is an ErrorResponse. */
        if ((i = zp_xml_find(&x, 0, x.n, "InvalidChangeBatch")) >= 0)
            c = "InvalidChangeBatch";
        else if ((i = zp_xml_find(&x, 0, x.n, "Error")) >= 0)
            c = zp_xml_get(&x, (size_t)i, "Code");
        if (c != NULL) {
            m = zp_xml_get(&x, (size_t)i, "Message");
            snprintf(code, codesz, "%s", c);
            snprintf(msg, msgsz, "%s", m != NULL ? m : "");
        }
    }
    /* Shown to users: one line, printable. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    zp_xml_free(&x);
    return c != NULL;
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
