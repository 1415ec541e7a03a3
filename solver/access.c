/*
 * access.c — the trust model (access.h): parsing an instance's namespaces:
 * and firstLabels:, and the check every challenge passes before its
 * provider is called.
 *
 * Sentences name the namespace or the name and the configuration key that
 * would allow it; they carry nothing that changes between attempts.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/dname.h"
#include "base/err.h"
#include "providers/provider.h"
#include "solver/access.h"
#include "solver/challenge.h"
#include "solver/config.h"

static const char *const default_labels[] = {"_acme-challenge", "_validation-persist", NULL};

int zp_access_valid_namespace(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

/* One DNS label, as written in a name (letters, digits, '-', '_'). */
static int valid_label(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
            return 0;
    return 1;
}

/* "*" alone, or entries each valid: the list's own rule. */
static int check_list(const struct zp_ynode *map, const char *path, const char *key, char **list,
                      size_t n, int (*valid)(const char *), const char *what, struct zp_err *err)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], "*") == 0) {
            if (n == 1)
                return 0;
            return zp_y_fail(zp_y_get(map, key), path, err,
                             "%s: \"*\" allows every %s and must be the only entry", key, what);
        }
        if (!valid(list[i]))
            return zp_y_fail(zp_y_get(map, key), path, err, "%s[%zu]: \"%s\" is not a valid %s",
                             key, i, list[i], what);
    }
    return 0;
}

int zp_access_parse(const struct zp_ynode *map, const char *path, struct zp_access *a,
                    struct zp_err *err)
{
    if (zp_y_strlist(map, path, "namespaces", 0, &a->namespaces, &a->n_namespaces, err) == -1 ||
        zp_y_strlist(map, path, "firstLabels", 0, &a->first_labels, &a->n_first_labels, err) == -1)
        return -1;
    if ((a->namespaces != NULL && a->n_namespaces == 0) ||
        (a->first_labels != NULL && a->n_first_labels == 0))
        return zp_y_fail(map, path, err,
                         "an empty namespaces or firstLabels list would allow nothing; leave it "
                         "out for the default, or list what is allowed (\"*\" for all)");
    if (check_list(map, path, "namespaces", a->namespaces, a->n_namespaces,
                   zp_access_valid_namespace, "namespace name", err) == -1 ||
        check_list(map, path, "firstLabels", a->first_labels, a->n_first_labels, valid_label,
                   "DNS label", err) == -1)
        return -1;
    return 0;
}

void zp_access_free(struct zp_access *a)
{
    zp_strlist_free(a->namespaces);
    zp_strlist_free(a->first_labels);
    a->namespaces = a->first_labels = NULL;
}

/* "a, b, c" of a NULL-terminated list, for a sentence. */
static void join(char *const *list, struct zp_buf *out)
{
    for (size_t i = 0; list[i] != NULL; i++)
        (void)zp_buf_printf(out, "%s%s", i ? ", " : "", list[i]); /* may be cut: a sentence */
}

static int namespace_ok(const struct zp_config *cfg, const struct zp_instance *inst,
                        const struct zp_challenge *ch, struct zp_err *err)
{
    const struct zp_access *a = &inst->access;
    const char *ns = ch->resource_namespace;
    struct zp_buf list;

    if (a->namespaces == NULL) {
        if (strcmp(ns, cfg->cluster_ns) == 0)
            return 0;
        return zp_err_set(err, ZP_EPERM,
                          "namespace \"%s\" may not use provider instance \"%s\": an instance "
                          "without a namespaces list serves only ClusterIssuers (namespace %s); "
                          "add \"%s\" to the instance's namespaces in zoneproof's configuration",
                          ns, inst->name, cfg->cluster_ns, ns);
    }
    for (size_t i = 0; i < a->n_namespaces; i++)
        if (strcmp(a->namespaces[i], "*") == 0 || strcmp(a->namespaces[i], ns) == 0)
            return 0;
    zp_buf_init(&list, 512);
    join(a->namespaces, &list);
    zp_err_set(err, ZP_EPERM,
               "namespace \"%s\" may not use provider instance \"%s\" (its namespaces: %s); add "
               "\"%s\" to the instance's namespaces in zoneproof's configuration",
               ns, inst->name, zp_buf_str(&list), ns);
    zp_buf_free(&list);
    return -1;
}

static int label_ok(const struct zp_instance *inst, const char *fqdn, struct zp_err *err)
{
    char *const *labels = inst->access.first_labels;
    const char *dot = strchr(fqdn, '.');
    size_t n = dot ? (size_t)(dot - fqdn) : strlen(fqdn);
    struct zp_buf list;

    if (labels == NULL && (inst->ops->flags & ZP_PROV_OWN_NAMES))
        return 0;
    if (labels == NULL)
        labels = (char *const *)default_labels;
    for (size_t i = 0; labels[i] != NULL; i++)
        if (strcmp(labels[i], "*") == 0 ||
            (strlen(labels[i]) == n && strncasecmp(labels[i], fqdn, n) == 0))
            return 0;
    zp_buf_init(&list, 512);
    join(labels, &list);
    zp_err_set(err, ZP_EPERM,
               "provider instance \"%s\" writes only names whose first label is one of %s, not "
               "%s; for a challenge zone reached through a CNAME, list its first label in the "
               "instance's firstLabels",
               inst->name, zp_buf_str(&list), fqdn);
    zp_buf_free(&list);
    return -1;
}

static int zone_ok(const struct zp_instance *inst, const char *fqdn, struct zp_err *err)
{
    struct zp_buf list;

    for (size_t z = 0; z < inst->n_zones; z++)
        if (zp_dname_in_zone(fqdn, inst->zones[z]))
            return 0;
    zp_buf_init(&list, 512);
    join(inst->zones, &list);
    zp_err_set(err, ZP_EPERM,
               "provider instance \"%s\" writes only inside its dnsZones (%s), and %s is not; "
               "add its zone to the instance's dnsZones or use the instance that serves it",
               inst->name, zp_buf_str(&list), fqdn);
    zp_buf_free(&list);
    return -1;
}

int zp_access_check(const struct zp_config *cfg, const struct zp_instance *inst,
                    const struct zp_challenge *ch, struct zp_err *err)
{
    if (ch->from_api && namespace_ok(cfg, inst, ch, err) == -1)
        return -1;
    if (zone_ok(inst, ch->fqdn, err) == -1 || label_ok(inst, ch->fqdn, err) == -1)
        return -1;
    return 0;
}
