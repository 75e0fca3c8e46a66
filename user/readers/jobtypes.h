/*
 * What a rebuilt job is made of (jobtree.h builds it, jobgraph.h links its processes,
 * treefmt.h shows it): the query, workloads, process images, exits, flows, gaps, and the
 * tree items that hold them. Plain data; every pointer is owned by the jobtree.
 */
#ifndef FL_JOBTYPES_H
#define FL_JOBTYPES_H

#include <stddef.h>
#include <stdint.h>

enum jobtree_by {
	JOBTREE_BY_CONTAINER, /* value: a container id or a unique prefix of one */
	JOBTREE_BY_POD,       /* value: a pod name or uid; pod_namespace optional */
	JOBTREE_BY_WORKLOAD,  /* value: a workload key ("cgroup:<id>", "sandbox:...") */
	JOBTREE_BY_EXEC_ID,   /* value: an exec id: that image onwards and its descendants */
	JOBTREE_BY_PID,       /* pid alive at at_ns: that process and its descendants */
};

struct jobtree_query {
	enum jobtree_by by;
	const char *value;
	const char *pod_namespace; /* NULL: any */
	uint32_t pid;
	uint64_t at_ns;            /* unix ns */
	const char *node;          /* NULL: whichever node the selection is on (a collected
				    * store holds many; one job is on one) */
};

/* ---- the rebuilt job (read-only for renderers) ----------------------------------------- */

/* A workload, merged from all its records (each restates it in full; the latest wins). */
struct jt_workload {
	const char *key;
	const char *node;           /* the node its records come from ("" unknown) */
	uint64_t cgroup_id;
	int kind;                   /* Workload.Kind */
	const char *runtime, *container_id, *claimed_container_id, *container_name;
	const char *pod_name, *pod_namespace, *pod_uid, *image, *cgroup_path;
	const char *identity_source, *creator_exec_id, *detail;
	/* The owners file's word (run --owners): owners_sha256 "" when none applied. */
	const char *owner, *approval_ref, *boundary, *owners_sha256;
	int unowned;
	int identity_verified, unattributed;
	int has_record;             /* 0: known only from processes' workload keys */
	int ended;                  /* an ENDED record was read */
	int end_lost;               /* its cgroup's removal was among the events dropped: it
				     * ended (a cgroup holds no process when removed), unrecorded */
	uint64_t end_lost_ns;       /* by then (the end of that drop's window) */
	uint64_t first_seen_ns, last_seen_ns; /* unix ns, 0 unknown */
	uint64_t record_ns;         /* time of the record the fields come from */
	uint32_t process_count, exec_count;   /* as the latest record says */
	uint64_t drops;
	int selected;
};

enum jt_image_kind {
	JT_IMAGE_FORK,       /* a fork record: the child runs what its parent ran */
	JT_IMAGE_EXEC,       /* an exec record */
	JT_IMAGE_SEEN,       /* alive when the sensor started (pre-existing, read from /proc) */
	JT_IMAGE_RESTATED,   /* only a segment snapshot restates it: its exec or fork record
			      * is not in the inputs */
	JT_IMAGE_UNRECORDED, /* named by an exit, flow or child, never recorded itself */
};

#define JT_IMG_PRE_EXISTING (1u << 0)
#define JT_IMG_STARTED_WHILE_DOWN (1u << 1)
#define JT_IMG_ARGS_TRUNCATED (1u << 2)
#define JT_IMG_ARGS_ESCAPED (1u << 3)   /* args hold \xHH escapes (ProcessFlags) */
#define JT_IMG_BINARY_ESCAPED (1u << 4)
#define JT_IMG_CWD_ESCAPED (1u << 5)
#define JT_IMG_FROM_PROCFS (1u << 6)
#define JT_IMG_SNAPSHOT (1u << 7)       /* the record kept is a segment snapshot */
#define JT_IMG_BINARY_UNRESOLVED (1u << 8)

struct jt_proc;

struct jt_image {
	const char *exec_id, *parent_exec_id, *replaced_exec_id, *workload_key;
	const char *node;            /* the record's node ("" unknown) */
	enum jt_image_kind kind;
	unsigned int flags;          /* JT_IMG_* */
	uint32_t pid, ppid, uid, gid, euid, egid;
	uint64_t cgroup_id;
	uint64_t t_ns;               /* the image's start (exec or fork), unix ns; 0 unknown */
	uint64_t proc_start_ns;      /* the process's start, unix ns; 0 unknown */
	uint64_t start_boot;         /* the process's start, CLOCK_BOOTTIME */
	uint64_t record_ns;          /* when the record was written, unix ns */
	const char *binary, *cwd;    /* NULL in pass 1 and for unrecorded images */
	const char *record;          /* the record it came from as canonical JSON (one line),
				      * when jobtree__keep_records asked; else NULL */
	const char *const *args;
	size_t n_args;
	const char *const *args_tail; /* argv's last arguments when its middle was cut */
	size_t n_args_tail;
	uint64_t args_cut_bytes;     /* bytes cut between args and args_tail */
	uint32_t args_count;         /* argc before truncation */
	/* Internal links (valid after build). */
	struct jt_image *prev, *next;
	struct jt_proc *proc;
	uint64_t order;              /* input order, for stable ties */
	int mark;
};

struct jt_exit {
	const char *exec_id;
	uint32_t pid;
	int32_t code;
	uint32_t signal;
	int core_dumped, start_seen, pre_existing;
	uint64_t t_ns;               /* unix ns */
	uint64_t duration_ns;
	uint64_t boot;               /* the record's boot_nano */
	uint64_t cgroup_id;
	const char *record;          /* as jt_image.record */
	int used;
};

/* A connection (CONNECT or ACCEPT joined with its CLOSE by socket cookie), a listener, a
 * unix connect, or every UDP window of one peer summed. */
struct jt_flow {
	int kind;                    /* Flow.Kind of the opening record; CLOSE alone when its
				      * opening is not in the records */
	uint32_t protocol;
	const char *exec_id, *workload_key;
	uint32_t pid;
	uint64_t cgroup_id;
	const char *src, *dst;
	uint32_t src_port, dst_port;
	int inbound, owner_unknown, start_seen, pre_existing, dst_escaped;
	int opened;                  /* a CONNECT/ACCEPT record is in */
	int32_t result;              /* CONNECT: 0 established, -errno */
	const char *error;
	uint64_t connect_ns;         /* CONNECT: the handshake */
	int closed;
	int32_t close_result;
	const char *close_error;
	uint64_t bytes_sent, bytes_received, bytes_retransmitted;
	uint64_t datagrams, connects, records;
	uint64_t start_ns, end_ns;   /* unix ns, 0 unknown */
	uint64_t socket_cookie;
	uint32_t peer_pid, socket_type;
	const char *peer_exec_id;
	struct jt_proc *proc;        /* owner in the tree; NULL: not attributable */
	size_t order;                /* input order: ties sort stably */
	const char *first_record, *last_record; /* as jt_image.record: its first and latest
						 * record (the same when it has one) */
};

/* A fileAccess record: the opens of one watched path by one image in one window. */
struct jt_file {
	const char *exec_id, *workload_key, *path, *watch, *mode;
	const char *host_path;       /* "" when unknown */
	uint32_t pid;
	int path_escaped, host_path_escaped;
	uint64_t count;
	uint64_t start_ns, end_ns;   /* unix ns, 0 unknown */
	struct jt_proc *proc;        /* the opener in the tree; NULL: its image is unknown */
	size_t order;                /* input order: ties sort stably */
	const char *record;          /* as jt_image.record */
};

/* A gap record that applies to the job. */
struct jt_gap {
	int kind;                    /* Gap.Kind */
	const char *workload_key, *event_type, *reason, *detail, *previous_run_id;
	uint64_t cgroup_id, count, first_seq, last_seq;
	uint64_t start_ns, end_ns;   /* the window as recorded, 0 unknown */
	uint64_t t_ns;               /* where it is placed: its start, else end, else the
				      * record's time */
	uint64_t record_ns;
	int global;                  /* names no workload: it may concern any job */
	struct jt_proc *under;       /* the process whose items hold it; NULL: top level */
	size_t order;                /* position in jt_job.gaps: ties sort stably */
	const char *record;          /* as jt_image.record */
};

enum jt_item_kind { JT_ITEM_PROC, JT_ITEM_FLOW, JT_ITEM_GAP, JT_ITEM_FILE };

/* What a process (or the top level) holds, in time order. */
struct jt_item {
	enum jt_item_kind kind;
	uint64_t t_ns;
	union {
		struct jt_proc *proc;
		struct jt_flow *flow;
		struct jt_gap *gap;
		struct jt_file *file;
	};
};

enum jt_state {
	JT_EXITED,       /* an exit record with a code */
	JT_KILLED,       /* an exit record with a signal */
	JT_EXIT_MISSING, /* no exit, although the job is over (workload ended, pid reused) */
	JT_RUNNING,      /* no exit and nothing says it ended: alive when the records end */
};

#define JT_PROC_PRE_EXISTING (1u << 0)
#define JT_PROC_STARTED_WHILE_DOWN (1u << 1)
#define JT_PROC_MISSING_START (1u << 2)   /* ended or connected, its start never recorded */
#define JT_PROC_START_ELSEWHERE (1u << 3) /* its start was recorded, not in these inputs */
#define JT_PROC_ARGS_TRUNCATED (1u << 4)
#define JT_PROC_LINEAGE_LOOP (1u << 5)    /* its recorded parent chain looped: cut here */
#define JT_PROC_UNRECORDED_EXEC (1u << 6) /* it exec'd an image whose record is missing */

struct jt_proc {
	uint32_t pid;
	uint32_t ppid;                /* of its last image: its real parent then */
	struct jt_image **images;     /* fork, execs, in order */
	size_t n_images;
	struct jt_exit *exit;         /* NULL: no exit record */
	struct jt_proc *parent;       /* lineage; NULL: a root */
	struct jt_image *forked_by;   /* the parent's image that created it */
	const char *parent_exec_id;   /* as recorded, also for roots */
	uint32_t outside_parent_pid;  /* a root whose creator (outside the selection, e.g.
				       * the runtime) exited inside the workload: its pid */
	struct jt_item *items;        /* children, flows, gaps, in time order */
	size_t n_items;
	uint64_t start_ns, end_ns;    /* unix ns; 0 unknown */
	uint64_t first_ns;            /* start, or when unknown its earliest trace (a flow):
				       * where it sorts among its siblings */
	uint64_t reused_ns;           /* JT_EXIT_MISSING by pid reuse: when */
	enum jt_state state;
	unsigned int flags;           /* JT_PROC_* */
	const char *workload_key;
	uint64_t cgroup_id;
	int depth;
	/* Internal. */
	size_t cap_items;
	int mark;
	size_t preorder;
};

struct jt_counts {
	size_t processes, images, exited, killed, exit_missing, running, missing_start;
	size_t flows, gaps, files;
	uint64_t dropped_events; /* RING_BUFFER_DROP counts of the gaps shown */
};

struct jt_job {
	const struct jobtree_query *query;
	struct jt_workload **workloads; /* those selected, or those the processes are in */
	size_t n_workloads;
	struct jt_item *top;            /* roots, unattributed flows, top-level gaps */
	size_t n_top;
	struct jt_gap **gaps;           /* every gap shown, in time order */
	size_t n_gaps;
	uint64_t start_ns, end_ns;      /* the job's window; end 0 when still running */
	struct jt_counts counts;
};

/* A match of an ambiguous query, or what comes closest to one that matched nothing, for
 * the error message. */
struct jt_candidate {
	const char *what;   /* container id, "namespace/pod", exec id or "pid N" */
	const char *key;    /* workload key, pod uid or exec id */
	const char *detail; /* runtime, identity, ... (may be "") */
	uint64_t first_ns;  /* unix ns, 0 unknown */
	uint64_t last_ns;   /* a process suggested for --pid: its end, 0 unknown */
};

#endif
