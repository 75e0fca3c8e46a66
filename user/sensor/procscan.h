/*
 * Processes alive before the sensor attached. The kernel's task iterator gives each one
 * with the same ids and credentials the lifecycle programs would have recorded; argv,
 * executable and cwd are read from /proc, the only place they remain (flagged so).
 */
#ifndef FL_PROCSCAN_H
#define FL_PROCSCAN_H

#include <stdint.h>

#include "sensor/decode.h"
#include "sensor/loader.h"

/* Records every pre-existing process as a pre-existing exec. Returns the count or -errno.
 * With adopted programs (a handover), records nothing: takes the processes the ring did
 * not tell of into the table (decoder__adopt) and returns how many. */
int procscan__seed(struct loader *l, struct decoder *d, uint32_t args_max_bytes);

#endif
