/*
 * jsonstrict.c — cJSON with the checks that make it refuse what Go's
 * encoding/json would refuse or read differently. The NUL check reads the
 * text, the duplicate check the tree: once parsed, a string cut at a NUL
 * looks like any other string, and keys are easiest to compare as a tree.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/jsonstrict.h"
#include "base/mem.h"

#define PATH_MAX_LEN 200 /* how much of an object's path a refusal quotes */

static int is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * A zero byte anywhere, or a \u0000 escape inside a string. Escapes are
 * skipped whole, so "\\u0000" (a backslash, then the text u0000) is not a
 * NUL. Outside strings an escape cannot occur in valid JSON; cJSON refuses
 * whatever this scan lets through there.
 */
static int find_nul(const char *s, size_t len, struct zp_err *err)
{
    int in_string = 0;

    if (memchr(s, '\0', len) != NULL)
        return zp_err_set(err, ZP_EINVAL, "a zero byte is not allowed in JSON text");
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') {
            in_string = !in_string;
        } else if (in_string && s[i] == '\\') {
            if (len - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0)
                return zp_err_set(err, ZP_EINVAL, "a string contains a NUL character (\\u0000)");
            i++; /* the escaped character: \" and \\ neither end nor start anything */
        }
    }
    return 0;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, so that a large object costs n log n rather than n squared. */
static int object_dups(const cJSON *obj, const char *path, struct zp_err *err)
{
    const cJSON *it;
    const char **keys;
    size_t n = 0, i;
    int rc = 0;

    cJSON_ArrayForEach(it, obj) n++;
    if (n < 2)
        return 0;
    keys = zp_xcalloc(n, sizeof(*keys));
    i = 0;
    cJSON_ArrayForEach(it, obj) keys[i++] = it->string ? it->string : "";
    qsort(keys, n, sizeof(*keys), cmp_keys);
    for (i = 1; i < n && rc == 0; i++) {
        if (strcmp(keys[i - 1], keys[i]) == 0)
            rc = zp_err_set(err, ZP_EINVAL, "duplicate key \"%.64s\" in %s", keys[i],
                            path[0] ? path : "the top-level object");
    }
    free(keys);
    return rc;
}

/*
 * Every object below node, depth first. path holds node's path ("request",
 * "request.config", "x[2]"); each level appends its part and cuts it off
 * again. cJSON's nesting limit bounds the recursion.
 */
static int find_dups(const cJSON *node, char *path, size_t len, struct zp_err *err)
{
    const cJSON *it;
    size_t i = 0;

    if (cJSON_IsObject(node) && object_dups(node, path, err) == -1)
        return -1;
    if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
        return 0;
    cJSON_ArrayForEach(it, node)
    {
        /* A path cut short still names where the object starts. */
        if (cJSON_IsObject(node))
            (void)snprintf(path + len, PATH_MAX_LEN + 1 - len, "%s%s", len ? "." : "",
                           it->string ? it->string : "");
        else
            (void)snprintf(path + len, PATH_MAX_LEN + 1 - len, "[%zu]", i++);
        if (find_dups(it, path, strlen(path), err) == -1)
            return -1;
        path[len] = '\0';
    }
    return 0;
}

/* Only JSON whitespace after the document; cJSON stops where the value ends. */
static int check_trailing(const char *end, const char *stop, struct zp_err *err)
{
    for (; end < stop; end++) {
        if (!is_json_space(*end))
            return zp_err_set(err, ZP_EINVAL, "trailing bytes after the JSON document");
    }
    return 0;
}

int zp_json_strict_parse(const char *text, size_t len, cJSON **out, struct zp_err *err)
{
    char path[PATH_MAX_LEN + 1] = "";
    const char *end = NULL;
    cJSON *root = NULL;
    int rc = -1;

    *out = NULL;
    if (find_nul(text, len, err) == -1)
        goto out;
    /* The end pointer, not cJSON_GetErrorPtr(): that one is shared by all threads. */
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root == NULL) {
        zp_err_set(err, ZP_EINVAL, "not valid JSON (error at byte %zu)",
                   end && end >= text ? (size_t)(end - text) : (size_t)0);
        goto out;
    }
    if (check_trailing(end, text + len, err) == -1 || find_dups(root, path, 0, err) == -1)
        goto out;
    *out = root;
    root = NULL;
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}
