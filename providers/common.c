/*
 * common.c — TXT quoting and comparison, credential files, endpoint
 * settings and JSON replies for the HTTP-API providers.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"

#define SECRET_MAX (64u * 1024u) /* a service-account JSON is a few KB */

int zp_txt_quote(const char *value, struct zp_buf *out)
{
    if (zp_buf_puts(out, "\"") == -1)
        return -1;
    for (const char *p = value; *p; p++) {
        if ((*p == '"' || *p == '\\') && zp_buf_puts(out, "\\") == -1)
            return -1;
        if (zp_buf_append(out, p, 1) == -1)
            return -1;
    }
    return zp_buf_puts(out, "\"");
}

int zp_txt_equal(const char *stored, const char *value)
{
    size_t n = strlen(stored);
    const char *p, *v = value;

    if (n < 2 || stored[0] != '"' || stored[n - 1] != '"')
        return strcmp(stored, value) == 0;
    /* "a" "b" -> ab; \" and \\ unescaped */
    for (p = stored; p < stored + n;) {
        if (*p != '"')
            return 0;
        for (p++; p < stored + n && *p != '"'; p++) {
            if (*p == '\\' && p + 1 < stored + n)
                p++;
            if (*v++ != *p)
                return 0;
        }
        p++; /* closing quote */
        while (p < stored + n && *p == ' ')
            p++;
    }
    return *v == '\0';
}

int zp_secret_file_read(const char *path, const char *setting, struct zp_buf *out,
                        struct zp_err *err)
{
    if (zp_buf_read_file(out, path, SECRET_MAX, setting, err) == -1)
        return -1;
    zp_buf_trim(out);
    if (out->len == 0)
        return zp_err_set(err, ZP_ECONFIG, "%s: %s is empty", setting, path);
    return 0;
}

int zp_secret_file_check(const struct zp_ynode *map, const char *path, const char *key,
                         const char *file, struct zp_err *err)
{
    struct zp_buf b;
    struct zp_err e = {0};
    int rc;

    zp_buf_init(&b, SECRET_MAX);
    rc = zp_secret_file_read(file, key, &b, &e);
    zp_buf_free_secret(&b);
    if (rc == -1)
        return zp_y_fail(zp_y_get(map, key), path, err, "%s", e.msg);
    return 0;
}

int zp_endpoint_parse(const struct zp_ynode *map, const char *path, const char *def_url,
                      char **endpoint, char **ca, struct zp_err *err)
{
    const char *url = def_url, *cafile = NULL;
    size_t n;

    if (zp_y_str(map, path, "endpoint", 0, &url, err) == -1 ||
        zp_y_str(map, path, "caFile", 0, &cafile, err) == -1)
        return -1;
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        return zp_y_fail(zp_y_get(map, "endpoint"), path, err,
                         "endpoint \"%s\" must start with https:// (or http:// for a server on "
                         "a trusted network)",
                         url);
    n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (cafile != NULL && access(cafile, R_OK) != 0)
        return zp_y_fail(zp_y_get(map, "caFile"), path, err,
                         "caFile %s cannot be read: mount the CA bundle there or remove the "
                         "setting to trust the system's CAs",
                         cafile);
    *endpoint = zp_xstrndup(url, n);
    *ca = cafile ? zp_xstrdup(cafile) : NULL;
    return 0;
}

struct cJSON *zp_json_parse(const struct zp_buf *body, const char *what, struct zp_err *err)
{
    cJSON *j = cJSON_ParseWithLength(zp_buf_str(body), body->len);

    if (j == NULL)
        zp_err_set(err, ZP_ETRANSIENT, "%s answered with something that is not JSON", what);
    return j;
}
