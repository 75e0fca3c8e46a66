/*
 * The kernel/user ABI (bpf/firstlight.h) pinned: every struct's size, as the BPF programs
 * lay it out, so that a field added on one side without the other fails the build, not
 * a decode. scripts/check-layers.sh checks that every struct of the header is here.
 * Compiled for its assertions alone.
 */
#include <linux/types.h>

#include "firstlight.h"

_Static_assert(sizeof(struct fl_exec_id) == 16, "ABI: fl_exec_id");
_Static_assert(sizeof(struct fl_proc_entry) == 40, "ABI: fl_proc_entry");
_Static_assert(sizeof(struct fl_event_hdr) == 24, "ABI: fl_event_hdr");
_Static_assert(sizeof(struct fl_creds) == 32, "ABI: fl_creds");
_Static_assert(sizeof(struct fl_namespaces) == 32, "ABI: fl_namespaces");
_Static_assert(sizeof(struct fl_task) == 136, "ABI: fl_task");
_Static_assert(sizeof(struct fl_fork_event) == 24 + sizeof(struct fl_task) + FL_CGROUP_NAME_MAX,
	       "ABI: fl_fork_event");
_Static_assert(FL_FORK_EVENT_MIN == 160, "ABI: a fork event without its v1 cgroup name");
_Static_assert(sizeof(struct fl_exec_event) == 24 + sizeof(struct fl_task) + 64, "ABI: fl_exec_event");
_Static_assert(sizeof(struct fl_exit_event) == 56, "ABI: fl_exit_event");
_Static_assert(sizeof(struct fl_cgroup_event) == sizeof(struct fl_event_hdr) + 56, "ABI: fl_cgroup_event");
_Static_assert(sizeof(struct fl_cgroup_drops) == 8 * FL_DROP_WHY * FL_EV_MAX + 16, "ABI: fl_cgroup_drops");
_Static_assert(sizeof(struct fl_ring_share) == 16, "ABI: fl_ring_share");
_Static_assert(sizeof(struct fl_drop_counter) == 24, "ABI: fl_drop_counter");
_Static_assert(sizeof(struct fl_sock_owner) == 32, "ABI: fl_sock_owner");
_Static_assert(sizeof(struct fl_inet_tuple) == 40, "ABI: fl_inet_tuple");
_Static_assert(sizeof(struct fl_tcp_event) == sizeof(struct fl_event_hdr) + 128, "ABI: fl_tcp_event");
_Static_assert(sizeof(struct fl_udp_key) == 56, "ABI: fl_udp_key");
_Static_assert(sizeof(struct fl_udp_value) == 48, "ABI: fl_udp_value");
_Static_assert(sizeof(struct fl_udp_event) == sizeof(struct fl_event_hdr) + 56 + 48, "ABI: fl_udp_event");
_Static_assert(sizeof(struct fl_unix_connect_event) == sizeof(struct fl_event_hdr) + 160, "ABI: fl_unix_connect_event");
_Static_assert(sizeof(struct fl_unix_peer_event) == sizeof(struct fl_event_hdr) + 16, "ABI: fl_unix_peer_event");
_Static_assert(sizeof(struct fl_priv_creds) == 32 + 40 + 8 + 4 * FL_PRIV_GROUPS, "ABI: fl_priv_creds");
_Static_assert(sizeof(struct fl_priv_event) == sizeof(struct fl_event_hdr) + 16 + 16 + 32 + 16 +
	       2 * sizeof(struct fl_priv_creds), "ABI: fl_priv_event");
_Static_assert(sizeof(struct fl_watch_key) == 16, "ABI: fl_watch_key");
_Static_assert(sizeof(struct fl_file_key) == 16 + 24, "ABI: fl_file_key");
_Static_assert(sizeof(struct fl_file_value) == 32, "ABI: fl_file_value");
_Static_assert(sizeof(struct fl_file_event) == sizeof(struct fl_event_hdr) + 40 + 32 + 40 + 2 * FL_PATH_MAX,
	       "ABI: fl_file_event");
_Static_assert(sizeof(struct fl_sock_event) == sizeof(struct fl_event_hdr) + 16 + 24, "ABI: fl_sock_event");
