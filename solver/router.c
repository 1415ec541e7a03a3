/*
 * router.c — chooses the provider instance for a name: an explicit
 * instance name wins; otherwise the most specific dnsZones entry that is a
 * label-wise suffix of the name, with ties going to the first listed.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/dname.h"
#include "base/err.h"
#include "solver/config.h"
#include "solver/router.h"

/* "example.com., example.org." — every configured zone, for the refusal. */
static void list_zones(const struct zp_config *cfg, struct zp_buf *out)
{
    for (size_t i = 0; i < cfg->n_inst; i++)
        for (size_t z = 0; z < cfg->inst[i].n_zones; z++)
            if (zp_buf_printf(out, "%s%s (%s)", out->len ? ", " : "", cfg->inst[i].zones[z],
                              cfg->inst[i].name) == -1)
                return;
}

const struct zp_instance *zp_route(const struct zp_config *cfg, const char *fqdn,
                                   const char *provider, const char **zone_out, struct zp_err *err)
{
    const struct zp_instance *best = NULL;
    const char *best_zone = NULL;
    int best_labels = -1;
    struct zp_buf zones;

    if (provider != NULL && provider[0] != '\0') {
        best = zp_config_instance(cfg, provider);
        if (best == NULL) {
            zp_buf_init(&zones, 1024);
            for (size_t i = 0; i < cfg->n_inst; i++)
                zp_buf_printf(&zones, "%s%s", i ? ", " : "", cfg->inst[i].name);
            if (cfg->cli)
                zp_err_set(err, ZP_ECONFIG,
                           "--provider \"%s\" names no instance of zoneproof's configuration "
                           "(configured: %s)",
                           provider, zp_buf_str(&zones));
            else
                zp_err_set(err, ZP_ECONFIG,
                           "the Issuer names provider \"%s\", but zoneproof's configuration has "
                           "no such instance (configured: %s)",
                           provider, zp_buf_str(&zones));
            zp_buf_free(&zones);
            return NULL;
        }
        /* Still the most specific of its zones, for the zone to write in. */
        for (size_t z = 0; z < best->n_zones; z++) {
            int labels = zp_dname_labels(best->zones[z]);
            if (zp_dname_in_zone(fqdn, best->zones[z]) && labels > best_labels) {
                best_labels = labels;
                best_zone = best->zones[z];
            }
        }
        if (zone_out)
            *zone_out = best_zone;
        return best;
    }

    for (size_t i = 0; i < cfg->n_inst; i++) {
        for (size_t z = 0; z < cfg->inst[i].n_zones; z++) {
            int labels = zp_dname_labels(cfg->inst[i].zones[z]);
            if (labels > best_labels && zp_dname_in_zone(fqdn, cfg->inst[i].zones[z])) {
                best = &cfg->inst[i];
                best_zone = cfg->inst[i].zones[z];
                best_labels = labels;
            }
        }
    }
    if (best == NULL) {
        zp_buf_init(&zones, 2048);
        list_zones(cfg, &zones);
        zp_err_set(err, ZP_ECONFIG,
                   "no provider is configured for %s: it is inside none of the configured "
                   "dnsZones (%s); add its zone to a provider's dnsZones or %s",
                   fqdn, zp_buf_str(&zones),
                   cfg->cli ? "pass --provider NAME and --zone ZONE"
                            : "name the provider in the Issuer's config");
        zp_buf_free(&zones);
        return NULL;
    }
    if (zone_out)
        *zone_out = best_zone;
    return best;
}
