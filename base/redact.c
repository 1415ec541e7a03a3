/*
 * redact.c — credentials out of upstream bodies before they are logged.
 *
 * Works on a copy: one pass per secret value (each of its forms), then one
 * pass over the text for what looks like a credential whoever sent it.
 */
#define _GNU_SOURCE /* memmem */
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/httpc.h"
#include "base/mem.h"
#include "base/redact.h"

/* What is read of a body: a log line keeps a few KB of it, and the passes copy the text. */
#define REDACT_WINDOW (256u * 1024u)
/* Each pass can grow the text at most tenfold ("abc" becomes [REDACTED]). */
#define REDACT_WORK_MAX (16u * REDACT_WINDOW)
#define SECRET_MIN 3

static const char *const sensitive[] = {
    "key",       "secret",     "token",         "password", "passwd",
    "signature", "credential", "authorization", NULL,
};

static int is_keych(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* Characters of a bearer token (RFC 6750 b64token). */
static int is_tokench(unsigned char c)
{
    return is_keych(c) || c == '~' || c == '+' || c == '/' || c == '=';
}

/* 1 when the key t[0..n) names a credential. */
static int is_sensitive(const char *t, size_t n)
{
    char low[64];

    if (n >= sizeof(low))
        n = sizeof(low) - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(t[i] >= 'A' && t[i] <= 'Z' ? t[i] - 'A' + 'a' : t[i]);
    low[n] = '\0';
    for (size_t i = 0; sensitive[i] != NULL; i++)
        if (strstr(low, sensitive[i]) != NULL)
            return 1;
    return 0;
}

/* Replaces every copy of needle[0..n) in *text with the marker; tmp is scratch. 0, or -1. */
static int cut_value(struct zp_buf *text, const char *needle, size_t n, struct zp_buf *tmp)
{
    const char *p = zp_buf_str(text), *end = p + text->len, *hit;
    struct zp_buf swap;

    zp_buf_reset(tmp);
    while ((hit = memmem(p, (size_t)(end - p), needle, n)) != NULL) {
        zp_buf_append(tmp, p, (size_t)(hit - p));
        zp_buf_puts(tmp, ZP_REDACTED);
        p = hit + n;
    }
    zp_buf_append(tmp, p, (size_t)(end - p));
    if (!zp_buf_ok(tmp))
        return -1; /* not within REDACT_WORK_MAX: the caller logs nothing of the text */
    swap = *text;
    *text = *tmp;
    *tmp = swap;
    return 0;
}

/* The forms a server echoes a value in: as sent, percent-encoded, JSON-escaped ("\/"). */
static int cut_secret(struct zp_buf *text, const char *s, struct zp_buf *tmp)
{
    struct zp_buf form;
    int rc = cut_value(text, s, strlen(s), tmp);

    zp_buf_init(&form, REDACT_WORK_MAX);
    if (zp_http_escape(s, &form) == 0 && strcmp(zp_buf_str(&form), s) != 0)
        rc |= cut_value(text, zp_buf_str(&form), form.len, tmp);
    zp_buf_reset(&form);
    for (const char *p = s; *p; p++) {
        if (*p == '/' || *p == '"' || *p == '\\')
            zp_buf_append(&form, "\\", 1);
        zp_buf_append(&form, p, 1);
    }
    if (zp_buf_ok(&form) && strcmp(zp_buf_str(&form), s) != 0)
        rc |= cut_value(text, zp_buf_str(&form), form.len, tmp);
    zp_buf_free_secret(&form);
    return rc;
}

/* An XML element's text after the name ending at t[k]: up to the next '<'. */
static int xml_value(const char *t, size_t n, size_t k, size_t *vs, size_t *ve)
{
    while (k < n && t[k] != '>' && t[k] != '<')
        k++;
    if (k >= n || t[k] != '>' || t[k - 1] == '/')
        return 0;
    *vs = ++k;
    while (k < n && t[k] != '<')
        k++;
    *ve = k;
    return *ve > *vs;
}

/* A quoted value from t[k] (the quote): its contents, up to the closing quote. */
static int quoted_value(const char *t, size_t n, size_t k, size_t *vs, size_t *ve)
{
    char q = t[k];

    *vs = ++k;
    while (k < n && t[k] != q)
        k += t[k] == '\\' ? 2 : 1;
    *ve = k < n ? k : n;
    return *ve > *vs;
}

/*
 * The value that follows the key t[i..j): after an optional closing quote,
 * ':' or '=', and blanks. An object or array is not a value here (its own
 * keys are looked at). An Authorization header's value runs to the line's end.
 */
static int find_value(const char *t, size_t n, size_t i, size_t j, size_t *vs, size_t *ve)
{
    const char *stops = " \t\r\n&;,\"'<>{}[]()\\";
    size_t k = j;

    if (i > 0 && t[i - 1] == '<')
        return xml_value(t, n, k, vs, ve);
    if (k + 1 < n && t[k] == '\\' && t[k + 1] == '"') /* JSON inside a JSON string */
        k += 2;
    else if (k < n && (t[k] == '"' || t[k] == '\''))
        k++;
    while (k < n && (t[k] == ' ' || t[k] == '\t'))
        k++;
    if (k >= n || (t[k] != ':' && t[k] != '='))
        return 0;
    for (k++; k < n && (t[k] == ' ' || t[k] == '\t');)
        k++;
    if (k < n && (t[k] == '"' || t[k] == '\''))
        return quoted_value(t, n, k, vs, ve);
    if (k + 1 < n && t[k] == '\\' && t[k + 1] == '"') { /* up to the next \" */
        *vs = k + 2;
        *ve = *vs;
        while (*ve < n && !(t[*ve] == '\\' && *ve + 1 < n && t[*ve + 1] == '"'))
            (*ve)++;
        return *ve > *vs;
    }
    if (j - i == 13 && strncasecmp(t + i, "authorization", 13) == 0)
        stops = "\r\n\"'<\\";
    for (*vs = *ve = k; *ve < n && t[*ve] != '\0' && strchr(stops, t[*ve]) == NULL;)
        (*ve)++;
    return *ve > *vs;
}

/* Bearer tokens and sensitive pairs, whoever's they are, from text into out. 0, or -1. */
static int cut_patterns(const struct zp_buf *text, struct zp_buf *out)
{
    const char *t = zp_buf_str(text);
    size_t n = text->len, i = 0, j, vs, ve;

    zp_buf_reset(out);
    while (i < n) {
        if (!is_keych((unsigned char)t[i]) || (i > 0 && is_keych((unsigned char)t[i - 1]))) {
            zp_buf_append(out, t + i++, 1);
            continue;
        }
        for (j = i; j < n && is_keych((unsigned char)t[j]);)
            j++;
        if (j - i == 6 && strncasecmp(t + i, "bearer", 6) == 0 && j < n && t[j] == ' ') {
            for (vs = j; vs < n && t[vs] == ' ';)
                vs++;
            for (ve = vs; ve < n && is_tokench((unsigned char)t[ve]);)
                ve++;
        } else if (!is_sensitive(t + i, j - i) || !find_value(t, n, i, j, &vs, &ve)) {
            vs = ve = j;
        }
        zp_buf_append(out, t + i, vs - i);
        if (ve > vs)
            zp_buf_puts(out, ZP_REDACTED);
        i = ve;
    }
    return zp_buf_ok(out) ? 0 : -1;
}

/* Copies s into out, cut between UTF-8 characters; a NUL becomes a blank. */
static void copy_out(const struct zp_buf *s, char *out, size_t outsz)
{
    size_t n = s->len;

    if (n >= outsz) {
        n = outsz - 1;
        while (n > 0 && ((unsigned char)s->data[n] & 0xc0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = s->data[i] == '\0' ? ' ' : s->data[i];
    out[n] = '\0';
}

const char *zp_redact(const char *text, size_t len, const char *const *secrets, char *out,
                      size_t outsz)
{
    struct zp_buf a, b;
    int rc;

    if (outsz == 0)
        return out;
    zp_buf_init(&a, REDACT_WORK_MAX);
    zp_buf_init(&b, REDACT_WORK_MAX);
    rc =
        zp_buf_append(&a, text ? text : "", text ? (len < REDACT_WINDOW ? len : REDACT_WINDOW) : 0);
    for (size_t i = 0; secrets != NULL && secrets[i] != NULL; i++)
        if (strlen(secrets[i]) >= SECRET_MIN) /* a shorter one would blank ordinary words */
            rc |= cut_secret(&a, secrets[i], &b);
    rc |= cut_patterns(&a, &b);
    if (rc == 0)
        copy_out(&b, out, outsz);
    else
        zp_strlcpy(out, "(withheld: too long to sanitize)", outsz);
    zp_buf_free_secret(&a);
    zp_buf_free_secret(&b);
    return out;
}
