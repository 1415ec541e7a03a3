/*
 * fuzz_config.c — the configuration file: any bytes load or are refused
 * with a sentence; nothing crashes or leaks.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/log.h"
#include "solver/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_config *cfg = NULL;
    struct zp_err err = {0};

    zp_log_set_level(ZP_LOG_ERROR);
    if (zp_config_parse("fuzz.yaml", (const char *)data, size, &cfg, &err) == 0)
        zp_config_free(cfg);
    else if (err.msg[0] == '\0')
        abort();
    return 0;
}
