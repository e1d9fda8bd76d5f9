/*
 * fuzz-flockd-config.c -- flockd's Bedrock-format configuration parser and
 * validator (flockd__config_parse). An accepted config must have providers
 * with names and a backend; a rejected one must come with a message.
 */
#include "flockd-config.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    flockd_config cfg;
    char          err[FLOCKD_MSG_LEN];
    memset(&cfg, 0, sizeof cfg);
    err[0] = 0;
    /* both capability sets: with and without MPI */
    flockd_config_options opts = {size > 0 && (data[0] & 1), NULL, NULL};
    if (flockd__config_parse((const char*)data, size, &opts, &cfg, err, sizeof err) == 0) {
        if (cfg.num_providers == 0) abort();
        for (size_t i = 0; i < cfg.num_providers; i++)
            if (!cfg.providers[i].name || !cfg.providers[i].backend
                || !cfg.providers[i].config_json || cfg.providers[i].num_bootstrap == 0)
                abort();
    } else {
        if (!err[0] || cfg.num_providers != 0) abort();
    }
    flockd__config_free(&cfg);
    return 0;
}
