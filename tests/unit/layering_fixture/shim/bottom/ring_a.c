/* ring_a: see ring_a.h. */
#include "ring_a.h"

int ring_a(void) { return 0; }
