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
#include <stdint.h>

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

/*
 * What a read may have lost (namecheap.c): a host list as sorted keys
 * "TYPE name" (name in lower case), one per host, repeats kept. TXT records
 * at _acme-challenge names are left out: other writers of challenges add
 * and remove them.
 */
struct zp_nc_keys {
    size_t n;
    char **key;
};

void zp_nc_keys_of(const struct zp_nc_hosts *hosts, struct zp_nc_keys *out);
/* The first key of before that after lacks (repeats counted), *nlost of them; NULL: none. */
const char *zp_nc_keys_lost(const struct zp_nc_keys *before, const struct zp_nc_keys *after,
                            size_t *nlost);
int zp_nc_keys_equal(const struct zp_nc_keys *a, const struct zp_nc_keys *b);
void zp_nc_keys_free(struct zp_nc_keys *k);

/*
 * What one process last read (and accepted) or wrote at a domain, and a
 * shorter list it refused since. Bounded: one list of at most
 * ZP_NC_HOSTS_MAX keys, and one refused list, per domain.
 */
struct zp_nc_seen {
    int known; /* a read was accepted, or a write succeeded */
    struct zp_nc_keys last;
    int has_shorter;
    struct zp_nc_keys shorter; /* the refused read's hosts */
    uint64_t shorter_since_ms; /* when that list was first read */
};

#define ZP_NC_CONFIRM_MS (10u * 60u * 1000u) /* a shorter list this old is taken as real */
#define ZP_NC_CONFIRM_TEXT "10 minutes or more"

enum { ZP_NC_READ_OK, ZP_NC_READ_LOST, ZP_NC_READ_CONFIRMED };

/*
 * Judges a read (keys now, taken over) against what was seen: ZP_NC_READ_OK
 * when it lost nothing, ZP_NC_READ_LOST when it lacks hosts the last one held
 * (refuse to write; lost gets the first such key), ZP_NC_READ_CONFIRMED when
 * it lacks them but is the same list as a refused read at least
 * ZP_NC_CONFIRM_MS before (the hosts went on purpose). OK and CONFIRMED make
 * now the list seen.
 */
int zp_nc_seen_judge(struct zp_nc_seen *seen, struct zp_nc_keys *now, uint64_t now_ms, char *lost,
                     size_t lostsz, size_t *nlost);
/* After a write: hosts is what the domain holds now. */
void zp_nc_seen_keep(struct zp_nc_seen *seen, const struct zp_nc_hosts *hosts);
void zp_nc_seen_free(struct zp_nc_seen *seen);

#endif
