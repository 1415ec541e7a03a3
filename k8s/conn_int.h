/*
 * conn_int.h — the pure steps of conn.c's header check, for the tests and
 * the fuzz driver: where a request's header block ends, what its header
 * lines say about the body (Content-Length, Transfer-Encoding), and the
 * method and path of its request line for the log. Each reads len bytes
 * that need not end in a NUL and never reads past them.
 */
#ifndef ZP_K8S_CONN_INT_H
#define ZP_K8S_CONN_INT_H

#include <stddef.h>
#include <stdint.h>

/* How a header block frames the body after it. */
struct zp_conn_framing {
    size_t first;    /* the request line's length, its line end and trailing CRs left out */
    const char *cl;  /* the first Content-Length value all digits, trimmed, inside the block */
    size_t cl_len;   /* at least 1 when cl is set (else cl is NULL) */
    uint64_t length; /* cl's value; UINT64_MAX when it does not fit */
    int conflict;    /* another Content-Length value, or one that is not all digits */
    int te;          /* Transfer-Encoding present */
};

/*
 * A header block at the front of the len bytes at p: the request line,
 * header lines, then an empty line; a line ends at LF or CRLF, and an
 * empty first line does not end the block. 0 with *end just past the
 * empty line's LF (never beyond len), or -1 with *end 0 while it is not
 * all here.
 */
int zp_conn_block_end(const char *p, size_t len, size_t *end);

/*
 * What the header block of len bytes says about its body. Lines starting
 * with a space or tab (continuations) and lines without a colon are
 * skipped; names and values are trimmed of spaces and tabs, values also
 * of trailing CRs. Without an LF the whole block is the request line.
 */
void zp_conn_framing(const char *block, size_t len, struct zp_conn_framing *f);

/*
 * The method (up to the first space) and the path (up to the next space)
 * of a request line of n bytes, which ends early at a CR or LF. A method
 * that does not fit in msz bytes is left empty; a path that does not fit
 * in psz bytes is cut short. Both end in a NUL (when msz, psz > 0).
 */
void zp_conn_request_line(const char *line, size_t n, char *method, size_t msz, char *path,
                          size_t psz);

#endif
