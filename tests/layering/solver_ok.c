/*
 * solver_ok.c — the control for solver_wrong.c: the same set-up, including headers
 * the solver layer may see. It must compile.
 */
#include "providers/provider.h"
#include "solver/solver.h"
