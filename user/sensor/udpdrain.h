/*
 * Reading the kernel's UDP aggregates (map udp_flows) a generation at a time. Each window
 * the agent takes the generation the kernel stopped writing one window ago (nothing can
 * still be adding to it), records it, and makes it the kernel's current one again. See
 * struct fl_udp_key. Errors: 0 or -errno.
 */
#ifndef FL_UDPDRAIN_H
#define FL_UDPDRAIN_H

#include "sensor/decode_net.h"
#include "sensor/loader.h"

/* Once per window, after the ring was drained: record the idle generation, flip. */
int udpdrain__window(struct loader *l, struct netdec *n);
/* At stop, after the ring was drained: record both generations. */
int udpdrain__all(struct loader *l, struct netdec *n);

#endif
