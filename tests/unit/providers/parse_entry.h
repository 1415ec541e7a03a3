/*
 * parse_entry.h — for the unit tests of one provider type: a providers[0]
 * entry of that type for zone example.test, its own settings given as YAML
 * lines, parsed by the type's config_parse the way the configuration loader
 * calls it. Included by test_exec.c and test_rfc2136.c (a static inline
 * function, no library of its own).
 */
#ifndef ZP_TEST_PARSE_ENTRY_H
#define ZP_TEST_PARSE_ENTRY_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/yaml.h"
#include "providers/provider.h"

/* 0, or -1 with the sentence in err, as config_parse; *cfg is the parsed instance. */
static inline int parse_entry(const struct zp_provider_ops *ops, const char *name,
                              const char *lines, void **cfg, struct zp_err *err)
{
    char text[2048];
    struct zp_ydoc doc;
    int rc;

    snprintf(text, sizeof(text),
             "providers:\n"
             "  - name: %s\n"
             "    type: %s\n"
             "    dnsZones: [example.test]\n"
             "%s",
             name, ops->type, lines);
    zp_err_clear(err);
    assert_int_equal(zp_yaml_load_string("zoneproof.yaml", text, strlen(text), &doc, err), 0);
    *cfg = NULL;
    rc = ops->config_parse(zp_y_get(doc.root, "providers")->items[0], "providers[0]", cfg, err);
    zp_yaml_free(&doc);
    return rc;
}

#endif
