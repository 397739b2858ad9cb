/**
 * How the lazy host source keeps the records of `bpf/task_fd.bpf.c`
 * (`struct rec_task_fd`: tgid, pid, fd, pad, f_op), read by read: each
 * leader's run of records becomes its table, a thread with a table of its
 * own is not /proc/PID/fd's, and arrays sized too small grow. No BPF
 * needed: the records are built here.
 */
import { describe, expect, it } from 'vitest';
import { keepFdRecords, type FdOpsAcc } from '../src/sources/bpf_fd_links.js';

/** One read's bytes: records of [tgid, pid, fd, f_op]. */
function read(recs: [number, number, number, bigint][]): Uint32Array {
  const u32 = new Uint32Array(recs.length * 6);
  recs.forEach(([tgid, pid, fd, op], i) => {
    u32.set([tgid, pid, fd, 0, Number(op & 0xffff_ffffn), Number(op >> 32n)], i * 6);
  });
  return u32;
}

function acc(cap: number): FdOpsAcc {
  return { fds: new Int32Array(cap), opsLo: new Uint32Array(cap), opsHi: new Uint32Array(cap), k: 0, cur: -1, from: 0, spans: [] };
}

/** The tables the spans describe, as [tgid, fds, f_ops in hex]. */
function tables(a: FdOpsAcc): [number, number[], string[]][] {
  const spans = [...a.spans];
  if (a.k > a.from) spans.push(a.cur, a.from, a.k);
  const out: [number, number[], string[]][] = [];
  for (let i = 0; i < spans.length; i += 3) {
    const [tgid, from, to] = [spans[i]!, spans[i + 1]!, spans[i + 2]!];
    const ops = [];
    for (let j = from; j < to; j++) ops.push(((BigInt(a.opsHi[j]!) << 32n) | BigInt(a.opsLo[j]!)).toString(16));
    out.push([tgid, [...a.fds.subarray(from, to)], ops]);
  }
  return out;
}

const NULL_FOPS = 0xffffffff824c6ac0n;
const PIPE_FOPS = 0xffffffff8244c300n;

describe('task_fd records into fd tables (keepFdRecords)', () => {
  it("keeps each leader's run across reads, skips threads with tables of their own, grows the arrays", () => {
    const a = acc(2); // undersized: 7 records are kept
    keepFdRecords(a, read([[10, 10, 0, NULL_FOPS], [10, 10, 1, PIPE_FOPS], [10, 11, 0, NULL_FOPS]]), 3);
    // The next read continues pid 10's table, then pid 12's.
    keepFdRecords(a, read([[10, 10, 7, NULL_FOPS], [12, 12, 3, PIPE_FOPS], [12, 12, 4, PIPE_FOPS], [12, 12, 9, NULL_FOPS], [12, 13, 1, PIPE_FOPS]]), 5);
    keepFdRecords(a, read([[14, 14, 0, NULL_FOPS]]), 1);
    expect(a.k).toBe(7);
    expect(a.fds.length).toBeGreaterThanOrEqual(7);
    expect(tables(a)).toEqual([
      [10, [0, 1, 7], ['ffffffff824c6ac0', 'ffffffff8244c300', 'ffffffff824c6ac0']],
      [12, [3, 4, 9], ['ffffffff8244c300', 'ffffffff8244c300', 'ffffffff824c6ac0']],
      [14, [0], ['ffffffff824c6ac0']],
    ]);
  });

  it('keeps only the first n records of a read (the rest of the buffer is stale)', () => {
    const a = acc(8);
    keepFdRecords(a, read([[20, 20, 5, NULL_FOPS], [20, 20, 6, NULL_FOPS], [99, 99, 0, NULL_FOPS]]), 2);
    expect(tables(a)).toEqual([[20, [5, 6], ['ffffffff824c6ac0', 'ffffffff824c6ac0']]]);
  });

  it('a read of threads only keeps nothing', () => {
    const a = acc(4);
    keepFdRecords(a, read([[30, 31, 0, NULL_FOPS], [30, 32, 1, NULL_FOPS]]), 2);
    expect(tables(a)).toEqual([]);
  });
});
