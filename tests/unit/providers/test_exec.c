/*
 * test_exec.c — the exec provider against tiny shell scripts in a temporary
 * folder: its settings and their refusals, the arguments in lego's order,
 * the environment the program gets (and nothing else of ours), the sentence
 * of each way a run ends (exit code, signal, timeout, deadline), the group
 * stopped and every child reaped, and the envFromFiles value kept out of
 * sentences and logs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/provider.h"
#include "parse_entry.h"

#define FQDN "_acme-challenge.example.test."
#define ZONE "example.test."
#define VALUE "-LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX" /* base64url may start with '-' */
#define SECRET "tok-Zq8vR2mW5xK1nB7c"

extern const struct zp_provider_ops zp_prov_exec;
static const struct zp_provider_ops *ops = &zp_prov_exec;

static char tmpdir[64];

#define assert_has(s, sub)                                                                         \
    do {                                                                                           \
        if (strstr((s), (sub)) == NULL)                                                            \
            fail_msg("\"%s\" lacks \"%s\"", (s), (sub));                                           \
    } while (0)

/* ---- helpers ------------------------------------------------------------------------------- */

static void write_file(const char *name, const char *text, mode_t mode)
{
    char path[160];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(chmod(path, mode), 0);
}

/* A /bin/sh script in tmpdir; $D names tmpdir inside it (a shell variable, not exported). */
static void script(const char *name, const char *body)
{
    char text[2048];

    snprintf(text, sizeof(text), "#!/bin/sh\nD='%s'\n%s\n", tmpdir, body);
    write_file(name, text, 0755);
}

/* The contents of a file in tmpdir ("" when absent), in a static buffer. */
static const char *slurp(const char *name)
{
    static char buf[4096];
    char path[160];
    FILE *fp;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    buf[0] = '\0';
    if ((fp = fopen(path, "r")) != NULL) {
        n = fread(buf, 1, sizeof(buf) - 1, fp);
        fclose(fp);
    }
    buf[n] = '\0';
    return buf;
}

/* Parses a providers[0] entry of type exec whose settings are lines; as config_parse. */
static int parse(const char *lines, void **cfg, struct zp_err *err)
{
    return parse_entry(ops, "hook", lines, cfg, err);
}

/* A config running tmpdir/prog, with extra setting lines. */
static void *cfg_for(const char *prog, const char *extra)
{
    char lines[1024];
    struct zp_err err;
    void *cfg;

    snprintf(lines, sizeof(lines), "    command: %s/%s\n%s", tmpdir, prog, extra ? extra : "");
    if (parse(lines, &cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    return cfg;
}

static int call_value(void *cfg, int del, const char *value, uint64_t budget_ms, struct zp_err *err)
{
    struct zp_record rec = {.fqdn = FQDN, .zone = ZONE, .value = value, .ttl = 60};
    struct zp_prov_call c = {.deadline_ms = zp_now_ms() + budget_ms, .instance = "hook"};

    zp_err_clear(err);
    return del ? ops->cleanup(cfg, &rec, &c, err) : ops->present(cfg, &rec, &c, err);
}

static int call(void *cfg, int del, uint64_t budget_ms, struct zp_err *err)
{
    return call_value(cfg, del, VALUE, budget_ms, err);
}

/*
 * The scripts that must be stopped sleep 30 s: ending well before that proves they were
 * stopped. A bound on correctness, not on speed: a loaded machine may take seconds more.
 */
#define STOPPED_WITHIN_MS 20000

static uint64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Every child of this process was reaped: no zombie is left behind. */
static void no_children(void)
{
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* Whether pid is a live process (not gone, not a zombie). */
static int alive(pid_t pid)
{
    char path[64], buf[512], *p;
    FILE *fp;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((fp = fopen(path, "r")) == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static pid_t pid_in(const char *name)
{
    long v = strtol(slurp(name), NULL, 10);

    assert_true(v > 1);
    return (pid_t)v;
}

/* ---- configuration --------------------------------------------------------------------------- */

static void refused(const char *lines, const char *want1, const char *want2)
{
    struct zp_err err;
    void *cfg;

    assert_int_equal(parse(lines, &cfg, &err), -1);
    assert_int_equal(err.kind, ZP_ECONFIG);
    assert_has(err.msg, want1);
    if (want2)
        assert_has(err.msg, want2);
}

static void config_refusals(void **state)
{
    char l[512], want[256];

    refused("    timeout: 5s\n", "zoneproof.yaml:2: providers[0]: command is required", NULL);
    refused("    command: hook.sh\n", ":5: providers[0]: command \"hook.sh\" must be an absolute",
            "without a shell");
    snprintf(l, sizeof(l), "    command: %s/nope\n", tmpdir);
    snprintf(want, sizeof(want), "command %s/nope cannot be found", tmpdir);
    refused(l, ":5: providers[0]: ", want);
    /* The field is named, and so is the fix. */
    write_file("plain", "#!/bin/sh\nexit 0\n", 0644);
    snprintf(l, sizeof(l), "    command: %s/plain\n", tmpdir);
    snprintf(want, sizeof(want), ":5: providers[0]: command %s/plain is not executable", tmpdir);
    refused(l, want, "chmod 755");
    snprintf(l, sizeof(l), "    command: %s\n", tmpdir);
    refused(l, "is not a regular file", NULL);

    script("ok.sh", "exit 0");
    snprintf(l, sizeof(l), "    command: %s/ok.sh\n    timeout: soon\n", tmpdir);
    refused(l, ":6: providers[0]: timeout must be a duration", NULL);
    snprintf(l, sizeof(l), "    command: %s/ok.sh\n    timeout: 100ms\n", tmpdir);
    refused(l, "timeout must be between 1s and 1h", NULL);
    snprintf(l, sizeof(l), "    command: %s/ok.sh\n    args: {a: b}\n", tmpdir);
    refused(l, "args must be a list of strings", NULL);
    snprintf(l, sizeof(l), "    command: %s/ok.sh\n    env: [A]\n", tmpdir);
    refused(l, ":6: providers[0]: env must be a mapping of variable names to values", NULL);
    snprintf(l, sizeof(l), "    command: %s/ok.sh\n    env: {1BAD: x}\n", tmpdir);
    refused(l, "providers[0].env: \"1BAD\" is not a variable name", NULL);
    snprintf(l, sizeof(l), "    command: %s/ok.sh\n    env:\n      A: {b: c}\n", tmpdir);
    refused(l, ":7: providers[0].env: A must be a single value", NULL);
    snprintf(l, sizeof(l), "    command: %s/ok.sh\n    envFromFiles: {TOKEN: %s/nope}\n", tmpdir,
             tmpdir);
    refused(l, ":6: providers[0].envFromFiles: TOKEN", "/nope");
    write_file("empty", "\n", 0600);
    snprintf(l, sizeof(l), "    command: %s/ok.sh\n    envFromFiles: {TOKEN: %s/empty}\n", tmpdir,
             tmpdir);
    refused(l, "providers[0].envFromFiles: TOKEN", "is empty");
    write_file("token", SECRET "\n", 0600);
    snprintf(l, sizeof(l),
             "    command: %s/ok.sh\n    env: {TOKEN: a}\n    envFromFiles: {TOKEN: %s/token}\n",
             tmpdir, tmpdir);
    refused(l, "TOKEN is already set", NULL);
}

static void config_good(void **state)
{
    char l[512];
    struct zp_err err;
    void *cfg;

    script("ok.sh", "exit 0");
    write_file("token", SECRET "\n", 0600);
    snprintf(l, sizeof(l),
             "    command: %s/ok.sh\n"
             "    args: [--zone-file, /var/lib/bind/example.test.db]\n"
             "    timeout: 90s\n"
             "    env: {NAMESERVER: ns1.example.test, TTL: 60, EMPTY: \"\"}\n"
             "    envFromFiles: {TSIG_SECRET: %s/token}\n",
             tmpdir, tmpdir);
    assert_int_equal(parse(l, &cfg, &err), 0);
    ops->config_free(cfg);
    assert_int_equal(zp_provider_find("exec"), ops);
    assert_true(ops->flags & ZP_PROV_RMW);
}

/* ---- runs that succeed ------------------------------------------------------------------------
 */

static void arguments_in_lego_order(void **state)
{
    struct zp_err err;
    void *cfg;

    script("args.sh", "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$D/args.out\"");
    cfg = cfg_for("args.sh", "    args: [--flag, \"two words\", \"\"]\n");
    assert_int_equal(call(cfg, 0, 10000, &err), 0);
    assert_string_equal(slurp("args.out"), "--flag\ntwo words\n\npresent\n" FQDN "\n" VALUE "\n");
    assert_int_equal(call(cfg, 1, 10000, &err), 0);
    assert_string_equal(slurp("args.out"), "--flag\ntwo words\n\ncleanup\n" FQDN "\n" VALUE "\n");
    ops->config_free(cfg);
    no_children();
}

static void clean_environment(void **state)
{
    char extra[512];
    struct zp_err err;
    sigset_t block, old;
    void *cfg;
    int fd;

    /* What zoneproof has that the program must not get: a variable, a descriptor, signals. */
    setenv("ZP_LEAK_TEST", "leak", 1);
    fd = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, 47), 47);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);

    write_file("token", SECRET "\n", 0600);
    /*
     * The signal state first, with builtins only: the shell blocks every signal around each
     * command it starts, so a later look could catch that instead of what it inherited.
     */
    script("env.sh", "while IFS= read -r l; do case \"$l\" in Sig[BI][lg][kn]:*) "
                     "echo \"$l\";; esac; done < /proc/$$/status > \"$D/sig.out\"\n"
                     "tr '\\0' '\\n' < /proc/$$/environ > \"$D/env.out\"\n"
                     "readlink /proc/$$/fd/0 > \"$D/stdin.out\"\n"
                     "if [ -e /proc/$$/fd/47 ]; then echo leaked > \"$D/fd.out\"; fi");
    snprintf(extra, sizeof(extra),
             "    env: {NAMESERVER: ns1.example.test, EMPTY: \"\"}\n"
             "    envFromFiles: {TOKEN: %s/token}\n",
             tmpdir);
    cfg = cfg_for("env.sh", extra);
    assert_int_equal(call(cfg, 0, 10000, &err), 0);
    assert_string_equal(slurp("env.out"),
                        "PATH=/usr/local/bin:/usr/bin:/bin\n"
                        "NAMESERVER=ns1.example.test\nEMPTY=\nTOKEN=" SECRET "\n");
    assert_string_equal(slurp("stdin.out"), "/dev/null\n");
    assert_string_equal(slurp("fd.out"), "");
    /* Neither SIGPIPE (bit 13) nor SIGTERM (bit 15) blocked or ignored. */
    {
        unsigned long long blk = 0, ign = 0;
        assert_int_equal(sscanf(slurp("sig.out"), "SigBlk: %llx SigIgn: %llx", &blk, &ign), 2);
        assert_int_equal(blk, 0);
        assert_int_equal(ign & ((1ull << (SIGPIPE - 1)) | (1ull << (SIGTERM - 1))), 0);
    }
    ops->config_free(cfg);

    /* env may name PATH itself. */
    script("path.sh", "printf '%s\\n' \"$PATH\" > \"$D/path.out\"");
    cfg = cfg_for("path.sh", "    env: {PATH: /opt/dns/bin}\n");
    assert_int_equal(call(cfg, 0, 10000, &err), 0);
    assert_string_equal(slurp("path.out"), "/opt/dns/bin\n");
    ops->config_free(cfg);

    pthread_sigmask(SIG_SETMASK, &old, NULL);
    signal(SIGPIPE, SIG_DFL);
    close(47);
    close(fd);
    unsetenv("ZP_LEAK_TEST");
    no_children();
}

/* ---- runs that fail, and their sentences -------------------------------------------------------
 */

static void exit_code_and_last_line(void **state)
{
    struct zp_err err;
    void *cfg;

    script("fail.sh", "echo 'first line' >&2\n"
                      "printf 'the reason it failed\\r\\n\\n   \\n' >&2\n"
                      "echo 'to stdout, never shown'\n"
                      "exit 3");
    cfg = cfg_for("fail.sh", NULL);
    assert_int_equal(call(cfg, 0, 10000, &err), -1);
    assert_int_equal(err.kind, ZP_ETRANSIENT);
    assert_string_equal(err.msg, "fail.sh present " FQDN " failed (exit 3): the reason it failed");
    ops->config_free(cfg);

    script("quiet.sh", "exit 1");
    cfg = cfg_for("quiet.sh", NULL);
    assert_int_equal(call(cfg, 1, 10000, &err), -1);
    assert_has(err.msg, "quiet.sh cleanup " FQDN " failed (exit 1): it wrote nothing to stderr");
    ops->config_free(cfg);

    /* Megabytes on stdout and stderr are read as they come; the last stderr line still wins. */
    script("loud.sh", "head -c 3000000 /dev/zero\n"
                      "i=0; while [ $i -lt 3000 ]; do echo \"noise line $i\" >&2; i=$((i+1)); "
                      "done\n"
                      "echo 'last words' >&2\nexit 4");
    cfg = cfg_for("loud.sh", NULL);
    assert_int_equal(call(cfg, 0, 30000, &err), -1);
    assert_string_equal(err.msg, "loud.sh present " FQDN " failed (exit 4): last words");
    ops->config_free(cfg);
    no_children();
}

static void killed_by_a_signal(void **state)
{
    struct zp_err err;
    void *cfg;

    script("crash.sh", "echo 'about to crash' >&2\nkill -USR1 $$\nsleep 5");
    cfg = cfg_for("crash.sh", NULL);
    assert_int_equal(call(cfg, 0, 10000, &err), -1);
    assert_has(err.msg, "crash.sh present " FQDN " was killed by signal ");
    assert_has(err.msg, "(SIGUSR1): about to crash");
    ops->config_free(cfg);
    no_children();
}

static void cannot_run(void **state)
{
    char path[160];
    struct zp_err err;
    void *cfg;

    write_file("badinterp.sh", "#!/nonexistent/interpreter\nexit 0\n", 0755);
    cfg = cfg_for("badinterp.sh", NULL);
    assert_int_equal(call(cfg, 0, 10000, &err), -1);
    assert_int_equal(err.kind, ZP_ECONFIG);
    snprintf(path, sizeof(path), "cannot run %s/badinterp.sh: No such file or directory", tmpdir);
    assert_string_equal(err.msg, path);
    ops->config_free(cfg);

    /* Removed after the start: said before anything runs. */
    script("gone.sh", "exit 0");
    cfg = cfg_for("gone.sh", NULL);
    snprintf(path, sizeof(path), "%s/gone.sh", tmpdir);
    unlink(path);
    assert_int_equal(call(cfg, 0, 10000, &err), -1);
    assert_has(err.msg, "gone.sh cannot be found");
    ops->config_free(cfg);
    no_children();
}

/* ---- time: the timeout, the deadline, the group ------------------------------------------------
 */

static void timeout_stops_the_group(void **state)
{
    struct zp_err err;
    uint64_t t0;
    pid_t pid, child;
    void *cfg;

    script("hang.sh", "echo $$ > \"$D/hang.pid\"\n"
                      "sleep 30 &\necho $! > \"$D/hang.child\"\n"
                      "echo 'waiting for the API' >&2\nwait");
    cfg = cfg_for("hang.sh", "    timeout: 1s\n");
    t0 = real_ms();
    assert_int_equal(call(cfg, 0, 30000, &err), -1);
    assert_true(real_ms() - t0 < STOPPED_WITHIN_MS);
    assert_int_equal(err.kind, ZP_ETIMEOUT);
    assert_string_equal(err.msg, "hang.sh present " FQDN " timed out after 1s (its timeout) and "
                                 "was stopped; make it finish sooner or raise timeout");
    pid = pid_in("hang.pid");
    child = pid_in("hang.child");
    assert_int_equal(kill(pid, 0), -1); /* reaped: not even a zombie */
    assert_int_equal(errno, ESRCH);
    for (int i = 0; i < 100 && alive(child); i++) /* the grandchild got the group's signal */
        usleep(20000);
    assert_false(alive(child));
    ops->config_free(cfg);
    no_children();
}

static void sigterm_ignored_then_sigkill(void **state)
{
    struct zp_err err;
    uint64_t t0, took;
    void *cfg;

    script("stubborn.sh", "trap '' TERM\necho $$ > \"$D/stubborn.pid\"\nsleep 30");
    cfg = cfg_for("stubborn.sh", "    timeout: 1s\n");
    t0 = real_ms();
    assert_int_equal(call(cfg, 1, 30000, &err), -1);
    took = real_ms() - t0;
    assert_true(took >= 1900 && took < STOPPED_WITHIN_MS); /* the timeout, then the grace */
    assert_has(err.msg, "stubborn.sh cleanup " FQDN " timed out after 1s (its timeout)");
    assert_int_equal(kill(pid_in("stubborn.pid"), 0), -1);
    ops->config_free(cfg);
    no_children();
}

static void closed_pipes_still_stopped(void **state)
{
    struct zp_err err;
    uint64_t t0;
    void *cfg;

    script("closed.sh", "exec >&- 2>&-\nsleep 30");
    cfg = cfg_for("closed.sh", "    timeout: 1s\n");
    t0 = real_ms();
    assert_int_equal(call(cfg, 0, 30000, &err), -1);
    assert_true(real_ms() - t0 < STOPPED_WITHIN_MS);
    assert_has(err.msg, "timed out after 1s");
    ops->config_free(cfg);
    no_children();
}

static void deadline_comes_first(void **state)
{
    struct zp_err err;
    uint64_t t0;
    void *cfg;

    script("slow.sh", "sleep 30");
    cfg = cfg_for("slow.sh", NULL); /* timeout 60s: the challenge's budget ends first */
    t0 = real_ms();
    assert_int_equal(call(cfg, 0, 2500, &err), -1);
    assert_true(real_ms() - t0 < STOPPED_WITHIN_MS); /* stopped before the deadline */
    assert_int_equal(err.kind, ZP_ETIMEOUT);
    assert_string_equal(err.msg, "slow.sh present " FQDN " timed out: it was still running when "
                                 "the challenge's deadline came near, and was stopped; it must "
                                 "finish well within the propagation timeout, which is all the "
                                 "time a Present has");
    assert_int_equal(call(cfg, 0, 50, &err), -1);
    assert_string_equal(err.msg, "no time left to run slow.sh present " FQDN
                                 " before the challenge's deadline");
    ops->config_free(cfg);
    no_children();
}

/* ---- secrets -----------------------------------------------------------------------------------
 */

static void secret_reaches_the_program_only(void **state)
{
    char extra[256], logpath[160], log[8192];
    struct zp_err err;
    void *cfg;
    int logfd;
    ssize_t n;

    write_file("token", SECRET "\n", 0600);
    script("leak.sh", "printf '%s\\n' \"$TOKEN\" > \"$D/token.out\"\n"
                      "echo \"the server said no to $TOKEN\" >&2\nexit 1");
    snprintf(extra, sizeof(extra), "    envFromFiles: {TOKEN: %s/token}\n", tmpdir);
    cfg = cfg_for("leak.sh", extra);
    snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
    logfd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(logfd >= 0);
    zp_log_set_fd(logfd);
    assert_int_equal(call(cfg, 0, 10000, &err), -1);
    zp_log_set_fd(2);
    assert_string_equal(slurp("token.out"), SECRET "\n"); /* trimmed, like a credential file */
    assert_string_equal(err.msg, "leak.sh present " FQDN " failed (exit 1): the server said no "
                                 "to [REDACTED]");
    n = pread(logfd, log, sizeof(log) - 1, 0);
    assert_true(n > 0);
    log[n] = '\0';
    close(logfd);
    assert_has(log, "exec change failed");
    assert_has(log, "the server said no to [REDACTED]");
    assert_null(strstr(log, SECRET));
    ops->config_free(cfg);
    no_children();
}

/* ---- calls at once -----------------------------------------------------------------------------
 */

struct worker {
    void *cfg;
    char value[16];
    int rc;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct zp_err err;

    w->rc = call_value(w->cfg, 0, w->value, 10000, &err);
    return NULL;
}

static void calls_on_several_threads(void **state)
{
    struct worker w[4];
    pthread_t t[4];
    const char *out;
    void *cfg;

    script("conc.sh", "sleep 0.2\nprintf '%s\\n' \"$3\" >> \"$D/conc.out\"");
    cfg = cfg_for("conc.sh", NULL);
    for (int i = 0; i < 4; i++) {
        w[i].cfg = cfg;
        snprintf(w[i].value, sizeof(w[i].value), "value-%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].rc, 0);
    }
    out = slurp("conc.out");
    for (int i = 0; i < 4; i++)
        assert_has(out, w[i].value);
    ops->config_free(cfg);
    no_children();
}

static int setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/zp-exec-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_refusals),
        cmocka_unit_test(config_good),
        cmocka_unit_test(arguments_in_lego_order),
        cmocka_unit_test(clean_environment),
        cmocka_unit_test(exit_code_and_last_line),
        cmocka_unit_test(killed_by_a_signal),
        cmocka_unit_test(cannot_run),
        cmocka_unit_test(timeout_stops_the_group),
        cmocka_unit_test(sigterm_ignored_then_sigkill),
        cmocka_unit_test(closed_pipes_still_stopped),
        cmocka_unit_test(deadline_comes_first),
        cmocka_unit_test(secret_reaches_the_program_only),
        cmocka_unit_test(calls_on_several_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
