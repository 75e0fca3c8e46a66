/* Reader inputs; see inputs.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/array.h"
#include "readers/inputs.h"

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
	if (!copy || ARRAY_GROW(in->stores, in->cap_stores, (size_t)in->n_stores + 1)) {
		free(copy);
		return -ENOMEM;
	}
	in->stores[in->n_stores] = copy;
	return in->n_stores++;
}

static int push(struct inputs *in, char *path, int store)
{
	if (!path || store < 0 || ARRAY_GROW(in->paths, in->cap, (size_t)in->n + 1) ||
	    ARRAY_GROW(in->store, in->cap_store, (size_t)in->n + 1)) {
		free(path);
		return -ENOMEM;
	}
	in->store[in->n] = store;
	in->paths[in->n++] = path;
	return 0;
}

/* The segment files of dir, in name order, as one store. Sets *found. */
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
	if (!err)
		qsort(in->paths + first, (size_t)(in->n - first), sizeof(char *), cmp_str);
	return err;
}

/* A directory: its own segments, or else each folder's that has some (a collected store). */
static int add_dir(struct inputs *in, const char *dir)
{
	struct dirent **names = NULL;
	int found, err = add_segments(in, dir, &found), n;

	if (err || found)
		return err;
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct stat st;
		char *sub = NULL;
		int got;

		if (!err && names[i]->d_name[0] != '.' && asprintf(&sub, "%s/%s", dir, names[i]->d_name) >= 0 &&
		    !lstat(sub, &st) && S_ISDIR(st.st_mode))
			err = add_segments(in, sub, &got);
		free(sub);
		free(names[i]);
	}
	free(names);
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
			err = push(in, strdup(argv[i]), store_of(in, ""));
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
	for (int i = 0; i < in->n_stores; i++)
		free(in->stores[i]);
	free(in->paths);
	free(in->store);
	free(in->stores);
	memset(in, 0, sizeof(*in));
}
