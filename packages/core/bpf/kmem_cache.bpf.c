// SPDX-License-Identifier: GPL-2.0
/* One rec_kmem_cache per slab cache, in the slab_caches list order.
 * num_objs and active_objs are what /proc/slabinfo prints (SLUB's
 * get_slabinfo): total_objects of every node, less the free objects of the
 * slabs on each node's partial list (count_partial_free_approx walks at most
 * MAX_PARTIAL_TO_SCAN of them; so do we, then report the walk as truncated). */
#include "common.h"

#define MAX_NODES 64
#define MAX_PARTIAL_TO_SCAN 10000

struct partial_walk {
	struct list_head *head, *pos;
	__u64 free;
	__u32 scanned;
};

static long count_free(__u64 i, struct partial_walk *w)
{
	struct list_head *pos = w->pos;	/* a local: CO-RE relocates kernel types only */
	struct slab *slab;
	__u32 objects, inuse;

	if (!pos || pos == w->head)
		return 1;
	slab = container_of(pos, struct slab, slab_list);
	objects = BPF_CORE_READ_BITFIELD_PROBED(slab, objects);
	inuse = BPF_CORE_READ_BITFIELD_PROBED(slab, inuse);
	if (objects > inuse)
		w->free += objects - inuse;
	w->scanned++;
	w->pos = BPF_CORE_READ(pos, next);
	return 0;
}

struct node_walk {
	struct kmem_cache *s;
	struct rec_kmem_cache *r;
	__u32 nr_node_ids;
};

static long count_node(__u64 i, struct node_walk *nw)
{
	struct kmem_cache_node *n = NULL;
	struct partial_walk w = {};

	if (i >= nw->nr_node_ids)
		return 1;
	bpf_probe_read_kernel(&n, sizeof(n), &nw->s->node[i & (MAX_NODES - 1)]);
	if (!n)
		return 0;
	nw->r->nodes++;
	nw->r->num_slabs += BPF_CORE_READ(n, nr_slabs.counter);
	nw->r->num_objs += BPF_CORE_READ(n, total_objects.counter);
	w.head = &n->partial;
	w.pos = BPF_CORE_READ(n, partial.next);
	bpf_loop(MAX_PARTIAL_TO_SCAN, count_free, &w, 0);
	if (w.pos && w.pos != w.head)
		nw->r->truncated = 1;
	nw->r->free_objs += w.free;
	return 0;
}

extern unsigned int nr_node_ids __ksym __weak;

SEC("iter/kmem_cache")
int dump_kmem_cache(struct bpf_iter__kmem_cache *ctx)
{
	struct kmem_cache *s = ctx->s;
	struct rec_kmem_cache r = {};
	struct node_walk nw = { .s = s, .r = &r, .nr_node_ids = 1 };
	unsigned int *nodes = &nr_node_ids;
	__u32 oo;

	if (!s)
		return 0;
	if (nodes)
		bpf_probe_read_kernel(&nw.nr_node_ids, sizeof(nw.nr_node_ids), nodes);
	if (nw.nr_node_ids > MAX_NODES)
		nw.nr_node_ids = MAX_NODES;
	r.size = s->size;
	r.object_size = s->object_size;
	r.align = s->align;
	r.flags = s->flags;
	oo = s->oo.x;
	r.objs_per_slab = oo & 0xffff;
	r.pages_per_slab = 1U << (oo >> 16);
	bpf_probe_read_kernel_str(r.name, sizeof(r.name), s->name);
	bpf_loop(MAX_NODES, count_node, &nw, 0);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
