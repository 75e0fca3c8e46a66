/*
 * `firstlight read [--json|--text] [FILE|DIR|-]...`: decodes segment files. A corrupt or
 * truncated input prints every record before the damage, then one error line naming
 * the file and byte offset, and the command exits 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cliopt.h"
#include "cmd/cmd_read.h"
#include "readers/inputs.h"
#include "store/store_dir.h"
#include "base/json.h"
#include "base/log.h"
#include "records/recordjson.h"
#include "records/recordtext.h"
#include "store/segment_reader.h"

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
				recordjson__append(jb, b->events[i]);
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

	if (cliopt__check_full("read", argc, argv, longopts))
		return 2;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': text = 0; break;
		case 't': text = 1; break;
		case 'h':
			printf("usage: firstlight read [--json|--text] [FILE|DIR|-]...\n"
			       "  decodes segment files (default: every segment in %s)\n", STORE_DEFAULT_DIR);
			return 0;
		default:
			log_error("read: unknown option '%s' (see firstlight read --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (inputs__collect(&in, argc - optind, argv + optind, STORE_DEFAULT_DIR))
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
