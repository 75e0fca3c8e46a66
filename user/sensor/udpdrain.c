/* Draining the kernel's UDP aggregates by generation; see udpdrain.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sensor/decode_net.h"
#include "firstlight.skel.h"
#include "base/log.h"
#include "sensor/udpdrain.h"

/*
 * Keys first, then one lookup-and-delete each: deleting while walking with
 * get_next_key would restart the walk at every deleted key. The kernel only adds keys
 * of the other generation meanwhile, which the walk may or may not see: it skips them.
 */
static int drain_gen(struct loader *l, struct netdec *nd, uint32_t gen)
{
	int fd = bpf_map__fd(l->skel->maps.udp_flows);
	size_t cap = bpf_map__max_entries(l->skel->maps.udp_flows), n = 0;
	struct fl_udp_key *keys = malloc(cap * sizeof(*keys)), cur, next;
	struct fl_udp_value v;
	int err, first_err = 0;

	if (!keys)
		return -ENOMEM;
	err = bpf_map_get_next_key(fd, NULL, &next);
	while (!err && n < cap) {
		if (next.gen == gen)
			keys[n++] = next;
		cur = next;
		err = bpf_map_get_next_key(fd, &cur, &next);
	}
	if (err && err != -ENOENT)
		log_warn("reading UDP aggregates: %s", strerror(-err));
	for (size_t i = 0; i < n; i++) {
		if (bpf_map_lookup_and_delete_elem(fd, &keys[i], &v))
			continue; /* cannot happen: only we delete */
		err = netdec__udp_drained(nd, &keys[i], &v);
		if (err && !first_err)
			first_err = err;
	}
	free(keys);
	err = netdec__udp_flush(nd, gen);
	return first_err ? first_err : err;
}

int udpdrain__window(struct loader *l, struct netdec *n)
{
	uint32_t cur = __atomic_load_n(&l->skel->bss->udp_gen, __ATOMIC_RELAXED) & 1;
	int err = drain_gen(l, n, cur ^ 1);

	/* The kernel writes the drained generation from now on; cur rests a window. */
	__atomic_store_n(&l->skel->bss->udp_gen, cur ^ 1, __ATOMIC_RELEASE);
	return err;
}

int udpdrain__all(struct loader *l, struct netdec *n)
{
	uint32_t cur = __atomic_load_n(&l->skel->bss->udp_gen, __ATOMIC_RELAXED) & 1;
	int err = drain_gen(l, n, cur ^ 1);
	int err2 = drain_gen(l, n, cur);

	return err ? err : err2;
}
