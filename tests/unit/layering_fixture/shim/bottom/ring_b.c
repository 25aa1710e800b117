/* ring_b: see ring_b.h. */
#include "ring_b.h"

int ring_b(void) { return 0; }
