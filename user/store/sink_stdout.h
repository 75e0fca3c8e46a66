/*
 * The live view on a stream: every record as a JSON line (proto3 canonical mapping), or
 * with text set one line per record for people (records/recordtext.h). Lines are written
 * on flush or when 64 KiB are pending; a reader that goes away counts as lost records.
 */
#ifndef FL_SINK_STDOUT_H
#define FL_SINK_STDOUT_H

#include "records/sink.h"

/* NULL with errno set. */
struct sink *sink_stdout__new(int fd, int text);

#endif
