/*
 * k8s_ok.c — the control for k8s_wrong.c: the same set-up, including headers
 * the k8s layer may see. It must compile.
 */
#include "k8s/server.h"
#include "solver/solver.h"
