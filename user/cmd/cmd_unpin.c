/*
 * `firstlight unpin [--pin-dir DIR]`: removes every pin `run --handover` left (programs,
 * links, maps, the meta) and the dir. The programs a stopped agent left attached detach
 * with their links' pins. Refused while an agent holds the dir. Nothing pinned is no
 * error: an uninstall script may run it twice.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cliopt.h"
#include "base/log.h"
#include "cmd/cmd_unpin.h"
#include "sensor/pins.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: firstlight unpin [--pin-dir DIR]\n"
		   "  removes what `run --handover` pinned in DIR (default %s): the programs it\n"
		   "  left attached detach. For an uninstall, once no agent runs; the next\n"
		   "  `run --handover` then starts afresh, after a SENSOR_DOWN gap.\n",
		   PINS_DEFAULT_DIR);
}

int cmd_unpin__main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *dir = PINS_DEFAULT_DIR;
	struct fl_pin_meta m;
	struct pins *p;
	int c, n, have;

	if (cliopt__check_full("unpin", argc, argv, longopts))
		return 2;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default:
			log_error("unpin: unknown option or missing value '%s' (see firstlight unpin --help)",
				  argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		log_error("unpin: unexpected argument '%s' (see firstlight unpin --help)", argv[optind]);
		return 2;
	}
	p = pins__open(dir, 0);
	if (!p) {
		if (errno == ENOENT) {
			printf("nothing pinned at %s\n", dir);
			return 0;
		}
		return 1; /* it said why */
	}
	have = pins__read_meta(p, &m);
	n = pins__clear(p);
	if (n >= 0 && rmdir(dir) && errno != ENOENT) {
		log_error("pin dir %s: removing it: %s", dir, strerror(errno));
		n = -errno;
	}
	pins__close(p);
	if (n < 0)
		return 1;
	if (!have)
		printf("removed %d pins of run %s (%s) from %s\n", n, m.run_id,
		       m.state == FL_PIN_HANDOVER ? "handed over" : "not handed over", dir);
	else
		printf("removed %d pins from %s\n", n, dir);
	return 0;
}
