/* fuzz_target: what one fuzz input goes through -- every reader of the analysis library
 * the probe and the shim run on a file, and the configuration parser on an environment.
 *
 * Shared by the seeded-mutant driver (fuzz_mutants.c) and the libFuzzer harnesses, so
 * both exercise exactly the same code. Invariants: nothing here judges the verdict (a
 * mutant may well be "supported"); a run is a finding only if it crashes, trips a
 * sanitizer, hangs, or breaks a stated contract (fuzz_config_contract's return value).
 */
#ifndef OCPREEMPT_FUZZ_TARGET_H
#define OCPREEMPT_FUZZ_TARGET_H

#include <stddef.h>

/* Opens `path` as the probe does (text and JSON reports rendered to the current stdout)
 * and, if it opens, runs the shim's start-up readers on it as well. */
void fuzz_analyse_file(const char *path);

/* Replaces the environment with the `count` NAME=VALUE strings, loads the configuration
 * and validates each value alone as the launcher does. 0 when every error message is one
 * line inside its buffer and a rejected configuration leaves the shim disabled; -1 (with
 * the offending line on stderr) otherwise. */
int fuzz_config_contract(char **env, size_t count);

#endif
