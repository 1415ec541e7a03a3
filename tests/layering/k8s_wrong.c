/*
 * k8s_wrong.c — a k8s file that includes a header of cmd/, the layer
 * above it. It must not compile (tests/layering/CMakeLists.txt).
 */
#include "cmd/cmd.h"
