/*
 * dnsq.c — one blocking DNS question to one server (UDP, TCP after
 * truncation), the recursive resolvers (configured or resolv.conf) and
 * asking them in turn, and the Extended DNS Error of an answer.
 *
 * A connected UDP socket reports ICMP errors (port unreachable becomes
 * "connection refused"), so a dead server is named at once instead of
 * waiting out the timeout. Phrases written into why are stable: they go
 * into sentences that cert-manager compares between attempts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/mem.h"
#include "providers/tsig.h"
#include "solver/dnsq.h"

#define RESOLV_CONF "/etc/resolv.conf"
#define EDNS_SIZE 1232

/* --- servers ------------------------------------------------------------------------------ */

void zp_ns_addr_format(const struct sockaddr *sa, char *out, size_t outsz)
{
    char host[INET6_ADDRSTRLEN];

    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        snprintf(out, outsz, "[%s]:%u", host, ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        snprintf(out, outsz, "%s:%u", host, ntohs(s4->sin_port));
    }
}

void zp_ns_target_set(struct zp_ns_target *t, const struct sockaddr *sa, socklen_t len)
{
    if (len > sizeof(t->sa))
        len = sizeof(t->sa);
    memcpy(&t->sa, sa, len);
    t->salen = len;
    zp_ns_addr_format(sa, t->addr, sizeof(t->addr));
}

int zp_ns_target_parse(const char *hostport, unsigned default_port, struct zp_ns_target *t,
                       char *why, size_t whysz)
{
    struct addrinfo hints, *res = NULL, *ai, *pick = NULL;
    char host[ZP_DNAME_MAX], port[8];
    unsigned p;
    int rc;

    memset(t, 0, sizeof(*t));
    if (zp_hostport_split(hostport, default_port, host, sizeof(host), &p) == -1) {
        snprintf(why, whysz, "\"%s\" is not host:port", hostport);
        zp_strlcpy(t->name, hostport, sizeof(t->name));
        return -1;
    }
    zp_strlcpy(t->name, host, sizeof(t->name));
    snprintf(port, sizeof(port), "%u", p);
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(why, whysz, "cannot resolve %s: %s", host, gai_strerror(rc));
        snprintf(t->detail, sizeof(t->detail), "cannot resolve the host name: %s",
                 gai_strerror(rc));
        return -1;
    }
    /* IPv4 first: a pod without an IPv6 route should still reach a dual-stack server. */
    for (ai = res; ai != NULL && pick == NULL; ai = ai->ai_next)
        if (ai->ai_family == AF_INET)
            pick = ai;
    for (ai = res; ai != NULL && pick == NULL; ai = ai->ai_next)
        if (ai->ai_family == AF_INET6)
            pick = ai;
    if (pick != NULL)
        zp_ns_target_set(t, pick->ai_addr, pick->ai_addrlen);
    freeaddrinfo(res);
    if (pick == NULL) {
        snprintf(why, whysz, "%s has no IPv4 or IPv6 address", host);
        snprintf(t->detail, sizeof(t->detail), "the host name has no address");
        return -1;
    }
    return 0;
}

/* --- one exchange ------------------------------------------------------------------------- */

/* A random query id: an off-path answer must guess it. */
static uint16_t query_id(void)
{
    uint16_t id;

    if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
        id = (uint16_t)zp_now_ms();
    return id;
}

static ldns_pkt *query_new(const char *qname, ldns_rr_type type, unsigned flags, uint16_t id)
{
    ldns_rdf *name = ldns_dname_new_frm_str(qname);
    ldns_pkt *q;

    if (name == NULL)
        return NULL;
    q = ldns_pkt_query_new(name, type, LDNS_RR_CLASS_IN, (flags & ZP_DNSQ_RD) ? LDNS_RD : 0);
    if (q == NULL)
        return NULL; /* ldns_pkt_query_new frees name on failure */
    ldns_pkt_set_id(q, id);
    ldns_pkt_set_edns_udp_size(q, EDNS_SIZE);
    if (flags & ZP_DNSQ_DO)
        ldns_pkt_set_edns_do(q, true);
    if (flags & ZP_DNSQ_CD)
        ldns_pkt_set_cd(q, true);
    return q;
}

int zp_dnsq_wire(const char *qname, ldns_rr_type type, unsigned flags, uint16_t id, uint8_t **wire,
                 size_t *len)
{
    ldns_pkt *q = query_new(qname, type, flags, id);
    int rc = -1;

    if (q != NULL && ldns_pkt2wire(wire, q, len) == LDNS_STATUS_OK)
        rc = 0;
    ldns_pkt_free(q);
    return rc;
}

int zp_dnsq_matches(const ldns_pkt *p, uint16_t id, const char *qname, ldns_rr_type type)
{
    const ldns_rr_list *q = ldns_pkt_question(p);
    const ldns_rr *rr;
    ldns_rdf *n;
    int eq;

    if (!ldns_pkt_qr(p) || ldns_pkt_id(p) != id || q == NULL || ldns_rr_list_rr_count(q) != 1)
        return 0;
    rr = ldns_rr_list_rr(q, 0);
    if (ldns_rr_get_type(rr) != type || ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
        return 0;
    n = ldns_dname_new_frm_str(qname);
    eq = n != NULL && ldns_dname_compare(ldns_rr_owner(rr), n) == 0;
    ldns_rdf_deep_free(n);
    return eq;
}

static int tcp_ask(const struct zp_ns_target *t, const char *qname, ldns_rr_type type,
                   unsigned flags, unsigned timeout_ms, ldns_pkt **out, char *why, size_t whysz)
{
    struct timeval tv = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000};
    ldns_buffer *qbin = ldns_buffer_new(LDNS_MAX_PACKETLEN);
    ldns_pkt *q = NULL, *p = NULL;
    uint8_t *answer = NULL;
    size_t alen = 0;
    uint16_t id = 0;
    int rc = -1;

    id = query_id();
    q = query_new(qname, type, flags, id);
    if (q == NULL || qbin == NULL || ldns_pkt2buffer_wire(qbin, q) != LDNS_STATUS_OK) {
        snprintf(why, whysz, "cannot build the query");
        goto out;
    }
    if (ldns_tcp_send(&answer, qbin, &t->sa, t->salen, tv, &alen) != LDNS_STATUS_OK ||
        answer == NULL) {
        /* A stable phrase: the sentence must not change with timing. */
        snprintf(why, whysz, "no answer over TCP");
        goto out;
    }
    if (zp_tsig_wire2pkt(&p, answer, alen) != LDNS_STATUS_OK ||
        !zp_dnsq_matches(p, id, qname, type)) {
        snprintf(why, whysz, "malformed answer over TCP");
        goto out;
    }
    *out = p;
    p = NULL;
    rc = 0;
out:
    free(answer);
    ldns_pkt_free(p);
    ldns_pkt_free(q);
    ldns_buffer_free(qbin);
    return rc;
}

/* A UDP socket connected to t with the query sent on it; -1 with why. */
static int udp_send(const struct zp_ns_target *t, const uint8_t *wire, size_t wlen, char *why,
                    size_t whysz)
{
    int fd = socket(t->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || connect(fd, (const struct sockaddr *)&t->sa, t->salen) == -1 ||
        send(fd, wire, wlen, 0) != (ssize_t)wlen) {
        snprintf(why, whysz, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int zp_dnsq_ask(const struct zp_ns_target *t, const char *qname, ldns_rr_type type, unsigned flags,
                uint64_t deadline, unsigned try_ms, ldns_pkt **out, char *why, size_t whysz)
{
    uint8_t *wire = NULL, rx[65536];
    size_t wlen;
    uint16_t id = 0;
    uint64_t until;
    int fd = -1, rc = -1, cut;

    *out = NULL;
    if (try_ms == 0)
        try_ms = ZP_DNSQ_TRY_MS;
    until = zp_now_ms() + try_ms;
    cut = until > deadline;
    if (cut)
        until = deadline;
    if (t->salen == 0) {
        snprintf(why, whysz, "%s", t->detail[0] ? t->detail : "no address");
        return -1;
    }
    if (flags & ZP_DNSQ_TCP) {
        uint64_t left = zp_ms_left(until);
        if (left == 0) {
            snprintf(why, whysz, "no answer");
            return -1;
        }
        return tcp_ask(t, qname, type, flags, (unsigned)left, out, why, whysz);
    }
    id = query_id();
    if (zp_dnsq_wire(qname, type, flags, id, &wire, &wlen) == -1) {
        snprintf(why, whysz, "cannot build the query");
        goto out;
    }
    if ((fd = udp_send(t, wire, wlen, why, whysz)) == -1)
        goto out;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        uint64_t left = zp_ms_left(until);
        ldns_pkt *p = NULL;
        ssize_t n;

        if (left == 0 || poll(&pfd, 1, (int)left) == 0) {
            /* One phrase whether the try ran its course or the deadline cut it: that is
             * timing, and the phrase goes into sentences that must not change (issue #9). */
            snprintf(why, whysz, "no answer");
            zp_log(ZP_LOG_DEBUG, "dns query unanswered", ZP_S("qname", qname),
                   ZP_I("try_ms", try_ms), ZP_B("cut_by_deadline", cut), ZP_END);
            goto out;
        }
        n = recv(fd, rx, sizeof(rx), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            snprintf(why, whysz, "%s",
                     errno == ECONNREFUSED ? "connection refused (nothing "
                                             "listens on that port)"
                                           : strerror(errno));
            goto out;
        }
        if (zp_tsig_wire2pkt(&p, rx, (size_t)n) != LDNS_STATUS_OK)
            continue;
        if (!zp_dnsq_matches(p, id, qname, type)) {
            ldns_pkt_free(p);
            continue;
        }
        if (ldns_pkt_tc(p)) {
            ldns_pkt_free(p);
            left = zp_ms_left(deadline);
            rc = tcp_ask(t, qname, type, flags, left < try_ms ? (unsigned)left + 1 : try_ms, out,
                         why, whysz);
            goto out;
        }
        *out = p;
        rc = 0;
        goto out;
    }
out:
    if (fd >= 0)
        close(fd);
    free(wire);
    return rc;
}

/* --- resolvers ---------------------------------------------------------------------------- */

size_t zp_dnsq_resolvers(char *const *list, size_t n, struct zp_dnsq_resolvers *out,
                         struct zp_buf *why)
{
    char line[512], w2[ZP_DNAME_MAX], sub[256];
    size_t i;
    FILE *f;

    out->n = 0;
    if (n > 0) {
        for (i = 0; i < n && out->n < ZP_DNSQ_RESOLVERS_MAX; i++) {
            if (zp_ns_target_parse(list[i], 53, &out->t[out->n], sub, sizeof(sub)) == 0)
                out->n++;
            else
                zp_buf_printf(why, "resolver %s: %s; ", list[i], sub);
        }
        return out->n;
    }
    f = fopen(RESOLV_CONF, "re");
    if (f == NULL) {
        zp_buf_printf(why, "cannot read %s: %s; ", RESOLV_CONF, strerror(errno));
        return 0;
    }
    while (out->n < ZP_DNSQ_RESOLVERS_MAX && fgets(line, sizeof(line), f) != NULL) {
        char br[ZP_DNAME_MAX + 4], *pct;

        if (sscanf(line, " nameserver %255s", w2) != 1)
            continue;
        if ((pct = strchr(w2, '%')) != NULL)
            *pct = '\0'; /* an IPv6 scope: link-local resolvers are rare in pods */
        if (strchr(w2, ':') != NULL)
            snprintf(br, sizeof(br), "[%s]", w2);
        else
            zp_strlcpy(br, w2, sizeof(br));
        if (zp_ns_target_parse(br, 53, &out->t[out->n], sub, sizeof(sub)) == 0)
            out->n++;
    }
    fclose(f);
    if (out->n == 0)
        zp_buf_printf(why, "%s lists no usable nameserver; ", RESOLV_CONF);
    return out->n;
}

int zp_dnsq_recurse(const struct zp_dnsq_resolvers *r, const char *qname, ldns_rr_type type,
                    unsigned flags, uint64_t deadline, ldns_pkt **out, size_t *who,
                    struct zp_buf *why)
{
    const ldns_rr_descriptor *d = ldns_rr_descript(type);
    size_t tries, i, asked;
    char sub[160], last[ZP_DNSQ_RESOLVERS_MAX][160];

    *out = NULL;
    if (r->n == 0) {
        zp_buf_printf(why, "no resolver to ask; ");
        return -1;
    }
    tries = r->n < 2 ? 2 : r->n;
    memset(last, 0, sizeof(last));
    for (i = 0; i < tries && zp_ms_left(deadline) > 0; i++) {
        const struct zp_ns_target *t = &r->t[i % r->n];
        ldns_pkt *p;
        int rc;

        if (zp_dnsq_ask(t, qname, type, flags | ZP_DNSQ_RD, deadline, 0, &p, sub, sizeof(sub)) ==
            0) {
            rc = ldns_pkt_get_rcode(p);
            if (rc == LDNS_RCODE_NOERROR || rc == LDNS_RCODE_NXDOMAIN) {
                *out = p;
                *who = i % r->n;
                return 0;
            }
            const ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, rc);
            char ede[96];
            zp_dnsq_ede(p, ede, sizeof(ede));
            snprintf(sub, sizeof(sub), "answers %s%s%s%s", lt ? lt->name : "an unknown rcode",
                     ede[0] ? " (" : "", ede, ede[0] ? ")" : "");
            ldns_pkt_free(p);
        }
        zp_strlcpy(last[i % r->n], sub, sizeof(last[0]));
    }
    asked = i;
    for (i = 0; i < r->n; i++)
        if (last[i][0] != '\0')
            zp_buf_printf(why, "asked %s for %s %s (recursion desired): %s; ", r->t[i].addr, qname,
                          d && d->_name ? d->_name : "?", last[i]);
    /* Whether time ran out first varies between attempts: said only when nobody was asked. */
    if (asked == 0)
        zp_buf_printf(why, "ran out of time; ");
    return -1;
}

/* --- TXT answers ------------------------------------------------------------------------- */

/* The strings of a TXT record joined, as cert-manager compares them. */
size_t zp_dnsq_txt_join(const ldns_rr *rr, char *out, size_t outsz)
{
    size_t len = 0, i;

    for (i = 0; i < ldns_rr_rd_count(rr); i++) {
        const ldns_rdf *f = ldns_rr_rdf(rr, i);
        const uint8_t *d = ldns_rdf_data(f);
        size_t n;

        if (ldns_rdf_get_type(f) != LDNS_RDF_TYPE_STR || ldns_rdf_size(f) < 1)
            continue;
        n = d[0] < ldns_rdf_size(f) - 1 ? d[0] : ldns_rdf_size(f) - 1;
        if (len + n >= outsz)
            n = outsz - 1 - len;
        memcpy(out + len, d + 1, n);
        len += n;
    }
    out[len] = '\0';
    return len;
}

int zp_dnsq_txt_has(const ldns_pkt *p, const char *value)
{
    const ldns_rr_list *an = ldns_pkt_answer(p);
    size_t vlen = strlen(value);
    char buf[2048];

    for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT &&
            zp_dnsq_txt_join(rr, buf, sizeof(buf)) == vlen && memcmp(buf, value, vlen) == 0)
            return 1;
    }
    return 0;
}

/* --- Extended DNS Errors ------------------------------------------------------------------ */

void zp_dnsq_ede(ldns_pkt *p, char *out, size_t outsz)
{
    ldns_edns_option_list *opts;
    size_t i;

    out[0] = '\0';
    if (p == NULL || (opts = ldns_pkt_edns_get_option_list(p)) == NULL)
        return;
    for (i = 0; i < ldns_edns_option_list_get_count(opts); i++) {
        const ldns_edns_option *o = ldns_edns_option_list_get_option(opts, i);
        const uint8_t *d;
        size_t n, k, j = 0;
        char text[80];

        if (ldns_edns_get_code(o) != LDNS_EDNS_EDE || ldns_edns_get_size(o) < 2)
            continue;
        d = ldns_edns_get_data(o);
        n = ldns_edns_get_size(o) - 2;
        /* The text is the server's: keep it printable and short. */
        for (k = 0; k < n && j + 1 < sizeof(text); k++)
            text[j++] = d[2 + k] >= 0x20 && d[2 + k] < 0x7f ? (char)d[2 + k] : '?';
        text[j] = '\0';
        snprintf(out, outsz, "Extended DNS Error %u%s%s", (unsigned)((d[0] << 8) | d[1]),
                 j ? ": " : "", text);
        return;
    }
}
