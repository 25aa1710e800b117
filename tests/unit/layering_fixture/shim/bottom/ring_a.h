/* ring_a: half of a circle by #include (ring_b.h includes this header). */
#ifndef RING_A_H
#define RING_A_H
#include "ring_b.h"
int ring_a(void);
#endif
