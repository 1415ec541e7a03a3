/*
 * log.c — JSON-lines logger. Formats into a stack buffer and writes each
 * line with one write(2), so lines from concurrent threads never interleave.
 *
 * Every line is valid JSON whatever the caller passes: strings are escaped,
 * bytes that are not UTF-8 become U+FFFD (a header or a body from outside
 * may hold anything), and a line that would pass the cap loses whole fields
 * or the tail of a string value, never a closing quote or brace, and says
 * so with "truncated":true.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define LOG_LINE_MAX 8192
/* Kept free for the closing marker, brace and newline. */
#define LOG_TAIL ",\"truncated\":true}\n"

static volatile int log_min = ZP_LOG_INFO;
static volatile int log_audit = 1;
static volatile int log_fd = 2;
static int archive_fd = -1;
static pthread_once_t archive_once = PTHREAD_ONCE_INIT;

/*
 * Test-only: with ZP_TEST_LOG_ARCHIVE naming a folder, every line also goes
 * to <folder>/zoneproof.<pid>.log, so the test suite can search the logs of
 * every process it started for the secrets it used (tests/logscan.py),
 * however each test handled the process's stderr.
 */
static void archive_open(void)
{
    const char *dir = getenv("ZP_TEST_LOG_ARCHIVE");
    char path[4096];

    if (dir == NULL || dir[0] == '\0')
        return;
    snprintf(path, sizeof(path), "%s/zoneproof.%ld.log", dir, (long)getpid());
    archive_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

void zp_log_set_level(enum zp_loglevel level)
{
    log_min = level;
}

void zp_log_set_audit(int on)
{
    log_audit = on;
}

void zp_log_set_fd(int fd)
{
    log_fd = fd;
}

int zp_log_parse_level(const char *s)
{
    static const char *names[] = {"debug", "info", "warn", "error"};

    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

struct line {
    char buf[LOG_LINE_MAX];
    size_t len;
    size_t room; /* where field text must end: the tail always fits after it */
    int truncated;
};

/* Appends n bytes whole, or nothing: -1 when they would pass the room. */
static int put(struct line *l, const char *s, size_t n)
{
    if (l->len > l->room || n > l->room - l->len)
        return -1;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return 0;
}

/*
 * The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0 if it is not one.
 */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t n;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf) /* also stops at the terminating NUL */
            return 0;
    return n;
}

/*
 * The JSON text of the character at *s into esc (at most 7 bytes); moves
 * *s past it. Returns the length written.
 */
static size_t escape_one(const unsigned char **s, char *esc)
{
    unsigned char c = **s;
    size_t n;

    if (c >= 0x80) {
        if ((n = utf8_len(*s)) == 0) {
            (*s)++;
            memcpy(esc, "\\ufffd", 6);
            return 6;
        }
        memcpy(esc, *s, n);
        *s += n;
        return n;
    }
    (*s)++;
    if (c == '"' || c == '\\') {
        esc[0] = '\\';
        esc[1] = (char)c;
        return 2;
    }
    if (c == '\n' || c == '\t' || c == '\r') {
        esc[0] = '\\';
        esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
        return 2;
    }
    if (c < 0x20 || c == 0x7f)
        return (size_t)snprintf(esc, 8, "\\u%04x", c);
    esc[0] = (char)c;
    return 1;
}

/*
 * A quoted, escaped string: 0 when whole. When it does not fit: with cut, as
 * much as fits (whole characters) and the closing quote, 1; without, nothing, -1.
 */
static int put_str(struct line *l, const char *s, int cut)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t mark = l->len;
    int rc = 0;
    char esc[8];

    if (l->len + 2 > l->room || put(l, "\"", 1) == -1)
        return -1;
    l->room--; /* the closing quote always fits */
    while (*p && rc == 0)
        if (put(l, esc, escape_one(&p, esc)) == -1)
            rc = cut ? 1 : -1;
    l->room++;
    if (rc == -1)
        l->len = mark;
    else
        (void)put(l, "\"", 1);
    return rc;
}

/* One ,"key":value; a string that does not fit is cut, any other value left out with its key. */
static void put_field(struct line *l, int type, const char *key, va_list *ap)
{
    size_t mark = l->len;
    const char *v = NULL;
    long long i = 0;
    char num[32];
    int rc, n;

    /* Take the value first: the arguments must be read whether or not the field fits. */
    if (type == ZP_LOGT_STR)
        v = va_arg(*ap, const char *);
    else if (type == ZP_LOGT_INT)
        i = va_arg(*ap, long long);
    else
        i = va_arg(*ap, int);
    if (put(l, ",", 1) == -1 || put_str(l, key, 0) == -1 || put(l, ":", 1) == -1) {
        rc = -1;
    } else if (type == ZP_LOGT_STR) {
        rc = v == NULL ? put(l, "null", 4) : put_str(l, v, 1);
    } else if (type == ZP_LOGT_INT) {
        n = snprintf(num, sizeof(num), "%lld", i);
        rc = put(l, num, (size_t)n);
    } else {
        rc = put(l, i ? "true" : "false", i ? 4 : 5);
    }
    if (rc == -1)
        l->len = mark;
    if (rc != 0)
        l->truncated = 1;
}

void zp_log(enum zp_loglevel level, const char *msg, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error", "info"};
    struct line l;
    struct timespec ts;
    struct tm tm;
    char tbuf[160];
    va_list ap;
    int type;

    if (level == ZP_LOG_AUDIT ? !log_audit : (int)level < log_min)
        return;
    l.len = 0;
    l.room = sizeof(l.buf) - strlen(LOG_TAIL);
    l.truncated = 0;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(tbuf, sizeof(tbuf),
             "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    (void)put(&l, tbuf, strlen(tbuf));
    (void)put_str(&l, names[level], 0);
    (void)put(&l, ",\"msg\":", 7);
    if (put_str(&l, msg, 1) != 0)
        l.truncated = 1;
    if (level == ZP_LOG_AUDIT)
        (void)put(&l, ",\"audit\":true", 13);

    va_start(ap, msg);
    while ((type = va_arg(ap, int)) != ZP_LOGT_END) {
        const char *key = va_arg(ap, const char *);
        put_field(&l, type, key, &ap);
    }
    va_end(ap);
    l.room = sizeof(l.buf);
    if (l.truncated)
        (void)put(&l, ",\"truncated\":true", 17);
    (void)put(&l, "}\n", 2);
    (void)!write(log_fd, l.buf, l.len);
    pthread_once(&archive_once, archive_open);
    if (archive_fd != -1)
        (void)!write(archive_fd, l.buf, l.len);
}
