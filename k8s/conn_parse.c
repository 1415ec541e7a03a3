/*
 * conn_parse.c — the pure steps of conn.c's header check (conn_int.h):
 * where a request's header block ends, how it frames the body, and the
 * request line's method and path for the log. Each reads len bytes of
 * request that need not end in a NUL, by length only; fuzz_conn drives
 * them.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "k8s/conn_int.h"

int zp_conn_block_end(const char *p, size_t len, size_t *end)
{
    size_t at = 0;
    const char *nl;

    *end = 0;
    for (int first = 1; at < len; first = 0) {
        nl = memchr(p + at, '\n', len - at);
        if (nl == NULL)
            return -1;
        /* An empty line: LF or CRLF where the line starts (as EVBUFFER_EOL_CRLF reads it). */
        if (!first && (nl == p + at || (nl == p + at + 1 && p[at] == '\r'))) {
            *end = (size_t)(nl - p) + 1;
            return 0;
        }
        at = (size_t)(nl - p) + 1;
    }
    return -1;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
        (*n)--;
}

/* The n bytes at v as a number: -1 unless all digits (and at least one); UINT64_MAX if too big. */
static int digits(const char *v, size_t n, uint64_t *out)
{
    uint64_t x = 0;

    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        if (x > (UINT64_MAX - (uint64_t)(v[i] - '0')) / 10)
            x = UINT64_MAX;
        else
            x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return 0;
}

static void header_line(struct zp_conn_framing *f, const char *line, size_t n)
{
    const char *colon = memchr(line, ':', n);
    const char *name = line, *v;
    size_t nl, vl;
    uint64_t x;

    if (colon == NULL || n == 0 || *line == ' ' || *line == '\t')
        return; /* a continuation, or garbage evhttp refuses */
    nl = (size_t)(colon - line);
    v = colon + 1;
    vl = n - nl - 1;
    trim(&name, &nl);
    trim(&v, &vl);
    if (nl == 17 && strncasecmp(name, "transfer-encoding", nl) == 0) {
        f->te = 1;
    } else if (nl == 14 && strncasecmp(name, "content-length", nl) == 0) {
        if (digits(v, vl, &x) == -1) {
            f->conflict = 1;
        } else if (f->cl == NULL) {
            f->cl = v;
            f->cl_len = vl;
            f->length = x;
        } else if (vl != f->cl_len || memcmp(v, f->cl, vl) != 0) {
            f->conflict = 1;
        }
    }
}

void zp_conn_framing(const char *block, size_t len, struct zp_conn_framing *f)
{
    const char *end = block + len, *nl;

    memset(f, 0, sizeof(*f));
    if (len == 0)
        return;
    nl = memchr(block, '\n', len);
    f->first = nl != NULL ? (size_t)(nl - block) : len;
    while (f->first > 0 && block[f->first - 1] == '\r')
        f->first--;
    for (const char *q = nl != NULL ? nl + 1 : end; q < end;) {
        const char *e = memchr(q, '\n', (size_t)(end - q));

        if (e == NULL)
            e = end;
        header_line(f, q, (size_t)(e - q));
        q = e < end ? e + 1 : end;
    }
}

void zp_conn_request_line(const char *line, size_t n, char *method, size_t msz, char *path,
                          size_t psz)
{
    const char *sp, *cut;
    size_t ml, pl;

    /* line is n bytes inside the request, not a string: read and copy by length only. */
    if (msz > 0)
        method[0] = '\0';
    if (psz > 0)
        path[0] = '\0';
    if ((cut = memchr(line, '\r', n)) != NULL)
        n = (size_t)(cut - line);
    if ((cut = memchr(line, '\n', n)) != NULL)
        n = (size_t)(cut - line);
    sp = memchr(line, ' ', n);
    if (sp == NULL)
        return;
    ml = (size_t)(sp - line);
    if (ml > 0 && ml < msz) {
        memcpy(method, line, ml);
        method[ml] = '\0';
    }
    cut = memchr(sp + 1, ' ', n - ml - 1);
    pl = cut != NULL ? (size_t)(cut - sp - 1) : n - ml - 1;
    if (psz > 0) {
        if (pl >= psz)
            pl = psz - 1;
        memcpy(path, sp + 1, pl);
        path[pl] = '\0';
    }
}
