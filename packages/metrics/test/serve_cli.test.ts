/** `bpf-iter serve` in-process: --program modules (samples), option errors, and the real kernel (host, bpf). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../iter-programs/src/cli/cli.js';
import { serve, type ServeCliOptions } from '../../iter-programs/src/cli/serve.js';
import { availability, suiteTitle } from '../../core/test/bpf_fixture.js';
import { catTaskStates } from './helpers.js';

const PROGRAMS = resolve(import.meta.dirname, '../../iter-programs/src/index.ts');
const METRICS = resolve(import.meta.dirname, '../src/index.ts');

class Text extends Writable {
  text = '';
  override _write(c: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.text += c.toString();
    cb();
  }
}

const defaults: ServeCliOptions = { listen: '127.0.0.1:0', otlpInterval: 10_000, maxSeries: 1000, top: 20, cacheMs: 1000 };

/** Runs serve until `body` returns; hands `body` the /metrics text. */
async function withServe<T>(o: Partial<ServeCliOptions>, body: (metrics: string) => T | Promise<T>): Promise<T> {
  const stdout = new Text();
  const stderr = new Text();
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const running = serve({ stdout, stderr, env: {} }, { ...defaults, ...o }, stopped);
  try {
    for (let i = 0; i < 600 && !/serving (http:\S+)/.test(stdout.text); i++) {
      const done = await Promise.race([running.then(() => true), new Promise((r) => setTimeout(() => r(false), 50))]);
      if (done) throw new Error('serve returned before serving');
    }
    const url = /serving (http:\S+)/.exec(stdout.text)![1]!;
    return await body(await (await fetch(url)).text());
  } finally {
    stop();
    await running;
  }
}

function value(metrics: string, series: string): number | undefined {
  const l = metrics.split('\n').find((x) => x.startsWith(series + ' '));
  return l === undefined ? undefined : Number(l.slice(series.length + 1));
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bpf-iter-serve-'));
  writeFileSync(
    join(dir, 'states.mts'),
    `import { SEC, bpf_seq_write } from ${JSON.stringify(PROGRAMS)};
import { sampleLine } from ${JSON.stringify(METRICS)};
export const task_states = SEC('iter/task', function task_states(ctx) {
  if (ctx.task) bpf_seq_write(ctx.meta.seq, sampleLine('task_states', { state: ctx.task.state }, 1));
  return 0;
}, { helpers: ['bpf_seq_write'] });
`,
  );
  writeFileSync(
    join(dir, 'bad.mts'),
    `import { SEC, bpf_seq_write } from ${JSON.stringify(PROGRAMS)};
export const bad = SEC('iter/task', function bad(ctx) {
  if (ctx.task) bpf_seq_write(ctx.meta.seq, 'pid ' + ctx.task.pid + ' is here\\n');
  return 0;
}, { helpers: ['bpf_seq_write'] });
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bpf-iter serve --program', () => {
  it("serves a module's sample lines, summed per series: the task states `cat task` counts", async () => {
    const want = await catTaskStates('synthetic:5');
    await withServe({ program: join(dir, 'states.mts'), kernel: 'synthetic:5' }, (m) => {
      for (const [state, n] of Object.entries(want)) expect(value(m, `task_states{state="${state}"}`), state).toBe(n);
    });
  });

  it('fails before listening, with EINVAL naming the line, when the output is not samples', async () => {
    await expect(withServe({ program: join(dir, 'bad.mts') }, () => 0)).rejects.toThrow(/^EINVAL: not a sample line \(value\): "pid 1 is here"/);
  });

  it('refuses options that only apply to --program, a bad --listen (one errno line, exit 1), an unknown kernel (usage: exit 2)', async () => {
    const run = async (args: string[]) => {
      const stdout = new Text();
      const stderr = new Text();
      const code = await runCli(['serve', ...args], { stdout, stderr, env: {} });
      return { code, err: stderr.text.trim() };
    };
    expect(await run(['--prog', 'x'])).toEqual({ code: 1, err: 'bpf-iter: Error: EINVAL: --prog, --set, --pid and --tid apply to --program' });
    expect(await run(['--listen', 'nowhere'])).toEqual({ code: 1, err: "bpf-iter: Error: EINVAL: --listen wants HOST:PORT, not 'nowhere'" });
    expect(await run(['--kernel', 'mars'])).toEqual({ code: 2, err: expect.stringMatching(/^bpf-iter: error: EINVAL: --kernel must be host, bpf, synthetic/) });
    expect((await run(['--program', join(dir, 'missing.mts')])).err).toMatch(/^bpf-iter: Error: ENOENT: no such file/);
    expect((await run(['--top', '0'])).err).toBe('bpf-iter: Error: EINVAL: --top and --max-series must be at least 1');
  });
});

const avail = availability('serve on the real kernel');
describe.skipIf(!avail.ok)(suiteTitle('bpf-iter serve on the real kernel', avail), () => {
  let child: ChildProcess;
  beforeAll(async () => {
    // One sleeping thread this test owns: its state is S in both sources.
    child = spawn('sleep', ['600'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
  });
  afterAll(() => {
    child.kill();
  });
  for (const kernel of ['host', 'bpf'])
    it(`--kernel ${kernel} --pid CHILD: the child's one sleeping thread`, async () => {
      await withServe({ program: join(dir, 'states.mts'), kernel, pid: child.pid! }, (m) => {
        expect(m.split('\n').filter((l) => l.startsWith('task_states{'))).toEqual(['task_states{state="S"} 1']);
      });
    });
  for (const kernel of ['host', 'bpf'])
    it(`--kernel ${kernel}: the default set's fds, VMAs and mapped bytes of a child are the kernel's (/proc/CHILD/fd and maps)`, async () => {
      const pid = child.pid!;
      const fds = readdirSync(`/proc/${pid}/fd`).length;
      // The task_vma iterator walks the mm's VMAs: [vsyscall] is a gate area, not one of them.
      const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter((l) => l && !l.endsWith('[vsyscall]'));
      const bytes = maps.reduce((n, l) => n + parseInt(l.split('-')[1]!, 16) - parseInt(l.split('-')[0]!, 16), 0);
      // Every process reported (no top-N): the child's series must be there whatever else runs.
      await withServe({ kernel, top: 1_000_000, maxSeries: 1_000_000 }, (m) => {
        const labels = `{tgid="${pid}",comm="sleep"}`;
        expect(value(m, `bpf_iter_process_fds${labels}`)).toBe(fds);
        expect(value(m, `bpf_iter_process_vmas${labels}`)).toBe(maps.length);
        expect(value(m, `bpf_iter_process_vma_bytes${labels}`)).toBe(bytes);
        expect(value(m, `bpf_iter_process_threads${labels}`)).toBe(1);
      });
    });
  it('--kernel bpf: the default set reads every target it needs (tasks and slab caches present)', async () => {
    await withServe({ kernel: 'bpf' }, (m) => {
      expect(m).toMatch(/^bpf_iter_tasks\{state="S"\} \d+$/m);
      expect(m).toMatch(/^bpf_iter_kmem_cache_objects\{cache="[^"]+"\} \d+$/m);
      expect(m).toMatch(/^bpf_iter_process_fds\{tgid="\d+",comm="[^"]*"\} \d+$/m);
    });
  });
});
