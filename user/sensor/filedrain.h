/*
 * Reading the kernel's watched-file counts (map file_flows) a generation at a time, as
 * sensor/udpdrain does for UDP: filedec__window on the loaded programs' map and
 * generation. Nothing to do when the file-access programs are not loaded.
 * Errors: 0 or -errno.
 */
#ifndef FL_FILEDRAIN_H
#define FL_FILEDRAIN_H

#include "sensor/decode_file.h"
#include "sensor/loader.h"

/* Once per window, after the ring was drained; all: at stop, both generations. */
int filedrain__window(struct loader *l, struct filedec *f, int all);

#endif
