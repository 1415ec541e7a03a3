/*
 * test_journal.c — journal entries (solver/journal.h): the id names what
 * the entry names and nothing else, an entry survives its JSON form
 * exactly, and an entry whose fields were tampered with (its id no longer
 * matches, a field missing, too long or of the wrong type) is refused, so
 * a planted entry cannot make the sweeper remove another value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "solver/journal.h"

#define FQDN "_acme-challenge.www.example.test."
#define VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"

static void id_is_what_the_entry_names(void **state)
{
    struct zp_jentry a, b;

    (void)state;
    zp_jentry_make(&a, "lab", "example.test.", FQDN, VALUE, "web", "uid-1");
    zp_jentry_make(&b, "lab", "other.test.", FQDN, VALUE, "shop", "uid-2");
    /* The same value at the same name through the same instance: one entry, whoever asked. */
    assert_string_equal(a.id, b.id);
    /* sha256("lab\0" FQDN "\0" VALUE), first 16 bytes: fixed, so entries outlive upgrades. */
    assert_string_equal(a.id, "zpj-ff33e7c9e31b23ac3f5d7ded95b32b6e");
}

static void json_round_trip(void **state)
{
    struct zp_jentry a, b;
    struct zp_err err = {0};
    char *json;

    (void)state;
    zp_jentry_make(&a, "lab", "example.test.", FQDN, VALUE, "web", "3f1c2a");
    a.state = ZP_J_WRITTEN;
    a.time_s = 1796000000;
    json = zp_jentry_to_json(&a);
    assert_int_equal(zp_jentry_from_json(json, strlen(json), &b, &err), 0);
    assert_memory_equal(&a, &b, sizeof(a));
    free(json);
}

static void tampered_entries_refused(void **state)
{
    static const char *const bad[] = {
        /* the value changed, the id kept: it would remove another value */
        "{\"id\":\"zpj-ff33e7c9e31b23ac3f5d7ded95b32b6e\",\"instance\":\"lab\",\"zone\":\"\","
        "\"fqdn\":\"" FQDN "\",\"value\":\"other\",\"namespace\":\"\",\"uid\":\"\","
        "\"time\":\"1\",\"state\":\"written\"}",
        "{\"id\":\"x\"}",
        "[1,2]",
        "{\"id\":\"zpj-ff33e7c9e31b23ac3f5d7ded95b32b6e\",\"instance\":7,\"zone\":\"\","
        "\"fqdn\":\"" FQDN "\",\"value\":\"" VALUE "\",\"namespace\":\"\",\"uid\":\"\","
        "\"time\":\"1\",\"state\":\"written\"}",
        "{\"id\":\"zpj-ff33e7c9e31b23ac3f5d7ded95b32b6e\",\"instance\":\"lab\",\"zone\":\"\","
        "\"fqdn\":\"" FQDN "\",\"value\":\"" VALUE "\",\"namespace\":\"\",\"uid\":\"\","
        "\"time\":\"-1x\",\"state\":\"written\"}",
    };
    struct zp_jentry e;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct zp_err err = {0};
        assert_int_equal(zp_jentry_from_json(bad[i], strlen(bad[i]), &e, &err), -1);
        assert_non_null(strstr(err.msg, "journal entry"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(id_is_what_the_entry_names),
        cmocka_unit_test(json_round_trip),
        cmocka_unit_test(tampered_entries_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
