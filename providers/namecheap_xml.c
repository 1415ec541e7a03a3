/*
 * namecheap_xml.c — owns the reading of Namecheap's XML replies and the
 * host list they carry.
 *
 * expat reads the replies into a small tree (elements, attributes, text).
 * A well-kept parser checks well-formedness, entities, character references,
 * encodings and namespaces (names are matched without them) better than the
 * hand-written one it replaced. Input controls nothing unbounded: depth,
 * elements, attributes and lengths are capped, and markup a Namecheap reply
 * does not contain is refused (a DTD, so no entity of its own; CDATA;
 * processing instructions). expat's protection against entity expansion
 * stays on as well. A reply cut short never parses: the root element would
 * not be closed.
 *
 * On top of the parser, the replies are read as strictly: the host list
 * feeds a call that replaces every record of the domain, so a reply is used
 * only when every host and every field was understood.
 */
#include <expat.h>
#include <limits.h>
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
#define NC_NS_SEP '|' /* expat names "namespace|local"; a local name has no '|' */
#define NC_MARKUP "markup a Namecheap reply does not contain (<!DOCTYPE, CDATA or <?)"

/* ---- the parser --------------------------------------------------------------------------- */

struct nc_node {
    char name[NC_NAME_MAX + 1]; /* the local name */
    size_t nattr;
    char *attr[2 * NC_ATTRS_MAX]; /* name, value, name, value, … (local names, decoded values) */
    struct zp_buf text;           /* character data, decoded */
    struct nc_node *child, *last, *next;
};

struct nc_px {
    XML_Parser p;
    struct nc_node *root, *open[NC_DEPTH_MAX];
    size_t depth, nodes;
    char why[192];
};

static int px_fail(struct nc_px *px, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stops expat; the first failure is the one reported. Always returns -1. */
static int px_fail(struct nc_px *px, const char *fmt, ...)
{
    va_list ap;

    if (px->why[0] == '\0') {
        va_start(ap, fmt);
        vsnprintf(px->why, sizeof(px->why), fmt, ap);
        va_end(ap);
        XML_StopParser(px->p, XML_FALSE);
    }
    return -1;
}

static void nd_free(struct nc_node *n)
{
    while (n != NULL) {
        struct nc_node *next = n->next;
        for (size_t i = 0; i < 2 * n->nattr; i++)
            free(n->attr[i]);
        zp_buf_free(&n->text);
        nd_free(n->child); /* depth is capped, so this recursion is too */
        free(n);
        n = next;
    }
}

static const char *nd_attr(const struct nc_node *n, const char *name)
{
    for (size_t i = 0; i < n->nattr; i++)
        if (strcmp(n->attr[2 * i], name) == 0)
            return n->attr[2 * i + 1];
    return NULL;
}

static const char *px_local(const char *name)
{
    const char *sep = strrchr(name, NC_NS_SEP);

    return sep != NULL ? sep + 1 : name;
}

static int px_attr(struct nc_px *px, struct nc_node *n, const char *name, const char *value)
{
    if (n->nattr == NC_ATTRS_MAX)
        return px_fail(px, "more than %d attributes in <%s>", NC_ATTRS_MAX, n->name);
    if (strlen(name) > NC_NAME_MAX)
        return px_fail(px, "a name longer than %d characters", NC_NAME_MAX);
    if (strlen(value) > NC_VALUE_MAX)
        return px_fail(px, "a value longer than %d bytes", NC_VALUE_MAX);
    /* expat compares names with their namespaces; what is read here is the local name. */
    if (nd_attr(n, name) != NULL)
        return px_fail(px, "attribute %s twice in <%s>", name, n->name);
    n->attr[2 * n->nattr] = zp_xstrdup(name);
    n->attr[2 * n->nattr + 1] = zp_xstrdup(value);
    n->nattr++;
    return 0;
}

static void XMLCALL px_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct nc_px *px = ud;
    struct nc_node *n, *up = px->depth > 0 ? px->open[px->depth - 1] : NULL;

    if (px->why[0] != '\0')
        return;
    if (px->depth == NC_DEPTH_MAX || px->nodes == NC_NODES_MAX) {
        px_fail(px,
                px->depth == NC_DEPTH_MAX ? "elements nested more than %d deep"
                                          : "more than %d elements",
                px->depth == NC_DEPTH_MAX ? NC_DEPTH_MAX : NC_NODES_MAX);
        return;
    }
    if (strlen(px_local(name)) > NC_NAME_MAX) {
        px_fail(px, "a name longer than %d characters", NC_NAME_MAX);
        return;
    }
    n = zp_xcalloc(1, sizeof(*n));
    snprintf(n->name, sizeof(n->name), "%s", px_local(name));
    zp_buf_init(&n->text, NC_TEXT_MAX);
    px->nodes++;
    if (up == NULL)
        px->root = n;
    else if (up->last != NULL)
        up->last->next = n;
    else
        up->child = n;
    if (up != NULL)
        up->last = n;
    px->open[px->depth++] = n;
    for (size_t i = 0; atts[i] != NULL; i += 2)
        if (px_attr(px, n, px_local(atts[i]), atts[i + 1]) == -1)
            return;
}

static void XMLCALL px_end(void *ud, const XML_Char *name)
{
    struct nc_px *px = ud;

    if (px->why[0] == '\0')
        px->depth--;
}

static void XMLCALL px_text(void *ud, const XML_Char *s, int len)
{
    struct nc_px *px = ud;
    struct zp_buf *t;

    if (px->why[0] != '\0' || px->depth == 0)
        return;
    t = &px->open[px->depth - 1]->text;
    if (zp_buf_append(t, s, (size_t)len) == -1)
        px_fail(px, "a value longer than %zu bytes", t->max);
}

static void XMLCALL px_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int internal)
{
    px_fail(ud, NC_MARKUP);
}

static void XMLCALL px_entity(void *ud, const XML_Char *name, int param, const XML_Char *value,
                              int len, const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
    px_fail(ud, NC_MARKUP);
}

static void XMLCALL px_cdata(void *ud)
{
    px_fail(ud, NC_MARKUP);
}

static void XMLCALL px_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
    px_fail(ud, NC_MARKUP);
}

/* Why expat refused the reply, in the words of the sentence. */
static void px_syntax(struct nc_px *px, const char *body, size_t len)
{
    enum XML_Error code = XML_GetErrorCode(px->p);
    size_t lead = 0;

    while (lead < len && body[lead] != '\0' && strchr(" \t\r\n", body[lead]) != NULL)
        lead++;
    /* Whatever was being read when the bytes ran out, the cause is the same. */
    if (code == XML_ERROR_UNCLOSED_TOKEN || code == XML_ERROR_PARTIAL_CHAR ||
        code == XML_ERROR_UNCLOSED_CDATA_SECTION || (code == XML_ERROR_NO_ELEMENTS && px->root))
        px_fail(px, "the reply is cut short");
    else if (code == XML_ERROR_NO_ELEMENTS)
        px_fail(px, "the reply is empty");
    else if (px->root == NULL && XML_GetCurrentByteIndex(px->p) == (XML_Index)lead &&
             (code == XML_ERROR_SYNTAX || code == XML_ERROR_INVALID_TOKEN))
        px_fail(px, "the reply is not XML");
    else if (code == XML_ERROR_JUNK_AFTER_DOC_ELEMENT && px->root != NULL)
        px_fail(px, "content after </%s>", px->root->name);
    else
        px_fail(px, "not well-formed XML at line %lu, column %lu: %s",
                (unsigned long)XML_GetCurrentLineNumber(px->p),
                (unsigned long)XML_GetCurrentColumnNumber(px->p) + 1, XML_ErrorString(code));
}

/* The whole document as a tree; NULL with a phrase in why when it is refused. */
static struct nc_node *px_document(const char *body, size_t len, char *why, size_t whysz)
{
    static const XML_Memory_Handling_Suite mm = {zp_xmalloc, zp_xrealloc, free};
    static const XML_Char sep = NC_NS_SEP;
    struct nc_px px = {0};

    if (len > INT_MAX) {
        snprintf(why, whysz, "a reply longer than %d bytes", INT_MAX);
        return NULL;
    }
    px.p = XML_ParserCreate_MM(NULL, &mm, &sep); /* cannot fail: zp_xmalloc aborts instead */
    XML_SetUserData(px.p, &px);
    XML_SetElementHandler(px.p, px_start, px_end);
    XML_SetCharacterDataHandler(px.p, px_text);
    XML_SetStartDoctypeDeclHandler(px.p, px_doctype);
    XML_SetEntityDeclHandler(px.p, px_entity);
    XML_SetStartCdataSectionHandler(px.p, px_cdata);
    XML_SetProcessingInstructionHandler(px.p, px_pi);
    if (XML_Parse(px.p, body, (int)len, XML_TRUE) != XML_STATUS_OK) {
        px_syntax(&px, body, len); /* a no-op when a handler refused the reply first */
        nd_free(px.root);
        px.root = NULL;
        snprintf(why, whysz, "%s", px.why);
    }
    XML_ParserFree(px.p);
    return px.root;
}

/* ---- reading the tree --------------------------------------------------------------------- */

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
    const char *t = zp_buf_str(&n->text);

    return t[strspn(t, " \t\r\n")] == '\0';
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
    t = zp_buf_str(&e->text);
    t += strspn(t, " \t\r\n");
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
