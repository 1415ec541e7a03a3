/*
 * yaml.c — builds the line-numbered tree from libyaml events and reads it
 * with typed getters whose errors name the file, the line and the setting.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/yaml.h"

#define YAML_MAX_DEPTH 32
#define YAML_MAX_ITEMS 4096

struct builder {
    yaml_parser_t parser;
    const char *file;
    struct zp_err *err;
    size_t nodes;
};

static void node_free(struct zp_ynode *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            free(n->keys[i]);
        node_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->scalar);
    free(n);
}

static struct zp_ynode *node_new(struct builder *b, enum zp_ytype type, const yaml_mark_t *mark)
{
    struct zp_ynode *n = zp_xcalloc(1, sizeof(*n));

    n->type = type;
    n->line = (int)mark->line + 1;
    n->file = b->file;
    b->nodes++;
    return n;
}

/*
 * A YAML file may hold credentials (a kubeconfig's token or client key):
 * each scalar libyaml hands over is wiped before libyaml frees it, and the
 * parser's input buffers before the parser goes. What libyaml's scanner
 * keeps in its own growing work strings while it reads a scalar cannot be
 * reached from here.
 */
static void event_free(yaml_event_t *ev)
{
    if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.value != NULL)
        zp_wipe(ev->data.scalar.value, ev->data.scalar.length);
    yaml_event_delete(ev);
}

static void parser_free(yaml_parser_t *p)
{
    if (p->buffer.start != NULL)
        zp_wipe(p->buffer.start, (size_t)(p->buffer.end - p->buffer.start));
    if (p->raw_buffer.start != NULL)
        zp_wipe(p->raw_buffer.start, (size_t)(p->raw_buffer.end - p->raw_buffer.start));
    yaml_parser_delete(p);
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->parser, ev))
        return zp_err_set(b->err, ZP_ECONFIG, "%s:%zu: not valid YAML: %s", b->file,
                          b->parser.problem_mark.line + 1,
                          b->parser.problem ? b->parser.problem : "syntax error");
    return 0;
}

static int parse_node(struct builder *b, yaml_event_t *ev, int depth, struct zp_ynode **out);

static int push_item(struct zp_ynode *parent, char *key, struct zp_ynode *child)
{
    if (parent->n >= YAML_MAX_ITEMS)
        return -1;
    parent->items = zp_xrealloc(parent->items, (parent->n + 1) * sizeof(*parent->items));
    if (parent->type == ZP_Y_MAP) {
        parent->keys = zp_xrealloc(parent->keys, (parent->n + 1) * sizeof(*parent->keys));
        parent->keys[parent->n] = key;
    }
    parent->items[parent->n++] = child;
    return 0;
}

static int parse_children(struct builder *b, struct zp_ynode *n, int depth)
{
    yaml_event_t ev;
    yaml_event_type_t end = n->type == ZP_Y_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;

    for (;;) {
        struct zp_ynode *child = NULL;
        char *key = NULL;
        int line;

        if (next_event(b, &ev) == -1)
            return -1;
        if (ev.type == end) {
            event_free(&ev);
            return 0;
        }
        if (n->type == ZP_Y_MAP) {
            line = (int)ev.start_mark.line + 1;
            if (ev.type != YAML_SCALAR_EVENT) {
                event_free(&ev);
                return zp_err_set(b->err, ZP_ECONFIG, "%s:%d: mapping keys must be plain strings",
                                  b->file, line);
            }
            key = zp_xstrdup((const char *)ev.data.scalar.value);
            event_free(&ev);
            if (zp_y_get(n, key) != NULL) {
                zp_err_set(b->err, ZP_ECONFIG, "%s:%d: key \"%s\" appears twice", b->file, line,
                           key);
                free(key);
                return -1;
            }
            if (next_event(b, &ev) == -1) {
                free(key);
                return -1;
            }
        }
        if (parse_node(b, &ev, depth + 1, &child) == -1 || push_item(n, key, child) == -1) {
            if (!zp_err_isset(b->err))
                zp_err_set(b->err, ZP_ECONFIG, "%s:%d: more than %d entries", b->file, n->line,
                           YAML_MAX_ITEMS);
            free(key);
            node_free(child);
            return -1;
        }
    }
}

/* Consumes ev (the node's first event) and everything up to its end. */
static int parse_node(struct builder *b, yaml_event_t *ev, int depth, struct zp_ynode **out)
{
    struct zp_ynode *n = NULL;
    int rc = -1;

    if (depth > YAML_MAX_DEPTH) {
        zp_err_set(b->err, ZP_ECONFIG, "%s:%zu: nested deeper than %d levels", b->file,
                   ev->start_mark.line + 1, YAML_MAX_DEPTH);
        goto out;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n = node_new(b, ZP_Y_SCALAR, &ev->start_mark);
        n->scalar = zp_xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        rc = 0;
        break;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT:
        n = node_new(b, ev->type == YAML_MAPPING_START_EVENT ? ZP_Y_MAP : ZP_Y_SEQ,
                     &ev->start_mark);
        rc = parse_children(b, n, depth);
        break;
    case YAML_ALIAS_EVENT:
        zp_err_set(b->err, ZP_ECONFIG,
                   "%s:%zu: YAML aliases (*name) are not supported; write the value out", b->file,
                   ev->start_mark.line + 1);
        break;
    default:
        zp_err_set(b->err, ZP_ECONFIG, "%s:%zu: unexpected YAML structure", b->file,
                   ev->start_mark.line + 1);
        break;
    }
out:
    event_free(ev);
    if (rc == -1) {
        node_free(n);
        n = NULL;
    }
    *out = n;
    return rc;
}

int zp_yaml_load_string(const char *name, const char *text, size_t len, struct zp_ydoc *doc,
                        struct zp_err *err)
{
    struct builder b;
    yaml_event_t ev;
    int rc = -1;

    memset(doc, 0, sizeof(*doc));
    doc->file = zp_xstrdup(name);
    memset(&b, 0, sizeof(b));
    b.file = doc->file;
    b.err = err;
    if (!yaml_parser_initialize(&b.parser))
        return zp_err_set(err, ZP_EINTERNAL, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);

    /* STREAM-START, then DOCUMENT-START or STREAM-END (empty file). */
    if (next_event(&b, &ev) == -1)
        goto out;
    event_free(&ev);
    if (next_event(&b, &ev) == -1)
        goto out;
    if (ev.type == YAML_STREAM_END_EVENT) {
        event_free(&ev);
        rc = 0;
        goto out;
    }
    event_free(&ev);
    if (next_event(&b, &ev) == -1)
        goto out;
    if (parse_node(&b, &ev, 0, &doc->root) == -1)
        goto out;
    if (next_event(&b, &ev) == -1) /* DOCUMENT-END */
        goto out;
    event_free(&ev);
    if (next_event(&b, &ev) == -1)
        goto out;
    if (ev.type != YAML_STREAM_END_EVENT) {
        event_free(&ev);
        zp_err_set(err, ZP_ECONFIG, "%s: holds more than one YAML document; keep one", name);
        goto out;
    }
    event_free(&ev);
    rc = 0;
out:
    parser_free(&b.parser);
    if (rc == -1)
        zp_yaml_free(doc); /* a failed load leaves nothing for the caller to free */
    return rc;
}

int zp_yaml_load_file(const char *path, const char *what, struct zp_ydoc *doc, struct zp_err *err)
{
    struct zp_buf b;
    int rc;

    memset(doc, 0, sizeof(*doc));
    zp_buf_init(&b, ZP_YAML_MAX_BYTES);
    if (zp_buf_read_file(&b, path, ZP_YAML_MAX_BYTES, what, err) == -1) {
        zp_buf_free(&b);
        return -1;
    }
    rc = zp_yaml_load_string(path, zp_buf_str(&b), b.len, doc, err);
    zp_buf_free_secret(&b); /* the raw bytes: a kubeconfig's credentials among them */
    return rc;
}

void zp_yaml_free(struct zp_ydoc *doc)
{
    node_free(doc->root);
    free(doc->file);
    doc->root = NULL;
    doc->file = NULL;
}

const struct zp_ynode *zp_y_get(const struct zp_ynode *map, const char *key)
{
    if (map == NULL || map->type != ZP_Y_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i], key) == 0)
            return map->items[i];
    return NULL;
}

int zp_y_fail(const struct zp_ynode *node, const char *path, struct zp_err *err, const char *fmt,
              ...)
{
    char what[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (node != NULL)
        return zp_err_set(err, ZP_ECONFIG, "%s:%d: %s: %s", node->file, node->line, path, what);
    return zp_err_set(err, ZP_ECONFIG, "%s: %s", path, what);
}

int zp_y_check_keys(const struct zp_ynode *map, const char *path, const char *const *allowed,
                    struct zp_err *err)
{
    for (size_t i = 0; map && i < map->n; i++) {
        size_t k;
        for (k = 0; allowed[k]; k++)
            if (strcmp(allowed[k], map->keys[i]) == 0)
                break;
        if (allowed[k] == NULL) {
            char known[512] = "";
            for (k = 0; allowed[k]; k++) {
                strncat(known, k ? ", " : "", sizeof(known) - strlen(known) - 1);
                strncat(known, allowed[k], sizeof(known) - strlen(known) - 1);
            }
            return zp_y_fail(map->items[i], path, err, "unknown setting \"%s\" (known: %s)",
                             map->keys[i], known);
        }
    }
    return 0;
}

/* The scalar at map[key], or a failure naming path.key. */
static int scalar_at(const struct zp_ynode *map, const char *path, const char *key, int required,
                     const struct zp_ynode **out, struct zp_err *err)
{
    const struct zp_ynode *n = zp_y_get(map, key);

    *out = NULL;
    if (n == NULL) {
        if (required)
            return zp_y_fail(map, path, err, "%s is required", key);
        return 0;
    }
    if (n->type != ZP_Y_SCALAR)
        return zp_y_fail(n, path, err, "%s must be a single value, not a %s", key,
                         n->type == ZP_Y_MAP ? "mapping" : "list");
    *out = n;
    return 0;
}

int zp_y_str(const struct zp_ynode *map, const char *path, const char *key, int required,
             const char **out, struct zp_err *err)
{
    const struct zp_ynode *n;

    if (scalar_at(map, path, key, required, &n, err) == -1)
        return -1;
    if (n == NULL)
        return 0;
    if (n->scalar[0] == '\0' && required)
        return zp_y_fail(n, path, err, "%s must not be empty", key);
    *out = n->scalar;
    return 0;
}

int zp_y_uint(const struct zp_ynode *map, const char *path, const char *key, int required,
              unsigned long min, unsigned long max, unsigned long *out, struct zp_err *err)
{
    const struct zp_ynode *n;
    char *end;
    unsigned long v;

    if (scalar_at(map, path, key, required, &n, err) == -1)
        return -1;
    if (n == NULL)
        return 0;
    errno = 0;
    v = strtoul(n->scalar, &end, 10);
    if (n->scalar[0] < '0' || n->scalar[0] > '9' || *end != '\0' || errno != 0 || v < min ||
        v > max)
        return zp_y_fail(n, path, err, "%s must be a whole number from %lu to %lu, not \"%s\"", key,
                         min, max, n->scalar);
    *out = v;
    return 0;
}

int zp_y_bool(const struct zp_ynode *map, const char *path, const char *key, int required, int *out,
              struct zp_err *err)
{
    const struct zp_ynode *n;

    if (scalar_at(map, path, key, required, &n, err) == -1)
        return -1;
    if (n == NULL)
        return 0;
    if (strcasecmp(n->scalar, "true") == 0 || strcasecmp(n->scalar, "yes") == 0)
        *out = 1;
    else if (strcasecmp(n->scalar, "false") == 0 || strcasecmp(n->scalar, "no") == 0)
        *out = 0;
    else
        return zp_y_fail(n, path, err, "%s must be true or false, not \"%s\"", key, n->scalar);
    return 0;
}

/* ms in the largest unit that writes it whole, as zp_duration_parse reads it: 1m, 8760h. */
static void duration_text(uint64_t ms, char *out, size_t n)
{
    static const struct {
        uint64_t ms;
        const char *unit;
    } units[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (ms % units[i].ms == 0 || units[i].ms == 1) {
            snprintf(out, n, "%llu%s", (unsigned long long)(ms / units[i].ms), units[i].unit);
            return;
        }
}

int zp_y_duration(const struct zp_ynode *map, const char *path, const char *key, int required,
                  uint64_t min_ms, uint64_t max_ms, uint64_t *out, struct zp_err *err)
{
    const struct zp_ynode *n;
    uint64_t v;

    if (scalar_at(map, path, key, required, &n, err) == -1)
        return -1;
    if (n == NULL)
        return 0;
    if (zp_duration_parse(n->scalar, &v) == -1)
        return zp_y_fail(n, path, err, "%s must be a duration such as 25s or 500ms, not \"%s\"",
                         key, n->scalar);
    if (v < min_ms || v > max_ms) {
        char lo[24], hi[24];
        duration_text(min_ms, lo, sizeof(lo));
        duration_text(max_ms, hi, sizeof(hi));
        return zp_y_fail(n, path, err, "%s must be between %s and %s, not \"%s\"", key, lo, hi,
                         n->scalar);
    }
    *out = v;
    return 0;
}

int zp_y_strlist(const struct zp_ynode *map, const char *path, const char *key, int required,
                 char ***out, size_t *count, struct zp_err *err)
{
    const struct zp_ynode *n = zp_y_get(map, key);
    char **list;

    if (n == NULL) {
        if (required)
            return zp_y_fail(map, path, err, "%s is required", key);
        return 0;
    }
    if (n->type == ZP_Y_MAP)
        return zp_y_fail(n, path, err, "%s must be a list of strings", key);
    if (n->type == ZP_Y_SCALAR) {
        list = zp_xcalloc(2, sizeof(*list));
        list[0] = zp_xstrdup(n->scalar);
        *count = 1;
    } else {
        list = zp_xcalloc(n->n + 1, sizeof(*list));
        for (size_t i = 0; i < n->n; i++) {
            if (n->items[i]->type != ZP_Y_SCALAR) {
                zp_strlist_free(list);
                return zp_y_fail(n->items[i], path, err, "%s[%zu] must be a string", key, i);
            }
            list[i] = zp_xstrdup(n->items[i]->scalar);
        }
        *count = n->n;
    }
    if (required && *count == 0) {
        zp_strlist_free(list);
        return zp_y_fail(n, path, err, "%s must list at least one value", key);
    }
    zp_strlist_free(*out);
    *out = list;
    return 0;
}

void zp_strlist_free(char **list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; list[i]; i++)
        free(list[i]);
    free(list);
}
