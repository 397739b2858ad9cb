/**
 * The lazy host source (openHost) against this machine: a child process
 * the test starts holds known fds; the lazy kernel must read its fd table,
 * fdinfo and maps only when they are first accessed, give the values a
 * snapshot (readHost) gives, and skip what is gone by then, as the kernel
 * does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bpfRecords, openHostWithReport, readHostWithReport, TaskFileWalker, TaskVmaWalker, type Kernel, type Task } from '../src/index.js';
import { availability, suiteTitle } from './bpf_fixture.js';
import { anonPipeFops } from '../src/sources/procfs/fops.js';

const O_PATH = 0o10000000;
let dir: string;

/** A child holding fds: /dev/null read-only, O_PATH and O_RDWR|O_WRONLY (3); a file at pos 10; a FIFO. Each stdin line makes it write one byte to the file. */
interface Holder {
  child: ChildProcess;
  pid: number;
  fds: { ro: number; path: number; three: number; file: number; pipe: number };
}

async function startHolder(): Promise<Holder> {
  const js = `const fs = require('node:fs');
const fds = { ro: fs.openSync('/dev/null', 'r'), path: fs.openSync('/dev/null', ${O_PATH}), three: fs.openSync('/dev/null', 3),
  file: fs.openSync(${JSON.stringify(path.join(dir, 'pos.bin'))}, 'w+'), pipe: fs.openSync(${JSON.stringify(path.join(dir, 'fifo'))}, fs.constants.O_RDWR) };
fs.writeSync(fds.file, Buffer.alloc(10, 1));
process.stdout.write(JSON.stringify(fds) + '\\n');
process.stdin.on('data', () => { fs.writeSync(fds.file, Buffer.alloc(1, 2)); process.stdout.write('ok\\n'); });`;
  const child = spawn(process.execPath, ['-e', js], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit').then(() => Promise.reject(new Error('holder exited')))])) as [Buffer];
  return { child, pid: child.pid!, fds: JSON.parse(line.toString()) };
}

async function stop(h: Holder): Promise<void> {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return;
  const exited = once(h.child, 'exit');
  h.child.kill('SIGKILL');
  await exited;
}

let h: Holder;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpf-iter-lazy-'));
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  h = await startHolder();
});
afterAll(async () => {
  if (h) await stop(h);
  fs.rmSync(dir, { recursive: true, force: true });
});

const opts = { sockets: false, routes: false, ksyms: false, slabs: false, cgroups: false } as const;

function fileRows(kernel: Kernel, t: Task): string[] {
  const out: string[] = [];
  const w = new TaskFileWalker(kernel, { ns: kernel.initPidNs, type: 'TGID', pid: t.pid });
  for (let e = w.start(); e; e = w.next()) {
    const f = e.file;
    out.push(`${e.fd} ${f.path} ${f.f_inode.i_ino} ${f.f_inode.i_mode} ${f.f_inode.s_dev} ${f.f_op.name} ${f.f_flags} ${f.f_pos}`);
  }
  w.stop();
  return out;
}

describe('lazy host source: a child process the test holds', () => {
  it('reads the fd table and address space only when first accessed', () => {
    const { kernel, report } = openHostWithReport(opts);
    const t = kernel.task(h.pid);
    expect(t.files!.loaded).toBe(false);
    expect(t.mm!.loaded).toBe(false);
    const fds0 = report.counts.fds;
    expect(t.files!.fd[h.fds.ro]!.path).toBe('/dev/null');
    expect(t.files!.loaded).toBe(true);
    expect(report.counts.fds).toBeGreaterThan(fds0);
    expect(t.mm!.loaded).toBe(false);
    expect(t.mm!.vmaCount).toBeGreaterThan(0);
    expect(t.mm!.loaded).toBe(true);
  });

  it('walks the same files, with the same fields, as a snapshot of the process (tables listed from /proc)', () => {
    const { kernel: lazy, report } = openHostWithReport({ ...opts, fdTables: 'procfs' });
    const snap = readHostWithReport({ ...opts, pids: [h.pid] }).kernel;
    expect(fileRows(lazy, lazy.task(h.pid))).toEqual(fileRows(snap, snap.task(h.pid)));
    expect(report.fdTables).toBe('procfs');
    // close-on-exec (per fd, told by fdinfo): Node opens with O_CLOEXEC.
    const cloexec = (k: Kernel) => [...k.task(h.pid).files!.close_on_exec].sort((a, b) => a - b);
    expect(cloexec(openHostWithReport(opts).kernel)).toEqual(cloexec(snap)); // a fresh table: the set reads every fdinfo
    expect(cloexec(lazy)).toContain(h.fds.ro);
    expect(cloexec(lazy)).toEqual(cloexec(snap));
  });

  it('tells O_PATH fds (empty_fops) from the fd link, and reads fdinfo for the ambiguous O_RDWR|O_WRONLY', () => {
    const files = openHostWithReport(opts).kernel.task(h.pid).files!;
    expect(files.fd[h.fds.path]!.f_op.name).toBe('empty_fops');
    expect(files.fd[h.fds.path]!.f_flags & O_PATH).toBe(O_PATH);
    expect(files.fd[h.fds.ro]!.f_op.name).toBe('null_fops');
    expect(files.fd[h.fds.three]!.f_op.name).toBe('null_fops');
    expect(files.fd[h.fds.three]!.f_flags & 3).toBe(3);
    expect(files.fd[h.fds.pipe]!.f_op.name).toBe('pipefifo_fops');
  });

  it('reads f_pos and f_flags when a program first reads them, not with the table', async () => {
    const files = openHostWithReport(opts).kernel.task(h.pid).files!;
    const f = files.fd[h.fds.file]!; // the table is read here
    h.child.stdin!.write('x\n');
    await once(h.child.stdout!, 'data');
    // fdinfo is read now: the position after the write, not at the table's read.
    expect(f.f_pos).toBe(11);
    expect(f.f_flags & 3).toBe(2); // O_RDWR
  });

  it('skips a process that exited before its table or address space was read (no files, no mm)', async () => {
    const g = await startHolder();
    const { kernel, report } = openHostWithReport(opts);
    const t = kernel.task(g.pid);
    await stop(g);
    expect(fileRows(kernel, t)).toEqual([]);
    expect(t.files).toBeNull();
    const w = new TaskVmaWalker(kernel, { ns: kernel.initPidNs, type: 'TGID', pid: t.pid });
    expect(w.start()).toBeNull();
    w.stop();
    expect(t.mm).toBeNull();
    expect(report.vanished).toContain(g.pid);
    expect(report.denied).not.toContain(g.pid);
  });
});

const avail = availability('host_lazy fdTables bpf');

describe.skipIf(!avail.ok)(suiteTitle("lazy host source: fd tables listed by the kernel's task_file iterator (fdTables 'bpf')", avail), () => {
  it("lists the kernel's fds with the kernel's f_op addresses; the rest as /proc tells it", () => {
    const { kernel, report } = openHostWithReport({ ...opts, fdTables: 'bpf' });
    const t = kernel.task(h.pid);
    const kern = bpfRecords('task_file', { pid: h.pid });
    const rows: string[] = [];
    const w = new TaskFileWalker(kernel, { ns: kernel.initPidNs, type: 'TGID', pid: t.pid });
    for (let e = w.start(); e; e = w.next()) rows.push(`${e.task.tgid} ${e.fd} ${e.file.f_opAddr!.toString(16)}`);
    w.stop();
    expect(report.fdTables).toBe('bpf');
    expect(rows).toEqual(kern.map((r) => `${r.tgid} ${r.fd} ${r.f_op.toString(16)}`));
    // Paths, inodes, flags and positions: the values the /proc listing gives.
    const strip = (rs: string[]) => rs.map((r) => r.replace(/ (\w+)(@[0-9a-f]+)? (\d+ \d+)$/, ' $3'));
    const procfs = openHostWithReport({ ...opts, fdTables: 'procfs' }).kernel;
    expect(strip(fileRows(kernel, t))).toEqual(strip(fileRows(procfs, procfs.task(h.pid))));
    // The table's named kinds carry the kernel's addresses (one table per address).
    const files = t.files!;
    expect(files.fd[h.fds.ro]!.f_op).toBe(files.fd[h.fds.three]!.f_op);
    expect(files.fd[h.fds.ro]!.f_op.name).toBe('null_fops');
    expect(files.fd[h.fds.ro]!.f_op.addr).toBe(kern.find((r) => r.fd === h.fds.ro)!.f_op);
    expect(files.fd[h.fds.path]!.f_op.name).toBe('empty_fops');
  });

  it('names an anonymous pipe and a FIFO by the tables the kernel gives them', async () => {
    const fifo = path.join(dir, 'fifo');
    // fd 4: the read end of an anonymous pipe (process substitution), fd 5: the FIFO.
    const c = spawn('bash', ['-c', `exec 4< <(exec sleep 1000); exec 5<>${JSON.stringify(fifo)}; exec sleep 1000`], { stdio: 'ignore' });
    try {
      const t0 = Date.now();
      while (fs.readlinkSync(`/proc/${c.pid}/exe`, { encoding: 'utf8' }).endsWith('/bash') || !fs.existsSync(`/proc/${c.pid}/fd/5`)) {
        if (Date.now() - t0 > 10_000) throw new Error('the pipe holder did not start');
        await new Promise((r) => setTimeout(r, 20));
      }
      const kern = bpfRecords('task_file', { pid: c.pid! });
      const addrOf = (fd: number) => kern.find((r) => r.fd === fd)!.f_op;
      const files = openHostWithReport({ ...opts, fdTables: 'bpf' }).kernel.task(c.pid!).files!;
      const [pipe, ff] = [files.fd[4]!, files.fd[5]!];
      expect(pipe.path).toMatch(/^pipe:\[\d+\]$/);
      expect(ff.path).toBe(fifo);
      expect([pipe.f_op.addr, ff.f_op.addr]).toEqual([addrOf(4), addrOf(5)]);
      const release = fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8');
      // Since 6.15 the kernel gives anonymous pipes their own table.
      expect(addrOf(4) !== addrOf(5)).toBe(anonPipeFops(release) === 'pipeanon_fops');
      expect(pipe.f_op.name).toBe(anonPipeFops(release));
      expect(ff.f_op.name).toBe('pipefifo_fops');
    } finally {
      c.kill('SIGKILL');
    }
  });

  it('skips a process that exited before the tables were listed, and reads this process from /proc', async () => {
    const g = await startHolder();
    const { kernel, report } = openHostWithReport({ ...opts, fdTables: 'bpf' });
    const t = kernel.task(g.pid);
    await stop(g);
    expect(fileRows(kernel, t)).toEqual([]);
    expect(t.files).toBeNull();
    expect(report.vanished).toContain(g.pid);
    expect(report.fdTables).toBe('bpf');
    // This process's table moves with the iterator's own fds: listed and read from /proc, so its addresses are kallsyms' (or unknown).
    const self = kernel.task(process.pid).files!;
    expect(self.count).toBeGreaterThan(0);
    expect(self.fd.filter((f) => f).every((f) => f!.f_opAddr === null || f!.f_op.synthetic === false)).toBe(true);
  });
});

describe('lazy host source: fdTables, bad values', () => {
  it('an unknown value is EINVAL; bpf over a captured tree is EINVAL', () => {
    expect(() => openHostWithReport({ ...opts, fdTables: 'x' as 'bpf' })).toThrow(/EINVAL/);
    expect(() => openHostWithReport({ ...opts, root: dir, fdTables: 'bpf' })).toThrow(/EINVAL/);
  });
});

describe('lazy host source: credentials', () => {
  /** A child that drops to uid/gid 65534 on its first stdin line (the test runs as root). */
  async function startDropper(): Promise<{ child: ChildProcess; pid: number }> {
    const js = `process.stdin.on('data', () => { process.setgid(65534); process.setuid(65534); process.stdout.write('ok\\n'); });
process.stdout.write('ready\\n');`;
    const child = spawn(process.execPath, ['-e', js], { stdio: ['pipe', 'pipe', 'inherit'] });
    await once(child.stdout!, 'data');
    return { child, pid: child.pid! };
  }

  it.skipIf(process.getuid?.() !== 0)('reads uid and gid from the status when first read, for every thread', async () => {
    const d = await startDropper();
    try {
      const kernel = openHostWithReport(opts).kernel;
      const t = kernel.task(d.pid);
      d.child.stdin!.write('x\n');
      await once(d.child.stdout!, 'data');
      // Read now, after the drop: the values of the status at first access, not at open.
      const threads = t.signal.threads.toArray();
      expect(threads.length).toBeGreaterThan(1);
      for (const th of threads) {
        expect([th.uid, th.gid, th.uid_unknown, th.gid_unknown]).toEqual([65534, 65534, false, false]);
      }
      // A snapshot reads the same values.
      const snap = readHostWithReport({ ...opts, pids: [d.pid] }).kernel.task(d.pid);
      expect([snap.uid, snap.gid]).toEqual([65534, 65534]);
    } finally {
      d.child.kill('SIGKILL');
      await once(d.child, 'exit');
    }
  });

  it('marks uid and gid unknown for a task gone before they were read (never made up)', async () => {
    const d = await startDropper();
    const { kernel } = openHostWithReport(opts);
    const t = kernel.task(d.pid);
    d.child.kill('SIGKILL');
    await once(d.child, 'exit');
    expect(t.uid).toBe(0);
    expect(t.uid_unknown).toBe(true);
    expect(t.gid).toBe(0);
    expect(t.gid_unknown).toBe(true);
  });
});
