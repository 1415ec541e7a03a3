/*
 * procmetrics.c — the process_* metrics every Prometheus client exposes
 * (process_cpu_seconds_total, process_resident_memory_bytes, …), read
 * from /proc/self at each scrape; and zoneproof_build_info.
 *
 * Linux only, like the rest of zoneproof; on a read failure the gauge
 * keeps its last value, so a scrape never fails for it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "base/metrics.h"
#include "base/metrics_int.h"

static struct zp_metric cpu =
    ZP_COUNTER("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "");
static struct zp_metric rss =
    ZP_GAUGE("process_resident_memory_bytes", "Resident memory size in bytes.", "");
static struct zp_metric vsz =
    ZP_GAUGE("process_virtual_memory_bytes", "Virtual memory size in bytes.", "");
static struct zp_metric fds = ZP_GAUGE("process_open_fds", "Number of open file descriptors.", "");
static struct zp_metric max_fds =
    ZP_GAUGE("process_max_fds", "Maximum number of open file descriptors.", "");
static struct zp_metric threads = ZP_GAUGE("process_threads", "Number of OS threads.", "");
static struct zp_metric start = ZP_GAUGE(
    "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "");
static struct zp_metric build = ZP_GAUGE(
    "zoneproof_build_info", "Always 1; the labels say which zoneproof and which libraries answer.",
    "version,openssl,libcurl");

int zp_procstat_parse(const char *text, size_t len, struct zp_procstat *st)
{
    char buf[1024];
    const char *p;
    /* Fields after the command: 3 state … 14 utime, 15 stime, 20 threads, 22 start, 23 vsize,
     * 24 rss. */
    unsigned long long f[25] = {0};
    int field = 3;
    char *end;

    memset(st, 0, sizeof(*st));
    if (len >= sizeof(buf))
        len = sizeof(buf) - 1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ')
        return -1;
    p += 2;
    while (*p && field <= 24) {
        if (field == 3) {
            p++; /* the state letter */
        } else {
            int neg = *p == '-';
            f[field] = strtoull(p + neg, &end, 10);
            if (end == p + neg)
                return -1;
            p = end;
        }
        if (*p != ' ' && field < 24)
            return -1;
        if (*p == ' ')
            p++;
        field++;
    }
    if (field <= 24)
        return -1;
    st->utime = f[14];
    st->stime = f[15];
    st->threads = (long long)f[20];
    st->starttime = f[22];
    st->vsize = f[23];
    st->rss = (long long)f[24];
    return 0;
}

static double boot_time(void)
{
    char line[256];
    double bt = 0;
    FILE *fp = fopen("/proc/stat", "re");

    if (fp == NULL)
        return 0;
    while (fgets(line, sizeof(line), fp) != NULL)
        if (strncmp(line, "btime ", 6) == 0) {
            bt = strtod(line + 6, NULL);
            break;
        }
    fclose(fp);
    return bt;
}

static void read_stat(void)
{
    char text[1024];
    struct zp_procstat st;
    double tick = (double)sysconf(_SC_CLK_TCK);
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd == -1)
        return;
    n = read(fd, text, sizeof(text));
    close(fd);
    if (n <= 0 || tick <= 0 || zp_procstat_parse(text, (size_t)n, &st) == -1)
        return;
    zp_metric_set(&cpu, (double)(st.utime + st.stime) / tick, ZP_NOLABEL);
    zp_metric_set(&threads, (double)st.threads, ZP_NOLABEL);
    zp_metric_set(&vsz, (double)st.vsize, ZP_NOLABEL);
    zp_metric_set(&rss, (double)st.rss * (double)sysconf(_SC_PAGESIZE), ZP_NOLABEL);
    zp_metric_set(&start, boot_time() + (double)st.starttime / tick, ZP_NOLABEL);
}

static void read_fds(void)
{
    struct rlimit rl;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    long n = 0;

    if (d != NULL) {
        while ((e = readdir(d)) != NULL)
            n += e->d_name[0] != '.';
        closedir(d);
        zp_metric_set(&fds, (double)(n - 1), ZP_NOLABEL); /* less the directory's own */
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        zp_metric_set(&max_fds, rl.rlim_cur == RLIM_INFINITY ? -1.0 : (double)rl.rlim_cur,
                      ZP_NOLABEL);
}

void zp_metrics_process_collect(void)
{
    read_stat();
    read_fds();
}

void zp_metrics_build_info(const char *version)
{
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    char ossl[64];
    const char *ov = OpenSSL_version(OPENSSL_VERSION);

    /* "OpenSSL 3.0.17 1 Jul 2025": the number alone. */
    if (strncmp(ov, "OpenSSL ", 8) == 0)
        ov += 8;
    snprintf(ossl, sizeof(ossl), "%.*s", (int)strcspn(ov, " "), ov);
    zp_metric_set(&build, 1.0, version, ossl, cv ? cv->version : "");
}
