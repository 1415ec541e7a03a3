/*
 * registry.c — the static table of provider types. Adding a provider means
 * one line here and one file beside this one.
 */
#include <string.h>

#include "providers/provider.h"

extern const struct zp_provider_ops zp_prov_rfc2136;

static const struct zp_provider_ops *const registry[] = {
    &zp_prov_rfc2136,
};

const struct zp_provider_ops *zp_provider_find(const char *type)
{
    for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
        if (strcmp(registry[i]->type, type) == 0)
            return registry[i];
    return NULL;
}

const char *zp_provider_types(void)
{
    static char list[512];

    if (list[0] == '\0') {
        for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++) {
            if (i > 0)
                strncat(list, ", ", sizeof(list) - strlen(list) - 1);
            strncat(list, registry[i]->type, sizeof(list) - strlen(list) - 1);
        }
    }
    return list;
}
