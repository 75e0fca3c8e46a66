/*
 * The file-access programs' part of the BPF lifecycle (bpf/fileaccess.bpf.c). Before
 * load: the watched paths' filter into their read-only constants, and whether they load
 * at all: they need the open syscalls' tracepoints (tracefs, as loader_priv), bpf_loop
 * and bpf_rdonly_cast (6.2+). Without them kcaps names file-access missing. After load:
 * the watched paths' exact set (map watch_exact).
 * Errors: 0 or -errno, logged.
 */
#ifndef FL_LOADER_FILE_H
#define FL_LOADER_FILE_H

struct firstlight_bpf;
struct kcaps;
struct watchpaths;

/* watch NULL: the defaults. */
void loader_file__configure(struct firstlight_bpf *skel, struct kcaps *caps,
			    const struct watchpaths *watch, const char *btf_path);
int loader_file__fill(struct firstlight_bpf *skel, const struct watchpaths *watch);

#endif
