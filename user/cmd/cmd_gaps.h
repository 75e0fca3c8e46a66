/*
 * `firstlight gaps`: every gap in the records, recorded by the agent or found by the
 * reader (gapscan.h), as a table or JSON lines; --fail-on for audits and pipelines.
 * The table and JSON are readers/gapfmt.h.
 */
#ifndef FL_CMD_GAPS_H
#define FL_CMD_GAPS_H

/* Exit statuses besides 0, 1 (an input not read in full) and 2 (usage). */
#define GAPS_EXIT_FOUND 3 /* a gap of a --fail-on kind is listed */

int cmd_gaps__main(int argc, char **argv);

#endif
