/*
 * namecheap_xml.c — owns the reading of Namecheap's XML replies and the
 * host list they carry.
 *
 * xml.h (expat) reads a reply into its elements, attributes and text under
 * Namecheap's limits: depth, elements, attributes and lengths are capped,
 * and markup a Namecheap reply does not contain is refused (a DTD, so no
 * entity of its own; CDATA; processing instructions).
 *
 * On top of the parser, the replies are read as strictly: the host list
 * feeds a call that replaces every record of the domain, so a reply is used
 * only when every host and every field was understood.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/mem.h"
#include "providers/namecheap_int.h"
#include "providers/xml.h"

#define NC_DEPTH_MAX 16
#define NC_NODES_MAX (ZP_NC_HOSTS_MAX + 256)
#define NC_ATTRS_MAX 32
#define NC_NAME_MAX 64
#define NC_VALUE_MAX 16384 /* a long DKIM key is 1–2 KB */
#define NC_TEXT_MAX 4096
#define NC_MARKUP "markup a Namecheap reply does not contain (<!DOCTYPE, CDATA or <?)"

static const struct zp_xml_limits nc_limits = {.depth = NC_DEPTH_MAX,
                                               .elems = NC_NODES_MAX,
                                               .attrs = NC_ATTRS_MAX,
                                               .name = NC_NAME_MAX,
                                               .value = NC_VALUE_MAX,
                                               .text = NC_TEXT_MAX,
                                               .markup = NC_MARKUP,
                                               .strict = 1};

/* ---- reading the elements ----------------------------------------------------------------- */

static int nd_blank(const struct zp_xml *x, size_t i)
{
    const char *t = x->e[i].text;

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

/* The first <Error> of <Errors> (errors -1: none), made safe to quote. */
static int nc_apierr(const struct zp_xml *x, long errors, struct zp_nc_apierr *a)
{
    long e = errors >= 0 ? zp_xml_find(x, (size_t)errors + 1, x->e[errors].end, "Error") : -1;
    const char *num, *t;
    size_t i = 0;

    if (e < 0)
        return 0;
    num = zp_xml_attr(x, (size_t)e, "Number");
    a->number = num ? strtol(num, NULL, 10) : 0;
    t = x->e[e].text;
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
static int nc_envelope(const struct zp_xml *x, const char *command, const char *what,
                       const char *domain, long *cr, struct zp_nc_apierr *apierr,
                       struct zp_err *err)
{
    const char *status = zp_xml_attr(x, 0, "Status"), *type;
    long errors;
    char why[160];
    int count;

    if (strcmp(x->e[0].name, "ApiResponse") != 0) {
        snprintf(why, sizeof(why), "its root element is <%s>, not <ApiResponse>", x->e[0].name);
        return nc_fail(err, ZP_ETRANSIENT, what, domain, why);
    }
    errors = zp_xml_child(x, 0, "Errors", &count);
    if (count > 1)
        return nc_fail(err, ZP_ETRANSIENT, what, domain, "<Errors> appears twice");
    if (nc_apierr(x, errors, apierr))
        return 1;
    if (status == NULL || strcmp(status, "OK") != 0) {
        snprintf(why, sizeof(why), "Status is \"%.32s\" without an <Error>",
                 status ? status : "(missing)");
        return nc_fail(err, ZP_ETRANSIENT, what, domain, why);
    }
    if (errors >= 0 && x->e[errors].end > (size_t)errors + 1)
        return nc_fail(err, ZP_ETRANSIENT, what, domain, "<Errors> is not empty");
    *cr = zp_xml_child(x, 0, "CommandResponse", &count);
    if (*cr < 0)
        return nc_fail(err, ZP_ETRANSIENT, what, domain,
                       count ? "<CommandResponse> appears twice" : "it has no <CommandResponse>");
    type = zp_xml_attr(x, (size_t)*cr, "Type");
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

static int nc_read_host(const struct zp_xml *x, size_t h, const char *domain,
                        struct zp_nc_hosts *hosts, struct zp_err *err)
{
    static const char *const fields[] = {"Name", "Type", "Address", "MXPref", "TTL"};
    const char *v[5], *active = zp_xml_attr(x, h, "IsActive");
    char why[192];

    if (strcasecmp(x->e[h].name, "host") != 0) {
        snprintf(why, sizeof(why), "an element <%s> among the hosts", x->e[h].name);
        return nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, why);
    }
    if (x->e[h].end > h + 1 || !nd_blank(x, h))
        return nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, "a <host> with content");
    for (int i = 0; i < 5; i++)
        if ((v[i] = zp_xml_attr(x, h, fields[i])) == NULL) {
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
    struct zp_xml x;
    const char *d, *ours, *email;
    char why[192];
    long cr = -1, res;
    int rc = -1, count;

    memset(hosts, 0, sizeof(*hosts));
    memset(apierr, 0, sizeof(*apierr));
    if (zp_xml_parse(body, len, &nc_limits, &x, why, sizeof(why)) == -1)
        return nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, why);
    if ((rc = nc_envelope(&x, "namecheap.domains.dns.getHosts", "getHosts", domain, &cr, apierr,
                          err)) != 0)
        goto out;
    rc = -1;
    res = zp_xml_child(&x, (size_t)cr, "DomainDNSGetHostsResult", &count);
    if (res < 0) {
        nc_fail(err, ZP_ETRANSIENT, "getHosts", domain,
                count ? "<DomainDNSGetHostsResult> appears twice"
                      : "it has no <DomainDNSGetHostsResult>");
        goto out;
    }
    d = zp_xml_attr(&x, (size_t)res, "Domain");
    ours = zp_xml_attr(&x, (size_t)res, "IsUsingOurDNS");
    email = zp_xml_attr(&x, (size_t)res, "EmailType");
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
    if (!nd_blank(&x, (size_t)res)) {
        nc_fail(err, ZP_ETRANSIENT, "getHosts", domain, "text among the hosts");
        goto out;
    }
    hosts->email_type = email && email[0] ? zp_xstrdup(email) : NULL;
    for (size_t h = (size_t)res + 1; h < x.e[res].end; h = x.e[h].end)
        if (nc_read_host(&x, h, domain, hosts, err) == -1)
            goto out;
    rc = 0;
out:
    if (rc != 0)
        zp_nc_hosts_free(hosts);
    zp_xml_free(&x);
    return rc;
}

int zp_nc_parse_sethosts(const char *body, size_t len, const char *domain,
                         struct zp_nc_apierr *apierr, struct zp_err *err)
{
    struct zp_xml x;
    const char *d, *ok;
    char why[192];
    long cr = -1, res;
    int rc, count;

    memset(apierr, 0, sizeof(*apierr));
    if (zp_xml_parse(body, len, &nc_limits, &x, why, sizeof(why)) == -1)
        return nc_fail(err, ZP_ETRANSIENT, "setHosts", domain, why);
    rc = nc_envelope(&x, "namecheap.domains.dns.setHosts", "setHosts", domain, &cr, apierr, err);
    if (rc == 0) {
        res = zp_xml_child(&x, (size_t)cr, "DomainDNSSetHostsResult", &count);
        d = res >= 0 ? zp_xml_attr(&x, (size_t)res, "Domain") : NULL;
        ok = res >= 0 ? zp_xml_attr(&x, (size_t)res, "IsSuccess") : NULL;
        if (res < 0 || d == NULL || strcasecmp(d, domain) != 0 || ok == NULL ||
            strcmp(ok, "true") != 0)
            rc = nc_fail(err, ZP_ETRANSIENT, "setHosts", domain,
                         "it does not say IsSuccess=\"true\" for the domain");
    }
    zp_xml_free(&x);
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
