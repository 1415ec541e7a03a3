/*
 * providers_wrong.c — a providers file that includes a header of solver/, the layer
 * above it. It must not compile (tests/layering/CMakeLists.txt).
 */
#include "solver/solver.h"
