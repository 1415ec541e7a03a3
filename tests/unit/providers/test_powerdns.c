/*
 * test_powerdns.c — which PowerDNS versions edit one record server-side
 * (EXTEND/PRUNE, 5.1+) and show disabled records in a read of one name
 * (5.0+), the API URL built from the endpoint setting, and the PATCH for a
 * TXT set: disabled records and comments, which are foreign, always stay.
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

#include "providers/powerdns_int.h"

#define NAME "_acme-challenge.example.test."
#define OURS "ours-value"

static void versions(void **state)
{
    (void)state;
    assert_false(zp_pdns_version_modern("4.7.3"));
    assert_false(zp_pdns_version_modern("4.9.4"));
    assert_false(zp_pdns_version_modern("5.0.1"));
    assert_true(zp_pdns_version_modern("5.1.0"));
    assert_true(zp_pdns_version_modern("5.1.0-alpha1"));
    assert_true(zp_pdns_version_modern("5.2.3"));
    assert_true(zp_pdns_version_modern("6.0.0"));
    /* Unknown shapes take the path every version has. */
    assert_false(zp_pdns_version_modern("master"));
    assert_false(zp_pdns_version_modern(""));
    assert_false(zp_pdns_version_modern("5"));
    assert_false(zp_pdns_version_modern(NULL));
    /* A read of one name shows disabled records from 5.0 on (include_disabled=true). */
    assert_false(zp_pdns_filter_shows_disabled("4.7.3"));
    assert_false(zp_pdns_filter_shows_disabled("4.9.9"));
    assert_true(zp_pdns_filter_shows_disabled("5.0.0"));
    assert_true(zp_pdns_filter_shows_disabled("5.0.0-alpha1"));
    assert_true(zp_pdns_filter_shows_disabled("5.1.2"));
    assert_false(zp_pdns_filter_shows_disabled("master"));
    assert_false(zp_pdns_filter_shows_disabled(NULL));
}

/*
 * The PATCH planned for a zone whose TXT set at NAME is rrset (JSON, NULL:
 * none), compact JSON of the rrsets array; *how as planned ("" for none).
 */
static char *plan(const char *rrset, int modern, int del, const char **how)
{
    char doc[2048];
    cJSON *zone, *rrsets;
    struct zp_pdns_set set;
    struct zp_pdns_want w = {
        .fqdn = NAME, .value = OURS, .quoted = "\"" OURS "\"", .modern = modern, .del = del};
    char *out;

    snprintf(doc, sizeof(doc), "{\"kind\":\"Native\",\"rrsets\":[%s]}", rrset ? rrset : "");
    zone = cJSON_Parse(doc);
    assert_non_null(zone);
    zp_pdns_find_set(zone, NAME, OURS, 60, &set);
    assert_int_equal(set.unreadable, 0);
    rrsets = zp_pdns_plan(&set, &w, how);
    if (*how == NULL)
        *how = "";
    out = cJSON_PrintUnformatted(rrsets);
    cJSON_Delete(rrsets);
    cJSON_Delete(zone);
    return out;
}

#define SET(ttl, records, comments)                                                                \
    "{\"name\":\"" NAME "\",\"type\":\"TXT\",\"ttl\":" #ttl ",\"records\":[" records               \
    "],\"comments\":[" comments "]}"
#define REC(content, off) "{\"content\":\"\\\"" content "\\\"\",\"disabled\":" off "}"
#define COMMENT "{\"content\":\"keep\",\"account\":\"ops\",\"modified_at\":1700000000}"

static void expect(const char *rrset, int modern, int del, const char *how_want, const char *want)
{
    const char *how;
    char *got = plan(rrset, modern, del, &how);

    assert_string_equal(how, how_want);
    assert_string_equal(got, want);
    free(got);
}

/* Before 5.1, and on 5.1 for a set with disabled records or comments: REPLACE keeps them. */
static void replace_keeps_disabled_and_comments(void **state)
{
    (void)state;
    /* Present next to a disabled foreign record: it goes back disabled, with the TTL. */
    expect(SET(120, REC("off", "true"), ""), 0, 0, "REPLACE",
           "[{\"name\":\"" NAME "\",\"type\":\"TXT\",\"changetype\":\"REPLACE\",\"ttl\":120,"
           "\"records\":[" REC("off", "true") "," REC(OURS, "false") "]}]");
    /* CleanUp of the last enabled value: REPLACE with what stays, never DELETE. */
    expect(SET(120, REC("off", "true") "," REC(OURS, "false"), ""), 0, 1, "REPLACE",
           "[{\"name\":\"" NAME "\",\"type\":\"TXT\",\"changetype\":\"REPLACE\",\"ttl\":120,"
           "\"records\":[" REC("off", "true") "]}]");
    /* Comments go back exactly, also when no record stays. */
    expect(SET(60, REC(OURS, "false"), COMMENT), 0, 1, "REPLACE",
           "[{\"name\":\"" NAME "\",\"type\":\"TXT\",\"changetype\":\"REPLACE\",\"ttl\":60,"
           "\"records\":[],\"comments\":[" COMMENT "]}]");
    /* A set of comments alone has TTL 0: our record takes the instance's. */
    expect(SET(0, "", COMMENT), 0, 0, "REPLACE",
           "[{\"name\":\"" NAME "\",\"type\":\"TXT\",\"changetype\":\"REPLACE\",\"ttl\":60,"
           "\"records\":[" REC(OURS, "false") "],\"comments\":[" COMMENT "]}]");
    /* 5.1's EXTEND and PRUNE would drop disabled records: REPLACE instead. */
    expect(SET(120, REC("off", "true"), ""), 1, 0, "REPLACE",
           "[{\"name\":\"" NAME "\",\"type\":\"TXT\",\"changetype\":\"REPLACE\",\"ttl\":120,"
           "\"records\":[" REC("off", "true") "," REC(OURS, "false") "]}]");
    expect(SET(120, REC("on", "false") "," REC(OURS, "false"), COMMENT), 1, 1, "REPLACE",
           "[{\"name\":\"" NAME "\",\"type\":\"TXT\",\"changetype\":\"REPLACE\",\"ttl\":120,"
           "\"records\":[" REC("on", "false") "],\"comments\":[" COMMENT "]}]");
    /* Our value disabled: present enables it, cleanup removes it, the rest stays. */
    expect(SET(120, REC(OURS, "true") "," REC("on", "false"), ""), 1, 0, "REPLACE",
           "[{\"name\":\"" NAME "\",\"type\":\"TXT\",\"changetype\":\"REPLACE\",\"ttl\":120,"
           "\"records\":[" REC("on", "false") "," REC(OURS, "false") "]}]");
}

static void delete_and_extend_only_when_nothing_foreign_is_lost(void **state)
{
    (void)state;
    expect(SET(60, REC(OURS, "false"), ""), 0, 1, "DELETE",
           "[{\"name\":\"" NAME "\",\"type\":\"TXT\",\"changetype\":\"DELETE\"}]");
    expect(NULL, 1, 0, "EXTEND",
           "[{\"name\":\"" NAME "\",\"type\":\"TXT\",\"changetype\":\"EXTEND\",\"ttl\":60,"
           "\"records\":[" REC(OURS, "false") "]}]");
    expect(SET(120, REC("on", "false") "," REC(OURS, "false"), ""), 1, 1, "PRUNE",
           "[{\"name\":\"" NAME "\",\"type\":\"TXT\",\"changetype\":\"PRUNE\",\"ttl\":120,"
           "\"records\":[" REC(OURS, "false") "]}]");
    /* Nothing to do: already there, already gone. */
    expect(SET(120, REC("off", "true") "," REC(OURS, "false"), COMMENT), 0, 0, "", "[]");
    expect(SET(120, REC("off", "true"), COMMENT), 0, 1, "", "[]");
}

static void unreadable_sets_are_counted(void **state)
{
    static const char *const odd[] = {
        "{\"name\":\"" NAME "\",\"type\":\"TXT\",\"ttl\":60,\"records\":[{\"disabled\":true}]}",
        "{\"name\":\"" NAME "\",\"type\":\"TXT\",\"ttl\":60,\"records\":[{\"content\":\"x\","
        "\"disabled\":\"yes\"}]}",
        "{\"name\":\"" NAME "\",\"type\":\"TXT\",\"ttl\":60,\"records\":{}}",
        "{\"name\":\"" NAME "\",\"type\":\"TXT\",\"ttl\":60,\"records\":[],\"comments\":{}}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        char doc[1024];
        struct zp_pdns_set set;
        cJSON *zone;

        snprintf(doc, sizeof(doc), "{\"rrsets\":[%s]}", odd[i]);
        zone = cJSON_Parse(doc);
        assert_non_null(zone);
        zp_pdns_find_set(zone, NAME, OURS, 60, &set);
        assert_true(set.found);
        assert_int_not_equal(set.unreadable, 0);
        cJSON_Delete(zone);
    }
}

static void api_urls(void **state)
{
    static const char *const cases[][2] = {
        {"http://127.0.0.1:8081", "http://127.0.0.1:8081/api/v1"},
        {"https://pdns.example.com/pdns", "https://pdns.example.com/pdns/api/v1"},
        {"http://127.0.0.1:8081/api", "http://127.0.0.1:8081/api/v1"},
        {"http://127.0.0.1:8081/api/v1", "http://127.0.0.1:8081/api/v1"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *u = zp_pdns_api_url(cases[i][0]);
        assert_string_equal(u, cases[i][1]);
        free(u);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(versions),
        cmocka_unit_test(api_urls),
        cmocka_unit_test(replace_keeps_disabled_and_comments),
        cmocka_unit_test(delete_and_extend_only_when_nothing_foreign_is_lost),
        cmocka_unit_test(unreadable_sets_are_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
