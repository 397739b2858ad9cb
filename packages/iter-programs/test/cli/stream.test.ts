/**
 * `streamIter` (the CLI's writer of an iterator fd to stdout) reuses its read
 * buffer only for the process's stdout while it holds nothing: any other
 * stream may keep the chunks it was given (a Transform pushes them on), and
 * must receive every byte as read, none overwritten by a later read.
 */
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { syntheticKernel } from '@bpf-iter/core';
import { describe, expect, it } from 'vitest';
import { attachIter, defaultDumper, loadProgram } from '../../src/index.js';
import { streamIter } from '../../src/cli/stream.js';

const kernel = syntheticKernel({ seed: 3, processes: 400, threadsPerProcess: 2, filesPerProcess: 20, vmasPerProcess: 2, sockets: 0, containers: 0 });

function openDump(): ReturnType<ReturnType<typeof attachIter>['open']> {
  const prog = loadProgram(defaultDumper('task_file')!, { kernel });
  const link = attachIter(prog, { kernel });
  prog.put();
  const fd = link.open();
  link.close();
  return fd;
}

/** A writable that keeps each chunk it is given (as a Transform's readable side does) and completes the write at once or later. */
class Keeper extends Writable {
  readonly kept: Uint8Array[] = [];
  constructor(private readonly sync: boolean) {
    super({ highWaterMark: 1 << 30 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.kept.push(chunk);
    if (this.sync) cb();
    else setImmediate(cb);
  }
}

describe('streamIter', () => {
  const expected = openDump().readAll();

  it('expects a dump of several reads', () => {
    expect(expected.length).toBeGreaterThan(4 * 64 * 1024);
  });

  for (const sync of [true, false]) {
    it(`writes every byte once, in order, to a stream completing writes ${sync ? 'at once' : 'later'}`, async () => {
      const s = new Keeper(sync);
      await streamIter({ stdout: s, stderr: new Keeper(true) }, openDump());
      s.end();
      await finished(s);
      // Compared after the whole dump: a reused buffer would have changed chunks the stream kept.
      expect(Buffer.concat(s.kept).equals(expected)).toBe(true);
    });
  }
});
