/*
 * yaml.h — a YAML document as a small tree that remembers line numbers,
 * plus typed getters whose errors cite "file:line: path: what to fix".
 *
 * The tree is built once by libyaml's event parser, then read-only.
 * Aliases (*name) are refused: a configuration file has no need of them,
 * and a value reached through one would carry another place's line number.
 * An anchor (&name) alone changes nothing and is accepted.
 */
#ifndef ZP_BASE_YAML_H
#define ZP_BASE_YAML_H

#include <stddef.h>
#include <stdint.h>

struct zp_err;

enum zp_ytype { ZP_Y_SCALAR, ZP_Y_MAP, ZP_Y_SEQ };

struct zp_ynode {
    enum zp_ytype type;
    int line;                /* 1-based line of the node's first character */
    const char *file;        /* the document's name, for messages */
    char *scalar;            /* ZP_Y_SCALAR: the text */
    int quoted;              /* ZP_Y_SCALAR: written in quotes */
    size_t n;                /* MAP: pairs; SEQ: items */
    char **keys;             /* MAP: keys[i] names items[i] */
    struct zp_ynode **items; /* MAP values, SEQ items */
};

struct zp_ydoc {
    struct zp_ynode *root; /* NULL for an empty document */
    char *file;
};

#define ZP_YAML_MAX_BYTES (1024 * 1024)

/* what names the file's role in errors about the file itself ("--kubeconfig"). */
int zp_yaml_load_file(const char *path, const char *what, struct zp_ydoc *doc, struct zp_err *err);
int zp_yaml_load_string(const char *name, const char *text, size_t len, struct zp_ydoc *doc,
                        struct zp_err *err);
void zp_yaml_free(struct zp_ydoc *doc);

/* The value for key in a mapping, or NULL (also when map is not a mapping). */
const struct zp_ynode *zp_y_get(const struct zp_ynode *map, const char *key);

/* Sets err to "file:line: path: <message>" (kind ZP_ECONFIG); returns -1. */
int zp_y_fail(const struct zp_ynode *node, const char *path, struct zp_err *err, const char *fmt,
              ...) __attribute__((format(printf, 4, 5)));

/* Refuses keys not in allowed (NULL-terminated): typos are errors, not silence. */
int zp_y_check_keys(const struct zp_ynode *map, const char *path, const char *const *allowed,
                    struct zp_err *err);

/*
 * Typed getters. path names the mapping ("providers[0]"); the error names
 * path.key. An absent optional key leaves *out untouched and returns 0.
 */
int zp_y_str(const struct zp_ynode *map, const char *path, const char *key, int required,
             const char **out, struct zp_err *err);
int zp_y_uint(const struct zp_ynode *map, const char *path, const char *key, int required,
              unsigned long min, unsigned long max, unsigned long *out, struct zp_err *err);
int zp_y_bool(const struct zp_ynode *map, const char *path, const char *key, int required, int *out,
              struct zp_err *err);
int zp_y_duration(const struct zp_ynode *map, const char *path, const char *key, int required,
                  uint64_t min_ms, uint64_t max_ms, uint64_t *out, struct zp_err *err);
/* A sequence of scalars (or one scalar) as a NULL-terminated array of copies. */
int zp_y_strlist(const struct zp_ynode *map, const char *path, const char *key, int required,
                 char ***out, size_t *n, struct zp_err *err);
void zp_strlist_free(char **list);

#endif
