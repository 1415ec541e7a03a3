/*
 * buf.c — capped growable buffers, and reading a whole small file into one.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"

void zp_buf_init(struct zp_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->failed = 0;
}

static int reserve(struct zp_buf *b, size_t extra)
{
    size_t need, cap;

    if (b->failed)
        return -1;
    if (extra > b->max || b->len > b->max - extra) {
        b->failed = 1;
        return -1;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    /*
     * Not realloc: a buffer may hold a secret, and realloc would leave the
     * old copy behind in freed memory. Growth is rare and small here.
     */
    {
        char *p = zp_xmalloc(cap);
        if (b->data != NULL) {
            memcpy(p, b->data, b->len + 1);
            zp_wipe(b->data, b->cap);
            free(b->data);
        }
        b->data = p;
    }
    b->cap = cap;
    return 0;
}

int zp_buf_append(struct zp_buf *b, const void *p, size_t n)
{
    if (reserve(b, n) == -1)
        return -1;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int zp_buf_puts(struct zp_buf *b, const char *s)
{
    return zp_buf_append(b, s, strlen(s));
}

int zp_buf_printf(struct zp_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        b->failed = 1;
    if (b->failed || reserve(b, (size_t)n) == -1)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int zp_buf_ok(const struct zp_buf *b)
{
    return !b->failed;
}

int zp_buf_check(const struct zp_buf *b, const char *what, struct zp_err *err)
{
    if (!b->failed)
        return 0;
    return zp_err_set(err, ZP_EINTERNAL, "%s is longer than %zu bytes", what, b->max);
}

const char *zp_buf_str(const struct zp_buf *b)
{
    return b->data ? b->data : "";
}

void zp_buf_reset(struct zp_buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

void zp_buf_free(struct zp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void zp_buf_free_secret(struct zp_buf *b)
{
    zp_wipe(b->data, b->cap);
    zp_buf_free(b);
}

char *zp_buf_take(struct zp_buf *b)
{
    char *s = b->data ? b->data : zp_xstrdup("");

    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
    return s;
}

static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO (named pipe)";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

/*
 * Opens path for reading, refusing anything but a regular file. O_NONBLOCK
 * because opening a FIFO with no writer blocks forever; fstat on the open
 * descriptor so the file judged is the one read.
 */
static int open_regular(const char *path, const char *what, struct stat *st, struct zp_err *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd == -1)
        return zp_err_set(err, errno == ENOENT ? ZP_ENOTFOUND : ZP_ECONFIG,
                          "%s: cannot open %s: %s", what, path, strerror(errno));
    if (fstat(fd, st) == -1) {
        zp_err_set(err, ZP_ECONFIG, "%s: cannot stat %s: %s", what, path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        zp_err_set(err, ZP_ECONFIG, "%s: %s is %s, not a regular file; give the path of a file",
                   what, path, file_kind(st->st_mode));
        close(fd);
        return -1;
    }
    return fd;
}

int zp_file_check_regular(const char *path, const char *what, struct zp_err *err)
{
    struct stat st;
    int fd = open_regular(path, what, &st, err);

    if (fd == -1)
        return -1;
    close(fd);
    return 0;
}

void zp_file_warn_readable(const char *path, const char *what)
{
    struct stat st;
    char mode[8], *fix;

    if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
        return;
    /*
     * Group bits are how a non-root process reads a Secret mounted with
     * defaultMode 0440 and fsGroup (owner root): only warn about them when
     * the owner is this process, who needs none.
     */
    if ((st.st_mode & (S_IROTH | S_IWOTH)) == 0 &&
        ((st.st_mode & (S_IRGRP | S_IWGRP)) == 0 || st.st_uid != geteuid()))
        return;
    snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 0777));
    fix = zp_xasprintf("chmod 600 %s; for a Kubernetes Secret volume set defaultMode: 0400 (or "
                       "0440 with fsGroup), as the zoneproof chart does",
                       path);
    zp_log(ZP_LOG_WARN, "secret file is readable by group or others", ZP_S("setting", what),
           ZP_S("file", path), ZP_S("mode", mode), ZP_S("fix", fix), ZP_END);
    free(fix);
}

int zp_buf_read_file(struct zp_buf *b, const char *path, size_t max, const char *what,
                     struct zp_err *err)
{
    char chunk[4096];
    ssize_t n;
    int fd, rc = -1;
    struct stat st;

    fd = open_regular(path, what, &st, err);
    if (fd == -1)
        return -1;
    b->max = max;
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1) {
            zp_err_set(err, ZP_ECONFIG, "%s: cannot read %s: %s", what, path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (zp_buf_append(b, chunk, (size_t)n) == -1) {
            zp_err_set(err, ZP_ECONFIG, "%s: %s is larger than %zu bytes", what, path, max);
            goto out;
        }
    }
    rc = 0;
out:
    zp_wipe(chunk, sizeof(chunk));
    close(fd);
    return rc;
}

void zp_buf_trim(struct zp_buf *b)
{
    size_t start = 0;

    if (b->data == NULL)
        return;
    while (b->len > 0 && isspace((unsigned char)b->data[b->len - 1]))
        b->data[--b->len] = '\0';
    while (start < b->len && isspace((unsigned char)b->data[start]))
        start++;
    if (start > 0) {
        memmove(b->data, b->data + start, b->len - start + 1);
        zp_wipe(b->data + b->len - start + 1, start);
        b->len -= start;
    }
}
