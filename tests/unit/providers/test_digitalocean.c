/*
 * test_digitalocean.c — the digitalocean provider's reading of a page of
 * domain records (relative names, raw data compared exactly, the link to
 * the next page), its TTL floor and its settings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/err.h"
#include "base/yaml.h"
#include "providers/digitalocean_int.h"
#include "providers/perrecord.h"
#include "providers/provider.h"

extern const struct zp_provider_ops zp_prov_digitalocean;

#define REC(id, name, type, data)                                                                  \
    "{\"id\":" #id ",\"type\":\"" type "\",\"name\":\"" name "\",\"data\":\"" data                 \
    "\",\"priority\":null,\"port\":null,\"ttl\":30,\"weight\":null,\"flags\":null,\"tag\":null}"

static void records_matching_a_value(void **state)
{
    /* clang-format off */
    const char *page = "{\"domain_records\":["
                       REC(28448433, "_acme-challenge", "TXT", "v1") ","
                       REC(28448434, "_acme-challenge", "TXT", "\\\"v1\\\"") ","
                       REC(28448435, "_acme-challenge", "TXT", "v2") ","
                       REC(28448436, "_acme-challenge", "A", "v1") ","
                       REC(28448437, "_ACME-Challenge", "TXT", "v1") ","
                       REC(28448438, "www", "TXT", "v1")
                       "],\"links\":{\"pages\":{\"next\":\"https://api.digitalocean.com/v2/"
                       "domains/example.com/records?page=2\"}},\"meta\":{\"total\":9}}";
    /* clang-format on */
    cJSON *root = cJSON_Parse(page);
    struct zp_pr_ids ids = {0};
    int more = 0;

    assert_int_equal(zp_do_match_page(root, "_acme-challenge", "v1", &ids, &more), 0);
    assert_true(more);
    assert_int_equal(ids.n, 2);
    assert_string_equal(ids.id[0], "28448433");
    assert_string_equal(ids.id[1], "28448437");
    cJSON_Delete(root);

    /* clang-format off */
    root = cJSON_Parse("{\"domain_records\":[" REC(1, "@", "TXT", "v") "],\"links\":{},"
                       "\"meta\":{\"total\":1}}");
    /* clang-format on */
    ids.n = 0;
    assert_int_equal(zp_do_match_page(root, "@", "v", &ids, &more), 0);
    assert_false(more);
    assert_int_equal(ids.n, 1);
    assert_string_equal(ids.id[0], "1");
    cJSON_Delete(root);

    root = cJSON_Parse("{\"id\":\"not_found\",\"message\":\"x\"}");
    assert_int_equal(zp_do_match_page(root, "@", "v", &ids, &more), -1);
    cJSON_Delete(root);
}

static void ttl(void **state)
{
    assert_int_equal(zp_do_ttl(1), 30);
    assert_int_equal(zp_do_ttl(30), 30);
    assert_int_equal(zp_do_ttl(60), 60);
}

static int parse(const char *yaml, struct zp_err *err)
{
    struct zp_ydoc doc;
    void *cfg = NULL;
    int rc;

    if (zp_yaml_load_string("c.yaml", yaml, strlen(yaml), &doc, err) == -1)
        return -1;
    rc = zp_prov_digitalocean.config_parse(doc.root, "providers[0]", &cfg, err);
    if (rc == 0)
        zp_prov_digitalocean.config_free(cfg);
    zp_yaml_free(&doc);
    return rc;
}

static void settings(void **state)
{
    char tok[] = "/tmp/zp-do-token-XXXXXX", y[1024];
    struct zp_err err = {0};
    int fd = mkstemp(tok);

    assert_true(fd >= 0);
    close(fd);
    snprintf(y, sizeof(y), "apiTokenFile: %s\n", tok);
    assert_int_equal(parse(y, &err), -1); /* empty file */
    assert_non_null(strstr(err.msg, "c.yaml:1: providers[0]: apiTokenFile"));
    assert_non_null(strstr(err.msg, "is empty"));
    zp_err_clear(&err);

    fd = open(tok, O_WRONLY);
    assert_int_equal(write(fd, "dop_v1_abc\n", 11), 11);
    close(fd);
    assert_int_equal(parse(y, &err), 0);
    snprintf(y, sizeof(y), "apiTokenFile: %s\nzone: Example.COM.\nendpoint: https://do.test/v2/\n",
             tok);
    assert_int_equal(parse(y, &err), 0);
    snprintf(y, sizeof(y), "apiTokenFile: %s\nzone: \"exa mple.com\"\n", tok);
    assert_int_equal(parse(y, &err), -1);
    assert_non_null(strstr(err.msg, "c.yaml:2: providers[0]: zone \"exa mple.com\" is not a "
                                    "domain name"));
    zp_err_clear(&err);
    snprintf(y, sizeof(y), "apiTokenFile: %s\nendpoint: api.digitalocean.com\n", tok);
    assert_int_equal(parse(y, &err), -1);
    assert_non_null(strstr(err.msg, "must start with https://"));
    unlink(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(records_matching_a_value),
        cmocka_unit_test(ttl),
        cmocka_unit_test(settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
