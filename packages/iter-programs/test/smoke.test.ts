import { describe, expect, it } from 'vitest';
import { attachIter, BPF_SEQ_PRINTF, loadProgram, SEC } from '../src/index.js';
import { objs, registerArray } from './fixtures.js';

describe('smoke', () => {
  it('iterates an array target', () => {
    const t = registerArray(objs(3));
    const prog = loadProgram(
      SEC(`iter/${t}`, function dump(ctx: any) {
        const seq = ctx.meta.seq;
        if (ctx.item === null) {
          BPF_SEQ_PRINTF(seq, 'end %llu\n', ctx.meta.seq_num);
          return 0;
        }
        BPF_SEQ_PRINTF(seq, '%8d %8d %lx\n', ctx.item.i, Number(ctx.meta.seq_num), 255);
        return 0;
      }),
    );
    const link = attachIter(prog);
    const fd = link.open();
    expect(fd.readText()).toBe('       0        0 ff\n       1        1 ff\n       2        2 ff\nend 2\n');
    fd.close();
    link.close();
    prog.put();
  });
});
