/* Reader inputs; see inputs.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int push(struct inputs *in, char *path)
{
	if (!path || ARRAY_GROW(in->paths, in->cap, (size_t)in->n + 1)) {
		free(path);
		return -ENOMEM;
	}
	in->paths[in->n++] = path;
	return 0;
}

/* 0, -errno (logged), or -ENOENT for a directory without segments (logged). */
static int add_dir(struct inputs *in, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int first = in->n, err = 0;

	if (!d) {
		err = -errno;
		log_error("%s: %s", dir, strerror(-err));
		return err;
	}
	while (!err && (de = readdir(d))) {
		char *path;

		if (!is_segment_name(de->d_name))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			path = NULL;
		err = push(in, path);
	}
	closedir(d);
	if (err) {
		log_error("%s: %s", dir, strerror(-err));
		return err;
	}
	/* Reading nothing and saying nothing would pass for an empty, complete record. */
	if (in->n == first) {
		log_error("%s: no segment files (*.seg.gz) in this directory: name the agent's "
			  "data dir (its --data-dir) or segment files", dir);
		return -ENOENT;
	}
	qsort(in->paths + first, (size_t)(in->n - first), sizeof(char *), cmp_str);
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
