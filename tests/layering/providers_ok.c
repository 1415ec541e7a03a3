/*
 * providers_ok.c — the control for providers_wrong.c: the same set-up, including headers
 * the providers layer may see. It must compile.
 */
#include "base/err.h"
#include "providers/provider.h"
