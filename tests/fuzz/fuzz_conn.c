/*
 * fuzz_conn.c — the bytes a client sends before its body, as conn.c's
 * header check reads them (k8s/conn_int.h): the input is searched for the
 * end of a header block, read for its framing both whole and up to that
 * end, and its first line (and the whole input) split into method and path
 * for the log. The input is copied to a buffer of its exact size, so a read
 * past it is an ASan report. Checks that offsets stay inside the input,
 * that a Content-Length is taken only when all digits, that two different
 * Content-Length values or one with Transfer-Encoding are always flagged
 * (against a second, plainer reading of the lines), and that method and
 * path end in a NUL inside their buffers with no CR, LF or space.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/conn_int.h"

/* What the plain reading found: Content-Length headers, and Transfer-Encoding. */
struct seen {
    size_t n_cl;
    const char *cl; /* the first value */
    size_t cl_len;
    const char *good; /* the first value that is all digits */
    size_t good_len;
    int differ; /* a later value is not the first */
    int bad;    /* a value is empty or not all digits */
    int te;
};

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static int name_is(const char *s, size_t n, const char *want)
{
    size_t i;

    if (n != strlen(want))
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (c != want[i])
            return 0;
    }
    return 1;
}

static void plain_line(struct seen *s, const char *l, size_t n)
{
    size_t colon = 0, a = 0, b, va, vb, i;

    if (n == 0 || is_ws(l[0]))
        return;
    while (colon < n && l[colon] != ':')
        colon++;
    if (colon == n)
        return;
    b = colon;
    while (a < b && is_ws(l[a]))
        a++;
    while (b > a && (is_ws(l[b - 1]) || l[b - 1] == '\r'))
        b--;
    va = colon + 1;
    vb = n;
    while (va < vb && is_ws(l[va]))
        va++;
    while (vb > va && (is_ws(l[vb - 1]) || l[vb - 1] == '\r'))
        vb--;
    if (name_is(l + a, b - a, "transfer-encoding")) {
        s->te = 1;
        return;
    }
    if (!name_is(l + a, b - a, "content-length"))
        return;
    for (i = va; i < vb && l[i] >= '0' && l[i] <= '9'; i++)
        ;
    if (vb == va || i < vb)
        s->bad = 1;
    else if (s->good == NULL) {
        s->good = l + va;
        s->good_len = vb - va;
    }
    if (s->n_cl++ == 0) {
        s->cl = l + va;
        s->cl_len = vb - va;
    } else if (vb - va != s->cl_len || memcmp(l + va, s->cl, s->cl_len) != 0) {
        s->differ = 1;
    }
}

static void check_framing(const char *p, size_t len)
{
    struct zp_conn_framing f;
    struct seen s = {0};
    size_t i = 0, j;
    uint64_t x = 0;

    zp_conn_framing(p, len, &f);
    if (f.first > len || memchr(p, '\n', f.first) != NULL ||
        (f.first > 0 && p[f.first - 1] == '\r'))
        abort();
    while (i < len && p[i] != '\n')
        i++;
    for (i++; i < len; i = j + 1) {
        for (j = i; j < len && p[j] != '\n'; j++)
            ;
        plain_line(&s, p + i, j - i);
    }
    if (f.te != s.te)
        abort();
    if ((s.differ || s.bad) && !f.conflict)
        abort(); /* two different values, or one that is not a number */
    if (s.te && s.n_cl > 0 && !f.conflict && !(f.te && f.cl != NULL))
        abort(); /* Content-Length with Transfer-Encoding must be seen as such */
    if ((s.good != NULL) != (f.cl != NULL))
        abort();
    if (f.cl == NULL)
        return;
    if (f.cl < p || f.cl_len == 0 || f.cl_len > len || f.cl > p + len - f.cl_len)
        abort();
    if (f.cl_len != s.good_len || memcmp(f.cl, s.good, f.cl_len) != 0)
        abort();
    for (i = 0; i < f.cl_len; i++) {
        if (f.cl[i] < '0' || f.cl[i] > '9')
            abort();
        if (x == UINT64_MAX || __builtin_mul_overflow(x, 10, &x) ||
            __builtin_add_overflow(x, (uint64_t)(f.cl[i] - '0'), &x))
            x = UINT64_MAX;
    }
    if (f.length != x)
        abort();
}

static void check_text(const char *s, size_t sz)
{
    const char *nul = memchr(s, '\0', sz);

    if (nul == NULL)
        abort();
    if (memchr(s, '\r', (size_t)(nul - s)) || memchr(s, '\n', (size_t)(nul - s)) ||
        memchr(s, ' ', (size_t)(nul - s)))
        abort();
}

/* Method and path into buffers of their exact size (heap: ASan sees a byte past them). */
static void check_request_line(const char *line, size_t n, size_t msz, size_t psz)
{
    char *method = malloc(msz), *path = malloc(psz);

    if (method == NULL || path == NULL)
        abort();
    memset(method, 'x', msz);
    memset(path, 'x', psz);
    zp_conn_request_line(line, n, method, msz, path, psz);
    check_text(method, msz);
    check_text(path, psz);
    if (method[0] != '\0' && memcmp(method, line, strlen(method)) != 0)
        abort();
    free(method);
    free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    struct zp_conn_framing f;
    size_t end = 1, first = 1;

    if (p == NULL)
        abort();
    if (size > 0)
        memcpy(p, data, size);
    check_framing(p, size);
    if (zp_conn_block_end(p, size, &end) == 0) {
        /* Past an LF that ends an empty line, never the first one. */
        if (end < 2 || end > size || p[end - 1] != '\n' || memchr(p, '\n', end - 1) == NULL)
            abort();
        if (p[end - 2] != '\n' && !(end >= 3 && p[end - 2] == '\r' && p[end - 3] == '\n'))
            abort();
        if (zp_conn_block_end(p, end - 1, &first) != -1 || first != 0)
            abort(); /* the first such line */
        check_framing(p, end);
        zp_conn_framing(p, end, &f);
        check_request_line(p, f.first, 16, 256);
    } else if (end != 0) {
        abort();
    }
    check_request_line(p, size, 16, 256);
    check_request_line(p, size, 1 + size % 8, 1 + size % 13);
    free(p);
    return 0;
}
