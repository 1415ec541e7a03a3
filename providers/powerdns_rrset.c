/*
 * powerdns_rrset.c — the TXT set at the challenge name as PowerDNS holds
 * it, and the PATCH that changes only our value in it. Pure functions,
 * unit-tested on their own (tests/unit/providers/test_powerdns.c).
 *
 * A set holds more than the values DNS serves: records an operator
 * disabled (kept, not served) and comments (a list beside the records).
 * Both are foreign and must survive every change:
 *   - REPLACE writes back every record that is not our value with its
 *     disabled flag, and the comments exactly as read (content, account,
 *     modified_at). PowerDNS keeps the comments of a REPLACE without
 *     "comments" only while records remain (4.7 drops them with the last
 *     record), so they are always sent.
 *   - DELETE only when nothing foreign remains: no record, no comment.
 *   - EXTEND and PRUNE (5.1+) rebuild the set from the records PowerDNS
 *     looks up, which leave disabled ones out, so a disabled record would
 *     be lost: they are used only for a set of enabled records without
 *     comments; any other set is changed by REPLACE.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "providers/common.h"
#include "providers/powerdns_int.h"

int zp_pdns_version_at_least(const char *version, long want_major, long want_minor)
{
    char *end;
    long major, minor;

    if (version == NULL)
        return 0;
    major = strtol(version, &end, 10);
    if (end == version || *end != '.')
        return 0; /* a development build without a number: the safe path */
    minor = strtol(end + 1, &end, 10);
    return major > want_major || (major == want_major && minor >= want_minor);
}

int zp_pdns_version_modern(const char *version)
{
    return zp_pdns_version_at_least(version, 5, 1);
}

int zp_pdns_filter_shows_disabled(const char *version)
{
    return zp_pdns_version_at_least(version, 5, 0);
}

/* Counts the records of one TXT set: ours (enabled or not), foreign, disabled, unreadable. */
static void set_count(struct zp_pdns_set *set, const char *value)
{
    const cJSON *rec;

    cJSON_ArrayForEach(rec, set->records)
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "content");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "disabled");
        int off = cJSON_IsTrue(d);

        if (!cJSON_IsString(c) || (d != NULL && !cJSON_IsBool(d))) {
            set->unreadable++;
            continue;
        }
        set->nrecords++;
        set->disabled += off;
        if (!zp_txt_equal(c->valuestring, value))
            set->foreign++;
        else if (off)
            set->ours_off = 1;
        else
            set->ours_on = 1;
    }
}

void zp_pdns_find_set(const cJSON *zone, const char *fqdn, const char *value, long ttl,
                      struct zp_pdns_set *set)
{
    const cJSON *rrset;

    memset(set, 0, sizeof(*set));
    set->ttl = ttl;
    cJSON_ArrayForEach(rrset, cJSON_GetObjectItemCaseSensitive(zone, "rrsets"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(rrset, "name");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(rrset, "type");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(rrset, "ttl");
        const cJSON *comments = cJSON_GetObjectItemCaseSensitive(rrset, "comments");

        if (!cJSON_IsString(name) || !cJSON_IsString(type) || strcmp(type->valuestring, "TXT") ||
            strcasecmp(name->valuestring, fqdn) != 0)
            continue;
        set->found = 1;
        set->records = cJSON_GetObjectItemCaseSensitive(rrset, "records");
        if (set->records != NULL && !cJSON_IsArray(set->records))
            set->unreadable++;
        if (cJSON_IsArray(comments) && cJSON_GetArraySize(comments) > 0) {
            set->comments = comments;
            set->ncomments = (size_t)cJSON_GetArraySize(comments);
        } else if (comments != NULL && !cJSON_IsArray(comments)) {
            set->unreadable++;
        }
        set_count(set, value);
        /* A set of comments alone has TTL 0: a new record takes the instance's. Bounded
         * before the conversion: 1e300 is a JSON number too. */
        if (set->nrecords > 0 && cJSON_IsNumber(t) && t->valuedouble >= 0 &&
            t->valuedouble <= 2147483647)
            set->ttl = (long)t->valuedouble;
        return;
    }
}

/* Appends {content, disabled} to an array. */
static void add_record(cJSON *records, const char *content, int disabled)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "content", content);
    cJSON_AddBoolToObject(o, "disabled", disabled);
    cJSON_AddItemToArray(records, o);
}

/* One rrsets entry: name, type, changetype, and for all but DELETE the TTL and records. */
static cJSON *change(const struct zp_pdns_set *set, const struct zp_pdns_want *w,
                     const char *changetype)
{
    cJSON *rr = cJSON_CreateObject();

    cJSON_AddStringToObject(rr, "name", w->fqdn);
    cJSON_AddStringToObject(rr, "type", "TXT");
    cJSON_AddStringToObject(rr, "changetype", changetype);
    if (strcmp(changetype, "DELETE") != 0) {
        cJSON_AddNumberToObject(rr, "ttl", (double)set->ttl);
        cJSON_AddArrayToObject(rr, "records");
    }
    return rr;
}

/* REPLACE: every foreign record with its flag, the comments as read, and ours unless del. */
static cJSON *replace(const struct zp_pdns_set *set, const struct zp_pdns_want *w)
{
    cJSON *rr = change(set, w, "REPLACE");
    cJSON *records = cJSON_GetObjectItemCaseSensitive(rr, "records");
    const cJSON *rec;

    cJSON_ArrayForEach(rec, set->records)
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "content");
        if (cJSON_IsString(c) && !zp_txt_equal(c->valuestring, w->value))
            add_record(records, c->valuestring,
                       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "disabled")));
    }
    if (!w->del)
        add_record(records, w->quoted, 0);
    if (set->ncomments > 0)
        cJSON_AddItemToObject(rr, "comments", cJSON_Duplicate(set->comments, 1));
    return rr;
}

cJSON *zp_pdns_plan(const struct zp_pdns_set *set, const struct zp_pdns_want *w, const char **how)
{
    cJSON *rrsets = cJSON_CreateArray();
    const cJSON *rec;

    *how = NULL;
    if (w->del ? !set->ours_on && !set->ours_off : set->ours_on)
        return rrsets;
    if (w->modern && set->disabled == 0 && set->ncomments == 0) {
        *how = w->del ? "PRUNE" : "EXTEND";
        if (!w->del) {
            cJSON *rr = change(set, w, "EXTEND");
            add_record(cJSON_GetObjectItemCaseSensitive(rr, "records"), w->quoted, 0);
            cJSON_AddItemToArray(rrsets, rr);
            return rrsets;
        }
        /* PRUNE compares the stored form: name each form of our value the server holds. */
        cJSON_ArrayForEach(rec, set->records)
        {
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(rec, "content");
            if (cJSON_IsString(c) && zp_txt_equal(c->valuestring, w->value)) {
                cJSON *rr = change(set, w, "PRUNE");
                add_record(cJSON_GetObjectItemCaseSensitive(rr, "records"), c->valuestring, 0);
                cJSON_AddItemToArray(rrsets, rr);
            }
        }
        return rrsets;
    }
    /* DELETE only when nothing foreign stays: no record, no comment. */
    *how = w->del && set->foreign == 0 && set->ncomments == 0 ? "DELETE" : "REPLACE";
    cJSON_AddItemToArray(rrsets,
                         strcmp(*how, "DELETE") == 0 ? change(set, w, "DELETE") : replace(set, w));
    return rrsets;
}
