/*
 * Command-line options, checked before getopt_long sees them: a long option must be
 * written in full. getopt_long would take "--data" for "--data-dir", and an option that
 * chooses where evidence goes must never be a guess.
 */
#ifndef FL_CLIOPT_H
#define FL_CLIOPT_H

#include <getopt.h>

/*
 * Checks argv[1..argc) (up to a "--") against longopts: 0, or -EINVAL after one line
 * "CMD: option '--data' is not complete: write --data-dir". The value of an option that
 * takes one (written as the next argument) is skipped, not judged, unless it is another
 * of the options: "--container --json" is refused ("--container needs a value"), not
 * taken as a container named "--json".
 */
int cliopt__check_full(const char *cmd, int argc, char **argv, const struct option *longopts);

#endif
