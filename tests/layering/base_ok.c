/*
 * base_ok.c — the control for base_wrong.c: the same set-up, including headers
 * the base layer may see. It must compile.
 */
#include "base/err.h"
