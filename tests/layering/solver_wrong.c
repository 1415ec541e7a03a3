/*
 * solver_wrong.c — a solver file that includes a header of k8s/, the layer
 * above it. It must not compile (tests/layering/CMakeLists.txt).
 */
#include "k8s/server.h"
