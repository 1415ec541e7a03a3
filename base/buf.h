/*
 * buf.h — the one growable buffer, capped by the caller.
 *
 * Everything whose size input controls (request bodies, upstream replies,
 * files) goes through a zp_buf with a maximum: appending past it fails and
 * never truncates. The contents are always NUL-terminated.
 *
 * A failure is sticky: once an append is refused, every later append fails
 * too, so the contents stay exactly what was built before the failure and
 * never become a different string with a piece missing from the middle. A
 * builder may therefore ignore the results of a run of appends and ask once,
 * before it uses what it built:
 *
 *     zp_buf_printf(&url, "%s/zones/", endpoint);
 *     zp_http_escape(zone, &url);
 *     zp_buf_puts(&url, "/records");
 *     if (zp_buf_check(&url, "the records URL", err) == -1)
 *         goto out;
 *
 * (zp_buf_ok asks without making an error.) zp_buf_reset, zp_buf_free and
 * zp_buf_take clear the failure along with the contents. scripts/checksrc
 * flags a function that ignores an append and never asks.
 */
#ifndef ZP_BASE_BUF_H
#define ZP_BASE_BUF_H

#include <stddef.h>

struct zp_err;

struct zp_buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* appends that would exceed this fail */
    int failed; /* an append failed: so do all later ones, until reset */
};

void zp_buf_init(struct zp_buf *b, size_t max);
int zp_buf_append(struct zp_buf *b, const void *p, size_t n);
int zp_buf_puts(struct zp_buf *b, const char *s);
int zp_buf_printf(struct zp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 while every append since init (or reset) succeeded; 0 once one failed. */
int zp_buf_ok(const struct zp_buf *b);
/*
 * The builder's one question, as an error: 0 when b is whole, else -1 with
 * "<what> is longer than <max> bytes" (ZP_EINTERNAL: the cap is ours).
 */
int zp_buf_check(const struct zp_buf *b, const char *what, struct zp_err *err);
/* Always a valid string, "" when empty. */
const char *zp_buf_str(const struct zp_buf *b);
void zp_buf_reset(struct zp_buf *b);
void zp_buf_free(struct zp_buf *b);
/* Wipes the contents before freeing: for anything that held a secret. */
void zp_buf_free_secret(struct zp_buf *b);
/* Hands the string to the caller (who frees it); the buffer is empty again. */
char *zp_buf_take(struct zp_buf *b);

/*
 * Reads a whole file of at most max bytes. what names the file's purpose in
 * the error ("tsigSecretFile"), so the sentence says which setting to fix.
 */
int zp_buf_read_file(struct zp_buf *b, const char *path, size_t max, const char *what,
                     struct zp_err *err);
/*
 * -1 unless path opens as a regular file: FIFOs, devices, sockets and
 * directories are refused without blocking. For files another library reads.
 */
int zp_file_check_regular(const char *path, const char *what, struct zp_err *err);
/* Logs a warning naming what and path when a secret file is readable by group or others. */
void zp_file_warn_readable(const char *path, const char *what);

/* Removes leading and trailing ASCII white space (a Secret's trailing newline). */
void zp_buf_trim(struct zp_buf *b);

#endif
