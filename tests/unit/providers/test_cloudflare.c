/*
 * test_cloudflare.c — the cloudflare provider's reading of Cloudflare's
 * replies (what each status and error code means, which listed records hold
 * a value, which zone a lookup names) and its settings.
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
#include <unistd.h>

#include "base/err.h"
#include "base/yaml.h"
#include "providers/cloudflare_int.h"
#include "providers/perrecord.h"
#include "providers/provider.h"

extern const struct zp_provider_ops zp_prov_cloudflare;

static enum zp_cf_outcome classify(long status, const char *body, int *code)
{
    cJSON *root = body ? cJSON_Parse(body) : NULL;
    enum zp_cf_outcome o = zp_cf_classify(status, root, code);

    cJSON_Delete(root);
    return o;
}

#define ERR1(code, msg)                                                                            \
    "{\"success\":false,\"errors\":[{\"code\":" #code ",\"message\":\"" msg "\"}]}"

static void outcomes(void **state)
{
    int code;

    assert_int_equal(classify(200, "{\"success\":true,\"result\":[]}", &code), ZP_CF_OK);
    assert_int_equal(code, 0);
    assert_int_equal(classify(400, ERR1(81058, "An identical record already exists."), &code),
                     ZP_CF_EXISTS);
    assert_int_equal(code, 81058);
    assert_int_equal(classify(400, ERR1(81057, "Record already exists."), &code), ZP_CF_EXISTS);
    assert_int_equal(classify(404, ERR1(81044, "Record does not exist."), &code), ZP_CF_GONE);
    assert_int_equal(classify(403, ERR1(9109, "Invalid access token"), &code), ZP_CF_AUTH);
    assert_int_equal(classify(403, ERR1(9109, "Unauthorized to access requested resource"), &code),
                     ZP_CF_PERM);
    assert_int_equal(classify(401, ERR1(1000, "Invalid API Token"), &code), ZP_CF_AUTH);
    assert_int_equal(classify(403, ERR1(10000, "Authentication error"), &code), ZP_CF_PERM);
    assert_int_equal(classify(400, ERR1(7003, "Could not route"), &code), ZP_CF_NOZONE);
    assert_int_equal(classify(400, ERR1(81045, "Record quota exceeded."), &code), ZP_CF_QUOTA);
    assert_int_equal(
        classify(400, ERR1(81054, "A CNAME record with that host already exists."), &code),
        ZP_CF_CONFLICT);
    /* The meaning may sit in the chain only. */
    assert_int_equal(classify(400,
                              "{\"success\":false,\"errors\":[{\"code\":9999,\"message\":\"x\","
                              "\"error_chain\":[{\"code\":6111,\"message\":\"Invalid format for "
                              "Authorization header\"}]}]}",
                              &code),
                     ZP_CF_BADHEADER);
    assert_int_equal(code, 9999);
    assert_int_equal(classify(400, ERR1(6003, "Invalid request headers"), &code), ZP_CF_BADHEADER);
    /* Status decides when no code does; 5xx always. */
    assert_int_equal(classify(401, NULL, &code), ZP_CF_AUTH);
    assert_int_equal(classify(403, "<html>", &code), ZP_CF_PERM);
    assert_int_equal(classify(404, "{}", &code), ZP_CF_NOTFOUND);
    assert_int_equal(classify(502, ERR1(81058, "x"), &code), ZP_CF_SERVER);
    assert_int_equal(classify(400, ERR1(1004, "DNS Validation Error"), &code), ZP_CF_OTHER);
    assert_int_equal(code, 1004);
    assert_int_equal(classify(200, "{\"success\":false,\"errors\":[]}", &code), ZP_CF_OTHER);
}

#define REC(id, name, type, content)                                                               \
    "{\"id\":\"" id "\",\"name\":\"" name "\",\"type\":\"" type "\",\"content\":" content "}"

static void records_matching_a_value(void **state)
{
    /* clang-format off */
    const char *page =
        "{\"success\":true,\"result\":["
        REC("a1", "_acme-challenge.example.com", "TXT", "\"\\\"v1\\\"\"") ","
        REC("a2", "_acme-challenge.example.com", "TXT", "\"v1\"") ","
        REC("a3", "_ACME-challenge.Example.com", "TXT", "\"\\\"v1\\\" \\\"\\\"\"") ","
        REC("b1", "_acme-challenge.example.com", "TXT", "\"\\\"v2\\\"\"") ","
        REC("c1", "x._acme-challenge.example.com", "TXT", "\"v1\"") ","
        REC("d1", "_acme-challenge.example.com", "CNAME", "\"v1\"") ","
        "{\"name\":\"_acme-challenge.example.com\",\"type\":\"TXT\",\"content\":\"v1\"}"
        "],\"result_info\":{\"page\":1,\"per_page\":100,\"total_pages\":3}}";
    /* clang-format on */
    cJSON *root = cJSON_Parse(page);
    struct zp_pr_ids ids = {0};
    int pages = 0;

    assert_int_equal(zp_cf_match_page(root, "_acme-challenge.example.com", "v1", &ids, &pages), 0);
    assert_int_equal(pages, 3);
    assert_int_equal(ids.n, 3);
    assert_string_equal(ids.id[0], "a1"); /* quoted, as sent */
    assert_string_equal(ids.id[1], "a2"); /* unquoted, as other clients send */
    assert_string_equal(ids.id[2], "a3"); /* split into strings, name in other case */
    cJSON_Delete(root);

    root = cJSON_Parse("{\"success\":true,\"result\":[]}");
    ids.n = 0;
    assert_int_equal(zp_cf_match_page(root, "x.example.com", "v", &ids, &pages), 0);
    assert_int_equal(pages, 1);
    assert_int_equal(ids.n, 0);
    cJSON_Delete(root);
    root = cJSON_Parse("{\"success\":true,\"result\":{\"id\":\"x\"}}");
    assert_int_equal(zp_cf_match_page(root, "x.example.com", "v", &ids, &pages), -1);
    cJSON_Delete(root);
}

static void zone_lookup(void **state)
{
    char id[ZP_PR_ID_MAX] = "";
    cJSON *root =
        cJSON_Parse("{\"success\":true,\"result\":["
                    "{\"id\":\"023e105f4ecef8ad9ca31a8372d0c353\",\"name\":\"example.com\"},"
                    "{\"id\":\"ffff105f4ecef8ad9ca31a8372d0c353\",\"name\":\"sub.example.com\"}]}");

    assert_int_equal(zp_cf_pick_zone(root, "example.com", id, sizeof(id)), 1);
    assert_string_equal(id, "023e105f4ecef8ad9ca31a8372d0c353");
    assert_int_equal(zp_cf_pick_zone(root, "other.com", id, sizeof(id)), 0);
    cJSON_Delete(root);
    root = cJSON_Parse("{\"success\":true,\"result\":["
                       "{\"id\":\"aaaa\",\"name\":\"example.com\"},"
                       "{\"id\":\"bbbb\",\"name\":\"EXAMPLE.com\"}]}");
    assert_int_equal(zp_cf_pick_zone(root, "example.com", id, sizeof(id)), 2);
    cJSON_Delete(root);
    assert_int_equal(zp_cf_pick_zone(NULL, "example.com", id, sizeof(id)), -1);
}

static void ttl(void **state)
{
    assert_int_equal(zp_cf_ttl(1), 60);
    assert_int_equal(zp_cf_ttl(59), 60);
    assert_int_equal(zp_cf_ttl(60), 60);
    assert_int_equal(zp_cf_ttl(3600), 3600);
}

/* Parses one providers entry; returns 0 or -1 with err set. */
static int parse(const char *yaml, struct zp_err *err)
{
    struct zp_ydoc doc;
    void *cfg = NULL;
    int rc;

    if (zp_yaml_load_string("c.yaml", yaml, strlen(yaml), &doc, err) == -1)
        return -1;
    rc = zp_prov_cloudflare.config_parse(doc.root, "providers[0]", &cfg, err);
    if (rc == 0)
        zp_prov_cloudflare.config_free(cfg);
    zp_yaml_free(&doc);
    return rc;
}

static void settings(void **state)
{
    char tok[] = "/tmp/zp-cf-token-XXXXXX", y[1024];
    struct zp_err err = {0};
    int fd = mkstemp(tok);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abc\n", 4), 4);
    close(fd);

    snprintf(y, sizeof(y), "apiTokenFile: %s\nzoneId: 023E105F4ECEF8AD9CA31A8372D0C353\n", tok);
    assert_int_equal(parse(y, &err), 0);
    snprintf(y, sizeof(y), "apiTokenFile: %s\nzoneApiTokenFile: %s\n", tok, tok);
    assert_int_equal(parse(y, &err), 0);

    snprintf(y, sizeof(y), "apiTokenFile: %s\nzoneId: example.com\n", tok);
    assert_int_equal(parse(y, &err), -1);
    assert_non_null(strstr(err.msg, "c.yaml:2: providers[0]: zoneId \"example.com\" is not a "
                                    "Cloudflare zone id"));
    zp_err_clear(&err);
    snprintf(y, sizeof(y), "apiTokenFile: %s\nzoneApiTokenFile: /nonexistent/zone-token\n", tok);
    assert_int_equal(parse(y, &err), -1);
    assert_non_null(strstr(err.msg, "zoneApiTokenFile"));
    assert_non_null(strstr(err.msg, "/nonexistent/zone-token"));
    zp_err_clear(&err);
    assert_int_equal(parse("zoneId: 023e105f4ecef8ad9ca31a8372d0c353\n", &err), -1);
    assert_non_null(strstr(err.msg, "apiTokenFile"));
    zp_err_clear(&err);
    unlink(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outcomes),    cmocka_unit_test(records_matching_a_value),
        cmocka_unit_test(zone_lookup), cmocka_unit_test(ttl),
        cmocka_unit_test(settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
