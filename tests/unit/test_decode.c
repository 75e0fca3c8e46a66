/* Unit tests for user/sensor/decode.c and user/records/record.c: hand-built kernel events
 * (the layouts of bpf/firstlight.h) go through decoder__handle, and every record that
 * reaches the sink is unpacked from its protobuf bytes and checked field by field. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/decode.h"
#include "records/exec_id.h"
#include "sensor/proctable.h"
#include "records/record.h"
#include "records/sink.h"

/* Literal with its terminating NUL, as the kernel sends paths and argv. */
#define Z(lit) lit, sizeof(lit)
/* Literal without it. */
#define S(lit) lit, sizeof(lit) - 1

typedef Firstlight__V1__Event Rec;

#include "capture_sink.h"

/* ---- fixture ------------------------------------------------------------------------- */

struct fx {
	struct capture cap;
	struct recorder rec;
	struct proctable *procs;
	struct decoder d;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	capture_init(&f->cap);
	if (recorder__init(&f->rec, &f->cap.base))
		return -1;
	f->procs = proctable__new(0);
	if (!f->procs || decoder__init(&f->d, &f->rec, f->procs, 64))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	decoder__fini(&f->d);
	proctable__free(f->procs);
	recorder__fini(&f->rec);
	sink__free(&f->cap.base);
	free(f);
	return 0;
}

static void set_args_max(struct fx *f, uint32_t n)
{
	decoder__fini(&f->d);
	assert_int_equal(decoder__init(&f->d, &f->rec, f->procs, n), 0);
}

/* ---- event builders ------------------------------------------------------------------ */

#define PARENT_START 1000000000ull
#define PROC_START 2000000000ull

static struct fl_exec_id mkid(uint64_t start_ns, uint32_t tgid)
{
	struct fl_exec_id id;

	memset(&id, 0, sizeof(id));
	id.start_ns = start_ns;
	id.tgid = tgid;
	return id;
}

static char *idstr(char *buf, uint32_t tag, uint64_t start_ns, uint32_t tgid)
{
	snprintf(buf, EXEC_ID_STRLEN, "%08" PRIx32 ":%" PRIu64 ":%" PRIu32, tag, start_ns, tgid);
	return buf;
}

/* A task with distinct values in every field, so that a swap shows. */
static void fill_task(struct fl_task *t, uint32_t pid, uint64_t image_start, uint32_t ppid,
		      uint64_t parent_start)
{
	memset(t, 0, sizeof(*t));
	t->id = mkid(image_start, pid);
	t->parent_id = mkid(parent_start, ppid);
	t->pid = pid;
	t->ppid = ppid;
	t->ns_pid = pid % 1000 + 1;
	t->start_ns = PROC_START + pid;
	t->cgroup_id = 5000 + pid;
	t->cgroup_v1_id = 7000 + pid;
	t->creds.uid = 1001;
	t->creds.gid = 1002;
	t->creds.euid = 1003;
	t->creds.egid = 1004;
	t->creds.auid = 4294967295u;
	t->creds.sessionid = 55;
	t->creds.cap_effective = 0x1ffffffffffull;
	t->ns.pid = 4026531836u;
	t->ns.mnt = 4026531841u;
	t->ns.net = 4026531840u;
	t->ns.uts = 4026531838u;
	t->ns.ipc = 4026531839u;
	t->ns.user = 4026531837u;
	t->ns.cgroup = 4026531835u;
}

/* An exec event followed by its data, its v1 cgroup named cg (cg_len bytes); free() it. */
static struct fl_exec_event *mk_exec_cg(uint32_t pid, uint64_t image_start, const char *bin,
					size_t bin_len, const char *cwd, size_t cwd_len,
					const char *args, size_t args_len, const char *cg,
					size_t cg_len, size_t *size)
{
	size_t total = sizeof(struct fl_exec_event) + bin_len + cwd_len + args_len + cg_len;
	struct fl_exec_event *ev = calloc(1, total);
	char *data = (char *)(ev + 1);

	assert_non_null(ev);
	ev->hdr.type = FL_EV_EXEC;
	ev->hdr.size = (uint32_t)total;
	ev->hdr.boot_ns = image_start + 10;
	fill_task(&ev->task, pid, image_start, 1, PARENT_START);
	ev->binary_len = (uint32_t)bin_len;
	ev->cwd_len = (uint32_t)cwd_len;
	ev->args_len = (uint32_t)args_len;
	ev->args_size = (uint32_t)args_len;
	for (size_t i = 0; i < args_len; i++)
		ev->argc += !args[i];
	if (args_len && args[args_len - 1])
		ev->argc++; /* a cut last argument */
	memcpy(data, bin, bin_len);
	memcpy(data + bin_len, cwd, cwd_len);
	memcpy(data + bin_len + cwd_len, args, args_len);
	memcpy(data + bin_len + cwd_len + args_len, cg, cg_len);
	ev->cgroup_v1_name_len = (uint32_t)cg_len;
	*size = total;
	return ev;
}

/* mk_exec_cg in the v1 cgroup "init.scope". */
static struct fl_exec_event *mk_exec(uint32_t pid, uint64_t image_start, const char *bin,
				     size_t bin_len, const char *cwd, size_t cwd_len,
				     const char *args, size_t args_len, size_t *size)
{
	return mk_exec_cg(pid, image_start, bin, bin_len, cwd, cwd_len, args, args_len,
			  "init.scope", sizeof("init.scope"), size);
}

static struct fl_fork_event mk_fork(uint32_t pid, uint64_t fork_ns, uint32_t ppid,
				    uint64_t parent_image_start)
{
	struct fl_fork_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = FL_EV_FORK;
	ev.hdr.size = sizeof(ev);
	ev.hdr.boot_ns = fork_ns;
	fill_task(&ev.task, pid, fork_ns, ppid, parent_image_start);
	ev.task.start_ns = fork_ns;
	strcpy(ev.cgroup_v1_name, "init.scope");
	return ev;
}

static struct fl_exit_event mk_exit(uint32_t pid, uint64_t image_start, uint64_t proc_start,
				    uint64_t now, uint32_t status)
{
	struct fl_exit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = FL_EV_EXIT;
	ev.hdr.size = sizeof(ev);
	ev.hdr.boot_ns = now;
	ev.hdr.cgroup_id = 5000 + pid;
	ev.id = mkid(image_start, pid);
	ev.status = status;
	ev.start_ns = proc_start;
	return ev;
}

static Rec *last(struct fx *f)
{
	return capture_last(&f->cap);
}

static Firstlight__V1__Process *last_exec(struct fx *f)
{
	Rec *r = last(f);

	assert_int_equal(r->body_case, FIRSTLIGHT__V1__EVENT__BODY_EXEC);
	assert_non_null(r->exec);
	assert_non_null(r->exec->process);
	assert_non_null(r->exec->process->flags);
	assert_non_null(r->exec->process->namespaces);
	return r->exec->process;
}

static Firstlight__V1__ProcessExit *last_exit(struct fx *f)
{
	Rec *r = last(f);

	assert_int_equal(r->body_case, FIRSTLIGHT__V1__EVENT__BODY_EXIT);
	assert_non_null(r->exit);
	return r->exit;
}

static void expect_args(const Firstlight__V1__Process *p, size_t n, ...)
{
	va_list ap;

	assert_int_equal(p->n_args, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(p->args[i], va_arg(ap, const char *));
	va_end(ap);
}

/* Decodes an exec event built from the arguments; returns decoder__handle's result. */
static int exec_event(struct fx *f, uint32_t pid, uint64_t image_start, const char *args,
		      size_t args_len)
{
	size_t size;
	struct fl_exec_event *ev = mk_exec(pid, image_start, Z("/bin/sh"), Z("/root"), args,
					   args_len, &size);
	int rc = decoder__handle(&f->d, ev, size);

	free(ev);
	return rc;
}

/* ---- exec ---------------------------------------------------------------------------- */

static void test_exec_record(void **state)
{
	struct fx *f = *state;
	char want[EXEC_ID_STRLEN];
	const Firstlight__V1__Process *p;
	struct fl_exec_event *ev;
	struct proc *tracked;
	size_t size;
	Rec *r;

	ev = mk_exec(812, PROC_START + 500, Z("/bin/sh"), Z("/home/u"), Z("sh\0-c\0exit 7"), &size);
	ev->replaced = mkid(PROC_START + 400, 812);
	ev->hdr.boot_ns = PROC_START + 510;
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);

	assert_int_equal(f->cap.n, 1);
	r = last(f);
	assert_int_equal(r->seq, 1);
	assert_int_equal(r->boot_nano, PROC_START + 510);
	assert_int_equal(r->time_unix_nano, wallclock__unix_ns(&f->rec.clock, PROC_START + 510));
	assert_string_equal(r->node, f->rec.node);
	assert_string_equal(r->agent_run_id, f->rec.run_id);
	assert_int_equal(strlen(r->agent_run_id), 36);
	assert_string_equal(r->exec->replaced_exec_id,
			    idstr(want, f->rec.boot_tag, PROC_START + 400, 812));

	p = last_exec(f);
	assert_string_equal(p->exec_id, idstr(want, f->rec.boot_tag, PROC_START + 500, 812));
	assert_string_equal(p->parent_exec_id, idstr(want, f->rec.boot_tag, PARENT_START, 1));
	assert_int_equal(p->pid, 812);
	assert_int_equal(p->ppid, 1);
	assert_int_equal(p->ns_pid, 813);
	assert_int_equal(p->uid, 1001);
	assert_int_equal(p->gid, 1002);
	assert_int_equal(p->euid, 1003);
	assert_int_equal(p->egid, 1004);
	assert_int_equal(p->auid, 4294967295u);
	assert_int_equal(p->session_id, 55);
	assert_int_equal(p->cap_effective, 0x1ffffffffffull);
	assert_string_equal(p->binary, "/bin/sh");
	assert_string_equal(p->cwd, "/home/u");
	expect_args(p, 3, "sh", "-c", "exit 7");
	assert_false(p->args_truncated);
	assert_int_equal(p->args_count, 3);
	assert_int_equal(p->args_size, 13);
	assert_int_equal(p->start_boot_nano, PROC_START + 812);
	assert_int_equal(p->cgroup_id, 5812);
	assert_int_equal(p->cgroup_v1_id, 7812);
	assert_string_equal(p->cgroup_v1_name, "init.scope");
	assert_int_equal(p->namespaces->pid, 4026531836u);
	assert_int_equal(p->namespaces->mnt, 4026531841u);
	assert_int_equal(p->namespaces->net, 4026531840u);
	assert_int_equal(p->namespaces->uts, 4026531838u);
	assert_int_equal(p->namespaces->ipc, 4026531839u);
	assert_int_equal(p->namespaces->user, 4026531837u);
	assert_int_equal(p->namespaces->cgroup, 4026531835u);
	assert_false(p->flags->pre_existing);
	assert_false(p->flags->cwd_unresolved);
	assert_false(p->flags->binary_unresolved);
	assert_false(p->flags->args_escaped);
	assert_false(p->flags->binary_escaped);
	assert_false(p->flags->cwd_escaped);
	assert_false(p->flags->from_procfs);
	assert_true(p->flags->missing_parent); /* its parent, pid 1, was never seen */
	assert_false(p->flags->cgroup_v1_name_escaped);

	/* the process table now holds the image */
	tracked = proctable__get(f->procs, 812);
	assert_non_null(tracked);
	assert_int_equal(tracked->flags, PROC_START_SEEN);
	assert_int_equal(tracked->id.start_ns, PROC_START + 500);
	assert_int_equal(tracked->id.tgid, 812);
	assert_int_equal(tracked->parent.start_ns, PARENT_START);
	assert_int_equal(tracked->start_ns, PROC_START + 812);
	assert_int_equal(tracked->cgroup_id, 5812);
	assert_true(tracked->last_seen_mono_ns > 0);
	assert_non_null(tracked->image);
	assert_string_equal(tracked->image->binary, "/bin/sh");
	assert_int_equal(tracked->image->n_args, 3);
	assert_int_equal(tracked->image->refs, 1);

	assert_int_equal(f->d.stats.events[FL_EV_EXEC], 1);
	assert_int_equal(f->d.stats.malformed, 0);
	assert_int_equal(f->d.stats.args_truncated, 0);
	assert_int_equal(f->rec.by_kind[FIRSTLIGHT__V1__EVENT__BODY_EXEC], 1);

	/* a second record gets the next number; its parent is the image just recorded */
	ev = mk_exec(813, PROC_START + 600, Z("/bin/true"), Z("/"), Z("true"), &size);
	ev->task.parent_id = mkid(PROC_START + 500, 812);
	ev->task.ppid = 812;
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	assert_int_equal(last(f)->seq, 2);
	assert_string_equal(last(f)->exec->replaced_exec_id, ""); /* zero id */
	assert_string_equal(last_exec(f)->parent_exec_id,
			    idstr(want, f->rec.boot_tag, PROC_START + 500, 812));
	assert_false(last_exec(f)->flags->missing_parent);
	assert_int_equal(last_exec(f)->ppid, 812);
	assert_int_equal(proctable__count(f->procs), 2);

	/* an unknown parent renders as "" */
	ev = mk_exec(814, PROC_START + 700, Z("/bin/true"), Z("/"), Z("true"), &size);
	ev->task.parent_id = mkid(0, 0);
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	assert_string_equal(last_exec(f)->parent_exec_id, "");
}

/* A new exec in a tracked process replaces its image. */
static void test_exec_replaces_image(void **state)
{
	struct fx *f = *state;
	struct proc *p;

	assert_int_equal(exec_event(f, 300, PROC_START + 1, Z("sh")), 0);
	assert_int_equal(exec_event(f, 300, PROC_START + 2, Z("ls\0-l")), 0);
	assert_int_equal(proctable__count(f->procs), 1);
	p = proctable__get(f->procs, 300);
	assert_non_null(p);
	assert_int_equal(p->id.start_ns, PROC_START + 2);
	assert_int_equal(p->image->n_args, 2);
	assert_string_equal(p->image->args[1], "-l");
	assert_int_equal(p->image->refs, 1);
}

static void test_exec_args_shapes(void **state)
{
	struct fx *f = *state;
	const Firstlight__V1__Process *p;
	struct fl_exec_event *ev;
	size_t size;

	/* an empty argument in the middle is an argument */
	assert_int_equal(exec_event(f, 10, PROC_START, Z("a\0\0b")), 0);
	p = last_exec(f);
	expect_args(p, 3, "a", "", "b");
	assert_false(p->args_truncated);
	assert_int_equal(p->args_count, 3);

	/* no argv at all */
	assert_int_equal(exec_event(f, 11, PROC_START, "", 0), 0);
	p = last_exec(f);
	expect_args(p, 0);
	assert_false(p->args_truncated);
	assert_int_equal(p->args_count, 0);
	assert_int_equal(p->args_size, 0);

	/* a cut last argument without its NUL is still kept */
	ev = mk_exec(12, PROC_START, Z("/bin/sh"), Z("/"), S("sh\0-c\0exi"), &size);
	ev->flags = FL_EXEC_ARGS_TRUNCATED;
	ev->args_size = 13;
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	p = last_exec(f);
	expect_args(p, 3, "sh", "-c", "exi");
	assert_true(p->args_truncated);
	assert_int_equal(p->args_count, 3);
	assert_int_equal(p->args_size, 13);

	/* the kernel's flag alone marks truncation */
	ev = mk_exec(13, PROC_START, Z("/bin/sh"), Z("/"), Z("sh\0-c\0exit 7"), &size);
	ev->flags = FL_EXEC_ARGS_TRUNCATED;
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	p = last_exec(f);
	expect_args(p, 3, "sh", "-c", "exit 7");
	assert_true(p->args_truncated);

	/* so does an argv that could not be read */
	ev = mk_exec(14, PROC_START, Z("/bin/sh"), Z("/"), "", 0, &size);
	ev->flags = FL_EXEC_ARGS_FAULT;
	ev->argc = 2;
	ev->args_size = 9;
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	p = last_exec(f);
	expect_args(p, 0);
	assert_true(p->args_truncated);
	assert_int_equal(p->args_count, 2);
	assert_int_equal(p->args_size, 9);

	/* more bytes than were copied, without the flag */
	ev = mk_exec(15, PROC_START, Z("/bin/sh"), Z("/"), Z("sh"), &size);
	ev->args_size = 4096;
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	p = last_exec(f);
	assert_true(p->args_truncated);
	assert_int_equal(p->args_size, 4096);

	/* more arguments than the bytes hold */
	ev = mk_exec(16, PROC_START, Z("/bin/sh"), Z("/"), Z("sh"), &size);
	ev->argc = 10;
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	p = last_exec(f);
	expect_args(p, 1, "sh");
	assert_true(p->args_truncated);
	assert_int_equal(p->args_count, 10);
	assert_int_equal(proctable__get(f->procs, 16)->image->args_count, 10);

	assert_int_equal(f->d.stats.args_truncated, 5);
	assert_int_equal(f->d.stats.events[FL_EV_EXEC], 7);
}

static void test_exec_args_max_count(void **state)
{
	struct fx *f = *state;
	const Firstlight__V1__Process *p;

	set_args_max(f, 3);
	assert_int_equal(exec_event(f, 20, PROC_START, Z("a\0bb\0ccc\0dddd\0eeeee")), 0);
	p = last_exec(f);
	expect_args(p, 3, "a", "bb", "ccc");
	assert_true(p->args_truncated);
	assert_int_equal(p->args_count, 5);
	assert_int_equal(p->args_size, 20);
	assert_int_equal(f->d.stats.args_truncated, 1);

	/* exactly the limit is not truncation */
	assert_int_equal(exec_event(f, 21, PROC_START, Z("a\0bb\0ccc")), 0);
	p = last_exec(f);
	expect_args(p, 3, "a", "bb", "ccc");
	assert_false(p->args_truncated);
	assert_int_equal(p->args_count, 3);
	assert_int_equal(f->d.stats.args_truncated, 1);

	/* no args kept at all */
	set_args_max(f, 0);
	assert_int_equal(exec_event(f, 22, PROC_START, Z("a\0b")), 0);
	p = last_exec(f);
	expect_args(p, 0);
	assert_true(p->args_truncated);
	assert_int_equal(p->args_count, 2);
}

static void test_exec_escaping(void **state)
{
	struct fx *f = *state;
	const Firstlight__V1__Process *p;
	struct fl_exec_event *ev;
	size_t size;

	/* a non-UTF-8 byte in one arg: every arg is written escaped, so that a reader can
	 * unescape them all (valid UTF-8 stays, backslashes double) */
	assert_int_equal(exec_event(f, 30, PROC_START,
				    Z("a\xff\0ok\0caf\xc3\xa9\0C:\\dir\0x\\y\xfe")),
			 0);
	p = last_exec(f);
	expect_args(p, 5, "a\\xff", "ok", "caf\xc3\xa9", "C:\\\\dir", "x\\\\y\\xfe");
	assert_true(p->flags->args_escaped);
	assert_false(p->flags->binary_escaped);
	assert_false(p->flags->cwd_escaped);
	assert_false(p->args_truncated);
	assert_int_equal(proctable__get(f->procs, 30)->image->flags, IMG_ARGS_ESCAPED);

	/* valid UTF-8 with a backslash is kept as-is */
	assert_int_equal(exec_event(f, 31, PROC_START, Z("C:\\dir")), 0);
	p = last_exec(f);
	expect_args(p, 1, "C:\\dir");
	assert_false(p->flags->args_escaped);

	/* binary, cwd and cgroup name each with their own flag */
	ev = mk_exec_cg(32, PROC_START, Z("/tmp/\xfe" "bin"), Z("/home/\xc3"), Z("x"), Z("cg\x80"), &size);
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	p = last_exec(f);
	assert_string_equal(p->binary, "/tmp/\\xfebin");
	assert_string_equal(p->cwd, "/home/\\xc3");
	assert_string_equal(p->cgroup_v1_name, "cg\\x80");
	expect_args(p, 1, "x");
	assert_true(p->flags->binary_escaped);
	assert_true(p->flags->cwd_escaped);
	assert_true(p->flags->cgroup_v1_name_escaped);
	assert_false(p->flags->args_escaped);
}

static void test_exec_strings_and_flags(void **state)
{
	struct fx *f = *state;
	const Firstlight__V1__Process *p;
	struct fl_exec_event *ev;
	size_t size;

	/* a path without its NUL, and one whose length covers bytes after the NUL */
	ev = mk_exec(40, PROC_START, S("/bin/sh"), Z("/x\0garbage"), Z("sh"), &size);
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	p = last_exec(f);
	assert_string_equal(p->binary, "/bin/sh");
	assert_string_equal(p->cwd, "/x");
	expect_args(p, 1, "sh");

	/* unresolved paths */
	ev = mk_exec(41, PROC_START, Z(""), Z(""), Z("sh"), &size);
	ev->flags = FL_EXEC_BINARY_UNRESOLVED | FL_EXEC_CWD_UNRESOLVED;
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	p = last_exec(f);
	assert_string_equal(p->binary, "");
	assert_string_equal(p->cwd, "");
	assert_true(p->flags->binary_unresolved);
	assert_true(p->flags->cwd_unresolved);
	assert_false(p->args_truncated);

	/* a cgroup name filling its array, with no NUL */
	char full[FL_CGROUP_NAME_MAX];

	memset(full, 'c', sizeof(full));
	ev = mk_exec_cg(42, PROC_START, Z("/bin/sh"), Z("/"), Z("sh"), full, sizeof(full), &size);
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	p = last_exec(f);
	assert_int_equal(strlen(p->cgroup_v1_name), FL_CGROUP_NAME_MAX);
	assert_int_equal(strspn(p->cgroup_v1_name, "c"), FL_CGROUP_NAME_MAX);
	assert_true(p->flags->missing_parent);

	/* bytes after hdr.size are not part of the event */
	ev = mk_exec(43, PROC_START, Z("/bin/sh"), Z("/"), Z("sh\0extra"), &size);
	ev->args_len = 3;
	ev->cgroup_v1_name_len = 0;
	ev->hdr.size = (uint32_t)(sizeof(*ev) + 8 + 2 + 3);
	ev->args_size = 3;
	ev->argc = 1;
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	expect_args(last_exec(f), 1, "sh");
}

/* ---- fork ---------------------------------------------------------------------------- */

static void test_fork_inherits(void **state)
{
	struct fx *f = *state;
	char want[EXEC_ID_STRLEN];
	const Firstlight__V1__Process *p;
	struct fl_fork_event fk;
	struct proc *parent, *child;
	Rec *r;

	/* parent 100 runs "sh -c 'exit 7'" since PROC_START + 100 */
	assert_int_equal(exec_event(f, 100, PROC_START + 100, Z("sh\0-c\0exit 7")), 0);
	fk = mk_fork(101, PROC_START + 200, 100, PROC_START + 100);
	assert_int_equal(decoder__handle(&f->d, &fk, sizeof(fk)), 0);

	r = last(f);
	assert_int_equal(r->seq, 2);
	assert_int_equal(r->boot_nano, PROC_START + 200);
	assert_int_equal(r->body_case, FIRSTLIGHT__V1__EVENT__BODY_FORK);
	p = r->fork->process;
	assert_non_null(p);
	assert_string_equal(p->exec_id, idstr(want, f->rec.boot_tag, PROC_START + 200, 101));
	assert_string_equal(p->parent_exec_id, idstr(want, f->rec.boot_tag, PROC_START + 100, 100));
	assert_string_equal(r->fork->parent_exec_id, want);
	assert_int_equal(p->pid, 101);
	assert_int_equal(p->ppid, 100);
	assert_int_equal(p->ns_pid, 102);
	assert_int_equal(p->start_boot_nano, PROC_START + 200);
	assert_int_equal(p->cgroup_id, 5101);
	assert_string_equal(p->binary, "/bin/sh");
	assert_string_equal(p->cwd, "/root");
	expect_args(p, 3, "sh", "-c", "exit 7");
	assert_int_equal(p->args_count, 3);
	assert_int_equal(p->args_size, 13);
	assert_false(p->args_truncated);
	assert_false(p->flags->missing_parent);
	assert_false(p->flags->binary_unresolved);
	assert_false(p->flags->cwd_unresolved);
	assert_int_equal(f->d.stats.events[FL_EV_FORK], 1);

	/* parent and child share one image */
	parent = proctable__get(f->procs, 100);
	assert_non_null(parent);
	child = proctable__get(f->procs, 101);
	assert_non_null(child);
	assert_ptr_equal(child->image, parent->image);
	assert_int_equal(child->image->refs, 2);
	assert_int_equal(child->flags, PROC_START_SEEN);
	assert_int_equal(child->id.start_ns, PROC_START + 200);

	/* the parent exits: the child keeps the image, and a grandchild still inherits it */
	fk = mk_fork(102, PROC_START + 250, 100, PROC_START + 100);
	assert_int_equal(decoder__handle(&f->d, &fk, sizeof(fk)), 0);
	assert_string_equal(last(f)->fork->process->binary, "/bin/sh");
	assert_false(last(f)->fork->process->flags->missing_parent);
	{
		struct fl_exit_event ex =
			mk_exit(100, PROC_START + 100, PROC_START + 100, PROC_START + 300, 0);

		assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	}
	assert_null(proctable__get(f->procs, 100));
	child = proctable__get(f->procs, 101);
	assert_int_equal(child->image->refs, 2); /* 101 and 102 */
	fk = mk_fork(103, PROC_START + 400, 101, PROC_START + 200);
	assert_int_equal(decoder__handle(&f->d, &fk, sizeof(fk)), 0);
	p = last(f)->fork->process;
	assert_string_equal(p->binary, "/bin/sh");
	expect_args(p, 3, "sh", "-c", "exit 7");
	assert_false(p->flags->missing_parent);
	assert_int_equal(proctable__get(f->procs, 103)->image->refs, 3);

	/* the child execs: its old image loses a reference, the new one is its own */
	assert_int_equal(exec_event(f, 101, PROC_START + 500, Z("ls")), 0);
	assert_int_equal(proctable__get(f->procs, 103)->image->refs, 2);
	assert_int_equal(proctable__get(f->procs, 101)->image->refs, 1);
	assert_string_equal(proctable__get(f->procs, 101)->image->args[0], "ls");
}

/* The kernel sends a fork without its v1 cgroup name's unused bytes (struct fl_fork_event). */
static void test_fork_sized_to_name(void **state)
{
	struct fx *f = *state;
	const Firstlight__V1__Process *p;
	struct fl_fork_event fk;

	/* the name and its NUL only */
	fk = mk_fork(120, PROC_START + 200, 1, PARENT_START);
	fk.hdr.size = FL_FORK_EVENT_MIN + sizeof("init.scope");
	memset(fk.cgroup_v1_name + sizeof("init.scope"), 'x', /* beyond hdr.size: not read */
	       sizeof(fk.cgroup_v1_name) - sizeof("init.scope"));
	assert_int_equal(decoder__handle(&f->d, &fk, fk.hdr.size), 0);
	p = last(f)->fork->process;
	assert_int_equal(p->pid, 120);
	assert_int_equal(p->cgroup_v1_id, 7120);
	assert_string_equal(p->cgroup_v1_name, "init.scope");

	/* a name cut by the size, without its NUL */
	fk = mk_fork(121, PROC_START + 201, 1, PARENT_START);
	fk.hdr.size = FL_FORK_EVENT_MIN + 4;
	assert_int_equal(decoder__handle(&f->d, &fk, fk.hdr.size), 0);
	assert_string_equal(last(f)->fork->process->cgroup_v1_name, "init");

	/* no name at all (a cgroup2-only host): every other field as sent */
	fk = mk_fork(122, PROC_START + 202, 1, PARENT_START);
	fk.task.cgroup_v1_id = 0;
	fk.hdr.size = FL_FORK_EVENT_MIN;
	assert_int_equal(decoder__handle(&f->d, &fk, fk.hdr.size), 0);
	p = last(f)->fork->process;
	assert_int_equal(p->pid, 122);
	assert_int_equal(p->ns_pid, 123);
	assert_int_equal(p->cgroup_id, 5122);
	assert_int_equal(p->cgroup_v1_id, 0);
	assert_string_equal(p->cgroup_v1_name, "");
	assert_int_equal(p->namespaces->cgroup, 4026531835u);
	assert_int_equal(p->cap_effective, 0x1ffffffffffull);
	assert_int_equal(f->d.stats.events[FL_EV_FORK], 3);
	assert_int_equal(f->d.stats.malformed, 0);
}

static void test_fork_missing_parent(void **state)
{
	struct fx *f = *state;
	const Firstlight__V1__Process *p;
	struct fl_fork_event fk;

	assert_int_equal(exec_event(f, 100, PROC_START + 100, Z("sh")), 0);

	/* the tgid is known, but as another image (pid reuse or a missed exec) */
	fk = mk_fork(101, PROC_START + 200, 100, PROC_START + 99);
	assert_int_equal(decoder__handle(&f->d, &fk, sizeof(fk)), 0);
	assert_int_equal(last(f)->body_case, FIRSTLIGHT__V1__EVENT__BODY_FORK);
	p = last(f)->fork->process;
	assert_true(p->flags->missing_parent);
	assert_true(p->flags->binary_unresolved);
	assert_true(p->flags->cwd_unresolved);
	assert_string_equal(p->binary, "");
	assert_string_equal(p->cwd, "");
	expect_args(p, 0);
	assert_int_equal(p->pid, 101);
	/* tracked, without an image */
	assert_non_null(proctable__get(f->procs, 101));
	assert_null(proctable__get(f->procs, 101)->image);
	assert_int_equal(proctable__get(f->procs, 100)->image->refs, 1);

	/* an unknown tgid */
	fk = mk_fork(201, PROC_START + 300, 200, PROC_START + 1);
	assert_int_equal(decoder__handle(&f->d, &fk, sizeof(fk)), 0);
	p = last(f)->fork->process;
	assert_true(p->flags->missing_parent);
	assert_string_equal(p->binary, "");

	/* a child of a child without an image: the parent is known, what it runs is not */
	fk = mk_fork(202, PROC_START + 400, 201, PROC_START + 300);
	assert_int_equal(decoder__handle(&f->d, &fk, sizeof(fk)), 0);
	p = last(f)->fork->process;
	assert_false(p->flags->missing_parent);
	assert_true(p->flags->binary_unresolved);
	assert_string_equal(p->binary, "");
	assert_int_equal(f->d.stats.events[FL_EV_FORK], 3);
}

/* An exec in a forked child names the process that forked it as parent, even when the
 * kernel names the reaper it was reparented to. */
static void test_exec_lineage(void **state)
{
	struct fx *f = *state;
	char want[EXEC_ID_STRLEN];
	struct fl_fork_event fk;
	struct fl_exec_event *ev;
	size_t size;

	assert_int_equal(exec_event(f, 100, PROC_START + 100, Z("sh")), 0);
	fk = mk_fork(101, PROC_START + 200, 100, PROC_START + 100);
	assert_int_equal(decoder__handle(&f->d, &fk, sizeof(fk)), 0);

	/* 100 exited; 101, reparented to pid 1, execs */
	ev = mk_exec(101, PROC_START + 300, Z("/bin/ls"), Z("/"), Z("ls"), &size);
	ev->replaced = mkid(PROC_START + 200, 101);
	ev->task.parent_id = mkid(PARENT_START, 1);
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	assert_string_equal(last_exec(f)->parent_exec_id,
			    idstr(want, f->rec.boot_tag, PROC_START + 100, 100));
	assert_string_equal(last(f)->exec->replaced_exec_id,
			    idstr(want, f->rec.boot_tag, PROC_START + 200, 101));
	assert_false(last_exec(f)->flags->missing_parent);
	assert_int_equal(proctable__get(f->procs, 101)->parent.tgid, 100);

	/* the next exec of 101 keeps that lineage */
	ev = mk_exec(101, PROC_START + 400, Z("/bin/ls"), Z("/"), Z("ls"), &size);
	ev->replaced = mkid(PROC_START + 300, 101);
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	assert_string_equal(last_exec(f)->parent_exec_id,
			    idstr(want, f->rec.boot_tag, PROC_START + 100, 100));

	/* a replaced image the agent does not know: the kernel's parent stands */
	ev = mk_exec(101, PROC_START + 500, Z("/bin/ls"), Z("/"), Z("ls"), &size);
	ev->replaced = mkid(PROC_START + 444, 101);
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	assert_string_equal(last_exec(f)->parent_exec_id,
			    idstr(want, f->rec.boot_tag, PARENT_START, 1));
}

/* A process both seeded and forked (it started while seeding ran) is recorded once. */
static void test_fork_after_seed(void **state)
{
	struct fx *f = *state;
	struct fl_fork_event seed = mk_fork(710, PROC_START + 1, 1, PARENT_START), fk;

	seed.hdr.type = FL_EV_SEED;
	assert_int_equal(decoder__seed(&f->d, &seed, NULL), 0);
	assert_int_equal(f->cap.n, 1);
	fk = mk_fork(710, PROC_START + 1, 1, PARENT_START);
	assert_int_equal(decoder__handle(&f->d, &fk, sizeof(fk)), 0);
	assert_int_equal(f->cap.n, 1);
	assert_int_equal(proctable__get(f->procs, 710)->flags, PROC_PRE_EXISTING);
	/* the same pid as another image is a fork to record */
	fk = mk_fork(710, PROC_START + 2, 1, PARENT_START);
	assert_int_equal(decoder__handle(&f->d, &fk, sizeof(fk)), 0);
	assert_int_equal(f->cap.n, 2);
	assert_int_equal(proctable__get(f->procs, 710)->flags, PROC_START_SEEN);
}

/* ---- exit ---------------------------------------------------------------------------- */

static void test_exit_status(void **state)
{
	static const struct {
		uint32_t status;
		int32_t code;
		uint32_t sig;
		int core;
	} cases[] = {
		{ 7 << 8, 7, 0, 0 },   { 0, 0, 0, 0 },     { 0xff00, 255, 0, 0 },
		{ 9, 0, 9, 0 },        { 15, 0, 15, 0 },   { 0x86, 0, 6, 1 },
		{ 0x8b, 0, 11, 1 },    { 1 << 8, 1, 0, 0 },
	};
	struct fx *f = *state;
	char want[EXEC_ID_STRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t pid = 500 + (uint32_t)i;
		struct fl_exit_event ex =
			mk_exit(pid, PROC_START + 5, PROC_START, PROC_START + 1000, cases[i].status);
		const Firstlight__V1__ProcessExit *e;

		assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
		e = last_exit(f);
		assert_int_equal(e->exit_code, cases[i].code);
		assert_int_equal(e->signal, cases[i].sig);
		assert_int_equal(e->core_dumped, cases[i].core);
		assert_int_equal(e->pid, pid);
		assert_string_equal(e->exec_id, idstr(want, f->rec.boot_tag, PROC_START + 5, pid));
		assert_int_equal(e->cgroup_id, 5000 + pid);
		assert_int_equal(e->duration_nano, 1000);
		assert_int_equal(last(f)->boot_nano, PROC_START + 1000);
	}
	assert_int_equal(f->d.stats.events[FL_EV_EXIT], sizeof(cases) / sizeof(cases[0]));
}

static void test_exit_start_seen(void **state)
{
	struct fx *f = *state;
	const Firstlight__V1__ProcessExit *e;
	struct fl_exit_event ex;

	/* exec'd in view: its exit knows the start */
	assert_int_equal(exec_event(f, 600, PROC_START + 50, Z("sh\0-c\0exit 7")), 0);
	ex = mk_exit(600, PROC_START + 50, PROC_START + 10, PROC_START + 10 + 123456789,
		     7 << 8);
	assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	e = last_exit(f);
	assert_true(e->start_seen);
	assert_false(e->pre_existing);
	assert_int_equal(e->exit_code, 7);
	assert_int_equal(e->signal, 0);
	assert_int_equal(e->duration_nano, 123456789);
	assert_null(proctable__get(f->procs, 600));
	assert_int_equal(f->d.stats.exits_without_start, 0);

	/* never seen */
	ex = mk_exit(601, PROC_START + 50, PROC_START, PROC_START + 60, 0);
	assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	e = last_exit(f);
	assert_false(e->start_seen);
	assert_false(e->pre_existing);
	assert_int_equal(e->duration_nano, 60);
	assert_int_equal(f->d.stats.exits_without_start, 1);

	/* a stale entry of an older image with the same tgid does not count, and goes */
	assert_int_equal(exec_event(f, 602, PROC_START + 70, Z("sh")), 0);
	ex = mk_exit(602, PROC_START + 71, PROC_START + 71, PROC_START + 80, 0);
	assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	assert_false(last_exit(f)->start_seen);
	assert_null(proctable__get(f->procs, 602));
	assert_int_equal(f->d.stats.exits_without_start, 2);

	/* a forked child that never exec'd */
	{
		struct fl_fork_event fk = mk_fork(603, PROC_START + 90, 1, PARENT_START);

		assert_int_equal(decoder__handle(&f->d, &fk, sizeof(fk)), 0);
	}
	ex = mk_exit(603, PROC_START + 90, PROC_START + 90, PROC_START + 95, 9);
	assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	e = last_exit(f);
	assert_true(e->start_seen);
	assert_int_equal(e->signal, 9);
	assert_int_equal(e->duration_nano, 5);

	/* a clock that went backwards gives 0, not a huge duration */
	ex = mk_exit(604, PROC_START + 50, PROC_START + 100, PROC_START + 99, 0);
	assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	assert_int_equal(last_exit(f)->duration_nano, 0);
	assert_int_equal(proctable__count(f->procs), 0);
}

/* Kernels without group_dead may report one process end from two threads: once only. */
static void test_exit_duplicates(void **state)
{
	struct fx *f = *state;
	struct fl_exit_event ex;

	assert_int_equal(exec_event(f, 800, PROC_START + 1, Z("sh")), 0);
	ex = mk_exit(800, PROC_START + 1, PROC_START, PROC_START + 9, 0);
	assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	assert_true(last_exit(f)->start_seen);
	assert_int_equal(f->cap.n, 2);
	assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	assert_int_equal(f->cap.n, 2);
	assert_int_equal(f->d.stats.duplicate_exits, 1);
	assert_int_equal(f->d.stats.exits_without_start, 0);

	/* the same for a process never seen: its first report is recorded */
	ex = mk_exit(801, PROC_START + 2, PROC_START, PROC_START + 9, 0);
	assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	assert_int_equal(f->cap.n, 3);
	assert_int_equal(f->d.stats.duplicate_exits, 2);
	assert_int_equal(f->d.stats.exits_without_start, 1);

	/* a later image of the same pid is another process */
	ex = mk_exit(801, PROC_START + 3, PROC_START, PROC_START + 9, 0);
	assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	assert_int_equal(f->cap.n, 4);

	/* the memory is bounded: after DECODER_RECENT_EXITS other exits, it is forgotten */
	for (uint32_t i = 0; i < DECODER_RECENT_EXITS; i++) {
		ex = mk_exit(900 + i, PROC_START + 5, PROC_START, PROC_START + 9, 0);
		assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	}
	assert_int_equal(f->cap.n, 4 + DECODER_RECENT_EXITS);
	ex = mk_exit(801, PROC_START + 2, PROC_START, PROC_START + 9, 0);
	assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	assert_int_equal(f->cap.n, 5 + DECODER_RECENT_EXITS);
	assert_int_equal(f->d.stats.duplicate_exits, 2);
	assert_int_equal(f->d.stats.events[FL_EV_EXIT], 6 + DECODER_RECENT_EXITS);
}

/* ---- seed (pre-existing processes) --------------------------------------------------- */

static void test_seed(void **state)
{
	struct fx *f = *state;
	char *args[] = { "sleep", "60" };
	const Firstlight__V1__Process *p;
	struct fl_fork_event seed = mk_fork(700, PROC_START + 1, 1, PARENT_START);
	struct fl_exit_event ex;

	seed.hdr.type = FL_EV_SEED;
	assert_int_equal(decoder__seed(&f->d, &seed,
				       proc_image__new("/bin/sleep", "/", args, 2, IMG_FROM_PROCFS)),
			 0);
	p = last_exec(f);
	assert_int_equal(p->pid, 700);
	assert_string_equal(p->binary, "/bin/sleep");
	expect_args(p, 2, "sleep", "60");
	assert_true(p->flags->pre_existing);
	assert_true(p->flags->from_procfs);
	assert_string_equal(last(f)->exec->replaced_exec_id, "");
	assert_int_equal(f->d.stats.events[FL_EV_SEED], 1);
	assert_int_equal(proctable__get(f->procs, 700)->flags, PROC_PRE_EXISTING);

	/* /proc no longer had it */
	seed = mk_fork(701, PROC_START + 2, 1, PARENT_START);
	seed.hdr.type = FL_EV_SEED;
	assert_int_equal(decoder__seed(&f->d, &seed, NULL), 0);
	p = last_exec(f);
	assert_true(p->flags->pre_existing);
	assert_true(p->flags->binary_unresolved);
	assert_true(p->flags->cwd_unresolved);

	/* children of a seeded process inherit its /proc image */
	{
		struct fl_fork_event fk = mk_fork(702, PROC_START + 3, 700, PROC_START + 1);

		assert_int_equal(decoder__handle(&f->d, &fk, sizeof(fk)), 0);
		assert_string_equal(last(f)->fork->process->binary, "/bin/sleep");
		assert_true(last(f)->fork->process->flags->from_procfs);
	}

	ex = mk_exit(700, PROC_START + 1, PROC_START + 1, PROC_START + 11, 0);
	assert_int_equal(decoder__handle(&f->d, &ex, sizeof(ex)), 0);
	assert_false(last_exit(f)->start_seen);
	assert_true(last_exit(f)->pre_existing);
	assert_int_equal(f->d.stats.exits_without_start, 0);
	/* a seed event through the ring-buffer path is not one the decoder takes */
	assert_int_equal(decoder__handle(&f->d, &seed, sizeof(seed)), -EINVAL);
}

/* ---- decoder__image directly (the /proc path) ---------------------------------------- */

static void test_image_from_raw(void **state)
{
	struct fx *f = *state;
	struct proc_image *img;

	img = decoder__image(&f->d, S("/bin/x"), S("/w\xff"), S("a\0b\xff\0"), 0, IMG_FROM_PROCFS);
	assert_non_null(img);
	assert_string_equal(img->binary, "/bin/x");
	assert_string_equal(img->cwd, "/w\\xff");
	assert_int_equal(img->n_args, 2);
	assert_string_equal(img->args[0], "a");
	assert_string_equal(img->args[1], "b\\xff");
	assert_int_equal(img->args_count, 2);
	assert_int_equal(img->args_size, 5);
	assert_int_equal(img->flags, IMG_FROM_PROCFS | IMG_CWD_ESCAPED | IMG_ARGS_ESCAPED);
	assert_int_equal(img->refs, 1);
	proc_image__put(img);
}

/* argv cut between head and tail: the tail's pieces after the head's, the tail keeping a
 * quarter of the count limit (its last pieces), the head the rest. */
static void test_image_tail(void **state)
{
	struct fx *f = *state;
	struct proc_image *img;

	/* head "a\0b\0cc" (cc cut), tail "dd\0e\0" (dd the end of a cut one) */
	img = decoder__image(&f->d, S("/bin/x"), S("/"), S("a\0b\0ccdd\0e\0"), 5, 0);
	assert_non_null(img);
	assert_int_equal(img->n_args, 5);
	assert_int_equal(img->n_args_tail, 2);
	assert_string_equal(img->args[2], "cc");
	assert_string_equal(img->args[3], "dd");
	assert_string_equal(img->args[4], "e");
	assert_int_equal(img->flags, 0);
	proc_image__put(img);
	/* a tail longer than argv is argv's tail only */
	img = decoder__image(&f->d, S("/bin/x"), S("/"), S("a\0"), 9, 0);
	assert_non_null(img);
	assert_int_equal(img->n_args_tail, 1);
	assert_string_equal(img->args[0], "a");
	proc_image__put(img);
}

/* With a count limit of 4, one entry is the tail's (its last piece), three the head's. */
static void test_image_tail_count(void **state)
{
	struct fx *f = *state;
	struct proc_image *img;

	set_args_max(f, 4);
	img = decoder__image(&f->d, S("/bin/x"), S("/"), S("1\0" "2\0" "3\0" "4\0" "5\0" "t1\0t2\0"), 6, 0);
	assert_non_null(img);
	assert_int_equal(img->n_args, 4);
	assert_int_equal(img->n_args_tail, 1);
	assert_string_equal(img->args[2], "3");
	assert_string_equal(img->args[3], "t2");
	assert_int_equal(img->args_count, 7);
	assert_true(img->flags & IMG_ARGS_TRUNCATED);
	proc_image__put(img);
}

/* ---- malformed input ----------------------------------------------------------------- */

static void expect_malformed(struct fx *f, const void *data, size_t size)
{
	uint64_t before = f->d.stats.malformed, seq = f->rec.seq;
	size_t recs = f->cap.n, procs = proctable__count(f->procs);

	assert_int_equal(decoder__handle(&f->d, data, size), -EINVAL);
	assert_int_equal(f->d.stats.malformed, before + 1);
	assert_int_equal(f->cap.n, recs);
	assert_int_equal(f->rec.seq, seq);
	assert_int_equal(proctable__count(f->procs), procs);
}

static void test_malformed(void **state)
{
	struct fx *f = *state;
	uint64_t raw[64];
	struct fl_event_hdr *hdr = (struct fl_event_hdr *)raw;
	struct fl_exec_event *ev;
	struct fl_fork_event fk;
	struct fl_exit_event ex;
	size_t size;

	memset(raw, 0, sizeof(raw));
	/* smaller than a header */
	expect_malformed(f, raw, 0);
	hdr->type = FL_EV_EXIT;
	hdr->size = 8;
	expect_malformed(f, raw, 8);
	expect_malformed(f, raw, sizeof(*hdr) - 1);

	/* unknown and non-ring-buffer types */
	hdr->size = sizeof(*hdr);
	hdr->type = 0;
	expect_malformed(f, raw, sizeof(raw));
	hdr->type = FL_EV_MAX;
	expect_malformed(f, raw, sizeof(raw));
	hdr->type = 0xffff;
	expect_malformed(f, raw, sizeof(raw));

	/* hdr.size larger than the buffer */
	ex = mk_exit(800, PROC_START, PROC_START, PROC_START + 1, 0);
	expect_malformed(f, &ex, sizeof(ex) - 1);
	ex.hdr.size = sizeof(ex) + 1;
	expect_malformed(f, &ex, sizeof(ex));
	/* hdr.size smaller than the event type's struct, whatever the buffer */
	ex.hdr.size = sizeof(ex) - 1;
	expect_malformed(f, &ex, sizeof(ex));
	ex.hdr.size = 0;
	expect_malformed(f, &ex, sizeof(ex));

	fk = mk_fork(801, PROC_START, 1, PARENT_START);
	expect_malformed(f, &fk, sizeof(fk) - 1);
	fk.hdr.size = sizeof(*hdr);
	expect_malformed(f, &fk, sizeof(fk));
	fk.hdr.size = FL_FORK_EVENT_MIN - 1; /* the task cut */
	expect_malformed(f, &fk, sizeof(fk));

	ev = mk_exec(802, PROC_START, Z("/bin/sh"), Z("/"), Z("sh"), &size);
	expect_malformed(f, ev, size - 1);                    /* buffer cut */
	ev->hdr.size = sizeof(*ev) - 1;                        /* struct cut */
	expect_malformed(f, ev, size);
	ev->hdr.size = (uint32_t)size - 1;                     /* data cut */
	expect_malformed(f, ev, size);
	ev->hdr.size = (uint32_t)size;
	/* lengths exceeding the event, each and together */
	ev->binary_len += 1;
	expect_malformed(f, ev, size);
	ev->binary_len -= 1;
	ev->cwd_len = 1000;
	expect_malformed(f, ev, size);
	ev->cwd_len = 2;
	ev->args_len = UINT32_MAX;
	expect_malformed(f, ev, size);
	ev->args_len = 3;
	ev->cgroup_v1_name_len += 1; /* the cgroup name beyond the event */
	expect_malformed(f, ev, size);
	ev->cgroup_v1_name_len = FL_CGROUP_NAME_MAX + 1;
	expect_malformed(f, ev, size);
	ev->cgroup_v1_name_len = sizeof("init.scope");
	/* lengths whose 32-bit sum wraps around to a small number */
	ev->binary_len = UINT32_MAX;
	ev->cwd_len = 2;
	ev->args_len = 0;
	expect_malformed(f, ev, size);
	ev->binary_len = 0x80000000u;
	ev->cwd_len = 0x80000000u;
	ev->args_len = 13;
	expect_malformed(f, ev, size);
	/* and the well-formed original is accepted */
	ev->binary_len = 8;
	ev->cwd_len = 2;
	ev->args_len = 3;
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);

	assert_int_equal(f->d.stats.malformed, 23);
	assert_int_equal(f->d.stats.events[FL_EV_EXEC], 1);
	assert_int_equal(f->d.stats.events[FL_EV_FORK], 0);
	assert_int_equal(f->d.stats.events[FL_EV_EXIT], 0);
	assert_int_equal(f->cap.n, 1);
	assert_int_equal(last(f)->seq, 1);
}

/* More argv than a kernel event can carry does not overrun the arena. */
static void test_oversized_args(void **state)
{
	struct fx *f = *state;
	size_t n = 4 * FL_ARGS_MAX + 3 * FL_PATH_MAX, size;
	char *args = malloc(n);
	struct fl_exec_event *ev;

	assert_non_null(args);
	memset(args, 0xff, n);
	ev = mk_exec(900, PROC_START, Z("/bin/sh"), Z("/"), args, n, &size);
	free(args);
	assert_true(decoder__handle(&f->d, ev, size) < 0);
	free(ev);
	assert_int_equal(f->cap.n, 0);
	assert_null(proctable__get(f->procs, 900));

	/* the decoder still works afterwards */
	assert_int_equal(exec_event(f, 901, PROC_START, Z("sh")), 0);
	expect_args(last_exec(f), 1, "sh");
}

/* A sink that refuses a record: the error is returned, the process still tracked. */
static void test_sink_error(void **state)
{
	struct fx *f = *state;

	f->cap.fail_with = -EIO;
	assert_int_equal(exec_event(f, 1000, PROC_START, Z("sh")), -EIO);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(f->rec.sink_errors, 1);
	assert_int_equal(f->cap.base.lost, 1);
	assert_int_equal(f->d.stats.malformed, 0);
	assert_non_null(proctable__get(f->procs, 1000));
	f->cap.fail_with = 0;
	/* the refused record used its number: a reader sees the hole */
	assert_int_equal(exec_event(f, 1001, PROC_START, Z("sh")), 0);
	assert_int_equal(last(f)->seq, 2);
}

/*
 * tgid 0 is the process table's free-slot marker, and proctable__get(0) returns a free
 * slot. So: a record whose parent id is zero (unknown) says missing_parent false; an exit
 * event with pid 0 removes a free slot (the count drops below the entries held); an exec
 * with pid 0 stores an image in a free slot, which nothing releases.
 */
static void test_pid_zero(void **state)
{
	struct fx *f = *state;
	struct fl_exit_event ex = mk_exit(0, PROC_START, 0, PROC_START + 1, 0);
	struct fl_exec_event *ev;
	size_t size;

	ev = mk_exec(4, PROC_START, Z("/bin/sh"), Z("/"), Z("sh"), &size);
	ev->task.parent_id = mkid(0, 0);
	assert_int_equal(decoder__handle(&f->d, ev, size), 0);
	free(ev);
	assert_true(last_exec(f)->flags->missing_parent);

	assert_int_equal(exec_event(f, 5, PROC_START, Z("sh")), 0);
	decoder__handle(&f->d, &ex, sizeof(ex));
	assert_int_equal(proctable__count(f->procs), 2);
	exec_event(f, 0, PROC_START, Z("sh"));
	assert_null(proctable__get(f->procs, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exec_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_replaces_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_args_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_args_max_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image_tail_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_strings_and_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_inherits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_sized_to_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_missing_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_lineage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_after_seed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_start_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image_from_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pid_zero, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
