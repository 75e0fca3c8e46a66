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

#include "cmd/cmd_read.h"
#include "base/json.h"
#include "base/log.h"
#include "records/recordtext.h"
#include "store/segment_reader.h"

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
				recordtext__append(jb, b->events[i]);
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
