/*
 * metrics_int.h — what metrics.c asks of procmetrics.c: the process's own
 * gauges (CPU, memory, descriptors, threads), set just before each
 * exposition.
 */
#ifndef ZP_BASE_METRICS_INT_H
#define ZP_BASE_METRICS_INT_H

void zp_metrics_process_collect(void);

/*
 * The fields of /proc/self/stat that matter here, from the text of that
 * file (len bytes, not NUL-terminated): utime and stime in clock ticks,
 * threads, start time in ticks since boot, vsize in bytes, rss in pages.
 * 0, or -1 when the text is not that file's shape. The command name
 * (field 2) may hold spaces and parentheses: fields count from its last ')'.
 */
struct zp_procstat {
    unsigned long long utime, stime, starttime, vsize;
    long long threads, rss;
};
int zp_procstat_parse(const char *text, size_t len, struct zp_procstat *st);

#endif
