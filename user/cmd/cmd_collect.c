/*
 * `firstlight collect --from URLS --store DIR [options]`: every node's batches from NATS
 * JetStream into DIR, one folder per node, checked and kept verbatim (collect/collector.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/cliopt.h"
#include "base/httpd.h"
#include "base/log.h"
#include "base/units.h"
#include "cmd/cmd_collect.h"
#include "collect/collector.h"
#include "transport/subjects.h"

static void usage(FILE *f, const struct collector_opts *d)
{
	fprintf(f,
		"usage: firstlight collect --from URLS --store DIR [options]\n"
		"  --from URLS           nats://HOST:PORT[,nats://...] of the JetStream servers\n"
		"  --store DIR           the collected store: DIR/<node>/ holds each node's segment files,\n"
		"                        DIR/@collector/ the collector's own records (findings)\n"
		"  --keys DIR            pinned node keys, DIR/<node>.pub (firstlight key export): a node\n"
		"                        without one is held to the key its first batch states (trust on\n"
		"                        first use, recorded)\n"
		"  --key FILE            the collector's own signing key (default %s)\n"
		"  --creds FILE          NATS credentials (.creds)\n"
		"  --tls-ca FILE         CA certificates to trust: the connection is TLS\n"
		"  --subject-prefix P    as the agents' --ship-subject-prefix (default %s)\n"
		"  --durable NAME        the JetStream consumer's name (default %s)\n"
		"  --replicas N          the stream's replicas, if the collector creates it (default 1)\n"
		"  --silent-after S      a node quiet for S seconds without a STOPPED record is NODE_SILENT\n"
		"                        (default %u)\n"
		"  --metrics-addr HOST:PORT  Prometheus /metrics (default %s; off)\n"
		"  --ready-file PATH     create PATH once consuming\n"
		"  -v, --verbose         debug output\n"
		"Long options are written in full.\n",
		d->key_path, SUBJECTS_DEFAULT_PREFIX, d->durable, d->silent_after_s, d->metrics_addr);
}

int cmd_collect__main(int argc, char **argv)
{
	enum { O_FROM = 256, O_STORE, O_KEYS, O_KEY, O_CREDS, O_TLS_CA, O_PREFIX, O_DURABLE, O_REPLICAS,
	       O_SILENT, O_METRICS, O_READY };
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, O_FROM },
		{ "store", required_argument, NULL, O_STORE },
		{ "keys", required_argument, NULL, O_KEYS },
		{ "key", required_argument, NULL, O_KEY },
		{ "creds", required_argument, NULL, O_CREDS },
		{ "tls-ca", required_argument, NULL, O_TLS_CA },
		{ "subject-prefix", required_argument, NULL, O_PREFIX },
		{ "durable", required_argument, NULL, O_DURABLE },
		{ "replicas", required_argument, NULL, O_REPLICAS },
		{ "silent-after", required_argument, NULL, O_SILENT },
		{ "metrics-addr", required_argument, NULL, O_METRICS },
		{ "ready-file", required_argument, NULL, O_READY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct collector_opts o;
	uint64_t v;
	int c, err = 0;

	collector_opts__defaults(&o);
	if (cliopt__check_full("collect", argc, argv, longopts))
		return 2;
	optind = 1;
	opterr = 0;
	while (!err && (c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case O_FROM: o.urls = optarg; break;
		case O_STORE: o.store_dir = optarg; break;
		case O_KEYS: o.keys_dir = optarg; break;
		case O_KEY: o.key_path = optarg; break;
		case O_CREDS: o.creds = optarg; break;
		case O_TLS_CA: o.tls_ca = optarg; break;
		case O_PREFIX: o.prefix = optarg; break;
		case O_DURABLE: o.durable = optarg; break;
		case O_REPLICAS:
			err = units__parse("--replicas", optarg, UNITS_COUNT, 1, 5, 0, &v);
			o.replicas = (int)v;
			break;
		case O_SILENT:
			err = units__parse_u32("--silent-after", optarg, UNITS_COUNT, 1, 86400, 0, &o.silent_after_s);
			break;
		case O_METRICS: {
			const char *why;

			o.metrics_addr = strcmp(optarg, "off") ? optarg : NULL;
			o.metrics_explicit = 1;
			if (o.metrics_addr && httpd__check_addr(o.metrics_addr, &why)) {
				log_error("--metrics-addr %s: %s: write a numeric HOST:PORT such as "
					  "127.0.0.1:9465 or [::1]:9465, or off", optarg, why);
				err = -EINVAL;
			}
			break;
		}
		case O_READY: o.ready_file = optarg; break;
		case 'v': log__set_level(LOG_DEBUG); break;
		case 'h': usage(stdout, &o); return 0;
		default:
			log_error("collect: unknown option or missing value '%s' (see firstlight collect --help)",
				  argv[optind - 1]);
			return 2;
		}
	}
	if (err)
		return 2;
	if (optind < argc) {
		log_error("collect: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!o.urls || !o.store_dir) {
		log_error("collect: --from URLS and --store DIR are both needed (see firstlight collect --help)");
		return 2;
	}
	if (subjects__check_prefix(o.prefix)) {
		log_error("--subject-prefix '%s': not a NATS subject prefix (tokens of letters, digits, '_' and '-', "
			  "joined by dots)", o.prefix);
		return 2;
	}
	if (!strncmp(o.durable, "", 1) || strpbrk(o.durable, ".*> \t")) {
		log_error("--durable '%s': a consumer name has no dots, wildcards or spaces", o.durable);
		return 2;
	}
	return collector__run(&o);
}
