/*
 * base_wrong.c — a base file that includes a header of providers/, the layer
 * above it. It must not compile (tests/layering/CMakeLists.txt).
 */
#include "providers/provider.h"
