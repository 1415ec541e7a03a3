/*
 * settings.h — a provider's settings described as a table: which YAML key
 * fills which field of its configuration struct, of what kind, required or
 * with what default. One table gives three things that used to be written
 * by hand in every provider and drift apart: the parse (with the sentences
 * of base/yaml.h and providers/common.h, so they stay the same), the free,
 * and the list of keys the solver accepts for the type (solver/config.c),
 * which the chart's schema must match.
 *
 * What a table cannot say (a check with its own sentence, a field derived
 * from another, state such as a token cache) stays in the provider's
 * config_parse, after zp_settings_parse, and its config_free, before
 * zp_settings_free. A provider then reads:
 *
 *     static const struct zp_setting hz_settings[] = {
 *         ZP_SET_E(struct hz_cfg, endpoint, ca, HZ_DEFAULT_URL),
 *         ZP_SET_C(struct hz_cfg, "apiToken", token, 1),
 *         ZP_SET_Z(struct hz_cfg, "zone", zone, 0),
 *         ZP_SET_LAST,
 *     };
 *
 *     cfg = zp_xcalloc(1, sizeof(*cfg));
 *     if (zp_settings_parse(node, path, hz_settings, cfg, err) == -1 || <its own checks>)
 *         goto out;                               (out: zp_settings_free(hz_settings, cfg))
 *
 * and names the table in its zp_provider_ops (.settings), so the solver
 * allows exactly the keys the table reads; .keys keeps only the keys the
 * provider reads by hand.
 *
 * The table is read in order and the first bad setting is the one named,
 * so a table is written in the order the settings should be checked.
 * Rows copy what the hand-written code did, including its quirks: a
 * required string must not be empty, an optional one may be.
 */
#ifndef ZP_PROVIDERS_SETTINGS_H
#define ZP_PROVIDERS_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

struct zp_cred;
struct zp_err;
struct zp_ynode;

enum zp_set_type {
    ZP_SET_END = 0,   /* ends a table */
    ZP_SET_STR,       /* char *: a copy; def when absent (def NULL: left NULL) */
    ZP_SET_ZONE,      /* char *: a domain name, canonical, with the trailing dot */
    ZP_SET_ZONE_BARE, /* char *: the same without the trailing dot */
    ZP_SET_CRED,      /* struct zp_cred: <key>File or <key>SecretRef (zp_cred_parse) */
    ZP_SET_ENDPOINT,  /* char * endpoint (default def) and char * caFile at off2 */
    ZP_SET_CAFILE,    /* char * caFile alone, checked as ENDPOINT's, for a fixed endpoint */
    ZP_SET_UINT,      /* unsigned long: dflt when absent, min..max */
    ZP_SET_BOOL,      /* int: dflt when absent */
    ZP_SET_DURATION,  /* uint64_t milliseconds: dflt when absent, min..max */
    ZP_SET_STRLIST,   /* char ** (NULL-terminated) and its size_t count at off2 */
    ZP_SET_OWNED,     /* char * the provider fills itself: no key, only freed */
};

struct zp_setting {
    enum zp_set_type type;
    const char *key;      /* the key the parse is given; CRED: the base name ("apiToken") */
    const char *names[2]; /* the YAML keys the row reads, for the solver; names[1] may be NULL */
    size_t off, off2;     /* the field(s) in the configuration struct */
    int required;
    const char *def;         /* STR, ENDPOINT: the default */
    uint64_t min, max, dflt; /* UINT, DURATION; CRED: max is the most a file may hold (0: 64 KB) */
};

/*
 * The offset of field f of T, which must have type ft: a table row that
 * names a field of another type fails to compile (distinct pointer types).
 */
#define ZP_SET_OFF(T, f, ft) (offsetof(T, f) + 0 * sizeof(&((T *)0)->f == (ft *)0))

/* A string; ZP_SET_SD: optional with a default. */
#define ZP_SET_S(T, k, f, req)                                                                     \
    {                                                                                              \
        .type = ZP_SET_STR, .key = k, .names = {k}, .off = ZP_SET_OFF(T, f, char *),               \
        .required = req                                                                            \
    }
#define ZP_SET_SD(T, k, f, d)                                                                      \
    {                                                                                              \
        .type = ZP_SET_STR, .key = k, .names = {k}, .off = ZP_SET_OFF(T, f, char *), .def = d      \
    }
/* A zone: canonical with the trailing dot (Z) or without (ZB). */
#define ZP_SET_Z(T, k, f, req)                                                                     \
    {                                                                                              \
        .type = ZP_SET_ZONE, .key = k, .names = {k}, .off = ZP_SET_OFF(T, f, char *),              \
        .required = req                                                                            \
    }
#define ZP_SET_ZB(T, k, f, req)                                                                    \
    {                                                                                              \
        .type = ZP_SET_ZONE_BARE, .key = k, .names = {k}, .off = ZP_SET_OFF(T, f, char *),         \
        .required = req                                                                            \
    }
/* A credential: keys base "File" and base "SecretRef"; CM: a file may hold up to mx bytes. */
#define ZP_SET_CM(T, base, f, req, mx)                                                             \
    {                                                                                              \
        .type = ZP_SET_CRED, .key = base, .names = {base "File", base "SecretRef"},                \
        .off = ZP_SET_OFF(T, f, struct zp_cred), .required = req, .max = mx                        \
    }
#define ZP_SET_C(T, base, f, req) ZP_SET_CM(T, base, f, req, 0)
/* endpoint (default d) into f, caFile into fca. */
#define ZP_SET_E(T, f, fca, d)                                                                     \
    {                                                                                              \
        .type = ZP_SET_ENDPOINT, .key = "endpoint", .names = {"endpoint", "caFile"},               \
        .off = ZP_SET_OFF(T, f, char *), .off2 = ZP_SET_OFF(T, fca, char *), .def = d              \
    }
/* caFile alone into f, for a provider whose endpoint is not a setting. */
#define ZP_SET_CA(T, f)                                                                            \
    {                                                                                              \
        .type = ZP_SET_CAFILE, .key = "caFile", .names = {"caFile"},                               \
        .off = ZP_SET_OFF(T, f, char *)                                                            \
    }
#define ZP_SET_U(T, k, f, d, mn, mx)                                                               \
    {                                                                                              \
        .type = ZP_SET_UINT, .key = k, .names = {k}, .off = ZP_SET_OFF(T, f, unsigned long),       \
        .dflt = d, .min = mn, .max = mx                                                            \
    }
#define ZP_SET_B(T, k, f, d)                                                                       \
    {                                                                                              \
        .type = ZP_SET_BOOL, .key = k, .names = {k}, .off = ZP_SET_OFF(T, f, int), .dflt = d       \
    }
#define ZP_SET_D(T, k, f, d, mn, mx)                                                               \
    {                                                                                              \
        .type = ZP_SET_DURATION, .key = k, .names = {k}, .off = ZP_SET_OFF(T, f, uint64_t),        \
        .dflt = d, .min = mn, .max = mx                                                            \
    }
/* A list of strings (a sequence, or one scalar) into f, its length into fn. */
#define ZP_SET_L(T, k, f, fn, req)                                                                 \
    {                                                                                              \
        .type = ZP_SET_STRLIST, .key = k, .names = {k}, .off = ZP_SET_OFF(T, f, char **),          \
        .off2 = ZP_SET_OFF(T, fn, size_t), .required = req                                         \
    }
#define ZP_SET_O(T, f)                                                                             \
    {                                                                                              \
        .type = ZP_SET_OWNED, .off = ZP_SET_OFF(T, f, char *)                                      \
    }
#define ZP_SET_LAST                                                                                \
    {                                                                                              \
        .type = ZP_SET_END                                                                         \
    }

/*
 * Fills cfg (allocated zeroed by the caller) from node, row by row in
 * table order, defaults included. path names the mapping in sentences
 * ("providers[0]"). On failure err holds the first setting's sentence and
 * cfg may hold some fields: free it with zp_settings_free.
 */
int zp_settings_parse(const struct zp_ynode *node, const char *path, const struct zp_setting *tab,
                      void *cfg, struct zp_err *err);
/* Frees every field the table names, then cfg. NULL does nothing. */
void zp_settings_free(const struct zp_setting *tab, void *cfg);
/*
 * The YAML keys the table reads (CRED both names, ENDPOINT endpoint and
 * caFile) into out, at most n of them. Returns how many there are, even
 * when more than n: a caller whose out is too small can tell.
 */
size_t zp_settings_keys(const struct zp_setting *tab, const char **out, size_t n);

#endif
