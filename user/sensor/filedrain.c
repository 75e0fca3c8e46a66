/* Draining the kernel's watched-file counts; see filedrain.h. */
#include <bpf/libbpf.h>

#include "firstlight.skel.h"
#include "sensor/filedrain.h"
#include "sensor/kcaps.h"

int filedrain__window(struct loader *l, struct filedec *f, int all)
{
	if (!l->skel || !f || !kcaps__has(&l->caps, KCAP_FILE_ACCESS))
		return 0;
	return filedec__window(f, bpf_map__fd(l->skel->maps.file_flows), &l->skel->bss->file_gen, all);
}
