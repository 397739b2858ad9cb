/**
 * `bpf_iter_dmabuf`: the DMA buffers (reference §7.5.8, kernel/bpf/dmabuf_iter.c).
 *
 * `bpf_iter_dmabuf_new(it)` never fails; the first `next` starts at the
 * head of the global buffer list, each later one advances, holding a
 * reference on the returned buffer until the following `next` or
 * `destroy`. Quirk kept from the kernel: after `next` returned NULL, the
 * next call starts over from the beginning. The kfuncs are `KF_SLEEPABLE`.
 *
 * The kernel is the constructor's (`ctx.kernel`), its `dmabufs` list. The
 * traversal is core's `DmaBufWalker`, the `dmabuf` target's too (the
 * kernel's `dma_buf_iter_begin`/`dma_buf_iter_next`).
 */
import { DmaBufWalker, type DmaBuf } from '@bpf-iter/core';
import { KF_ITER_DESTROY, KF_ITER_NEW, KF_ITER_NEXT, KF_RET_NULL, KF_SLEEPABLE } from '../flags.js';
import type { IterContext } from '../kernel-context.js';
import { LOOP_CLOSE, LOOP_DONE, LOOP_OPEN, LOOP_STEP } from '../loop-step.js';
import { registerIterKind } from '../registry.js';

/** `bpf_iter_dmabuf_next`: dma_buf_iter_next(cur) when standing on one, else dma_buf_iter_begin(). */
const dmabufNext = (w: DmaBufWalker): DmaBuf | null => w.advance();

/** `bpf_iter_dmabuf_new`: a walk of the dma-buf list. */
const dmabufNew = (ctx: IterContext): DmaBufWalker => {
  // Fails ENOENT/EOPNOTSUPP when the source could not read the buffers (never an empty walk by mistake).
  ctx.kernel.checkReadable('dmabuf');
  return new DmaBufWalker(ctx.kernel.dmabufs);
};

/** `bpf_iter_dmabuf_destroy`. */
const dmabufDestroy = (w: DmaBufWalker): void => w.release();

/** The `dmabuf` iterator kind: `bpf_iter_dmabuf_new(it)`, elements are `DmaBuf`s. */
export const iterDmabuf = registerIterKind({
  state: { name: 'bpf_iter_dmabuf', size: 8 },
  restartsAfterNull: true,
  new: {
    name: 'bpf_iter_dmabuf_new',
    flags: KF_ITER_NEW | KF_SLEEPABLE,
    params: [{ name: 'it', type: 'struct bpf_iter_dmabuf *' }],
    ret: 'int',
    impl: dmabufNew,
  },
  next: {
    name: 'bpf_iter_dmabuf_next',
    flags: KF_ITER_NEXT | KF_RET_NULL | KF_SLEEPABLE,
    params: [{ name: 'it', type: 'struct bpf_iter_dmabuf *' }],
    ret: 'struct dma_buf *',
    impl: dmabufNext,
  },
  destroy: {
    name: 'bpf_iter_dmabuf_destroy',
    flags: KF_ITER_DESTROY | KF_SLEEPABLE,
    params: [{ name: 'it', type: 'struct bpf_iter_dmabuf *' }],
    ret: 'void',
    impl: dmabufDestroy,
  },
  // bpfForEach's construction: this kind's own, so V8 inlines dmabufNew into every loop (see loop-step.ts).
  [LOOP_OPEN]: function () {
    let data;
    try {
      data = dmabufNew(this.ctx);
    } catch (e) {
      data = this.failed(e);
    }
    return this.open(data);
  },
  // bpfForEach's destruction: this kind's own, so V8 inlines dmabufDestroy into every loop (see loop-step.ts).
  [LOOP_CLOSE]: function () {
    if (this.close()) dmabufDestroy(this.data);
    return LOOP_DONE;
  },
  // bpfForEach's step: this kind's own, so V8 inlines dmabufNext into every loop (see loop-step.ts).
  [LOOP_STEP]: function () {
    let done = true;
    let value = null;
    try {
      if (this.done === false) value = dmabufNext(this.data);
    } catch (e) {
      this.fail(e);
    }
    if (value !== null && value !== undefined) done = false;
    else {
      this.end(value);
      value = this.return().value;
    }
    return { done, value } as IteratorResult<NonNullable<typeof value>, undefined>;
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
