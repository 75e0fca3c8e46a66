/*
 * Logging to stderr, prefixed with the program name so that lines are attributable.
 * Messages name their inputs (paths, node and run names a store or a workload chose):
 * the whole line goes through the one terminal escaping (base/textesc), so no input can
 * break it in two, move the cursor or reorder it. Backslashes stay: a caller may have
 * escaped its input already, and escaping twice would only make it unreadable.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/textesc.h"

/* The one piece of process-wide state besides the signal mask: set once at start-up. */
static enum log_level current_level = LOG_INFO;

void log__set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log__level(void)
{
	return current_level;
}

void log__msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "firstlight: error: ", "firstlight: warning: ",
					       "firstlight: ", "firstlight: debug: " };
	char *line = NULL;
	va_list ap;
	int n;

	if (level > current_level)
		return;
	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0 || textesc__print_flags(stderr, prefix[level], line, "\n", TEXTESC_KEEP_BACKSLASH))
		fprintf(stderr, "%s(out of memory formatting a message)\n", prefix[level]);
	free(line);
}
