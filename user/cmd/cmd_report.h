/*
 * `firstlight report --since T --until T [--html FILE | --json] [--pubkey FILE]... DIR...`:
 * per node, whether its records of the window are complete and unmodified, and if not
 * what is missing (readers/report.h); as text, JSON (readers/reportfmt.h) or one HTML
 * page (readers/reporthtml.h).
 */
#ifndef FL_CMD_REPORT_H
#define FL_CMD_REPORT_H

/* Exit statuses besides 0 (complete), 1 (an input not read in full) and 2 (usage). */
#define REPORT_EXIT_INCOMPLETE 3 /* as `gaps --fail-on`: the window is not complete */

int cmd_report__main(int argc, char **argv);

#endif
