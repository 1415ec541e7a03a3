/*
 * zp_watch_rss.c — what a flood of abandoned Presents costs: N watches,
 * each given up 1 ms after it started, against a dead nameserver (a bound
 * UDP socket nobody reads: every query times out). Prints the live watches,
 * the drops and the RSS once the flood is in, and again after the queries
 * of the last round have timed out. Prints numbers; asserts nothing.
 *
 *   zp_watch_rss [N [maxWatches]]     (default 20000, the built-in cap)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "solver/watch.h"

static long rss_kb(void)
{
    char line[256];
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");

    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            v = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static void on_done(void *arg, const struct zp_watch_report *rep)
{
    (void)arg;
    (void)rep;
}

static void report(struct zp_watcher *w, const char *when)
{
    struct zp_watch_stats st;

    zp_watcher_stats(w, &st);
    printf("%-26s live=%-6zu lingering=%-6zu dropped=%-6llu refused=%-4llu rss=%ld kB\n", when,
           st.live, st.lingering, (unsigned long long)st.dropped, (unsigned long long)st.refused,
           rss_kb());
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20000u, i, refused = 0;
    struct zp_watch_limits lim = {argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 0, 0};
    struct sockaddr_in sa = {0};
    socklen_t sl = sizeof(sa);
    struct zp_err err = {0};
    struct zp_watcher *w;
    char ns[64], *nsv[1] = {ns};
    int dead = socket(AF_INET, SOCK_DGRAM, 0);

    zp_log_set_level(ZP_LOG_WARN);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (dead < 0 || bind(dead, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
        getsockname(dead, (struct sockaddr *)&sa, &sl) == -1) {
        perror("dead nameserver socket");
        return 2;
    }
    snprintf(ns, sizeof(ns), "127.0.0.1:%u", ntohs(sa.sin_port));
    if ((w = zp_watcher_new(4, &err)) == NULL) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    zp_watcher_set_limits(w, &lim);
    report(w, "start");
    for (i = 0; i < n; i++) {
        char fqdn[64], value[32];
        struct zp_watch_spec s = {fqdn, "test.", value, nsv, 1, NULL, 0, 0};
        snprintf(fqdn, sizeof(fqdn), "_acme-challenge.r%u.test.", i);
        snprintf(value, sizeof(value), "v-r%u", i);
        zp_err_clear(&err);
        refused += zp_watcher_wait(w, &s, zp_now_ms() + 1, on_done, NULL, &err) == -1;
        if (i % 1000 == 999)
            zp_sleep_ms(100); /* this thousand give up, as cert-manager's requests would */
    }
    printf("%u abandoned Presents against %s, %u refused\n", n, ns, refused);
    report(w, "after the flood");
    zp_sleep_ms(1500); /* the 1 s query timeout, and some */
    report(w, "after the query timeout");
    zp_watcher_free(w);
    close(dead);
    return 0;
}
