/*
 * route53_xml.c — Route 53's XML: reading its replies (record sets, errors,
 * names with \NNN escapes) and writing change batches. AWS STS replies are
 * read here too (awssts.c). Pure functions, unit-tested on their own
 * (tests/unit/providers/test_route53.c).
 *
 * Replies are read with expat rather than by hand: it checks that a reply
 * is well-formed and decodes entities, character references, CDATA and
 * namespaces (elements are matched by local name). What a reply controls is
 * bounded: no DTD (so no entity of its own; expat's protection against
 * entity expansion stays on as well), a cap on each element's text, on
 * nesting and on the number of elements. expat's memory is wiped when freed,
 * since an STS reply holds a secret key and a session token.
 */
#include <ctype.h>
#include <expat.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "providers/common.h"
#include "providers/route53_int.h"

#define R53_XMLNS "https://route53.amazonaws.com/doc/2013-04-01/"
#define R53_NS_SEP '|' /* expat names "namespace|local"; a local name has no '|' */
#define R53_DEPTH_MAX 32
#define R53_ELEMS_MAX 8192 /* a full page of record sets is a few hundred */
#define R53_ERROR_TEXT_MAX 8192

/* ---- reading: expat into a list of elements ----------------------------------------------- */

union px_head { /* before each block expat asks for: its size, for the wipe */
    size_t n;
    max_align_t align;
};

static void *px_malloc(size_t n)
{
    union px_head *h = zp_xmalloc(sizeof(*h) + n);

    h->n = n;
    return h + 1;
}

static void px_free(void *p)
{
    union px_head *h = p;

    if (p == NULL)
        return;
    zp_wipe(p, h[-1].n);
    free(h - 1);
}

static void *px_realloc(void *p, size_t n)
{
    void *q = px_malloc(n);
    size_t old = p != NULL ? ((union px_head *)p)[-1].n : 0;

    if (p != NULL)
        memcpy(q, p, old < n ? old : n);
    px_free(p);
    return q;
}

struct r53_px {
    XML_Parser p;
    struct zp_r53_xml *x;
    size_t cap, textmax, depth, open[R53_DEPTH_MAX];
    struct zp_buf text[R53_DEPTH_MAX]; /* of each open element */
    char *why;
    size_t whysz;
    int failed;
};

static void px_fail(struct r53_px *px, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void px_fail(struct r53_px *px, const char *fmt, ...)
{
    va_list ap;

    if (!px->failed && px->whysz > 0) {
        va_start(ap, fmt);
        vsnprintf(px->why, px->whysz, fmt, ap);
        va_end(ap);
    }
    px->failed = 1;
    XML_StopParser(px->p, XML_FALSE);
}

static void XMLCALL px_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct r53_px *px = ud;
    struct zp_r53_xml *x = px->x;
    const char *local = strrchr(name, R53_NS_SEP);

    if (px->failed)
        return;
    if (px->depth == R53_DEPTH_MAX || x->n == R53_ELEMS_MAX) {
        px_fail(px,
                px->depth == R53_DEPTH_MAX ? "elements nested more than %d deep"
                                           : "more than %d elements",
                px->depth == R53_DEPTH_MAX ? R53_DEPTH_MAX : R53_ELEMS_MAX);
        return;
    }
    if (x->n == px->cap) {
        px->cap = px->cap ? 2 * px->cap : 16;
        x->e = zp_xrealloc(x->e, px->cap * sizeof(*x->e));
    }
    x->e[x->n].name = zp_xstrdup(local != NULL ? local + 1 : name);
    x->e[x->n].text = NULL;
    x->e[x->n].end = 0;
    zp_buf_init(&px->text[px->depth], px->textmax);
    px->open[px->depth++] = x->n++;
}

static void XMLCALL px_end(void *ud, const XML_Char *name)
{
    struct r53_px *px = ud;
    struct zp_r53_elem *e;

    if (px->failed)
        return;
    e = &px->x->e[px->open[--px->depth]];
    e->text = zp_buf_take(&px->text[px->depth]);
    e->end = px->x->n;
}

static void XMLCALL px_text(void *ud, const XML_Char *s, int len)
{
    struct r53_px *px = ud;

    if (!px->failed && px->depth > 0 &&
        zp_buf_append(&px->text[px->depth - 1], s, (size_t)len) == -1)
        px_fail(px, "an element with more than %zu bytes of text", px->textmax);
}

static void XMLCALL px_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int internal)
{
    px_fail(ud, "a DTD (<!DOCTYPE>), which AWS replies do not have");
}

static void XMLCALL px_entity(void *ud, const XML_Char *name, int param, const XML_Char *value,
                              int len, const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
    px_fail(ud, "an entity declaration, which AWS replies do not have");
}

int zp_r53_xml_parse(const char *body, size_t len, size_t textmax, struct zp_r53_xml *x, char *why,
                     size_t whysz)
{
    static const XML_Memory_Handling_Suite mm = {px_malloc, px_realloc, px_free};
    static const XML_Char sep = R53_NS_SEP;
    struct r53_px px = {.x = x, .textmax = textmax, .why = why, .whysz = whysz};
    int rc = -1;

    memset(x, 0, sizeof(*x));
    px.p = XML_ParserCreate_MM(NULL, &mm, &sep); /* cannot fail: px_malloc aborts instead */
    XML_SetUserData(px.p, &px);
    XML_SetElementHandler(px.p, px_start, px_end);
    XML_SetCharacterDataHandler(px.p, px_text);
    XML_SetStartDoctypeDeclHandler(px.p, px_doctype);
    XML_SetEntityDeclHandler(px.p, px_entity);
    if (len > INT_MAX)
        px_fail(&px, "a reply longer than %d bytes", INT_MAX);
    else if (XML_Parse(px.p, body, (int)len, XML_TRUE) == XML_STATUS_OK)
        rc = 0;
    else /* when a handler refused the reply, that is the reason given */
        px_fail(&px, "not well-formed XML at line %lu, column %lu: %s",
                (unsigned long)XML_GetCurrentLineNumber(px.p),
                (unsigned long)XML_GetCurrentColumnNumber(px.p) + 1,
                XML_ErrorString(XML_GetErrorCode(px.p)));
    for (size_t i = 0; i < R53_DEPTH_MAX; i++)
        zp_buf_free_secret(&px.text[i]);
    XML_ParserFree(px.p);
    if (rc == -1)
        zp_r53_xml_free(x);
    return rc;
}

void zp_r53_xml_free(struct zp_r53_xml *x)
{
    for (size_t i = 0; i < x->n; i++) {
        free(x->e[i].name);
        zp_free_secret(x->e[i].text);
    }
    free(x->e);
    memset(x, 0, sizeof(*x));
}

long zp_r53_xml_find(const struct zp_r53_xml *x, size_t from, size_t to, const char *name)
{
    for (size_t i = from; i < to && i < x->n; i++)
        if (strcmp(x->e[i].name, name) == 0)
            return (long)i;
    return -1;
}

const char *zp_r53_xml_get(const struct zp_r53_xml *x, size_t i, const char *name)
{
    long at = i < x->n ? zp_r53_xml_find(x, i + 1, x->e[i].end, name) : -1;

    return at >= 0 ? x->e[at].text : NULL;
}

int zp_r53_xml_first(const char *body, size_t len, const char *name, char *out, size_t outsz)
{
    struct zp_r53_xml x;
    long i = -1;

    out[0] = '\0';
    if (zp_r53_xml_parse(body, len, ZP_R53_TEXT_MAX, &x, NULL, 0) == 0 &&
        (i = zp_r53_xml_find(&x, 0, x.n, name)) >= 0 && strlen(x.e[i].text) < outsz)
        snprintf(out, outsz, "%s", x.e[i].text);
    else
        i = -1;
    zp_r53_xml_free(&x);
    return i >= 0;
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

int zp_r53_rrset_read(const struct zp_r53_xml *x, const char *fqdn, struct zp_r53_rrset *set,
                      struct zp_buf *why)
{
    long rs = zp_r53_xml_find(x, 0, x->n, "ResourceRecordSet"), v;
    const char *name, *type, *id, *ttl;

    memset(set, 0, sizeof(*set));
    /* A start-from cursor, not a filter: the first set may be another name or type. */
    if (rs < 0)
        return 0;
    name = zp_r53_xml_get(x, (size_t)rs, "Name");
    type = zp_r53_xml_get(x, (size_t)rs, "Type");
    if (name == NULL || !zp_r53_name_eq(name, fqdn) || type == NULL || strcmp(type, "TXT") != 0)
        return 0;
    if ((id = zp_r53_xml_get(x, (size_t)rs, "SetIdentifier")) != NULL) {
        (void)zp_buf_printf(why, "a record set with a routing policy (SetIdentifier \"%.64s\")",
                            id);
        return -1;
    }
    if ((ttl = zp_r53_xml_get(x, (size_t)rs, "TTL")) == NULL) {
        (void)zp_buf_puts(why, "a TXT record set without a TTL (an alias record)");
        return -1;
    }
    set->ttl = strtoul(ttl, NULL, 10);
    set->found = 1;
    for (v = rs; (v = zp_r53_xml_find(x, (size_t)v + 1, x->e[rs].end, "Value")) >= 0;) {
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
    struct zp_r53_xml x;
    long i;

    code[0] = msg[0] = '\0';
    if (zp_r53_xml_parse(body, len, R53_ERROR_TEXT_MAX, &x, NULL, 0) == 0) {
        /* InvalidChangeBatch has a root of its own; everything else is an ErrorResponse. */
        if ((i = zp_r53_xml_find(&x, 0, x.n, "InvalidChangeBatch")) >= 0)
            c = "InvalidChangeBatch";
        else if ((i = zp_r53_xml_find(&x, 0, x.n, "Error")) >= 0)
            c = zp_r53_xml_get(&x, (size_t)i, "Code");
        if (c != NULL) {
            m = zp_r53_xml_get(&x, (size_t)i, "Message");
            snprintf(code, codesz, "%s", c);
            snprintf(msg, msgsz, "%s", m != NULL ? m : "");
        }
    }
    /* Shown to users: one line, printable. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    zp_r53_xml_free(&x);
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
