/*
 * doctor.h — `zoneproof doctor`: every check of one certificate name before
 * issuing (routing, zone, delegation, servers, the challenge name, CAA,
 * DNSSEC, the Public Suffix List, split horizon, credentials), read-only
 * unless a write test is asked for. docs/doctor.md lists the checks.
 */
#ifndef ZP_SOLVER_DOCTOR_H
#define ZP_SOLVER_DOCTOR_H

#include <stdint.h>

#include "base/dname.h"
#include "solver/check.h"

struct zp_buf;
struct zp_config;
struct zp_precheck;
struct zp_solver;

#define ZP_DOCTOR_MAX_CHECKS 32

struct zp_doctor_opts {
    const struct zp_config *cfg;
    struct zp_precheck *pc;   /* the loaded lists (PSL, trust anchors) */
    struct zp_solver *solver; /* for --write-test; NULL: no write test */
    const char *issuer;       /* --issuer; NULL: cfg->caa_issuers[0], if any */
    const char *provider;     /* --provider: an instance name; NULL: route by dnsZones */
    uint64_t timeout_ms;      /* for one name */
};

struct zp_doctor_report {
    char name[ZP_DNAME_MAX]; /* as given: "example.com", "*.example.com" */
    char fqdn[ZP_DNAME_MAX]; /* "_acme-challenge.example.com." */
    char zone[ZP_DNAME_MAX]; /* the zone that holds fqdn; "" when not found */
    const char *instance;    /* the provider instance; NULL when routing failed */
    size_t n;
    struct zp_check checks[ZP_DOCTOR_MAX_CHECKS];
};

/* Runs every check for one name. Returns -1 only for a name that is not a DNS name. */
int zp_doctor_run(const struct zp_doctor_opts *o, const char *name, struct zp_doctor_report *rep);
/* The worst verdict of a report. */
enum zp_verdict zp_doctor_verdict(const struct zp_doctor_report *rep);
/* Reports as one JSON document: {"names":[{name, fqdn, zone, provider, verdict, checks:[…]}]}. */
int zp_doctor_json(const struct zp_doctor_report *reps, size_t n, struct zp_buf *out);

#endif
