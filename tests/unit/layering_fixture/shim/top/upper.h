/* upper: the top stage of the fixture; it may call down. */
int upper_run(void);
int upper_notify(void);
