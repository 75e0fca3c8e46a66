/*
 * `firstlight read [--json|--text] [FILE|DIR|-]...`: decodes segment files. A corrupt or
 * truncated input prints every record before the damage, then one error line naming
 * the file and byte offset, and the command exits 1.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd_read.h"
#include "json.h"
#include "log.h"
#include "segment_reader.h"

#define DEFAULT_DATA_DIR "/var/lib/firstlight"

static int is_segment_name(const char *name)
{
	size_t n = strlen(name);

	return n > 7 && !strcmp(name + n - 7, ".seg.gz") && name[0] != '.';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push(struct inputs *in, char *path)
{
	char **p = realloc(in->paths, (size_t)(in->n + 1) * sizeof(*p));

	if (!p || !path) {
		free(path);
		return -ENOMEM;
	}
	in->paths = p;
	in->paths[in->n++] = path;
	return 0;
}

static int add_dir(struct inputs *in, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int first = in->n, err = 0;

	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		char *path;

		if (!is_segment_name(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			path = NULL;
		err = push(in, path);
	}
	closedir(d);
	if (!err)
		qsort(in->paths + first, (size_t)(in->n - first), sizeof(char *), cmp_str);
	return err;
}

int inputs__collect(struct inputs *in, int argc, char **argv, const char *default_dir)
{
	char *def[] = { (char *)default_dir };
	struct stat st;
	int err = 0;

	memset(in, 0, sizeof(*in));
	if (argc == 0) {
		argv = def;
		argc = 1;
	}
	for (int i = 0; i < argc && !err; i++) {
		if (strcmp(argv[i], "-") && stat(argv[i], &st)) {
			err = -errno;
			log_error("%s: %s", argv[i], strerror(errno));
		} else if (strcmp(argv[i], "-") && S_ISDIR(st.st_mode)) {
			err = add_dir(in, argv[i]);
			if (err)
				log_error("%s: %s", argv[i], strerror(-err));
		} else {
			err = push(in, strdup(argv[i]));
		}
	}
	if (err)
		inputs__free(in);
	return err;
}

void inputs__free(struct inputs *in)
{
	for (int i = 0; i < in->n; i++)
		free(in->paths[i]);
	free(in->paths);
	memset(in, 0, sizeof(*in));
}

static void put_time(struct json_buf *jb, uint64_t unix_ns)
{
	char s[64];
	time_t t = (time_t)(unix_ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	json_buf__reserve(jb, 64);
	jb->len += (size_t)snprintf(jb->data + jb->len, 64, "%s.%09" PRIu64 "Z", s,
				    (uint64_t)(unix_ns % 1000000000ull));
}


static void put_process(struct json_buf *jb, const Firstlight__V1__Process *p)
{
	json_buf__appendf(jb, " pid=%u ppid=%u uid=%u exec_id=%s parent=%s cgroup=%" PRIu64 " binary=",
		p->pid, p->ppid, p->uid, p->exec_id, p->parent_exec_id, p->cgroup_id);
	json__append_string(jb, p->binary);
	json_buf__appendf(jb, " args=[");
	for (size_t i = 0; i < p->n_args; i++) {
		if (i)
			json_buf__appendf(jb, ",");
		json__append_string(jb, p->args[i]);
	}
	json_buf__appendf(jb, "]%s%s", p->args_truncated ? " args-truncated" : "",
		p->flags && p->flags->pre_existing ? " pre-existing" : "");
}

/* A flow: kind, who, the endpoints, and what only some kinds have. */
static void put_flow(struct json_buf *jb, const Firstlight__V1__Flow *f)
{
	const ProtobufCEnumValue *k = protobuf_c_enum_descriptor_get_value(
		&firstlight__v1__flow__kind__descriptor, f->kind);

	json_buf__appendf(jb, " flow %s pid=%u exec_id=%s workload=%s", k ? k->name : "?", f->pid,
		f->owner_unknown ? "unknown" : f->exec_id, f->workload_key);
	if (f->kind == FIRSTLIGHT__V1__FLOW__KIND__UNIX_CONNECT) {
		json_buf__appendf(jb, " path=");
		json__append_string(jb, f->dst_addr);
		if (f->peer_pid)
			json_buf__appendf(jb, " peer=%u", f->peer_pid);
	} else {
		if (*f->src_addr) /* UDP aggregates have none */
			json_buf__appendf(jb, " %s%s%s:%u", strchr(f->src_addr, ':') ? "[" : "", f->src_addr,
				strchr(f->src_addr, ':') ? "]" : "", f->src_port);
		if (*f->dst_addr)
			json_buf__appendf(jb, " -> %s%s%s:%u", strchr(f->dst_addr, ':') ? "[" : "", f->dst_addr,
				strchr(f->dst_addr, ':') ? "]" : "", f->dst_port);
	}
	if (f->result)
		json_buf__appendf(jb, " result=%d %s", f->result, f->error);
	if (f->kind == FIRSTLIGHT__V1__FLOW__KIND__CLOSE)
		json_buf__appendf(jb, " sent=%" PRIu64 " received=%" PRIu64, f->bytes_sent, f->bytes_received);
	if (f->kind == FIRSTLIGHT__V1__FLOW__KIND__UDP)
		json_buf__appendf(jb, " datagrams=%" PRIu64 " bytes=%" PRIu64, f->datagrams, f->bytes_sent);
	json_buf__appendf(jb, "%s%s", f->inbound ? " inbound" : "",
		!f->start_seen && !f->pre_existing ? " start-not-seen" : "");
}

/* One line per event for people: seq, time, kind, the fields that identify it. */
static void put_text(struct json_buf *jb, const Firstlight__V1__Event *ev)
{
	json_buf__appendf(jb, "%" PRIu64 " ", ev->seq);
	put_time(jb, ev->time_unix_nano);
	if (ev->snapshot)
		json_buf__appendf(jb, " snapshot"); /* restated at a segment's start, not a new event */
	switch (ev->body_case) {
	case FIRSTLIGHT__V1__EVENT__BODY_EXEC:
		json_buf__appendf(jb, " exec");
		if (ev->exec->process)
			put_process(jb, ev->exec->process);
		break;
	case FIRSTLIGHT__V1__EVENT__BODY_FORK:
		json_buf__appendf(jb, " fork");
		if (ev->fork->process)
			put_process(jb, ev->fork->process);
		break;
	case FIRSTLIGHT__V1__EVENT__BODY_EXIT:
		json_buf__appendf(jb, " exit pid=%u exec_id=%s code=%d signal=%u%s lifetime=%.3fms",
			ev->exit->pid, ev->exit->exec_id, ev->exit->exit_code, ev->exit->signal,
			ev->exit->core_dumped ? " core-dumped" : "", ev->exit->duration_nano / 1e6);
		break;
	case FIRSTLIGHT__V1__EVENT__BODY_FLOW:
		put_flow(jb, ev->flow);
		break;
	case FIRSTLIGHT__V1__EVENT__BODY_GAP: {
		const ProtobufCEnumValue *k = protobuf_c_enum_descriptor_get_value(
			&firstlight__v1__gap__kind__descriptor, ev->gap->kind);

		json_buf__appendf(jb, " gap kind=%s count=%" PRIu64 " cgroup=%" PRIu64, k ? k->name : "?",
			ev->gap->count, ev->gap->cgroup_id);
		if (ev->gap->first_seq)
			json_buf__appendf(jb, " seq=%" PRIu64 "-%" PRIu64, ev->gap->first_seq, ev->gap->last_seq);
		json_buf__appendf(jb, " detail=");
		json__append_string(jb, ev->gap->detail);
		break;
	}
	case FIRSTLIGHT__V1__EVENT__BODY_SEGMENT_REMOVED:
		json_buf__appendf(jb, " segment-removed seq=%" PRIu64 "-%" PRIu64 " run=%.8s file=",
			ev->segment_removed->first_seq, ev->segment_removed->last_seq,
			ev->segment_removed->agent_run_id);
		json__append_string(jb, ev->segment_removed->file);
		json_buf__appendf(jb, " reason=");
		json__append_string(jb, ev->segment_removed->reason);
		break;
	case FIRSTLIGHT__V1__EVENT__BODY_AGENT: {
		const ProtobufCEnumValue *s = protobuf_c_enum_descriptor_get_value(
			&firstlight__v1__agent_lifecycle__state__descriptor, ev->agent->state);

		json_buf__appendf(jb, " agent %s version=%s run=%s node=%s", s ? s->name : "?",
			ev->agent->version, ev->agent_run_id, ev->node);
		break;
	}
	default:
		json_buf__appendf(jb, " body=%d", (int)ev->body_case);
	}
}

static int read_one(const char *path, int text, struct json_buf *jb, uint64_t *records)
{
	struct segment_reader *r = segment_reader__open(path);
	Firstlight__V1__Batch *b;
	int rc;

	if (!r) {
		log_error("%s: %s", path, strerror(errno));
		return -errno;
	}
	while ((rc = segment_reader__next(r, &b)) > 0) {
		for (size_t i = 0; i < b->n_events; i++) {
			json_buf__reset(jb);
			if (text)
				put_text(jb, b->events[i]);
			else
				json__append_message(jb, &b->events[i]->base);
			fwrite(jb->data, 1, jb->len, stdout);
			fputc('\n', stdout);
			(*records)++;
		}
		firstlight__v1__batch__free_unpacked(b, NULL);
	}
	if (rc < 0)
		log_error("%s: %s", path, segment_reader__error(r));
	else if (segment_reader__unclean_end(r))
		log_warn("%s: ends without a gzip trailer: its writer did not stop cleanly "
			 "(every record up to there is complete)", path);
	segment_reader__close(r);
	return rc;
}

int cmd_read__main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "text", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct json_buf jb = {};
	struct inputs in;
	uint64_t records = 0;
	int c, text = 0, status = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': text = 0; break;
		case 't': text = 1; break;
		case 'h':
			printf("usage: firstlight read [--json|--text] [FILE|DIR|-]...\n"
			       "  decodes segment files (default: every segment in %s)\n", DEFAULT_DATA_DIR);
			return 0;
		default:
			log_error("read: unknown option '%s' (see firstlight read --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (inputs__collect(&in, argc - optind, argv + optind, DEFAULT_DATA_DIR))
		return 1;
	for (int i = 0; i < in.n; i++)
		if (read_one(in.paths[i], text, &jb, &records) < 0)
			status = 1;
	if (fflush(stdout)) {
		log_error("stdout: %s", strerror(errno));
		status = 1;
	}
	json_buf__free(&jb);
	inputs__free(&in);
	return status;
}
