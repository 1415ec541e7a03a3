/*
 * exec.c — the exec provider: each change is one run of the operator's own
 * program, `PROGRAM [args…] present|cleanup FQDN VALUE`: lego's exec
 * protocol in its default mode, so a script written for lego works as it
 * is. Exit 0 is success; otherwise the last line the program wrote to
 * stderr becomes the sentence.
 *
 * The program runs without a shell, in a process group of its own, with
 * stdin /dev/null, no descriptor of zoneproof's but its two pipes, the
 * default signal mask and dispositions (worker threads block every signal
 * and SIGPIPE is ignored, and both would pass through execve), and an
 * environment built from nothing: PATH and the variables the configuration
 * names. envFromFiles values are read at each call, like credential files,
 * and are redacted from whatever of stderr reaches the log or a sentence.
 * stdout is read and thrown away.
 *
 * fork and execve rather than posix_spawn: the child must close every
 * descriptor it did not ask for, and musl, which the static binary uses,
 * has no spawn action for that. Between the two the child calls only
 * async-signal-safe functions, on argv and envp built before the fork. The
 * parent polls the pipes against the deadline, so a program that closes
 * them and keeps running is still stopped: when its timeout (or the
 * challenge's deadline) comes, the group gets SIGTERM, a second later
 * SIGKILL, and the child is always reaped.
 *
 * Whether a program copes with two runs for one name at once is not known
 * (lego never does that), so the solver runs them one at a time
 * (ZP_PROV_RMW). Nothing is shared between calls.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/provider.h"
#include "providers/settings.h"

#define EX_PATH "PATH=/usr/local/bin:/usr/bin:/bin"
#define EX_TIMEOUT_DEFAULT_MS 60000u
#define EX_TIMEOUT_MIN_MS 1000u
#define EX_TIMEOUT_MAX_MS 3600000u
#define EX_GRACE_MS 1000u   /* from SIGTERM to SIGKILL */
#define EX_MIN_LEFT_MS 200u /* with less time left the program is not started */
#define EX_TICK_MS 50u      /* how often a running child is asked whether it exited */
#define EX_TAIL 4096        /* the end of stderr that is kept */
#define EX_LINE_MAX 400     /* the part of its last line a sentence quotes */
#define EX_LOG_MAX 1024     /* the part of the tail the log gets */
#define EX_ARGS_MAX 32
#define EX_VARS_MAX 64
#define EX_NAME_MAX 128
#define EX_SECRET_MAX (64u * 1024u)
#define EX_FDS_MAX 65536L /* the close loop's bound where close_range is missing */

struct ex_var {
    char *name;
    char *value; /* env: the value; NULL for envFromFiles */
    char *file;  /* envFromFiles: the file, read at each call */
};

struct ex_cfg {
    char *command;
    const char *prog; /* command's last component, for sentences */
    char **args;
    size_t n_args;
    uint64_t timeout_ms;
    struct ex_var *vars;
    size_t n_vars;
    int own_path; /* env names PATH */
};

/* One run of the program. */
struct ex_run {
    const struct ex_cfg *cfg;
    const struct zp_record *rec;
    const struct zp_prov_call *call;
    const char *action;                   /* "present" or "cleanup" */
    char **argv;                          /* borrowed strings */
    char **envp;                          /* owned, and secret: wiped */
    const char *secrets[EX_VARS_MAX + 1]; /* the envFromFiles values, inside envp */
    pid_t pid;                            /* -1 until started */
    int fd[2];                            /* stdout's and stderr's read ends; -1 once closed */
    char tail[EX_TAIL + 1];               /* the end of stderr */
    size_t tail_len;
    int status;      /* waitpid's */
    int reaped;      /* status is known */
    int stopped;     /* the last signal zoneproof sent the group, or 0 */
    int by_deadline; /* stopped for the challenge's deadline rather than timeout */
};

/* What the child needs between fork and execve, made before the fork. */
struct ex_child {
    int in, out, err, report; /* /dev/null, the pipes' write ends, the execve failure pipe */
    long maxfd;
    sigset_t none;
    struct sigaction dfl;
};

/* env and envFromFiles are mappings of variables, read by ex_parse_vars. */
static const char *const ex_keys[] = {"env", "envFromFiles", NULL};

static const struct zp_setting ex_settings[] = {
    ZP_SET_S(struct ex_cfg, "command", command, 1),
    ZP_SET_L(struct ex_cfg, "args", args, n_args, 0),
    ZP_SET_D(struct ex_cfg, "timeout", timeout_ms, EX_TIMEOUT_DEFAULT_MS, EX_TIMEOUT_MIN_MS,
             EX_TIMEOUT_MAX_MS),
    ZP_SET_LAST,
};

static const struct {
    int sig;
    const char *name;
} ex_signals[] = {
    {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
    {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
    {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
    {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"},
    {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
};

/* ---- configuration ------------------------------------------------------------------------ */

static void ex_config_free(void *p)
{
    struct ex_cfg *cfg = p;

    for (size_t i = 0; cfg != NULL && i < cfg->n_vars; i++) {
        free(cfg->vars[i].name);
        free(cfg->vars[i].value);
        free(cfg->vars[i].file);
    }
    if (cfg != NULL)
        free(cfg->vars);
    zp_settings_free(ex_settings, cfg);
}

/* Whether path is a program zoneproof may run; why says what is wrong otherwise. */
static int ex_runnable(const char *path, char *why, size_t whysz)
{
    struct stat st;

    if (stat(path, &st) == -1) {
        snprintf(why, whysz, "cannot be found (%s)", strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whysz, "is not a regular file");
        return -1;
    }
    if (access(path, X_OK) == -1) {
        snprintf(why, whysz, "is not executable by zoneproof's user (uid %u; mode %04o)",
                 (unsigned)geteuid(), (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* command (read by the table) must be an absolute path to a program zoneproof may run. */
static int ex_check_command(const struct zp_ynode *node, const char *path, struct ex_cfg *cfg,
                            struct zp_err *err)
{
    const char *cmd = cfg->command;
    char why[160];

    if (cmd[0] != '/')
        return zp_y_fail(zp_y_get(node, "command"), path, err,
                         "command \"%.300s\" must be an absolute path, such as "
                         "/usr/local/bin/dns-hook: it is run without a shell and without a "
                         "search of PATH",
                         cmd);
    if (ex_runnable(cmd, why, sizeof(why)) == -1)
        return zp_y_fail(zp_y_get(node, "command"), path, err,
                         "command %.300s %s; install the program there and make it executable "
                         "(chmod 755), or point command at it",
                         cmd, why);
    cfg->prog = strrchr(cfg->command, '/') + 1;
    return 0;
}

/* A name a shell can use: letters, digits and '_', not starting with a digit. */
static int ex_valid_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > EX_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int ex_has_var(const struct ex_cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_vars; i++)
        if (strcmp(cfg->vars[i].name, name) == 0)
            return 1;
    return 0;
}

/* env (files 0: name -> value) or envFromFiles (files 1: name -> a file checked now). */
static int ex_parse_vars(const struct zp_ynode *node, const char *path, const char *key, int files,
                         struct ex_cfg *cfg, struct zp_err *err)
{
    const struct zp_ynode *map = zp_y_get(node, key);
    char sub[96];

    if (map == NULL)
        return 0;
    if (map->type != ZP_Y_MAP)
        return zp_y_fail(map, path, err, "%s must be a mapping of variable names to %s, such as %s",
                         key, files ? "files" : "values",
                         files ? "{TSIG_SECRET: /run/secrets/tsig/secret}"
                               : "{NAMESERVER: ns1.example.com}");
    snprintf(sub, sizeof(sub), "%s.%s", path, key);
    for (size_t i = 0; i < map->n; i++) {
        const char *name = map->keys[i], *val = "";
        struct ex_var *v;
        if (!ex_valid_name(name))
            return zp_y_fail(map->items[i], sub, err,
                             "\"%.130s\" is not a variable name: letters, digits and '_', not "
                             "starting with a digit, at most %d",
                             name, EX_NAME_MAX);
        if (ex_has_var(cfg, name))
            return zp_y_fail(map->items[i], sub, err,
                             "%s is already set (in env or envFromFiles); set it once", name);
        if (cfg->n_vars >= EX_VARS_MAX)
            return zp_y_fail(map->items[i], sub, err, "more than %d variables", EX_VARS_MAX);
        if (zp_y_str(map, sub, name, files, &val, err) == -1 ||
            (files && zp_secret_file_check(map, sub, name, val, err) == -1))
            return -1;
        v = &cfg->vars[cfg->n_vars++];
        v->name = zp_xstrdup(name);
        if (files)
            v->file = zp_xstrdup(val);
        else
            v->value = zp_xstrdup(val);
        if (strcmp(name, "PATH") == 0)
            cfg->own_path = 1;
    }
    return 0;
}

static int ex_config_parse(const struct zp_ynode *node, const char *path, void **cfgp,
                           struct zp_err *err)
{
    struct ex_cfg *cfg = zp_xcalloc(1, sizeof(*cfg));
    int rc = -1;

    cfg->vars = zp_xcalloc(EX_VARS_MAX, sizeof(*cfg->vars));
    if (zp_settings_parse(node, path, ex_settings, cfg, err) == -1 ||
        ex_check_command(node, path, cfg, err) == -1 ||
        ex_parse_vars(node, path, "env", 0, cfg, err) == -1 ||
        ex_parse_vars(node, path, "envFromFiles", 1, cfg, err) == -1)
        goto out;
    if (cfg->n_args > EX_ARGS_MAX) {
        zp_y_fail(zp_y_get(node, "args"), path, err, "args lists %zu arguments, more than %d",
                  cfg->n_args, EX_ARGS_MAX);
        goto out;
    }
    *cfgp = cfg;
    cfg = NULL;
    rc = 0;
out:
    ex_config_free(cfg);
    return rc;
}

/* ---- one run: arguments, environment, the child ------------------------------------------- */

/* argv and envp, with the envFromFiles values read now (Secrets rotate). */
static int ex_prepare(struct ex_run *r, struct zp_err *err)
{
    const struct ex_cfg *cfg = r->cfg;
    size_t n = 0, k = 0, s = 0;
    struct zp_buf b;
    char setting[EX_NAME_MAX + 16];

    r->argv = zp_xcalloc(cfg->n_args + 5, sizeof(*r->argv));
    r->argv[n++] = cfg->command;
    for (size_t i = 0; i < cfg->n_args; i++)
        r->argv[n++] = cfg->args[i];
    r->argv[n++] = (char *)r->action;
    r->argv[n++] = (char *)r->rec->fqdn;
    r->argv[n++] = (char *)r->rec->value;
    r->envp = zp_xcalloc(cfg->n_vars + 2, sizeof(*r->envp));
    if (!cfg->own_path)
        r->envp[k++] = zp_xstrdup(EX_PATH);
    for (size_t i = 0; i < cfg->n_vars; i++) {
        const struct ex_var *v = &cfg->vars[i];
        if (v->file == NULL) {
            r->envp[k++] = zp_xasprintf("%s=%s", v->name, v->value);
            continue;
        }
        snprintf(setting, sizeof(setting), "envFromFiles.%s", v->name);
        zp_buf_init(&b, EX_SECRET_MAX);
        if (zp_secret_file_read(v->file, setting, &b, err) == -1 ||
            (memchr(b.data, '\0', b.len) != NULL &&
             zp_err_set(err, ZP_ECONFIG,
                        "%s: %s holds a NUL byte, which an environment variable cannot carry",
                        setting, v->file) == -1)) {
            zp_buf_free_secret(&b);
            return -1;
        }
        r->envp[k] = zp_xasprintf("%s=%s", v->name, b.data);
        r->secrets[s++] = r->envp[k] + strlen(v->name) + 1;
        k++;
        zp_buf_free_secret(&b);
    }
    return 0;
}

/* Closes every descriptor from 3 up but keep. */
static void ex_close_fds(int keep, long maxfd)
{
#ifdef SYS_close_range
    if ((keep == 3 || syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u) == 0) &&
        syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0)
        return;
#endif
    for (long fd = 3; fd < maxfd; fd++)
        if (fd != keep)
            close((int)fd);
}

/* In the child, between fork and execve: async-signal-safe calls only. Does not return. */
static void ex_child_exec(const struct ex_run *r, const struct ex_child *c)
{
    int e;

    (void)setpgid(0, 0);
    for (int s = 1; s < NSIG; s++)
        (void)sigaction(s, &c->dfl, NULL); /* SIGKILL, SIGSTOP and libc's own refuse: fine */
    (void)sigprocmask(SIG_SETMASK, &c->none, NULL);
    if (dup2(c->in, 0) == -1 || dup2(c->out, 1) == -1 || dup2(c->err, 2) == -1)
        goto out;
    ex_close_fds(c->report, c->maxfd);
    execve(r->argv[0], r->argv, r->envp);
out: /* execve failed: the parent learns why through the report pipe */
    e = errno;
    (void)!write(c->report, &e, sizeof(e));
    _exit(127);
}

/* Moves fd to 3 or above, close-on-exec: the child's 0, 1 and 2 are dup2 targets. */
static int ex_fd_high(int fd)
{
    int moved;

    if (fd < 0 || fd > 2)
        return fd;
    moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return moved;
}

/* fds: /dev/null, then the stdout, stderr and report pipes (read end, write end). */
static int ex_open_fds(int fds[7])
{
    if ((fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
        pipe2(fds + 1, O_CLOEXEC) == -1 || pipe2(fds + 3, O_CLOEXEC) == -1 ||
        pipe2(fds + 5, O_CLOEXEC) == -1)
        return -1;
    for (int i = 0; i < 7; i++)
        if ((fds[i] = ex_fd_high(fds[i])) == -1)
            return -1;
    return 0;
}

static void ex_reap(struct ex_run *r)
{
    while (waitpid(r->pid, &r->status, 0) == -1 && errno == EINTR)
        ;
    r->reaped = 1;
}

/* Starts the program; 0 once execve succeeded, with the pipes' read ends in r->fd. */
static int ex_spawn(struct ex_run *r, struct zp_err *err)
{
    int fds[7] = {-1, -1, -1, -1, -1, -1, -1}, e = 0, rc = -1;
    struct ex_child c;
    struct rlimit rl;
    ssize_t n;

    memset(&c, 0, sizeof(c));
    sigemptyset(&c.none);
    c.dfl.sa_handler = SIG_DFL;
    c.maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)EX_FDS_MAX
                  ? (long)rl.rlim_cur
                  : EX_FDS_MAX;
    if (ex_open_fds(fds) == -1 || (r->pid = fork()) == -1) {
        zp_err_set(err, ZP_EINTERNAL, "cannot start %s: %s", r->cfg->prog, strerror(errno));
        goto out;
    }
    c.in = fds[0];
    c.out = fds[2];
    c.err = fds[4];
    c.report = fds[6];
    if (r->pid == 0)
        ex_child_exec(r, &c);
    (void)setpgid(r->pid, r->pid); /* either side may set it first: kill(-pid) needs it */
    for (int i = 0; i < 7; i += 2) {
        close(fds[i]); /* /dev/null and the write ends: the child has them */
        fds[i] = -1;
    }
    do
        n = read(fds[5], &e, sizeof(e));
    while (n == -1 && errno == EINTR);
    if (n == (ssize_t)sizeof(e)) {
        ex_reap(r);
        zp_err_set(err, ZP_ECONFIG, "cannot run %s: %s", r->cfg->command, strerror(e));
        goto out;
    }
    r->fd[0] = fds[1];
    r->fd[1] = fds[3];
    fds[1] = fds[3] = -1;
    for (int i = 0; i < 2; i++)
        (void)fcntl(r->fd[i], F_SETFL, O_NONBLOCK);
    rc = 0;
out:
    for (int i = 0; i < 7; i++)
        if (fds[i] != -1)
            close(fds[i]);
    return rc;
}

/* ---- waiting: the pipes, the clock, the signals ------------------------------------------- */

static void ex_tail_add(struct ex_run *r, const char *p, size_t n)
{
    size_t at;

    if (n >= EX_TAIL) {
        p += n - EX_TAIL;
        n = EX_TAIL;
        r->tail_len = 0;
    } else if (r->tail_len + n > EX_TAIL) {
        size_t drop = r->tail_len + n - EX_TAIL;
        memmove(r->tail, r->tail + drop, r->tail_len - drop);
        r->tail_len -= drop;
    }
    at = r->tail_len;
    memcpy(r->tail + at, p, n);
    r->tail_len += n;
    for (size_t i = at; i < r->tail_len; i++)
        if (r->tail[i] == '\0')
            r->tail[i] = ' ';
    r->tail[r->tail_len] = '\0';
}

/* Reads what pipe i holds now (stdout is dropped, stderr's end kept); closes it at its end. */
static void ex_read(struct ex_run *r, int i)
{
    char buf[4096];
    ssize_t n;

    for (int turn = 0; turn < 16 && r->fd[i] != -1; turn++) { /* then the clock again */
        n = read(r->fd[i], buf, sizeof(buf));
        if (n > 0) {
            if (i == 1)
                ex_tail_add(r, buf, (size_t)n);
            continue;
        }
        if (n == -1 && (errno == EAGAIN || errno == EINTR))
            return;
        close(r->fd[i]);
        r->fd[i] = -1;
    }
}

/*
 * When the group gets SIGTERM and SIGKILL: timeout after the start, or a
 * little before the challenge's deadline (room for the grace), whichever
 * comes first; SIGKILL never after the deadline.
 */
static void ex_limits(struct ex_run *r, uint64_t *term_at, uint64_t *kill_at)
{
    uint64_t deadline = r->call->deadline_ms, left = zp_ms_left(deadline);
    uint64_t reserve = left / 2 < EX_GRACE_MS ? left / 2 : EX_GRACE_MS;

    *term_at = zp_now_ms() + r->cfg->timeout_ms;
    r->by_deadline = 0;
    if (deadline - reserve < *term_at) {
        *term_at = deadline - reserve;
        r->by_deadline = 1;
    }
    *kill_at = *term_at + EX_GRACE_MS;
    if (*kill_at > deadline)
        *kill_at = deadline > *term_at ? deadline : *term_at;
}

/* Until the child is reaped: its output read, and the group stopped when its time is up. */
static void ex_wait(struct ex_run *r, uint64_t term_at, uint64_t kill_at)
{
    while (!r->reaped) {
        struct pollfd p[2];
        nfds_t n = 0;
        uint64_t now, until, tick;
        pid_t w = waitpid(r->pid, &r->status, WNOHANG);

        if (w == r->pid || (w == -1 && errno != EINTR)) {
            r->reaped = w == r->pid; /* else someone else reaped it: the status is unknown */
            break;
        }
        now = zp_now_ms();
        if (r->stopped == 0 && now >= term_at) {
            (void)kill(-r->pid, SIGTERM);
            r->stopped = SIGTERM;
        } else if (r->stopped == SIGTERM && now >= kill_at) {
            (void)kill(-r->pid, SIGKILL);
            r->stopped = SIGKILL;
            ex_reap(r);
            break;
        }
        until = r->stopped ? kill_at : term_at;
        for (int i = 0; i < 2; i++)
            if (r->fd[i] != -1)
                p[n++] = (struct pollfd){.fd = r->fd[i], .events = POLLIN};
        until = until > now ? until - now : 0;
        tick = n > 0 ? EX_TICK_MS : 5; /* no pipe left to wake us: ask again soon */
        if (poll(p, n, (int)(until < tick ? until : tick)) > 0)
            for (nfds_t i = 0; i < n; i++)
                if (p[i].revents != 0)
                    ex_read(r, p[i].fd == r->fd[0] ? 0 : 1);
    }
    for (int i = 0; i < 2; i++) { /* what is left, without waiting for a grandchild's end */
        if (r->fd[i] != -1)
            ex_read(r, i);
        if (r->fd[i] != -1)
            close(r->fd[i]);
        r->fd[i] = -1;
    }
}

/* ---- the outcome -------------------------------------------------------------------------- */

/* stderr's last non-empty line, redacted of the call's secrets and made one line. */
static const char *ex_last_line(const struct ex_run *r, char *out, size_t outsz)
{
    const char *start, *end = r->tail + r->tail_len;
    char *line;

    while (end > r->tail && (unsigned char)end[-1] <= ' ')
        end--;
    for (start = end; start > r->tail && start[-1] != '\n' && start[-1] != '\r';)
        start--;
    while (start < end && (*start == ' ' || *start == '\t'))
        start++;
    line = zp_xstrndup(start, (size_t)(end - start));
    zp_prov_text(line, r->call, NULL, r->secrets, out, outsz);
    free(line);
    return out;
}

static const char *ex_signame(int sig, char *out, size_t outsz)
{
    for (size_t i = 0; i < sizeof(ex_signals) / sizeof(ex_signals[0]); i++)
        if (ex_signals[i].sig == sig) {
            snprintf(out, outsz, "signal %d (%s)", sig, ex_signals[i].name);
            return out;
        }
    snprintf(out, outsz, "signal %d", sig);
    return out;
}

/* The sentence for how the run ended; 0 for exit 0. */
static int ex_outcome(const struct ex_run *r, struct zp_err *err)
{
    const char *prog = r->cfg->prog, *act = r->action, *fqdn = r->rec->fqdn;
    char line[EX_LINE_MAX + 1], sig[40];
    uint64_t t = r->cfg->timeout_ms;

    ex_last_line(r, line, sizeof(line));
    if (r->stopped && r->by_deadline)
        return zp_err_set(err, ZP_ETIMEOUT,
                          "%s %s %s timed out: it was still running when the challenge's "
                          "deadline came near, and was stopped; it must finish well within the "
                          "propagation timeout, which is all the time a Present has",
                          prog, act, fqdn);
    if (r->stopped)
        return zp_err_set(err, ZP_ETIMEOUT,
                          "%s %s %s timed out after %llu%s (its timeout) and was stopped; make it "
                          "finish sooner or raise timeout",
                          prog, act, fqdn, (unsigned long long)(t % 1000 ? t : t / 1000),
                          t % 1000 ? "ms" : "s");
    if (!r->reaped)
        return zp_err_set(err, ZP_EINTERNAL,
                          "%s %s %s ended, but how is unknown: its exit status was collected "
                          "elsewhere",
                          prog, act, fqdn);
    if (WIFSIGNALED(r->status))
        return zp_err_set(err, ZP_ETRANSIENT, "%s %s %s was killed by %s%s%s", prog, act, fqdn,
                          ex_signame(WTERMSIG(r->status), sig, sizeof(sig)), line[0] ? ": " : "",
                          line);
    if (WIFEXITED(r->status) && WEXITSTATUS(r->status) != 0)
        return zp_err_set(err, ZP_ETRANSIENT, "%s %s %s failed (exit %d): %s", prog, act, fqdn,
                          WEXITSTATUS(r->status),
                          line[0] ? line
                                  : "it wrote nothing to stderr; run it by hand with the same "
                                    "arguments and variables to see why");
    return 0;
}

static void ex_log(const struct ex_run *r, int rc, const struct zp_err *err, uint64_t ms)
{
    char tail[EX_LOG_MAX + 1];
    const char *from = r->tail_len > EX_LOG_MAX ? r->tail + r->tail_len - EX_LOG_MAX : r->tail;
    int code = r->reaped && WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
    int sig = r->reaped && WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0;

    if (rc == 0) {
        zp_log(ZP_LOG_INFO, "exec change", ZP_S("instance", r->call->instance),
               ZP_S("program", r->cfg->command), ZP_S("action", r->action),
               ZP_S("fqdn", r->rec->fqdn), ZP_S("value", r->rec->value), ZP_I("elapsed_ms", ms),
               ZP_END);
        return;
    }
    zp_prov_body(from, strlen(from), r->call, NULL, r->secrets, tail, sizeof(tail));
    zp_log(ZP_LOG_WARN, "exec change failed", ZP_S("instance", r->call->instance),
           ZP_S("program", r->cfg->command), ZP_S("action", r->action), ZP_S("fqdn", r->rec->fqdn),
           ZP_B("started", r->pid > 0), ZP_I("exit", code), ZP_I("signal", sig),
           ZP_I("stopped_with", r->stopped), ZP_I("elapsed_ms", ms), ZP_S("stderr", tail),
           ZP_S("error", err->msg), ZP_END);
}

static void ex_run_free(struct ex_run *r)
{
    for (size_t i = 0; r->envp != NULL && r->envp[i] != NULL; i++)
        zp_free_secret(r->envp[i]);
    free(r->envp);
    free(r->argv);
    for (int i = 0; i < 2; i++)
        if (r->fd[i] != -1)
            close(r->fd[i]);
}

/* ---- present and cleanup ------------------------------------------------------------------ */

static int ex_call(void *p, const struct zp_record *rec, const struct zp_prov_call *call,
                   const char *action, struct zp_err *err)
{
    const struct ex_cfg *cfg = p;
    struct ex_run r;
    uint64_t started = zp_now_ms(), term_at, kill_at;
    char why[160];
    int rc = -1;

    memset(&r, 0, sizeof(r));
    r.cfg = cfg;
    r.rec = rec;
    r.call = call;
    r.action = action;
    r.pid = -1;
    r.fd[0] = r.fd[1] = -1;
    if (ex_runnable(cfg->command, why, sizeof(why)) == -1) {
        zp_err_set(err, ZP_ECONFIG,
                   "command %s %s; install the program there and make it "
                   "executable",
                   cfg->command, why);
        goto out;
    }
    if (zp_ms_left(call->deadline_ms) < EX_MIN_LEFT_MS) {
        zp_err_set(err, ZP_ETIMEOUT, "no time left to run %s %s %s before the challenge's deadline",
                   cfg->prog, action, rec->fqdn);
        goto out;
    }
    if (ex_prepare(&r, err) == -1)
        goto out;
    ex_limits(&r, &term_at, &kill_at);
    if (ex_spawn(&r, err) == -1)
        goto out;
    ex_wait(&r, term_at, kill_at);
    rc = ex_outcome(&r, err);
out:
    ex_log(&r, rc, err, zp_now_ms() - started);
    ex_run_free(&r);
    return rc;
}

static int ex_present(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return ex_call(cfg, rec, call, "present", err);
}

static int ex_cleanup(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                      struct zp_err *err)
{
    return ex_call(cfg, rec, call, "cleanup", err);
}

const struct zp_provider_ops zp_prov_exec = {
    .type = "exec",
    .flags = ZP_PROV_RMW, /* a program's safety against two runs for one name is unknown */
    .keys = ex_keys,
    .settings = ex_settings,
    .config_parse = ex_config_parse,
    .config_free = ex_config_free,
    .present = ex_present,
    .cleanup = ex_cleanup,
};
