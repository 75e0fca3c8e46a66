/* Reader inputs; see inputs.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/array.h"
#include "base/fdio.h"
#include "base/log.h"
#include "readers/inputs.h"
#include "store/segment_reader.h"

static int is_segment_name(const char *name)
{
	size_t n = strlen(name);

	return n > 7 && !strcmp(name + n - 7, ".seg.gz") && name[0] != '.';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The store named dir: its index, added if new. -ENOMEM. */
static int store_of(struct inputs *in, const char *dir)
{
	char *copy;

	for (int i = 0; i < in->n_stores; i++)
		if (!strcmp(in->stores[i], dir))
			return i;
	copy = strdup(dir);
	if (!copy || ARRAY_GROW(in->stores, in->cap_stores, (size_t)in->n_stores + 1) ||
	    ARRAY_GROW(in->own_folder, in->cap_own, (size_t)in->n_stores + 1)) {
		free(copy);
		return -ENOMEM;
	}
	in->stores[in->n_stores] = copy;
	in->own_folder[in->n_stores] = 0;
	return in->n_stores++;
}

static int push(struct inputs *in, char *path, int store)
{
	if (!path || store < 0 || ARRAY_GROW(in->paths, in->cap, (size_t)in->n + 1) ||
	    ARRAY_GROW(in->store, in->cap_store, (size_t)in->n + 1) ||
	    ARRAY_GROW(in->failed, in->cap_failed, (size_t)in->n + 1)) {
		free(path);
		return -ENOMEM;
	}
	in->failed[in->n] = 0;
	in->store[in->n] = store;
	in->paths[in->n++] = path;
	return 0;
}

/* The segment files of dir, in name order, as one store. Sets *found. -errno, unlogged. */
static int add_segments(struct inputs *in, const char *dir, int *found)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int first = in->n, err = 0, store = -1;

	*found = 0;
	if (!d)
		return -errno;
	while (!err && (de = readdir(d))) {
		char *path;

		if (!is_segment_name(de->d_name))
			continue;
		if (store < 0 && (store = store_of(in, dir)) < 0) {
			err = store;
			break;
		}
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			path = NULL;
		err = push(in, path, store);
		(*found)++;
	}
	closedir(d);
	/* Sorting moves paths only within this store's block: their store stays right. */
	if (!err && in->n > first) /* none found: paths may still be NULL (UBSan) */
		qsort(in->paths + first, (size_t)(in->n - first), sizeof(char *), cmp_str);
	return err;
}

/*
 * A directory: its own segments, or else each folder's that has some (a collected store).
 * 0, or -errno logged naming it: -ENOENT when there are no segments at all.
 */
static int add_dir(struct inputs *in, const char *dir)
{
	struct dirent **names = NULL;
	int found = 0, err = add_segments(in, dir, &found), n;

	if (!err && !found) {
		n = scandir(dir, &names, NULL, alphasort);
		if (n < 0)
			err = -errno;
		for (int i = 0; i < n; i++) {
			struct stat st;
			char *sub = NULL;
			int got = 0;

			if (!err && names[i]->d_name[0] != '.' &&
			    asprintf(&sub, "%s/%s", dir, names[i]->d_name) >= 0 && !lstat(sub, &st) &&
			    S_ISDIR(st.st_mode)) {
				err = add_segments(in, sub, &got);
				found += got;
				if (!err && got && names[i]->d_name[0] == '@') {
					int st_i = store_of(in, sub);

					if (st_i < 0)
						err = st_i;
					else
						in->own_folder[st_i] = 1;
				}
			}
			free(sub);
			free(names[i]);
		}
		free(names);
	}
	if (err) {
		log_error("%s: %s", dir, strerror(-err));
		return err;
	}
	/* Reading nothing and saying nothing would pass for an empty, complete record. */
	if (!found) {
		log_error("%s: no segment files (*.seg.gz) in this directory: name the agent's data dir "
			  "(its --data-dir), segment files, or a collected store (its node folders)", dir);
		return -ENOENT;
	}
	return 0;
}

/*
 * With no input named, records piped in would be ignored for the default directory,
 * silently: refuse, and say how to read stdin. A terminal, /dev/null or a closed stdin
 * (cron with nothing to give, an interactive shell) leaves the default as it is.
 */
static int stdin_is_data(void)
{
	struct stat st;

	return !fstat(STDIN_FILENO, &st) && (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) ||
					      S_ISSOCK(st.st_mode));
}

int inputs__collect(struct inputs *in, int argc, char **argv, const char *default_dir)
{
	char *def[] = { (char *)default_dir };
	struct stat st;
	int err = 0;

	memset(in, 0, sizeof(*in));
	if (argc == 0 && stdin_is_data()) {
		log_error("no input named while stdin is a pipe or a file: write - to read the records "
			  "piped in, or name the data dir (the default, %s, is read only when nothing "
			  "is piped in)", default_dir);
		return -EINVAL;
	}
	if (argc == 0) {
		argv = def;
		argc = 1;
	}
	for (int i = 0; i < argc && !err; i++) {
		if (strcmp(argv[i], "-") && stat(argv[i], &st)) {
			err = -errno;
			if (argv == def && err == -ENOENT)
				log_error("%s: no such directory (the default data dir): name the agent's "
					  "data dir (its --data-dir) or segment files", argv[i]);
			else
				log_error("%s: %s", argv[i], strerror(errno));
		} else if (strcmp(argv[i], "-") && S_ISDIR(st.st_mode)) {
			err = add_dir(in, argv[i]);
		} else {
			err = push(in, strdup(argv[i]), store_of(in, ""));
		}
	}
	if (err)
		inputs__free(in);
	return err;
}

const char *inputs__group(const struct inputs *in, int i)
{
	const char *dir, *slash;
	int folders = 0;

	if (i < 0 || i >= in->n || !in->own_folder[in->store[i]])
		return NULL;
	dir = in->stores[in->store[i]];
	for (int s = 0; s < in->n_stores; s++)
		folders += in->own_folder[s];
	if (folders > 1)
		return dir; /* the collectors of several stores: each by its path */
	slash = strrchr(dir, '/');
	return slash ? slash + 1 : dir;
}

void inputs__free(struct inputs *in)
{
	for (int i = 0; i < in->n; i++)
		free(in->paths[i]);
	for (int i = 0; i < in->n_stores; i++)
		free(in->stores[i]);
	if (in->have_stdin)
		close(in->stdin_fd);
	free(in->paths);
	free(in->store);
	free(in->stores);
	free(in->own_folder);
	free(in->failed);
	memset(in, 0, sizeof(*in));
}

/* ---- reading ------------------------------------------------------------------------ */

/* stdin copied to an anonymous file; -1 on failure (logged). */
static int copy_stdin(void)
{
	char buf[65536];
	int fd = memfd_create("firstlight-stdin", MFD_CLOEXEC), err;

	if (fd < 0) {
		log_error("stdin: cannot copy it to read it twice: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("stdin: %s", strerror(errno));
			break;
		}
		if (n == 0)
			return fd;
		err = fdio__write_all(fd, buf, (size_t)n);
		if (err) {
			log_error("stdin: cannot copy it to read it twice: %s", strerror(-err));
			break;
		}
	}
	close(fd);
	return -1;
}

int inputs__keep_stdin(struct inputs *in)
{
	int status = 0;

	for (int i = 0; i < in->n; i++) {
		if (strcmp(in->paths[i], "-") || in->have_stdin)
			continue; /* "-" twice is one stdin: the second reads the same copy */
		in->stdin_fd = copy_stdin();
		if (in->stdin_fd < 0) {
			in->failed[i] = INPUT_NO_STDIN;
			status = 1;
			continue;
		}
		in->have_stdin = 1;
	}
	return status;
}

int inputs__read(struct inputs *in, int i, inputs_feed_fn feed, void *ctx, unsigned int flags)
{
	int is_stdin = !strcmp(in->paths[i], "-"), rc, err = 0;
	const char *name = is_stdin && in->have_stdin ? "stdin" : in->paths[i];
	struct segment_reader *r;
	Firstlight__V1__Batch *b;

	if (in->failed[i] == INPUT_NO_STDIN)
		return 1;
	if (is_stdin && in->have_stdin) {
		lseek(in->stdin_fd, 0, SEEK_SET);
		r = segment_reader__fdopen(dup(in->stdin_fd));
	} else {
		r = segment_reader__open(in->paths[i]);
	}
	if (!r) {
		int e = errno;

		if (!in->failed[i])
			log_error("%s: %s", name, strerror(e));
		in->failed[i] = INPUT_FAILED;
		return e == ENOMEM ? -ENOMEM : 1;
	}
	while ((rc = segment_reader__next(r, &b)) > 0) {
		for (size_t j = 0; j < b->n_events && !err; j++)
			err = feed(ctx, b->events[j]);
		firstlight__v1__batch__free_unpacked(b, NULL);
		if (err) {
			segment_reader__close(r);
			return err;
		}
	}
	if (rc < 0) {
		if (!in->failed[i])
			log_error("%s: %s", name, segment_reader__error(r));
		in->failed[i] = INPUT_FAILED;
	} else if ((flags & INPUTS_WARN_UNCLEAN) && segment_reader__unclean_end(r)) {
		log_warn("%s: ends without a gzip trailer: its writer did not stop cleanly (or is "
			 "still writing it)", name);
	}
	segment_reader__close(r);
	return rc < 0 || in->failed[i];
}
