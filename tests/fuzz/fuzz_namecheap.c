/*
 * fuzz_namecheap.c — Namecheap's getHosts and setHosts replies, read with
 * expat by namecheap_xml.c: any bytes are understood completely or refused
 * with a sentence. A host list that is accepted must be complete, because
 * setHosts writes it back whole, and no field may hold a character that
 * XML cannot carry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "providers/namecheap_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_nc_hosts hosts;
    struct zp_nc_apierr apierr;
    struct zp_err err = {0};
    int rc;

    memset(&hosts, 0, sizeof(hosts));
    rc = zp_nc_parse_gethosts((const char *)data, size, "example.test", &hosts, &apierr, &err);
    if (rc == 0) {
        for (size_t i = 0; i < hosts.n; i++) {
            const struct zp_nc_host *h = &hosts.host[i];
            if (!h->name || !h->type || !h->address || !h->mxpref || !h->ttl)
                abort(); /* a host missing a field would be written back damaged */
            for (const unsigned char *c = (const unsigned char *)h->address; *c; c++)
                if (*c < 0x20 && *c != '\t' && *c != '\n' && *c != '\r')
                    abort();
        }
        zp_nc_hosts_free(&hosts);
    } else if (rc == -1 && err.msg[0] == '\0') {
        abort();
    }
    zp_err_clear(&err);
    rc = zp_nc_parse_sethosts((const char *)data, size, "example.test", &apierr, &err);
    if (rc == -1 && err.msg[0] == '\0')
        abort();
    return 0;
}
