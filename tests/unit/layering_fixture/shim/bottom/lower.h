/* lower: the bottom stage of the fixture. */
int lower_step(void);
