/*
 * Lowering the capabilities of every thread of this process. Linux keeps capabilities
 * per thread: capset() changes only the caller's, and a thread started earlier (the
 * HTTP server's, the shipper's, the identity resolver's, the NATS client's) keeps full
 * root. So the caller lowers its own, then asks each other thread, by a signal sent to
 * that thread alone (THREADCAPS_SIGNAL), to lower its own to the same set, and checks
 * each one with capget() until every thread listed in /proc/self/task holds exactly that
 * set (a thread started meanwhile inherits its creator's, which is checked the same way).
 * A thread must leave THREADCAPS_SIGNAL unblocked (base/httpd does).
 * Errors: 0 or -errno, with why[] saying which thread did not follow.
 */
#ifndef FL_THREADCAPS_H
#define FL_THREADCAPS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define THREADCAPS_SIGNAL (SIGRTMIN + 5)

/*
 * Every thread keeps of its effective and permitted capabilities only those in keep
 * (bit N: capability N), none inheritable or ambient, and the bounding set is cut to
 * keep too (when CAP_SETPCAP allows). Also sets no-new-privs on each thread.
 */
int threadcaps__limit(uint64_t keep, char *why, size_t why_len);

#endif
