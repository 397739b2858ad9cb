/** The `dmabuf` target (reference §5.13, §3.6; §5 item 12). */
import { describe, expect, it } from 'vitest';
import { DmaBuf, Kernel, refStats } from '@bpf-iter/core';
import { BPF_SEQ_PRINTF, SEC } from '../../src/index.js';
import { drain, errOf, recorder, session } from './helpers.js';

function bufKernel(n = 3) {
  const k = new Kernel();
  const bufs = Array.from({ length: n }, (_, i) => k.addDmaBuf(new DmaBuf(4096 << i, 'system', 200 + i, i === 1 ? 'camera' : '')));
  return { k, bufs };
}

describe('dmabuf target', () => {
  it('every buffer in list order, referenced while the program runs; no end call (§5 item 12)', () => {
    const { k, bufs } = bufKernel();
    const counts: number[] = [];
    const r = recorder('dmabuf', (ctx) => ctx.dmabuf, (ctx) => (ctx.dmabuf && counts.push(ctx.dmabuf.file_count), 0));
    const s = session(k, r.spec);
    s.text();
    s.close();
    expect(r.calls).toEqual(bufs);
    expect(counts).toEqual([2, 2, 2]);
  });

  it('small reads resume at the buffer fetched but not shown (the 6.18.y fix), and the kept reference is dropped at close', () => {
    const { k, bufs } = bufKernel(5);
    const before = refStats.outstanding;
    const s = session(k, SEC('iter/dmabuf', (ctx: any) => (ctx.dmabuf ? BPF_SEQ_PRINTF(ctx.meta.seq, '%lu %s\n', ctx.dmabuf.ino, ctx.dmabuf.exp_name) && 0 : 0)));
    const fd = s.open();
    const text = drain(fd, 7).toString();
    expect(text).toBe(bufs.map((b) => `${b.ino} system\n`).join(''));
    fd.close();
    s.close();
    expect(refStats.outstanding).toBe(before);
  });

  it('a session closed mid-walk releases the buffer it kept; a released buffer is freed then', () => {
    const { k, bufs } = bufKernel(3);
    const before = refStats.outstanding;
    const s = session(k, SEC('iter/dmabuf', (ctx: any) => (ctx.dmabuf ? BPF_SEQ_PRINTF(ctx.meta.seq, '%08lu\n', ctx.dmabuf.size) && 0 : 0)));
    const fd = s.open();
    expect(fd.read(9).toString()).toBe('00004096\n');
    k.releaseDmaBuf(bufs[1]!);
    fd.close();
    s.close();
    expect(refStats.outstanding).toBe(before);
    expect(bufs[1]!.freed).toBe(true);
  });

  it('fdinfo says "dmabuf iter"; sleepable programs may attach (RESCHED)', () => {
    const { k } = bufKernel();
    const s = session(k, SEC('iter.s/dmabuf', () => 0));
    expect(s.link.fdinfo().endsWith('target_name:\tdmabuf\ndmabuf iter\n')).toBe(true);
    s.close();
  });

  it('a kernel whose buffers could not be read fails the iterator with the errno and the reason', () => {
    const k = new Kernel();
    k.unreadable.set('dmabuf', { errno: 'ENOENT', reason: '/sys/kernel/debug/dma_buf/bufinfo is not readable (ENOENT)' });
    const s = session(k, SEC('iter/dmabuf', () => 0));
    expect(errOf(() => s.open())).toBe('ENOENT');
    s.close();
  });

  it('the default dumper prints bufinfo lines', async () => {
    const { k } = bufKernel(2);
    const { dumpDmabuf } = await import('../../src/index.js');
    const s = session(k, dumpDmabuf);
    expect(s.text().split('\n').slice(1, 3)).toEqual(['00004096\t00000002\t00000003\t00000002\tsystem\t00000200\t<none>', '00008192\t00000002\t00000003\t00000002\tsystem\t00000201\tcamera']);
    s.close();
  });
});

describe('dmabuf and task stacks on the synthetic source', () => {
  it('the synthetic kernel has DMA buffers and kernel stacks the helpers read', async () => {
    const { syntheticKernel } = await import('@bpf-iter/core');
    const { bpf_get_task_stack } = await import('../../src/index.js');
    const k = syntheticKernel({ seed: 3, processes: 8 });
    const r = recorder('dmabuf', (ctx) => ctx.dmabuf?.size);
    const s = session(k, r.spec);
    s.text();
    s.close();
    expect(r.calls).toEqual([4096, 16384, 65536, 262144]);
    const stacks: number[] = [];
    const t = session(k, SEC('iter/task', (ctx: any) => (ctx.task && stacks.length < 3 ? (stacks.push(bpf_get_task_stack(ctx.task, new Uint8Array(64), 64, 0)), 0) : 0)));
    t.text();
    t.close();
    expect(stacks.every((n) => n > 0 && n % 8 === 0)).toBe(true);
  });
});
