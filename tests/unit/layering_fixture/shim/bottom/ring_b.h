/* ring_b: half of a circle by #include (ring_a.h includes this header). */
#ifndef RING_B_H
#define RING_B_H
#include "ring_a.h"
int ring_b(void);
#endif
