/*
 * xml.c — the XML APIs' reply reader (xml.h): expat's callbacks fill a flat
 * list of elements under the caller's limits, and a refused reply is
 * explained in a phrase fit for a sentence. Pure functions, unit-tested
 * through route53_xml.c and namecheap_xml.c (test_route53, test_namecheap)
 * and fuzzed through both (fuzz_route53, fuzz_namecheap).
 */
#include <expat.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "providers/xml.h"

#define XML_NS_SEP '|' /* expat names "namespace|local"; a local name has no '|' */
#define XML_DEPTH_CAP 64

/* ---- expat's memory, wiped when freed ----------------------------------------------------- */

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

/* ---- the callbacks ------------------------------------------------------------------------ */

struct px {
    XML_Parser p;
    const struct zp_xml_limits *lim;
    struct zp_xml *x;
    size_t cap, depth, open[XML_DEPTH_CAP];
    struct zp_buf text[XML_DEPTH_CAP]; /* of each open element */
    char *why;
    size_t whysz;
    int failed;
};

static void px_fail(struct px *px, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stops expat; the first failure is the one reported. */
static void px_fail(struct px *px, const char *fmt, ...)
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

static const char *px_local(const char *name)
{
    const char *sep = strrchr(name, XML_NS_SEP);

    return sep != NULL ? sep + 1 : name;
}

/* The attributes of a new element, each within the limits. */
static int px_attrs(struct px *px, struct zp_xml_elem *e, const XML_Char **atts)
{
    size_t n = 0;

    while (atts[2 * n] != NULL)
        n++;
    if (n > px->lim->attrs) {
        px_fail(px, "more than %zu attributes in <%s>", px->lim->attrs, e->name);
        return -1;
    }
    e->attr = n ? zp_xcalloc(2 * n, sizeof(*e->attr)) : NULL;
    for (size_t i = 0; i < n; i++) {
        const char *name = px_local(atts[2 * i]), *value = atts[2 * i + 1];
        if (strlen(name) > px->lim->name) {
            px_fail(px, "a name longer than %zu characters", px->lim->name);
            return -1;
        }
        if (strlen(value) > px->lim->value) {
            px_fail(px, "a value longer than %zu bytes", px->lim->value);
            return -1;
        }
        for (size_t j = 0; j < e->nattr; j++)
            if (strcmp(e->attr[2 * j], name) == 0) {
                px_fail(px, "attribute %s twice in <%s>", name, e->name);
                return -1;
            }
        e->attr[2 * i] = zp_xstrdup(name);
        e->attr[2 * i + 1] = zp_xstrdup(value);
        e->nattr++;
    }
    return 0;
}

static void XMLCALL px_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct px *px = ud;
    struct zp_xml *x = px->x;
    const char *local = px_local(name);

    if (px->failed)
        return;
    if (px->depth == px->lim->depth || px->depth == XML_DEPTH_CAP || x->n == px->lim->elems) {
        if (x->n == px->lim->elems)
            px_fail(px, "more than %zu elements", px->lim->elems);
        else
            px_fail(px, "elements nested more than %zu deep", px->depth);
        return;
    }
    if (strlen(local) > px->lim->name) {
        px_fail(px, "a name longer than %zu characters", px->lim->name);
        return;
    }
    if (x->n == px->cap) {
        px->cap = px->cap ? 2 * px->cap : 16;
        x->e = zp_xrealloc(x->e, px->cap * sizeof(*x->e));
    }
    memset(&x->e[x->n], 0, sizeof(x->e[x->n]));
    x->e[x->n].name = zp_xstrdup(local);
    zp_buf_init(&px->text[px->depth], px->lim->text);
    px->open[px->depth++] = x->n++;
    px_attrs(px, &x->e[x->n - 1], atts);
}

static void XMLCALL px_end(void *ud, const XML_Char *name)
{
    struct px *px = ud;
    struct zp_xml_elem *e;

    if (px->failed)
        return;
    e = &px->x->e[px->open[--px->depth]];
    e->text = zp_buf_take(&px->text[px->depth]);
    e->end = px->x->n;
}

static void XMLCALL px_text(void *ud, const XML_Char *s, int len)
{
    struct px *px = ud;

    if (!px->failed && px->depth > 0 &&
        zp_buf_append(&px->text[px->depth - 1], s, (size_t)len) == -1)
        px_fail(px, "an element with more than %zu bytes of text", px->lim->text);
}

static void XMLCALL px_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int internal)
{
    struct px *px = ud;

    px_fail(px, "%s", px->lim->markup);
}

static void XMLCALL px_entity(void *ud, const XML_Char *name, int param, const XML_Char *value,
                              int len, const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
    struct px *px = ud;

    px_fail(px, "%s", px->lim->markup);
}

static void XMLCALL px_cdata(void *ud)
{
    struct px *px = ud;

    px_fail(px, "%s", px->lim->markup);
}

static void XMLCALL px_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    struct px *px = ud;

    px_fail(px, "%s", px->lim->markup);
}

/* ---- the reply ---------------------------------------------------------------------------- */

/* Why expat refused the reply, in the words of a sentence; a no-op after a handler's refusal. */
static void px_syntax(struct px *px, const char *body, size_t len)
{
    enum XML_Error code = XML_GetErrorCode(px->p);
    size_t lead = 0;
    int root = px->x->n > 0;

    while (lead < len && body[lead] != '\0' && strchr(" \t\r\n", body[lead]) != NULL)
        lead++;
    /* Whatever was being read when the bytes ran out, the cause is the same. */
    if (code == XML_ERROR_UNCLOSED_TOKEN || code == XML_ERROR_PARTIAL_CHAR ||
        code == XML_ERROR_UNCLOSED_CDATA_SECTION || (code == XML_ERROR_NO_ELEMENTS && root))
        px_fail(px, "the reply is cut short");
    else if (code == XML_ERROR_NO_ELEMENTS)
        px_fail(px, "the reply is empty");
    else if (!root && XML_GetCurrentByteIndex(px->p) == (XML_Index)lead &&
             (code == XML_ERROR_SYNTAX || code == XML_ERROR_INVALID_TOKEN))
        px_fail(px, "the reply is not XML");
    else if (code == XML_ERROR_JUNK_AFTER_DOC_ELEMENT && root)
        px_fail(px, "content after </%s>", px->x->e[0].name);
    else
        px_fail(px, "not well-formed XML at line %lu, column %lu: %s",
                (unsigned long)XML_GetCurrentLineNumber(px->p),
                (unsigned long)XML_GetCurrentColumnNumber(px->p) + 1, XML_ErrorString(code));
}

int zp_xml_parse(const char *body, size_t len, const struct zp_xml_limits *lim, struct zp_xml *x,
                 char *why, size_t whysz)
{
    static const XML_Memory_Handling_Suite mm = {px_malloc, px_realloc, px_free};
    static const XML_Char sep = XML_NS_SEP;
    struct px px = {.lim = lim, .x = x, .why = why, .whysz = whysz};
    int rc = -1;

    memset(x, 0, sizeof(*x));
    px.p = XML_ParserCreate_MM(NULL, &mm, &sep); /* cannot fail: px_malloc aborts instead */
    XML_SetUserData(px.p, &px);
    XML_SetElementHandler(px.p, px_start, px_end);
    XML_SetCharacterDataHandler(px.p, px_text);
    XML_SetStartDoctypeDeclHandler(px.p, px_doctype);
    XML_SetEntityDeclHandler(px.p, px_entity);
    if (lim->strict) {
        XML_SetStartCdataSectionHandler(px.p, px_cdata);
        XML_SetProcessingInstructionHandler(px.p, px_pi);
    }
    if (len > INT_MAX)
        px_fail(&px, "a reply longer than %d bytes", INT_MAX);
    else if (XML_Parse(px.p, body, (int)len, XML_TRUE) == XML_STATUS_OK && !px.failed)
        rc = 0;
    else
        px_syntax(&px, body, len);
    for (size_t i = 0; i < XML_DEPTH_CAP; i++)
        zp_buf_free_secret(&px.text[i]);
    XML_ParserFree(px.p);
    if (rc == -1)
        zp_xml_free(x);
    return rc;
}

void zp_xml_free(struct zp_xml *x)
{
    for (size_t i = 0; i < x->n; i++) {
        struct zp_xml_elem *e = &x->e[i];
        free(e->name);
        zp_free_secret(e->text);
        for (size_t j = 0; j < 2 * e->nattr; j++)
            zp_free_secret(e->attr[j]);
        free(e->attr);
    }
    free(x->e);
    memset(x, 0, sizeof(*x));
}

long zp_xml_find(const struct zp_xml *x, size_t from, size_t to, const char *name)
{
    for (size_t i = from; i < to && i < x->n; i++)
        if (strcmp(x->e[i].name, name) == 0)
            return (long)i;
    return -1;
}

const char *zp_xml_get(const struct zp_xml *x, size_t i, const char *name)
{
    long at = i < x->n ? zp_xml_find(x, i + 1, x->e[i].end, name) : -1;

    return at >= 0 ? x->e[at].text : NULL;
}

const char *zp_xml_attr(const struct zp_xml *x, size_t i, const char *name)
{
    for (size_t j = 0; i < x->n && j < x->e[i].nattr; j++)
        if (strcmp(x->e[i].attr[2 * j], name) == 0)
            return x->e[i].attr[2 * j + 1];
    return NULL;
}

long zp_xml_child(const struct zp_xml *x, size_t i, const char *name, int *count)
{
    long found = -1;

    *count = 0;
    for (size_t c = i + 1; i < x->n && c < x->e[i].end; c = x->e[c].end)
        if (strcmp(x->e[c].name, name) == 0) {
            found = (long)c;
            (*count)++;
        }
    return *count == 1 ? found : -1;
}

int zp_xml_first(const char *body, size_t len, const struct zp_xml_limits *lim, const char *name,
                 char *out, size_t outsz)
{
    struct zp_xml x;
    long i = -1;

    out[0] = '\0';
    if (zp_xml_parse(body, len, lim, &x, NULL, 0) == 0 &&
        (i = zp_xml_find(&x, 0, x.n, name)) >= 0 && strlen(x.e[i].text) < outsz)
        snprintf(out, outsz, "%s", x.e[i].text);
    else
        i = -1;
    zp_xml_free(&x);
    return i >= 0;
}
