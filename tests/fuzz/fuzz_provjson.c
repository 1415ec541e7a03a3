/*
 * fuzz_provjson.c — providers' JSON replies; the first byte picks the
 * reader, the rest is the body: Cloudflare's error classes, record pages
 * and zone list, DigitalOcean's record pages, Linode's record pages and
 * domain list, and the version PowerDNS reports. Checks that a page never
 * yields more ids than the list holds, that each id is non-empty, and that
 * a picked zone or domain id is a non-empty string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "providers/cloudflare_int.h"
#include "providers/digitalocean_int.h"
#include "providers/linode_int.h"
#include "providers/perrecord.h"
#include "providers/powerdns_int.h"

#define FQDN "_acme-challenge.www.example.test"
#define REL "_acme-challenge.www"
#define VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"

static void ids_ok(const struct zp_pr_ids *ids)
{
    if (ids->n > ZP_PR_IDS_MAX)
        abort();
    for (size_t i = 0; i < ids->n; i++)
        if (ids->id[i][0] == '\0' || memchr(ids->id[i], '\0', ZP_PR_ID_MAX) == NULL)
            abort();
}

static void id_ok(int rc, const char *id, size_t sz)
{
    if (memchr(id, '\0', sz) == NULL || (rc == 1 && id[0] == '\0'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct zp_pr_ids ids;
    char id[128], *s;
    int n = 0, code = 0;
    cJSON *root;

    if (size == 0)
        return 0;
    if (data[0] % 4 == 3) { /* PowerDNS's version string, as its /servers/localhost has it */
        s = malloc(size);
        if (s == NULL)
            abort();
        memcpy(s, data + 1, size - 1);
        s[size - 1] = '\0';
        (void)zp_pdns_version_modern(s);
        free(s);
        return 0;
    }
    root = cJSON_ParseWithLength((const char *)data + 1, size - 1);
    memset(&ids, 0, sizeof(ids));
    id[0] = '\0';
    switch (data[0] % 4) {
    case 0: /* Cloudflare */
        if ((unsigned)zp_cf_classify(200 + (long)(data[0] >> 2) * 10, root, &code) > ZP_CF_OTHER)
            abort();
        if (root == NULL)
            break;
        (void)zp_cf_match_page(root, FQDN, VALUE, &ids, &n);
        ids_ok(&ids);
        id_ok(zp_cf_pick_zone(root, "example.test", id, sizeof(id)), id, sizeof(id));
        break;
    case 1: /* DigitalOcean */
        if (root == NULL)
            break;
        (void)zp_do_match_page(root, REL, VALUE, &ids, &n);
        ids_ok(&ids);
        break;
    case 2: /* Linode */
        if (root == NULL)
            break;
        (void)zp_li_match_page(root, REL, FQDN, VALUE, &ids, &n);
        ids_ok(&ids);
        id_ok(zp_li_pick_domain(root, "example.test", id, sizeof(id)), id, sizeof(id));
        break;
    }
    cJSON_Delete(root);
    return 0;
}
