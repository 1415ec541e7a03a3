/*
 * registry.c — the static table of provider types. A type is registered by
 * its file: providers/<type>.c defines zp_prov_<type>, and the build lists
 * it in registry_list.h (see providers/CMakeLists.txt).
 */
#include <string.h>

#include "providers/provider.h"

#define ZP_PROVIDER(t) extern const struct zp_provider_ops zp_prov_##t;
#include "registry_list.h"
#undef ZP_PROVIDER

#define ZP_PROVIDER(t) &zp_prov_##t,
static const struct zp_provider_ops *const registry[] = {
#include "registry_list.h"
};
#undef ZP_PROVIDER

#define N_REGISTRY (sizeof(registry) / sizeof(registry[0]))

const struct zp_provider_ops *zp_provider_find(const char *type)
{
    for (size_t i = 0; i < N_REGISTRY; i++)
        if (strcmp(registry[i]->type, type) == 0)
            return registry[i];
    return NULL;
}

/* Built once, at configuration time, before any thread starts. */
const char *zp_provider_types(void)
{
    static char list[512];

    if (list[0] == '\0') {
        for (size_t i = 0; i < N_REGISTRY; i++) {
            if (i > 0)
                strncat(list, ", ", sizeof(list) - strlen(list) - 1);
            strncat(list, registry[i]->type, sizeof(list) - strlen(list) - 1);
        }
    }
    return list;
}
