/*
 * namecheap_xml.c — owns the reading of Namecheap's XML replies and the
 * host list they carry.
 *
 * The replies are small and regular (one ApiResponse, a few fixed elements,
 * one empty <host/> element per record), so a minimal strict parser is
 * enough, and it is safer than a general one: elements, attributes in
 * single or double quotes, the five predefined entities and numeric
 * character references, comments, an optional XML declaration. Nothing else
 * is accepted (no DOCTYPE, no CDATA, no processing instructions in the
 * body), everything is capped (depth, elements, attributes, lengths), and
 * every failure says what was wrong. A reply cut short never parses: the
 * root element would not be closed.
 *
 * On top of the parser, the replies are read as strictly: the host list
 * feeds a call that replaces every record of the domain, so a reply is used
 * only when every host and every field was understood.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/mem.h"
#include "providers/namecheap_int.h"

#define NC_DEPTH_MAX 16
#define NC_NODES_MAX (ZP_NC_HOSTS_MAX + 256)
#define NC_ATTRS_MAX 32
#define NC_NAME_MAX 64
#define NC_VALUE_MAX 16384 /* a long DKIM key is 1–2 KB */
#define NC_TEXT_MAX 4096

/* ---- the parser --------------------------------------------------------------------------- */

struct nc_node {
    char name[NC_NAME_MAX + 1];
    size_t nattr;
    char *attr[2 * NC_ATTRS_MAX]; /* name, value, name, value, … (values decoded) */
    char *text;                   /* character data, decoded; NULL if none */
    struct nc_node *child, *last, *next;
};

struct nc_px {
    const char *p, *end;
    size_t nodes;
    char why[192];
};

static int px_fail(struct nc_px *px, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int px_fail(struct nc_px *px, const char *fmt, ...)
{
    va_list ap;

    if (px->why[0] == '\0') {
        va_start(ap, fmt);
        vsnprintf(px->why, sizeof(px->why), fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void nd_free(struct nc_node *n)
{
    while (n != NULL) {
        struct nc_node *next = n->next;
        for (size_t i = 0; i < 2 * n->nattr; i++)
            free(n->attr[i]);
        free(n->text);
        nd_free(n->child); /* depth is capped, so this recursion is too */
        free(n);
        n = next;
    }
}

static int px_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t px_ws(struct nc_px *px)
{
    const char *s = px->p;

    while (px->p < px->end && px_space(*px->p))
        px->p++;
    return (size_t)(px->p - s);
}

static int px_starts(const struct nc_px *px, const char *s)
{
    size_t n = strlen(s);

    return (size_t)(px->end - px->p) >= n && memcmp(px->p, s, n) == 0;
}

static int px_name_char(unsigned char c, int first)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' ||
           (!first && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
}

static int px_name(struct nc_px *px, char out[NC_NAME_MAX + 1])
{
    size_t n = 0;

    if (px->p >= px->end || !px_name_char((unsigned char)*px->p, 1))
        return px_fail(px, "a tag or attribute without a valid name");
    while (px->p < px->end && px_name_char((unsigned char)*px->p, 0)) {
        if (n == NC_NAME_MAX)
            return px_fail(px, "a name longer than %d characters", NC_NAME_MAX);
        out[n++] = *px->p++;
    }
    out[n] = '\0';
    return 0;
}

static int px_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the reference at px->p ('&') into b. */
static int px_entity(struct nc_px *px, struct zp_buf *b)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    size_t left = (size_t)(px->end - px->p) - 1;
    const char *s = px->p + 1, *semi = memchr(s, ';', left < 12 ? left : 12);
    unsigned long cp = 0;
    char u[4];
    size_t n;

    if (semi == NULL)
        return px_fail(px, "an '&' that starts no character reference");
    n = (size_t)(semi - s);
    px->p = semi + 1;
    if (n >= 2 && s[0] == '#') {
        int hex = s[1] == 'x', base = hex ? 16 : 10;
        if (s + 1 + hex == semi)
            return px_fail(px, "an empty character reference");
        for (const char *q = s + 1 + hex; q < semi; q++) {
            int d = px_hexval(*q);
            if (d < 0 || d >= base)
                return px_fail(px, "a malformed character reference");
            cp = cp * (unsigned long)base + (unsigned long)d;
            if (cp > 0x10FFFF)
                return px_fail(px, "a character reference beyond Unicode");
        }
        if ((cp < 0x20 && cp != 0x9 && cp != 0xA && cp != 0xD) || (cp >= 0xD800 && cp <= 0xDFFF))
            return px_fail(px, "a character reference to a character XML does not allow");
        if (cp < 0x80) {
            u[0] = (char)cp;
            n = 1;
        } else if (cp < 0x800) {
            u[0] = (char)(0xC0 | (cp >> 6));
            u[1] = (char)(0x80 | (cp & 0x3F));
            n = 2;
        } else if (cp < 0x10000) {
            u[0] = (char)(0xE0 | (cp >> 12));
            u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (char)(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            u[0] = (char)(0xF0 | (cp >> 18));
            u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[3] = (char)(0x80 | (cp & 0x3F));
            n = 4;
        }
        return zp_buf_append(b, u, n) == -1 ? px_fail(px, "a value that is too long") : 0;
    }
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (strlen(named[i].name) == n && memcmp(s, named[i].name, n) == 0)
            return zp_buf_append(b, &named[i].c, 1) == -1 ? px_fail(px, "a value that is too long")
                                                          : 0;
    return px_fail(px, "an unknown entity &%.*s;", (int)n, s);
}

/* Character data up to stop ('<' for text, the quote for an attribute), decoded into b. */
static int px_chars(struct nc_px *px, char stop, struct zp_buf *b)
{
    while (px->p < px->end && *px->p != stop) {
        const char *s = px->p;
        while (px->p < px->end && *px->p != stop && *px->p != '&' && *px->p != '<' &&
               ((unsigned char)*px->p >= 0x20 || px_space(*px->p)))
            px->p++;
        if (px->p > s && zp_buf_append(b, s, (size_t)(px->p - s)) == -1)
            return px_fail(px, "a value longer than %zu bytes", b->max);
        if (px->p >= px->end || *px->p == stop)
            break;
        if (*px->p == '&') {
            if (px_entity(px, b) == -1)
                return -1;
        } else if (*px->p == '<') {
            return px_fail(px, "a '<' inside an attribute value");
        } else {
            return px_fail(px, "a control character");
        }
    }
    return 0;
}

static int px_attr(struct nc_px *px, struct nc_node *n)
{
    struct zp_buf v;
    char name[NC_NAME_MAX + 1], quote;
    int rc = -1;

    zp_buf_init(&v, NC_VALUE_MAX);
    if (n->nattr == NC_ATTRS_MAX) {
        px_fail(px, "more than %d attributes in <%s>", NC_ATTRS_MAX, n->name);
        goto out;
    }
    if (px_name(px, name) == -1)
        goto out;
    px_ws(px);
    if (px->p >= px->end || *px->p != '=') {
        px_fail(px, "attribute %s of <%s> without a value", name, n->name);
        goto out;
    }
    px->p++;
    px_ws(px);
    if (px->p >= px->end || (*px->p != '"' && *px->p != '\'')) {
        px_fail(px, "attribute %s of <%s> without quotes", name, n->name);
        goto out;
    }
    quote = *px->p++;
    if (px_chars(px, quote, &v) == -1)
        goto out;
    if (px->p >= px->end) {
        px_fail(px, "the reply ends inside attribute %s of <%s>", name, n->name);
        goto out;
    }
    px->p++;
    for (size_t i = 0; i < n->nattr; i++)
        if (strcmp(n->attr[2 * i], name) == 0) {
            px_fail(px, "attribute %s twice in <%s>", name, n->name);
            goto out;
        }
    n->attr[2 * n->nattr] = zp_xstrdup(name);
    n->attr[2 * n->nattr + 1] = v.data ? zp_buf_take(&v) : zp_xstrdup("");
    n->nattr++;
    rc = 0;
out:
    zp_buf_free(&v);
    return rc;
}

/* Skips a comment at px->p ("<!--"). */
static int px_comment(struct nc_px *px)
{
    const char *s = px->p + 4, *e;

    for (e = s; e + 3 <= px->end && memcmp(e, "-->", 3) != 0; e++)
        ;
    if (e + 3 > px->end)
        return px_fail(px, "the reply ends inside a comment");
    px->p = e + 3;
    return 0;
}

/* The rest of n's start tag, after its name: attributes, then '>' (0) or "/>" (1). */
static int px_start_tag(struct nc_px *px, struct nc_node *n)
{
    for (;;) {
        size_t ws = px_ws(px);
        if (px->p >= px->end)
            return px_fail(px, "the reply ends inside the tag <%s>", n->name);
        if (px_starts(px, "/>")) {
            px->p += 2;
            return 1;
        }
        if (*px->p == '>') {
            px->p++;
            return 0;
        }
        if (ws == 0)
            return px_fail(px, "attributes of <%s> not separated by space", n->name);
        if (px_attr(px, n) == -1)
            return -1;
    }
}

/* The end tag at px->p ("</"), which must close n. */
static int px_end_tag(struct nc_px *px, const struct nc_node *n)
{
    char close[NC_NAME_MAX + 1];

    px->p += 2;
    if (px_name(px, close) == -1)
        return -1;
    px_ws(px);
    if (px->p >= px->end)
        return px_fail(px, "the reply ends inside </%s>", close);
    if (strcmp(close, n->name) != 0 || *px->p != '>')
        return px_fail(px, "<%s> closed by </%s>", n->name, close);
    px->p++;
    return 0;
}

/* One element at px->p ('<'); *out is set as soon as it exists, so the caller frees it. */
static int px_element(struct nc_px *px, int depth, struct nc_node **out)
{
    struct nc_node *n;
    struct zp_buf text;
    int rc = -1, empty = 0;

    zp_buf_init(&text, NC_TEXT_MAX);
    if (depth > NC_DEPTH_MAX || ++px->nodes > NC_NODES_MAX) {
        px_fail(px,
                depth > NC_DEPTH_MAX ? "elements nested more than %d deep"
                                     : "more than %d elements",
                depth > NC_DEPTH_MAX ? NC_DEPTH_MAX : NC_NODES_MAX);
        goto out;
    }
    n = *out = zp_xcalloc(1, sizeof(*n));
    px->p++;
    if (px_name(px, n->name) == -1 || (empty = px_start_tag(px, n)) == -1)
        goto out;
    while (!empty) {
        if (px->p >= px->end) {
            px_fail(px, "the reply ends before </%s>", n->name);
            goto out;
        }
        if (px_starts(px, "</")) {
            if (px_end_tag(px, n) == -1)
                goto out;
            break;
        }
        if (px_starts(px, "<!--")) {
            if (px_comment(px) == -1)
                goto out;
        } else if (px_starts(px, "<!") || px_starts(px, "<?")) {
            px_fail(px, "markup a Namecheap reply does not contain (<!DOCTYPE, CDATA or <?)");
            goto out;
        } else if (*px->p == '<') {
            struct nc_node *c = NULL;
            int crc = px_element(px, depth + 1, &c);
            if (c != NULL) {
                if (n->last)
                    n->last->next = c;
                else
                    n->child = c;
                n->last = c;
            }
            if (crc == -1)
                goto out;
        } else if (px_chars(px, '<', &text) == -1) {
            goto out;
        }
    }
    if (text.len > 0)
        n->text = zp_buf_take(&text);
    rc = 0;
out:
    zp_buf_free(&text);
    return rc;
}

/* The whole document: an optional BOM and XML declaration, comments, one root element. */
static struct nc_node *px_document(const char *body, size_t len, char *why, size_t whysz)
{
    struct nc_px px = {.p = body, .end = body + len};
    struct nc_node *root = NULL;
    int ok = 0, started = 0;

    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
        px.p += 3;
    px_ws(&px);
    if (px_starts(&px, "<?xml")) {
        const char *e = px.p;
        while (e + 2 <= px.end && memcmp(e, "?>", 2) != 0)
            e++;
        if (e + 2 > px.end) {
            px_fail(&px, "the reply ends inside the XML declaration");
            goto out;
        }
        px.p = e + 2;
    }
    for (px_ws(&px); px_starts(&px, "<!--"); px_ws(&px))
        if (px_comment(&px) == -1)
            goto out;
    if (px.p >= px.end || *px.p != '<' || px_starts(&px, "<!") || px_starts(&px, "<?")) {
        px_fail(&px, px.p >= px.end ? "the reply is empty" : "the reply is not XML");
        goto out;
    }
    started = 1;
    if (px_element(&px, 1, &root) == -1)
        goto out;
    for (px_ws(&px); px_starts(&px, "<!--"); px_ws(&px))
        if (px_comment(&px) == -1)
            goto out;
    if (px.p != px.end) {
        px_fail(&px, "content after </%s>", root->name);
        goto out;
    }
    ok = 1;
out:
    if (!ok) {
        nd_free(root);
        root = NULL;
        /*
         * Whatever was being read when the bytes ran out, the cause is the
         * same: a reply that stops in the middle of the root element, or
         * not at the end of a tag.
         */
        const char *last = body + len;
        while (last > body && px_space(last[-1]))
            last--;
        snprintf(why, whysz, "%s",
                 started && (px.p >= px.end || last[-1] != '>') ? "the reply is cut short"
                                                                : px.why);
    }
    return root;
}

/* ---- reading the tree --------------------------------------------------------------------- */

static const char *nd_attr(const struct nc_node *n, const char *name)
{
    for (size_t i = 0; i < n->nattr; i++)
        if (strcmp(n->attr[2 * i], name) == 0)
            return n->attr[2 * i + 1];
    return NULL;
}

/* The only child called name; NULL if there is none, or more than one (*count says which). */
static const struct nc_node *nd_child(const struct nc_node *n, const char *name, int *count)
{
    const struct nc_node *found = NULL;

    *count = 0;
    for (const struct nc_node *c = n->child; c; c = c->next)
        if (strcmp(c->name, name) == 0) {
            found = c;
            (*count)++;
        }
    return *count == 1 ? found : NULL;
}

static int nd_blank(const struct nc_node *n)
{
    for (const char *p = n->text; p && *p; p++)
        if (!px_space(*p))
            return 0;
    return 1;
}

static int nc_fail(struct zp_err *err, enum zp_errkind kind, const char *what, const char *domain,
                   const char *why)
{
    return zp_err_set(err, kind, "Namecheap's %s reply for %s cannot be understood (%s); %s", what,
                      domain, why,
                      strcmp(what, "getHosts") == 0
                          ? "nothing was written, since setHosts replaces every record of the "
                            "domain"
                          : "the records may or may not have been replaced: check the domain in "
                            "Namecheap's dashboard");
}

/* The first <Error> of <Errors>, made safe to quote. */
static int nc_apierr(const struct nc_node *errors, struct zp_nc_apierr *a)
{
    const struct nc_node *e;
    const char *num, *t;
    size_t i = 0;

    for (e = errors ? errors->child : NULL; e && strcmp(e->name, "Error") != 0; e = e->next)
        ;
    if (e == NULL)
        return 0;
    num = nd_attr(e, "Number");
    a->number = num ? strtol(num, NULL, 10) : 0;
    for (t = e->text ? e->text : ""; px_space(*t); t++)
        ;
    for (; t[i] && i < sizeof(a->text) - 1; i++)
        a->text[i] = ((unsigned char)t[i] >= 0x20 && (unsigned char)t[i] < 0x7f) ? t[i] : ' ';
    while (i > 0 && a->text[i - 1] == ' ')
        i--;
    a->text[i] = '\0';
    return 1;
}

/*
 * The parts every reply shares: <ApiResponse Status="OK">, an empty
 * <Errors>, and the one <CommandResponse Type="command">.
 */
static int nc_envelope(const struct nc_node *root, const char *command, const char *what,
                       const char *domain, const struct nc_node **cr, struct zp_nc_apierr *apierr,
                       struct zp_err *err)
{
    const char *status = nd_attr(root, "Status"), *type;
    const struct nc_node *errors;
    char why[160];
    int count;

    if (strcmp(root->name, "ApiResponse") != 0) {
        snprintf(why, sizeof(why), "its root element is <%s>, not <ApiResponse>", root->name);
        return nc_fail(err, ZP_ETRANSIENT, what, domain, why);
    }
    errors = nd_child(root, "Errors", &count);
    if (count > 1)
        return nc_fail(err, ZP_ETRANSIENT, what, domain, "<Errors> appears twice");
    if (nc_apierr(errors, apierr))
        return 1;
    if (status == NULL || strcmp(status, "OK") != 0) {
        snprintf(why, sizeof(why), "Status is \"%.32s\" without an <Error>",
                 status ? status : "(missing)");
        return nc_fail(err, ZP_ETRANSIENT, what, domain, why);
    }
    if (errors != NULL && errors->child != NULL)
        return nc_fail(err, ZP_ETRANSIENT, what, domain, "<Errors> is not empty");
    *cr = nd_child(root, "CommandResponse", &count);
    if (*cr == NULL)
        return nc_fail(err, ZP_ETRANSIENT, what, domain,
                       count ? "<CommandResponse> appears twice" : "it has no <CommandResponse>");
    type = nd_attr(*cr, "Type");
    if (type == NULL || strcasecmp(type, command) != 0) {
        snprintf(why, sizeof(why), "it answers %.64s, not %s", type ? type : "(no Type)", command);
        return nc_fail(err, ZP_ETRANSIENT, what, domain, why);
    }
    return 0;
}

/* ---- getHosts and setHosts ---------------------------------------------------------------- */

/* The record types setHosts accepts; a host of any other type could not be written back. */
static int nc_type_known(const char *t)
{
    static const char *const known[] = {"A",   "AAAA", "ALIAS", "CAA", "CNAME",  "MX",
                                        "MXE", "NS",   "TXT",   "URL", "URL301", "FRAME"};

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(t, known[i]) == 0)
            return 1;
    return 0;
}

static int nc_digits(const char *s, size_t max)
{
    size_t n = strlen(s);

    return n > 0 && n <= max && strspn(s, "0123456789") == n;
}

/* Host names as Namecheap writes them: "@", "*", "www", "_acme-challenge.www", "*.dev". */
static int nc_hostname_ok(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= 253 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.*@") == n;
}

static int nc_read_host(const struct nc_node *h, const char *domain, struct zp_nc_hosts *hosts,
                        struct zp_err *err)
{
    static const char *const fields[] = {"Name", "Type", "Address", "MXPref", "TTL"};
    const char *v[5], *active = nd_attr(h, "IsActive");
    char why[192];

    if (strcasecmp(h->name, "host") != 0) {
        snprintf(why, sizeof(why), "an element <%s> among the hosts", h->name);
        return nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, why);
    }
    if (h->child != NULL || !nd_blank(h))
        return nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, "a <host> with content");
    for (int i = 0; i < 5; i++)
        if ((v[i] = nd_attr(h, fields[i])) == NULL) {
            snprintf(why, sizeof(why), "a host without %s", fields[i]);
            return nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, why);
        }
    if (!nc_hostname_ok(v[0]) || v[2][0] == '\0' || !nc_digits(v[3], 5) || !nc_digits(v[4], 6)) {
        snprintf(why, sizeof(why), "host \"%.64s\" of type %.16s has a malformed field", v[0],
                 v[1]);
        return nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, why);
    }
    if (!nc_type_known(v[1]))
        return zp_err_set(
            err, ZP_EINVAL,
            "domain %s holds host \"%.64s\" of record type \"%.16s\", which zoneproof "
            "cannot write back; since setHosts replaces every record of the "
            "domain, nothing was written",
            domain, v[0], v[1]);
    if (active != NULL && strcmp(active, "true") != 0)
        return zp_err_set(err, ZP_EINVAL,
                          "domain %s holds the inactive host \"%.64s\" (%.16s), which setHosts "
                          "cannot write back as it is; nothing was written: delete or activate "
                          "it in Namecheap's dashboard",
                          domain, v[0], v[1]);
    if (hosts->n >= ZP_NC_HOSTS_MAX) {
        snprintf(why, sizeof(why), "more than %d hosts", ZP_NC_HOSTS_MAX);
        return nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, why);
    }
    zp_nc_hosts_add(hosts, v[0], v[1], v[2], v[3], v[4]);
    return 0;
}

int zp_nc_parse_gethosts(const char *body, size_t len, const char *domain,
                         struct zp_nc_hosts *hosts, struct zp_nc_apierr *apierr, struct zp_err *err)
{
    struct nc_node *root;
    const struct nc_node *cr = NULL, *res;
    const char *d, *ours, *email;
    char why[192];
    int rc = -1, count;

    memset(hosts, 0, sizeof(*hosts));
    memset(apierr, 0, sizeof(*apierr));
    if ((root = px_document(body, len, why, sizeof(why))) == NULL)
        return nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, why);
    if ((rc = nc_envelope(root, "namecheap.domains.dns.getHosts", "getHosts", domain, &cr, apierr,
                          err)) != 0)
        goto out;
    rc = -1;
    res = nd_child(cr, "DomainDNSGetHostsResult", &count);
    if (res == NULL) {
        nc_fail(err, ZP_ETRANSIENT, "getHosts", domain,
                count ? "<DomainDNSGetHostsResult> appears twice"
                      : "it has no <DomainDNSGetHostsResult>");
        goto out;
    }
    d = nd_attr(res, "Domain");
    ours = nd_attr(res, "IsUsingOurDNS");
    email = nd_attr(res, "EmailType");
    if (d == NULL || strcasecmp(d, domain) != 0) {
        snprintf(why, sizeof(why), "it is about domain %.64s", d ? d : "(none)");
        nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, why);
        goto out;
    }
    if (ours != NULL && strcasecmp(ours, "false") == 0) {
        zp_err_set(err, ZP_ECONFIG,
                   "domain %s does not use Namecheap's DNS servers (getHosts says "
                   "IsUsingOurDNS=false), so zoneproof writes nothing there; switch the domain to "
                   "Namecheap BasicDNS or PremiumDNS, or use a provider for the servers it uses",
                   domain);
        goto out;
    }
    if (ours == NULL || strcasecmp(ours, "true") != 0) {
        nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, "IsUsingOurDNS is neither true nor false");
        goto out;
    }
    if (email != NULL && email[0] != '\0' &&
        (strlen(email) > 16 ||
         strspn(email, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") !=
             strlen(email))) {
        nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, "EmailType is malformed");
        goto out;
    }
    if (!nd_blank(res)) {
        nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, "text among the hosts");
        goto out;
    }
    hosts->email_type = email && email[0] ? zp_xstrdup(email) : NULL;
    for (const struct nc_node *h = res->child; h; h = h->next)
        if (nc_read_host(h, domain, hosts, err) == -1)
            goto out;
    rc = 0;
out:
    if (rc != 0)
        zp_nc_hosts_free(hosts);
    nd_free(root);
    return rc;
}

int zp_nc_parse_sethosts(const char *body, size_t len, const char *domain,
                         struct zp_nc_apierr *apierr, struct zp_err *err)
{
    struct nc_node *root;
    const struct nc_node *cr = NULL, *res;
    const char *d, *ok;
    char why[192];
    int rc, count;

    memset(apierr, 0, sizeof(*apierr));
    if ((root = px_document(body, len, why, sizeof(why))) == NULL)
        return nc_fail(err, ZP_ETRANSIENT, "setHosts", domain, why);
    rc = nc_envelope(root, "namecheap.domains.dns.setHosts", "setHosts", domain, &cr, apierr, err);
    if (rc == 0) {
        res = nd_child(cr, "DomainDNSSetHostsResult", &count);
        d = res ? nd_attr(res, "Domain") : NULL;
        ok = res ? nd_attr(res, "IsSuccess") : NULL;
        if (res == NULL || d == NULL || strcasecmp(d, domain) != 0 || ok == NULL ||
            strcmp(ok, "true") != 0)
            rc = nc_fail(err, ZP_ETRANSIENT, "setHosts", domain,
                         "it does not say IsSuccess=\"true\" for the domain");
    }
    nd_free(root);
    return rc;
}

/* ---- the host list ------------------------------------------------------------------------ */

static int nc_form_field(struct zp_buf *out, const char *name, size_t i, const char *value)
{
    if (zp_buf_printf(out, "&%s%zu=", name, i) == -1)
        return -1;
    return zp_http_escape(value, out);
}

int zp_nc_form_hosts(const struct zp_nc_hosts *hosts, struct zp_buf *out)
{
    if (hosts->email_type != NULL &&
        (zp_buf_puts(out, "&EmailType=") == -1 || zp_http_escape(hosts->email_type, out) == -1))
        return -1;
    for (size_t i = 0; i < hosts->n; i++) {
        const struct zp_nc_host *h = &hosts->host[i];
        if (nc_form_field(out, "HostName", i + 1, h->name) == -1 ||
            nc_form_field(out, "RecordType", i + 1, h->type) == -1 ||
            nc_form_field(out, "Address", i + 1, h->address) == -1 ||
            nc_form_field(out, "MXPref", i + 1, h->mxpref) == -1 ||
            nc_form_field(out, "TTL", i + 1, h->ttl) == -1)
            return -1;
    }
    return 0;
}

void zp_nc_hosts_add(struct zp_nc_hosts *hosts, const char *name, const char *type,
                     const char *address, const char *mxpref, const char *ttl)
{
    struct zp_nc_host *h;

    hosts->host = zp_xrealloc(hosts->host, (hosts->n + 1) * sizeof(*hosts->host));
    h = &hosts->host[hosts->n++];
    h->name = zp_xstrdup(name);
    h->type = zp_xstrdup(type);
    h->address = zp_xstrdup(address);
    h->mxpref = zp_xstrdup(mxpref);
    h->ttl = zp_xstrdup(ttl);
}

static void nc_host_free(struct zp_nc_host *h)
{
    free(h->name);
    free(h->type);
    free(h->address);
    free(h->mxpref);
    free(h->ttl);
}

void zp_nc_hosts_remove(struct zp_nc_hosts *hosts, size_t i)
{
    if (i >= hosts->n)
        return;
    nc_host_free(&hosts->host[i]);
    memmove(&hosts->host[i], &hosts->host[i + 1], (hosts->n - i - 1) * sizeof(*hosts->host));
    hosts->n--;
}

void zp_nc_hosts_free(struct zp_nc_hosts *hosts)
{
    for (size_t i = 0; i < hosts->n; i++)
        nc_host_free(&hosts->host[i]);
    free(hosts->host);
    free(hosts->email_type);
    memset(hosts, 0, sizeof(*hosts));
}
