/*
 * log.c — JSON-lines logger. Formats into a stack buffer and writes each
 * line with one write(2), so lines from concurrent threads never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define LOG_LINE_MAX 8192

static volatile int log_min = ZP_LOG_INFO;
static volatile int log_fd = 2;

void zp_log_set_level(enum zp_loglevel level)
{
    log_min = level;
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
};

static void put(struct line *l, const char *s, size_t n)
{
    if (l->len + n >= sizeof(l->buf) - 2)
        n = sizeof(l->buf) - 2 - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_str(struct line *l, const char *s)
{
    char esc[8];

    put(l, "\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        } else if (c == '\n') {
            put(l, "\\n", 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(l, esc, 6);
        } else {
            put(l, (const char *)&c, 1);
        }
    }
    put(l, "\"", 1);
}

void zp_log(enum zp_loglevel level, const char *msg, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    struct line l;
    struct timespec ts;
    struct tm tm;
    char tbuf[160];
    va_list ap;
    int type;

    if ((int)level < log_min)
        return;
    l.len = 0;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(tbuf, sizeof(tbuf),
             "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    put(&l, tbuf, strlen(tbuf));
    put_str(&l, names[level]);
    put(&l, ",\"msg\":", 7);
    put_str(&l, msg);

    va_start(ap, msg);
    while ((type = va_arg(ap, int)) != ZP_LOGT_END) {
        const char *key = va_arg(ap, const char *);
        put(&l, ",", 1);
        put_str(&l, key);
        put(&l, ":", 1);
        if (type == ZP_LOGT_STR) {
            const char *v = va_arg(ap, const char *);
            if (v == NULL)
                put(&l, "null", 4);
            else
                put_str(&l, v);
        } else if (type == ZP_LOGT_INT) {
            char num[32];
            int n = snprintf(num, sizeof(num), "%lld", va_arg(ap, long long));
            put(&l, num, (size_t)n);
        } else {
            int v = va_arg(ap, int);
            put(&l, v ? "true" : "false", v ? 4 : 5);
        }
    }
    va_end(ap);
    l.buf[l.len++] = '}';
    l.buf[l.len++] = '\n';
    (void)!write(log_fd, l.buf, l.len);
}
