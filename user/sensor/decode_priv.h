/*
 * Decoding privilege events (bpf/privilege.bpf.c) into Privilege records: the syscall,
 * its arguments and result, the credentials before and after, whether anything changed
 * and whether privilege was gained; named by exec id and workload key like every record.
 * Errors: 0, -EINVAL for a malformed event, or what the recorder returned.
 */
#ifndef FL_DECODE_PRIV_H
#define FL_DECODE_PRIV_H

#include <stddef.h>

#include "firstlight.h"
#include "records/record.h"
#include "sensor/proctable.h"

/* The syscall's name ("setresuid"), "" for a number out of range. */
const char *privdec__syscall_name(uint32_t syscall);

/* procs: the process's sandbox (its workload key); its entry takes the new credentials. */
int privdec__handle(struct recorder *rec, struct proctable *procs, const void *data, size_t size);

#endif
