/*
 * settings.c — a provider's settings table read (settings.h): each row is
 * handed to the getter the providers called by hand before (base/yaml.h,
 * zp_cred_parse, zp_endpoint_parse), so a setting gets the same sentence
 * whichever way its provider reads it. Strings are copied: the YAML tree
 * is freed once the configuration is read.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/settings.h"

/* The field at off in cfg, of the type the row's macro checked. */
#define SET_FIELD(cfg, off, type) ((type *)(void *)((char *)(cfg) + (off)))

static int set_str(const struct zp_ynode *node, const char *path, const struct zp_setting *s,
                   void *cfg, struct zp_err *err)
{
    const char *v = s->def;

    if (zp_y_str(node, path, s->key, s->required, &v, err) == -1)
        return -1;
    if (v != NULL)
        *SET_FIELD(cfg, s->off, char *) = zp_xstrdup(v);
    return 0;
}

/* The one sentence every provider's zone setting had: the key, the name, what is wrong. */
static int set_zone(const struct zp_ynode *node, const char *path, const struct zp_setting *s,
                    void *cfg, struct zp_err *err)
{
    const char *v = NULL;
    char why[128] = "", canon[ZP_DNAME_MAX];

    if (zp_y_str(node, path, s->key, s->required, &v, err) == -1)
        return -1;
    if (v == NULL)
        return 0;
    if (zp_dname_check(v, 0, why, sizeof(why)) == -1 ||
        zp_dname_canon(v, canon, sizeof(canon)) == -1)
        return zp_y_fail(zp_y_get(node, s->key), path, err, "%s \"%s\" is not a domain name: %s",
                         s->key, v, why);
    /* Some APIs name zones without the root's dot. */
    if (s->type == ZP_SET_ZONE_BARE)
        canon[strlen(canon) - 1] = '\0';
    *SET_FIELD(cfg, s->off, char *) = zp_xstrdup(canon);
    return 0;
}

static int set_uint(const struct zp_ynode *node, const char *path, const struct zp_setting *s,
                    void *cfg, struct zp_err *err)
{
    unsigned long *f = SET_FIELD(cfg, s->off, unsigned long);

    *f = (unsigned long)s->dflt;
    return zp_y_uint(node, path, s->key, s->required, (unsigned long)s->min, (unsigned long)s->max,
                     f, err);
}

static int set_bool(const struct zp_ynode *node, const char *path, const struct zp_setting *s,
                    void *cfg, struct zp_err *err)
{
    int *f = SET_FIELD(cfg, s->off, int);

    *f = s->dflt != 0;
    return zp_y_bool(node, path, s->key, s->required, f, err);
}

static int set_duration(const struct zp_ynode *node, const char *path, const struct zp_setting *s,
                        void *cfg, struct zp_err *err)
{
    uint64_t *f = SET_FIELD(cfg, s->off, uint64_t);

    *f = s->dflt;
    return zp_y_duration(node, path, s->key, s->required, s->min, s->max, f, err);
}

static int set_row(const struct zp_ynode *node, const char *path, const struct zp_setting *s,
                   void *cfg, struct zp_err *err)
{
    switch (s->type) {
    case ZP_SET_STR:
        return set_str(node, path, s, cfg, err);
    case ZP_SET_ZONE:
    case ZP_SET_ZONE_BARE:
        return set_zone(node, path, s, cfg, err);
    case ZP_SET_CRED:
        if (s->max == 0)
            return zp_cred_parse(node, path, s->key, s->required,
                                 SET_FIELD(cfg, s->off, struct zp_cred), err);
        return zp_cred_parse_max(node, path, s->key, s->required, (size_t)s->max,
                                 SET_FIELD(cfg, s->off, struct zp_cred), err);
    case ZP_SET_ENDPOINT:
        return zp_endpoint_parse(node, path, s->def, SET_FIELD(cfg, s->off, char *),
                                 SET_FIELD(cfg, s->off2, char *), err);
    case ZP_SET_CAFILE:
        return zp_cafile_parse(node, path, SET_FIELD(cfg, s->off, char *), err);
    case ZP_SET_UINT:
        return set_uint(node, path, s, cfg, err);
    case ZP_SET_BOOL:
        return set_bool(node, path, s, cfg, err);
    case ZP_SET_DURATION:
        return set_duration(node, path, s, cfg, err);
    case ZP_SET_STRLIST:
        return zp_y_strlist(node, path, s->key, s->required, SET_FIELD(cfg, s->off, char **),
                            SET_FIELD(cfg, s->off2, size_t), err);
    case ZP_SET_OWNED:
    case ZP_SET_END:
        break;
    }
    return 0;
}

int zp_settings_parse(const struct zp_ynode *node, const char *path, const struct zp_setting *tab,
                      void *cfg, struct zp_err *err)
{
    for (const struct zp_setting *s = tab; s->type != ZP_SET_END; s++)
        if (set_row(node, path, s, cfg, err) == -1)
            return -1;
    return 0;
}

void zp_settings_free(const struct zp_setting *tab, void *cfg)
{
    if (cfg == NULL)
        return;
    for (const struct zp_setting *s = tab; s->type != ZP_SET_END; s++) {
        switch (s->type) {
        case ZP_SET_CRED:
            zp_cred_free(SET_FIELD(cfg, s->off, struct zp_cred));
            break;
        case ZP_SET_ENDPOINT:
            free(*SET_FIELD(cfg, s->off, char *));
            free(*SET_FIELD(cfg, s->off2, char *));
            break;
        case ZP_SET_STRLIST:
            zp_strlist_free(*SET_FIELD(cfg, s->off, char **));
            break;
        case ZP_SET_STR:
        case ZP_SET_CAFILE:
        case ZP_SET_ZONE:
        case ZP_SET_ZONE_BARE:
        case ZP_SET_OWNED:
            free(*SET_FIELD(cfg, s->off, char *));
            break;
        case ZP_SET_UINT:
        case ZP_SET_BOOL:
        case ZP_SET_DURATION:
        case ZP_SET_END:
            break;
        }
    }
    free(cfg);
}

size_t zp_settings_keys(const struct zp_setting *tab, const char **out, size_t n)
{
    size_t k = 0;

    for (const struct zp_setting *s = tab; tab != NULL && s->type != ZP_SET_END; s++) {
        for (size_t i = 0; i < 2; i++) {
            if (s->names[i] == NULL)
                continue;
            if (k < n)
                out[k] = s->names[i];
            k++;
        }
    }
    return k;
}
