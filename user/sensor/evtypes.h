/*
 * The names of the kernel's event types (FL_EV_* in bpf/firstlight.h): one word each,
 * the same in a RING_BUFFER_DROP gap's eventType and in the metrics' event_type label.
 */
#ifndef FL_EVTYPES_H
#define FL_EVTYPES_H

/* "exec", "fork", ..., or "unknown" for a number that is no event type. */
const char *evtypes__name(unsigned int type);

#endif
