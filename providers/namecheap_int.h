/*
 * namecheap_int.h — what namecheap.c and its tests share: Namecheap's
 * getHosts/setHosts replies read strictly, and the host list written back.
 *
 * Namecheap's setHosts replaces every host record of a domain, so a host
 * list is only ever used when its reply was understood completely: every
 * host with every field, a known record type, the domain using Namecheap's
 * DNS, no error anywhere. Anything else is refused with a sentence, and the
 * caller writes nothing.
 */
#ifndef ZP_PROVIDERS_NAMECHEAP_INT_H
#define ZP_PROVIDERS_NAMECHEAP_INT_H

#include <stddef.h>

struct zp_buf;
struct zp_err;

#define ZP_NC_HOSTS_MAX 1000     /* more than any Namecheap domain holds */
#define ZP_NC_REPLY_MAX 1048576u /* a full host list is a few tens of KB */

/* One host record, with every field setHosts needs to write it back unchanged. */
struct zp_nc_host {
    char *name;    /* relative: "@", "www", "_acme-challenge.www" */
    char *type;    /* A, AAAA, CNAME, MX, TXT, … */
    char *address; /* decoded: the raw value, not XML-escaped */
    char *mxpref;  /* decimal, as Namecheap gave it */
    char *ttl;     /* decimal, as Namecheap gave it */
};

struct zp_nc_hosts {
    char *email_type; /* the domain's mail setting (MX, MXE, FWD, OX, …); NULL if none given */
    size_t n;
    struct zp_nc_host *host;
};

/* An <Error Number="…">text</Error> of a reply. */
struct zp_nc_apierr {
    long number;
    char text[256]; /* printable, bounded */
};

/*
 * Reads a getHosts reply for domain ("example.co.uk"). Returns 0 with
 * *hosts filled (the caller frees it); 1 when Namecheap answered with an
 * error (*apierr says which; the caller writes the sentence); -1 with a
 * sentence when the reply is not understood completely or refuses a write
 * (the domain does not use Namecheap's DNS).
 */
int zp_nc_parse_gethosts(const char *body, size_t len, const char *domain,
                         struct zp_nc_hosts *hosts, struct zp_nc_apierr *apierr,
                         struct zp_err *err);

/* Reads a setHosts reply: 0 when it says IsSuccess="true", 1 and -1 as above. */
int zp_nc_parse_sethosts(const char *body, size_t len, const char *domain,
                         struct zp_nc_apierr *apierr, struct zp_err *err);

/* Appends hosts to a form body as
 * &EmailType=…&HostName1=…&RecordType1=…&Address1=…&MXPref1=…&TTL1=… */
int zp_nc_form_hosts(const struct zp_nc_hosts *hosts, struct zp_buf *out);

/* Adds a host (copies of the strings). */
void zp_nc_hosts_add(struct zp_nc_hosts *hosts, const char *name, const char *type,
                     const char *address, const char *mxpref, const char *ttl);
/* Removes host i, keeping the order of the others. */
void zp_nc_hosts_remove(struct zp_nc_hosts *hosts, size_t i);
void zp_nc_hosts_free(struct zp_nc_hosts *hosts);

#endif
