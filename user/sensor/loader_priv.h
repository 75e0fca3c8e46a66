/*
 * The per-syscall programs' part of the BPF lifecycle (bpf/privilege.bpf.c,
 * bpf/socket.bpf.c). Before load: their per-syscall tracepoints are named in tracefs, which is mounted at
 * /sys/kernel/tracing when absent (as systemd does at boot; libbpf reads the tracepoint
 * ids there). A node without tracefs or without those tracepoints loads none of them,
 * and kcaps names privilege-changes (socket-families) as missing.
 */
#ifndef FL_LOADER_PRIV_H
#define FL_LOADER_PRIV_H

struct firstlight_bpf;
struct kcaps;

/* tracefs's events dir, mounting tracefs when absent; NULL when there is none. */
const char *loader_priv__events_dir(void);
void loader_priv__configure(struct firstlight_bpf *skel, struct kcaps *caps);

#endif
