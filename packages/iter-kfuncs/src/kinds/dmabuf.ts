/**
 * `bpf_iter_dmabuf`: the DMA buffers (reference §7.5.8, kernel/bpf/dmabuf_iter.c).
 *
 * `bpf_iter_dmabuf_new(it)` never fails; the first `next` starts at the
 * head of the global buffer list, each later one advances, holding a
 * reference on the returned buffer until the following `next` or
 * `destroy`. Quirk kept from the kernel: after `next` returned NULL, the
 * next call starts over from the beginning. The kfuncs are `KF_SLEEPABLE`.
 *
 * The kernel is the constructor's (`ctx.kernel`), its `dmabufs` list.
 */
import type { DmaBuf, Kernel, RcuNode } from '@bpf-iter/core';
import { KF_ITER_DESTROY, KF_ITER_NEW, KF_ITER_NEXT, KF_RET_NULL, KF_SLEEPABLE } from '../flags.js';
import { registerIterKind } from '../registry.js';

interface DmabufState {
  readonly kernel: Kernel;
  /** The referenced buffer's node (the last one returned), or null. */
  node: RcuNode<DmaBuf> | null;
}

function release(s: DmabufState): void {
  const prev = s.node;
  s.node = null;
  prev?.value.put();
}

/** The `dmabuf` iterator kind: `bpf_iter_dmabuf_new(it)`, elements are `DmaBuf`s. */
export const iterDmabuf = registerIterKind({
  state: { name: 'bpf_iter_dmabuf', size: 8 },
  restartsAfterNull: true,
  new: {
    name: 'bpf_iter_dmabuf_new',
    flags: KF_ITER_NEW | KF_SLEEPABLE,
    params: [{ name: 'it', type: 'struct bpf_iter_dmabuf *' }],
    ret: 'int',
    impl: (ctx): DmabufState => {
      // Fails ENOENT/EOPNOTSUPP when the source could not read the buffers (never an empty walk by mistake).
      ctx.kernel.checkReadable('dmabuf');
      return { kernel: ctx.kernel, node: null };
    },
  },
  next: {
    name: 'bpf_iter_dmabuf_next',
    flags: KF_ITER_NEXT | KF_RET_NULL | KF_SLEEPABLE,
    params: [{ name: 'it', type: 'struct bpf_iter_dmabuf *' }],
    ret: 'struct dma_buf *',
    impl: (s: DmabufState): DmaBuf | null => {
      // dma_buf_iter_next(cur) when standing on one, else dma_buf_iter_begin().
      let n = s.node ? s.node.next : s.kernel.dmabufs.head;
      while (n && n.removed) n = n.next;
      n?.value.get();
      release(s);
      s.node = n;
      return n ? n.value : null;
    },
  },
  destroy: {
    name: 'bpf_iter_dmabuf_destroy',
    flags: KF_ITER_DESTROY | KF_SLEEPABLE,
    params: [{ name: 'it', type: 'struct bpf_iter_dmabuf *' }],
    ret: 'void',
    impl: release,
  },
});

/** The dmabuf iterator state type. */
export type BpfIterDmabuf = ReturnType<typeof iterDmabuf.alloc>;

/** `int bpf_iter_dmabuf_new(struct bpf_iter_dmabuf *it)` */
export const bpf_iter_dmabuf_new = iterDmabuf.new;
/** `struct dma_buf *bpf_iter_dmabuf_next(struct bpf_iter_dmabuf *it)` */
export const bpf_iter_dmabuf_next = iterDmabuf.next;
/** `void bpf_iter_dmabuf_destroy(struct bpf_iter_dmabuf *it)` */
export const bpf_iter_dmabuf_destroy = iterDmabuf.destroy;
