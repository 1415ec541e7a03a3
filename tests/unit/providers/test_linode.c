/*
 * test_linode.c — the linode provider's reading of its replies (domain
 * lookup, a page of records matched by exact target), its TTL steps, and the
 * per-record helpers it shares with cloudflare and digitalocean (ids from
 * JSON, where a call writes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <string.h>

#include "base/err.h"
#include "providers/linode_int.h"
#include "providers/perrecord.h"

static const struct zp_pr_api api = {.type = "linode", .what = "Linode", .rate = 1, .burst = 1};

#define REC(id, name, type, target)                                                                \
    "{\"id\":" #id ",\"type\":\"" type "\",\"name\":\"" name "\",\"target\":\"" target             \
    "\",\"ttl_sec\":300}"

static void records_matching_a_value(void **state)
{
    /* The first record with the name holds another value: it must stay. */
    /* clang-format off */
    cJSON *root = cJSON_Parse("{\"data\":["
                              REC(11, "_acme-challenge", "TXT", "other") ","
                              REC(12, "_acme-challenge", "TXT", "v1") ","
                              REC(13, "_acme-challenge.example.com", "TXT", "v1") ","
                              REC(14, "_acme-challenge", "TXT", "v1 ") ","
                              REC(15, "_acme-challenge", "CNAME", "v1") ","
                              REC(16, "www", "TXT", "v1")
                              "],\"page\":1,\"pages\":4,\"results\":7}");
    /* clang-format on */
    struct zp_pr_ids ids = {0};
    int pages = 0;

    assert_int_equal(zp_li_match_page(root, "_acme-challenge", "_acme-challenge.example.com", "v1",
                                      &ids, &pages),
                     0);
    assert_int_equal(pages, 4);
    assert_int_equal(ids.n, 2);
    assert_string_equal(ids.id[0], "12");
    assert_string_equal(ids.id[1], "13");
    cJSON_Delete(root);

    root = cJSON_Parse("{\"data\":[" REC(21, "", "TXT", "v") "],\"page\":1,\"pages\":1}");
    ids.n = 0;
    assert_int_equal(zp_li_match_page(root, "", "example.com", "v", &ids, &pages), 0);
    assert_int_equal(ids.n, 1);
    assert_string_equal(ids.id[0], "21");
    cJSON_Delete(root);
    root = cJSON_Parse("{\"errors\":[{\"reason\":\"Not found\"}]}");
    assert_int_equal(zp_li_match_page(root, "", "example.com", "v", &ids, &pages), -1);
    cJSON_Delete(root);
}

static void domain_lookup(void **state)
{
    char id[ZP_PR_ID_MAX] = "";
    cJSON *root = cJSON_Parse("{\"data\":[{\"id\":1234,\"domain\":\"example.com\","
                              "\"type\":\"master\"}],\"page\":1,\"pages\":1,\"results\":1}");

    assert_int_equal(zp_li_pick_domain(root, "example.com", id, sizeof(id)), 1);
    assert_string_equal(id, "1234");
    assert_int_equal(zp_li_pick_domain(root, "sub.example.com", id, sizeof(id)), 0);
    cJSON_Delete(root);
    root = cJSON_Parse("{\"data\":[],\"page\":1,\"pages\":1,\"results\":0}");
    assert_int_equal(zp_li_pick_domain(root, "example.com", id, sizeof(id)), 0);
    cJSON_Delete(root);
}

static void ttl_steps(void **state)
{
    assert_int_equal(zp_li_ttl(1), 300);
    assert_int_equal(zp_li_ttl(60), 300);
    assert_int_equal(zp_li_ttl(300), 300);
    assert_int_equal(zp_li_ttl(301), 3600);
    assert_int_equal(zp_li_ttl(86400), 86400);
    assert_int_equal(zp_li_ttl(9999999), 2419200);
}

static void json_ids(void **state)
{
    cJSON *o = cJSON_Parse("{\"a\":28448433,\"b\":\"023e105f\",\"c\":1.5,\"d\":-1,\"e\":\"\","
                           "\"f\":null,\"g\":9007199254740993,\"h\":\"../zones\","
                           "\"i\":\"a/b\",\"j\":\"..\",\"k\":\"a?b\"}");
    char id[ZP_PR_ID_MAX];

    assert_int_equal(zp_pr_json_id(o, "a", id, sizeof(id)), 0);
    assert_string_equal(id, "28448433");
    assert_int_equal(zp_pr_json_id(o, "b", id, sizeof(id)), 0);
    assert_string_equal(id, "023e105f");
    assert_int_equal(zp_pr_json_id(o, "c", id, sizeof(id)), -1);
    assert_int_equal(zp_pr_json_id(o, "d", id, sizeof(id)), -1);
    assert_int_equal(zp_pr_json_id(o, "e", id, sizeof(id)), -1);
    assert_int_equal(zp_pr_json_id(o, "f", id, sizeof(id)), -1);
    assert_int_equal(zp_pr_json_id(o, "g", id, sizeof(id)), -1); /* past exact doubles */
    assert_int_equal(zp_pr_json_id(o, "missing", id, sizeof(id)), -1);
    /* What would change the URL path it goes into. */
    assert_int_equal(zp_pr_json_id(o, "h", id, sizeof(id)), -1);
    assert_int_equal(zp_pr_json_id(o, "i", id, sizeof(id)), -1);
    assert_int_equal(zp_pr_json_id(o, "j", id, sizeof(id)), -1);
    assert_int_equal(zp_pr_json_id(o, "k", id, sizeof(id)), -1);
    assert_int_equal(zp_pr_json_id(o, "b", id, 4), -1);
    cJSON_Delete(o);
}

static void ids_list_is_bounded(void **state)
{
    struct zp_pr_ids ids = {0};

    for (int i = 0; i < ZP_PR_IDS_MAX; i++)
        assert_int_equal(zp_pr_ids_add(&ids, "x"), 0);
    assert_int_equal(zp_pr_ids_add(&ids, "y"), -1);
    assert_int_equal(ids.n, ZP_PR_IDS_MAX);
}

static void where_a_call_writes(void **state)
{
    struct zp_pr_target t;
    struct zp_err err = {0};

    assert_int_equal(
        zp_pr_target_set(&t, &api, "example.com.", "_acme-challenge.www.example.com.", NULL, &err),
        0);
    assert_string_equal(t.zone, "example.com");
    assert_string_equal(t.fqdn, "_acme-challenge.www.example.com");
    assert_string_equal(t.rel, "_acme-challenge.www");
    assert_int_equal(zp_pr_target_set(&t, &api, "example.com.", "example.com.", NULL, &err), 0);
    assert_string_equal(t.rel, "@");
    assert_int_equal(
        zp_pr_target_set(&t, &api, "other.com.", "_acme-challenge.example.com.", "zone", &err), -1);
    assert_int_equal(err.kind, ZP_ECONFIG);
    assert_string_equal(err.msg, "Linode: _acme-challenge.example.com is not inside zone "
                                 "other.com set by zone; set zone to the Linode domain that "
                                 "holds it, or remove the setting");
    zp_err_clear(&err);
    assert_int_equal(zp_pr_target_set(&t, &api, "badexample.com.", "x.example.com.", NULL, &err),
                     -1);
    assert_int_equal(err.kind, ZP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(records_matching_a_value),
        cmocka_unit_test(domain_lookup),
        cmocka_unit_test(ttl_steps),
        cmocka_unit_test(json_ids),
        cmocka_unit_test(ids_list_is_bounded),
        cmocka_unit_test(where_a_call_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
