/* Logging to stderr, prefixed with the program name so that lines are attributable. */
#include <stdarg.h>
#include <stdio.h>

#include "base/log.h"

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
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	va_list ap;

	if (level > current_level)
		return;
	fprintf(stderr, "firstlight: %s", prefix[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
