/* upper: calls down into lower (allowed). */
#include "upper.h"
#include "../bottom/lower.h"

int upper_run(void) { return lower_step(); }
int upper_notify(void) { return 1; }
