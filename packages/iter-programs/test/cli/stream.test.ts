/**
 * `streamIter` (the CLI's writer of an iterator fd to stdout) reuses its read
 * buffer only for the process's stdout while it holds nothing: any other
 * stream may keep the chunks it was given (a Transform pushes them on), and
 * must receive every byte as read, none overwritten by a later read.
 */
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { syntheticKernel } from '@bpf-iter/core';
import { describe, expect, it } from 'vitest';
import { attachIter, defaultDumper, loadProgram } from '../../src/index.js';
import { streamIter, type CliIo } from '../../src/cli/stream.js';
import { isTerminal, isTerminalFd } from '../../src/cli/terminal.js';

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

  /** An io whose streams must not be used: the bin's, with the fds only. */
  const fdIo = (stdout: number): CliIo => ({
    fds: { stdout, stderr: 2 },
    get stdout(): NodeJS.WritableStream {
      throw new Error('the stream was used');
    },
    get stderr(): NodeJS.WritableStream {
      throw new Error('the stream was used');
    },
  });

  it('writes a file stdout by write(2) on its fd, every byte in order, without the stream', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'bpf-iter-stream-')), 'out');
    const fd = openSync(path, 'w');
    try {
      await streamIter(fdIo(fd), openDump());
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path).equals(expected)).toBe(true);
  });

  it('/dev/null is no terminal (told by fstat) and is written directly', async () => {
    const fd = openSync('/dev/null', 'w');
    try {
      expect(isTerminalFd(fd)).toBe(false);
      expect(isTerminal(fdIo(fd), 'stdout')).toBe(false);
      await streamIter(fdIo(fd), openDump());
    } finally {
      closeSync(fd);
    }
  });
});

describe('streamIter to a pipe whose reader went away', () => {
  it('is StdoutClosedError (EPIPE), the fd closed', async () => {
    const { spawnSync } = await import('node:child_process');
    // A child writes a dump into a pipe whose reader (head -c 1) exits at once: EPIPE, a quiet exit 0.
    const src = `import { syntheticKernel } from ${JSON.stringify(join(import.meta.dirname, '../../../core/src/index.js'))};
import { attachIter, defaultDumper, loadProgram } from ${JSON.stringify(join(import.meta.dirname, '../../src/index.js'))};
import { streamIter } from ${JSON.stringify(join(import.meta.dirname, '../../src/cli/stream.js'))};
const kernel = syntheticKernel({ seed: 3, processes: 400, threadsPerProcess: 2, filesPerProcess: 20, vmasPerProcess: 2, sockets: 0, containers: 0 });
const prog = loadProgram(defaultDumper('task_file'), { kernel });
const link = attachIter(prog, { kernel });
const fd = link.open();
try { await streamIter({ fds: { stdout: 1, stderr: 2 }, get stdout() { throw new Error('stream used'); }, stderr: process.stderr }, fd); console.error('no error'); }
catch (e) { console.error(e.name, e.message, 'closed:', fd.isClosed); }`;
    const dir = mkdtempSync(join(tmpdir(), 'bpf-iter-stream-'));
    const file = join(dir, 'w.mts');
    (await import('node:fs')).writeFileSync(file, src);
    const r = spawnSync('/bin/sh', ['-c', `"$0" --import tsx --conditions=@bpf-iter/source "$1" | head -c 1 >/dev/null`, process.execPath, file], { encoding: 'utf8', cwd: join(import.meta.dirname, '../..') });
    expect(r.stderr).toContain('StdoutClosedError EPIPE: stdout closed by its reader closed: true');
  });
});

