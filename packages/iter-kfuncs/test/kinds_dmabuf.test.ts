import { describe, expect, it } from 'vitest';
import { DmaBuf, Kernel, refStats } from '@bpf-iter/core';
import { bpf_iter_dmabuf_destroy, bpf_iter_dmabuf_new, bpf_iter_dmabuf_next, iterDmabuf, withKernel } from '../src/index.js';

function bufKernel() {
  const k = new Kernel();
  const bufs = [4096, 8192, 65536].map((size, i) => k.addDmaBuf(new DmaBuf(size, 'system', 100 + i)));
  return { k, bufs };
}

describe('bpf_iter_dmabuf (§7.5.8)', () => {
  it('walks the global list holding a reference on the current buffer; after NULL it starts over (kernel quirk)', () => {
    const { k, bufs } = bufKernel();
    const before = refStats.outstanding;
    withKernel(k, () => {
      const it = iterDmabuf.alloc();
      expect(bpf_iter_dmabuf_new(it)).toBe(0);
      const first = bpf_iter_dmabuf_next(it);
      expect(first).toBe(bufs[0]);
      expect(bufs[0]!.file_count).toBe(2); // the list's + the iterator's
      expect([bpf_iter_dmabuf_next(it), bpf_iter_dmabuf_next(it), bpf_iter_dmabuf_next(it)]).toEqual([bufs[1], bufs[2], null]);
      expect(bufs.map((b) => b.file_count)).toEqual([1, 1, 1]);
      expect(bpf_iter_dmabuf_next(it)).toBe(bufs[0]);
      bpf_iter_dmabuf_destroy(it);
    });
    expect(refStats.outstanding).toBe(before);
  });

  it('a buffer released while the iterator holds it stays alive until the iterator moves on, and the walk continues after it', () => {
    const { k, bufs } = bufKernel();
    withKernel(k, () => {
      const it = iterDmabuf.alloc();
      bpf_iter_dmabuf_new(it);
      expect(bpf_iter_dmabuf_next(it)).toBe(bufs[0]);
      k.releaseDmaBuf(bufs[0]!);
      k.releaseDmaBuf(bufs[1]!);
      expect(bufs[0]!.freed).toBe(false);
      expect(bpf_iter_dmabuf_next(it)).toBe(bufs[2]);
      expect(bufs[0]!.freed).toBe(true);
      bpf_iter_dmabuf_destroy(it);
    });
  });

  it('fails with the source\'s errno when the buffers could not be read (never an empty walk)', () => {
    const k = new Kernel();
    k.unreadable.set('dmabuf', { errno: 'ENOENT', reason: '/sys/kernel/debug/dma_buf/bufinfo is not readable' });
    withKernel(k, () => {
      const it = iterDmabuf.alloc();
      expect(bpf_iter_dmabuf_new(it)).toBe(-2);
      expect(it.cause?.message).toMatch(/ENOENT.*bufinfo/);
      expect(bpf_iter_dmabuf_next(it)).toBeNull();
      bpf_iter_dmabuf_destroy(it);
    });
  });
});
