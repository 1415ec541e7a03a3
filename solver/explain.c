/*
 * explain.c — the words of a propagation report: the sentence cert-manager
 * shows in `kubectl describe challenge` (each laggard, what it answered,
 * what to fix, and a dig command that shows it), and the report as JSON.
 *
 * The sentence is a pure function of the report's nameserver states: no
 * elapsed times, no counters, no timestamps. cert-manager re-reconciles
 * whenever the text changes, so the same zone content must give the same
 * bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "solver/watch.h"

/* Room left for context that outer layers prefix with zp_err_wrap(). */
#define SENTENCE_MAX (ZP_ERR_MSG_MAX - 640)
#define N_STATES (ZP_NS_ERROR + 1)

const char *zp_ns_state_name(enum zp_ns_state s)
{
    switch (s) {
    case ZP_NS_PENDING:
        return "PENDING";
    case ZP_NS_HAS_VALUE:
        return "HAS_VALUE";
    case ZP_NS_NXDOMAIN:
        return "NXDOMAIN";
    case ZP_NS_NODATA:
        return "NODATA";
    case ZP_NS_OTHER:
        return "OTHER";
    case ZP_NS_SERVFAIL:
        return "SERVFAIL";
    case ZP_NS_REFUSED:
        return "REFUSED";
    case ZP_NS_NOTAUTH:
        return "NOTAUTH";
    case ZP_NS_TIMEOUT:
        return "TIMEOUT";
    case ZP_NS_ERROR:
        return "ERROR";
    }
    return "UNKNOWN";
}

/* The host part of "1.2.3.4:53" or "[::1]:53", for dig's @server. */
static void addr_host(const char *addr, char *host, size_t hostsz, const char **port)
{
    const char *colon = strrchr(addr, ':');
    size_t n;

    *port = colon ? colon + 1 : "53";
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        n = end ? (size_t)(end - addr - 1) : strlen(addr + 1);
        addr++;
    } else {
        n = colon ? (size_t)(colon - addr) : strlen(addr);
    }
    if (n >= hostsz)
        n = hostsz - 1;
    memcpy(host, addr, n);
    host[n] = '\0';
}

void zp_watch_dig(const char *addr, const char *fqdn, char *out, size_t n)
{
    char host[64];
    const char *port;

    addr_host(addr, host, sizeof(host), &port);
    snprintf(out, n, "dig +norec @%s%s%s %s TXT", host, strcmp(port, "53") ? " -p " : "",
             strcmp(port, "53") ? port : "", fqdn);
}

/*
 * "ns2.example.test (127.0.0.1:5302)": a host name reads better without the
 * root dot; just the address when that is the name (explicit servers).
 */
static void who(const struct zp_ns_status *st, struct zp_buf *b)
{
    char host[ZP_DNAME_MAX];
    const char *port;
    size_t n = strlen(st->name);

    if (n > 1 && st->name[n - 1] == '.')
        n--;
    if (st->addr[0] == '\0') {
        zp_buf_printf(b, "%.*s", (int)n, st->name);
        return;
    }
    addr_host(st->addr, host, sizeof(host), &port);
    if (strcmp(host, st->name) == 0)
        zp_buf_puts(b, st->addr);
    else
        zp_buf_printf(b, "%.*s (%s)", (int)n, st->name, st->addr);
}

/* Whether other (as shown, escaped) is value with quotes or backslashes added around it. */
static int only_quoting(const char *other, const char *value)
{
    char bare[ZP_WATCH_TXT_MAX];
    size_t j = 0;

    for (; *other && j + 1 < sizeof(bare); other++)
        if (*other != '"' && *other != '\\')
            bare[j++] = *other;
    bare[j] = '\0';
    return strcmp(bare, value) == 0;
}

/*
 * Why a server does not have the record yet. A secondary behind the primary
 * only when another server already serves it; a single server, or none of
 * several, means the write went somewhere else.
 */
static const char *not_yet(const struct zp_watch_report *rep, const struct zp_ns_status *st)
{
    size_t have = 0;

    if (st->parent_only)
        return " (only the parent's delegation lists this server, not the zone's own NS records: "
               "resolvers and the CA ask it too; load the zone there, or remove it from the "
               "delegation at the registrar)";
    for (size_t i = 0; i < rep->n; i++)
        have += rep->ns[i].state == ZP_NS_HAS_VALUE;
    if (have > 0)
        return " (a secondary that has not transferred the zone yet? check NOTIFY/IXFR from "
               "the primary)";
    if (rep->n == 1)
        return " (the zone's only server does not serve what the provider wrote: does the "
               "provider write to this server, in this zone?)";
    return " (no server serves it yet: the provider wrote to another zone or server, or the "
           "primary has not loaded the change)";
}

/*
 * What one laggard answered; the hint (what to check) only the first time a
 * state appears, so ten secondaries with NXDOMAIN do not repeat it ten times.
 */
static void phrase(const struct zp_watch_report *rep, const struct zp_ns_status *st, int hint,
                   struct zp_buf *b)
{
    unsigned i;

    switch (st->state) {
    case ZP_NS_PENDING:
        zp_buf_puts(b, " has not answered yet");
        break;
    case ZP_NS_HAS_VALUE:
        zp_buf_puts(b, " serves the value");
        break;
    case ZP_NS_NXDOMAIN:
        zp_buf_printf(b, " answers NXDOMAIN%s", hint || st->parent_only ? not_yet(rep, st) : "");
        break;
    case ZP_NS_NODATA:
        zp_buf_puts(b, " answers NOERROR with no TXT record at that name");
        if (st->detail[0])
            zp_buf_printf(b, " (%s)", st->detail);
        zp_buf_puts(b, hint || st->parent_only ? not_yet(rep, st) : "");
        break;
    case ZP_NS_OTHER:
        zp_buf_puts(b, " serves other TXT values there:");
        for (i = 0; i < st->n_other && i < ZP_WATCH_MAX_OTHER; i++)
            zp_buf_printf(b, "%s \"%s\" (TTL %u)", i ? "," : "", st->other[i], st->other_ttl[i]);
        if (st->detail[0])
            zp_buf_printf(b, " and %s", st->detail);
        for (i = 0; i < st->n_other && i < ZP_WATCH_MAX_OTHER; i++)
            if (only_quoting(st->other[i], rep->value))
                break;
        if (i < st->n_other && i < ZP_WATCH_MAX_OTHER)
            zp_buf_puts(b, " (the value differs only in quoting: a tool or the provider "
                           "quoted it twice; the CA compares the bytes, so it fails)");
        else if (st->parent_only)
            zp_buf_puts(b, not_yet(rep, st));
        else if (hint)
            zp_buf_puts(b, " (an older copy of the zone: a secondary behind the primary? "
                           "check NOTIFY/IXFR; or the value was written to another zone)");
        break;
    case ZP_NS_SERVFAIL:
        zp_buf_printf(b, " answers SERVFAIL%s%s%s%s", st->detail[0] ? " (" : "", st->detail,
                      st->detail[0] ? ")" : "",
                      hint ? " (the server failed to load the zone: DNSSEC? zone file error? "
                             "check its logs)"
                           : "");
        break;
    case ZP_NS_REFUSED:
        zp_buf_puts(b, " answers REFUSED");
        if (hint)
            zp_buf_printf(b,
                          " (the server refuses queries for the zone: is it authoritative "
                          "for %s? an ACL such as allow-query?)",
                          rep->zone);
        break;
    case ZP_NS_NOTAUTH:
        zp_buf_printf(b, " answers without authority%s%s%s", st->detail[0] ? " (" : "", st->detail,
                      st->detail[0] ? ")" : "");
        if (hint)
            zp_buf_printf(b,
                          ": it is listed as a nameserver but is not authoritative for %s "
                          "(lame delegation: fix the NS records or load the zone there)",
                          rep->zone);
        break;
    case ZP_NS_TIMEOUT:
        zp_buf_puts(b, " does not answer");
        if (st->detail[0])
            zp_buf_printf(b, " (%s)", st->detail);
        if (hint)
            zp_buf_puts(b, " (firewall? server down?)");
        break;
    case ZP_NS_ERROR:
        zp_buf_printf(b, " cannot be asked (%s)", st->detail[0] ? st->detail : "error");
        break;
    }
}

int zp_watch_explain(const struct zp_watch_report *rep, struct zp_err *err)
{
    struct zp_buf b, item;
    size_t i, lag = 0, shown = 0;
    unsigned more[N_STATES] = {0};
    int seen[N_STATES] = {0}, first = -1, rc = -1;

    if (rep->complete)
        return 0;
    if (rep->discovery_error[0] != '\0')
        return zp_err_set(err, ZP_EPROPAGATION, "TXT value for %s cannot be checked: %s", rep->fqdn,
                          rep->discovery_error);
    if (rep->n == 0)
        return zp_err_set(err, ZP_EPROPAGATION,
                          "TXT value for %s is not confirmed yet: the "
                          "nameservers of %s were not known before the deadline",
                          rep->fqdn, rep->zone);
    for (i = 0; i < rep->n; i++)
        lag += rep->ns[i].state != ZP_NS_HAS_VALUE;
    zp_buf_init(&b, ZP_ERR_MSG_MAX);
    zp_buf_init(&item, ZP_ERR_MSG_MAX);
    zp_buf_printf(&b,
                  "TXT value for %s is not yet served by %zu of %zu authoritative "
                  "nameserver%s: ",
                  rep->fqdn, lag, rep->n, rep->n == 1 ? "" : "s");
    for (i = 0; i < rep->n; i++) {
        const struct zp_ns_status *st = &rep->ns[i];
        unsigned s = (unsigned)st->state < N_STATES ? (unsigned)st->state : ZP_NS_ERROR;

        if (st->state == ZP_NS_HAS_VALUE)
            continue;
        if (first < 0 && st->addr[0] != '\0')
            first = (int)i;
        zp_buf_reset(&item);
        zp_buf_puts(&item, shown ? "; " : "");
        who(st, &item);
        phrase(rep, st, !seen[s], &item);
        /* Many laggards: name as many as fit, then count the rest by state. */
        if (b.len + item.len + 400 > SENTENCE_MAX) {
            more[s]++;
            continue;
        }
        zp_buf_puts(&b, zp_buf_str(&item));
        seen[s] = 1;
        shown++;
    }
    if (shown < lag) {
        unsigned s, k = 0;
        zp_buf_printf(&b, "; and %zu more (", lag - shown);
        for (s = 0; s < N_STATES; s++)
            if (more[s])
                zp_buf_printf(&b, "%s%u %s", k++ ? ", " : "", more[s],
                              zp_ns_state_name((enum zp_ns_state)s));
        zp_buf_puts(&b, ")");
    }
    if (first >= 0) {
        char dig[ZP_WATCH_DIG_MAX];
        zp_watch_dig(rep->ns[first].addr, rep->fqdn, dig, sizeof(dig));
        zp_buf_printf(&b, ". Check with: %s", dig);
    } else {
        zp_buf_puts(&b, ".");
    }
    zp_err_set(err, ZP_EPROPAGATION, "%s", zp_buf_str(&b));
    zp_buf_free(&item);
    zp_buf_free(&b);
    return rc;
}

int zp_watch_report_json(const struct zp_watch_report *rep, struct zp_buf *out)
{
    cJSON *o = cJSON_CreateObject(), *arr, *ns, *vals, *v;
    char *s = NULL;
    size_t i;
    unsigned k;
    int rc = -1;

    if (o == NULL)
        goto out;
    cJSON_AddStringToObject(o, "fqdn", rep->fqdn);
    cJSON_AddStringToObject(o, "zone", rep->zone);
    cJSON_AddStringToObject(o, "value", rep->value);
    cJSON_AddBoolToObject(o, "complete", rep->complete != 0);
    cJSON_AddNumberToObject(o, "elapsedMs", (double)rep->elapsed_ms);
    arr = cJSON_AddArrayToObject(o, "nameservers");
    for (i = 0; arr != NULL && i < rep->n && i < ZP_WATCH_MAX_NS; i++) {
        const struct zp_ns_status *st = &rep->ns[i];

        ns = cJSON_CreateObject();
        if (ns == NULL)
            goto out;
        cJSON_AddItemToArray(arr, ns);
        cJSON_AddStringToObject(ns, "name", st->name);
        cJSON_AddStringToObject(ns, "addr", st->addr);
        cJSON_AddStringToObject(ns, "state", zp_ns_state_name(st->state));
        cJSON_AddNumberToObject(ns, "rcode", st->rcode);
        vals = cJSON_AddArrayToObject(ns, "values");
        for (k = 0; vals != NULL && k < st->n_other && k < ZP_WATCH_MAX_OTHER; k++) {
            v = cJSON_CreateObject();
            if (v == NULL)
                goto out;
            cJSON_AddItemToArray(vals, v);
            cJSON_AddStringToObject(v, "value", st->other[k]);
            cJSON_AddNumberToObject(v, "ttl", st->other_ttl[k]);
        }
        cJSON_AddStringToObject(ns, "detail", st->detail);
        cJSON_AddBoolToObject(ns, "parentOnly", st->parent_only != 0);
    }
    if (rep->discovery_error[0] != '\0')
        cJSON_AddStringToObject(o, "discoveryError", rep->discovery_error);
    else
        cJSON_AddNullToObject(o, "discoveryError");
    s = cJSON_PrintUnformatted(o);
    if (s != NULL && zp_buf_puts(out, s) == 0)
        rc = 0;
out:
    free(s);
    cJSON_Delete(o);
    return rc;
}
