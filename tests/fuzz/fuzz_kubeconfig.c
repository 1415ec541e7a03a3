/*
 * fuzz_kubeconfig.c — a kubeconfig file (YAML, written to a temporary file
 * since the parser reads a path): its current context, cluster and user.
 * Checks that an accepted kubeconfig has an https server, a namespace,
 * and a client certificate only with its key, and that every refusal says
 * why.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "k8s/kubeconfig.h"

static char path[64];

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int fd;

    (void)argc;
    (void)argv;
    snprintf(path, sizeof(path), "/tmp/zp-fuzz-kubeconfig-XXXXXX");
    if ((fd = mkstemp(path)) == -1)
        abort();
    close(fd);
    atexit(remove_file);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_kubeconfig kc;
    struct zp_err err = {0};
    FILE *f = fopen(path, "w");

    if (f == NULL)
        abort();
    if (fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    if (zp_kubeconfig_parse(path, &kc, &err) == 0) {
        if (strncmp(kc.server, "https://", 8) != 0 || kc.namespace == NULL || kc.context == NULL ||
            kc.cluster == NULL)
            abort();
        if ((kc.cert_file || kc.cert_data) != (kc.key_file || kc.key_data))
            abort();
        zp_kubeconfig_cleanup(&kc);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    return 0;
}
