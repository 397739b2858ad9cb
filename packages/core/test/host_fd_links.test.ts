/**
 * The async snapshot's fd links from the kernel's task_file iterator
 * (`fdLinks: 'bpf'`) against readlink (`'procfs'`) and against readlink of
 * /proc/PID/fd/N done here: the same strings for every kind of fd a child
 * the test spawned holds still (files with spaces and UTF-8 in their names,
 * a deleted file, a memfd, a pipe, sockets, an eventfd, /dev/null many
 * times, a path longer than the iterator's 256-byte record), and the same
 * model. Skips the bpf side with the reason where BPF cannot run; the
 * option's errors are tested everywhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHostWithReportAsync, type HostAsyncOptions, type Kernel } from '../src/index.js';
import { availability, suiteTitle } from './bpf_fixture.js';

const avail = availability('host fd links from the task_file iterator');

const CHILD = String.raw`
import json, os, socket, sys
d = sys.argv[1]
keep = []
keep.append(os.open(os.path.join(d, 'with space é ü.txt'), os.O_RDONLY))
gone = os.path.join(d, 'gone.txt'); keep.append(os.open(gone, os.O_RDONLY)); os.unlink(gone)
keep.append(os.memfd_create('bpf-iter-test'))
r, w = os.pipe(); keep += [r, w]
t = socket.socket(); t.bind(('127.0.0.1', 0)); t.listen(); keep.append(t)
u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); keep.append(u)
keep.append(os.eventfd(0))
keep += [os.open('/dev/null', os.O_RDONLY) for _ in range(3000)]
keep.append(os.open(sys.argv[2], os.O_RDONLY))
print(json.dumps({'pid': os.getpid()}), flush=True)
sys.stdin.read()
`;

let dir: string;
let proc: ChildProcess;
let pid: number;

/** fd -> link of the child in a model. */
function linksOf(k: Kernel): Map<number, string> {
  const m = new Map<number, string>();
  k.task(pid).files!.fd.forEach((f, n) => {
    if (f) m.set(n, f.path);
  });
  return m;
}

/** fd -> inode, mode, dev, fops of the child in a model. */
function identitiesOf(k: Kernel): string[] {
  const out: string[] = [];
  k.task(pid).files!.fd.forEach((f, n) => {
    if (f) out.push(`${n} ${f.f_inode.i_ino} ${f.f_inode.i_mode} ${f.f_inode.s_dev} ${f.f_op.name}`);
  });
  return out;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpf-iter-fd-links-'));
  fs.writeFileSync(path.join(dir, 'with space é ü.txt'), 'x');
  fs.writeFileSync(path.join(dir, 'gone.txt'), 'x');
  // A path longer than the record's 256 bytes: bpf_d_path fails, readlink reads it.
  let long = dir;
  for (let i = 0; long.length < 300; i++) long = path.join(long, `d${i}-${'x'.repeat(40)}`);
  fs.mkdirSync(long, { recursive: true });
  const longFile = path.join(long, 'f');
  fs.writeFileSync(longFile, 'x');
  proc = spawn('python3', ['-c', CHILD, dir, longFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  pid = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out).pid);
    });
    proc.on('exit', (c) => reject(new Error(`python child exited with ${c}`)));
  });
});

afterAll(() => {
  proc?.stdin!.end();
  proc?.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

const opts: HostAsyncOptions = { vmas: false, fdinfo: false, sockets: false, ksyms: false, slabs: false, routes: false, cgroups: false };

describe.skipIf(!avail.ok)(suiteTitle("readHostWithReportAsync fdLinks 'bpf'", avail), () => {
  it('gives every fd the link readlink gives, for every kind of fd', async () => {
    const direct = new Map<number, string>();
    for (const name of fs.readdirSync(`/proc/${pid}/fd`)) direct.set(Number(name), fs.readlinkSync(`/proc/${pid}/fd/${name}`));
    // All processes (the walk the bench times) and the child alone (the iterator told its pid).
    for (const pids of [undefined, [pid]]) {
      const viaBpf = await readHostWithReportAsync({ ...opts, ...(pids ? { pids } : {}), fdLinks: 'bpf' });
      expect(viaBpf.report.fdLinks).toBe('bpf');
      expect(linksOf(viaBpf.kernel)).toEqual(direct);
      // Of the child's, only the long path was read by readlink (the whole machine: this process's own too).
      if (pids) expect(viaBpf.report.fdLinksByReadlink).toBe(1);
    }
    const links = [...direct.values()];
    for (const want of [/ \(deleted\)$/, /^\/memfd:bpf-iter-test \(deleted\)$/, /^pipe:\[\d+\]$/, /^socket:\[\d+\]$/, /^anon_inode:\[eventfd\]$/, /with space é ü\.txt$/]) expect(links.some((l) => want.test(l)), String(want)).toBe(true);
    expect(links.some((l) => l.length > 256)).toBe(true);
    expect(links.filter((l) => l === '/dev/null').length).toBe(3000);
  });

  it("builds the same fd table as 'procfs' (inodes, modes, devices, fops)", async () => {
    const a = await readHostWithReportAsync({ ...opts, pids: [pid], fdLinks: 'bpf' });
    const b = await readHostWithReportAsync({ ...opts, pids: [pid], fdLinks: 'procfs' });
    expect(b.report.fdLinks).toBe('procfs');
    expect(b.report.fdLinksByReadlink).toBe(b.report.counts.fds);
    expect(identitiesOf(a.kernel)).toEqual(identitiesOf(b.kernel));
    expect(a.report.counts.fds).toBe(b.report.counts.fds);
  });
});

describe('readHostWithReportAsync fdLinks: bad values', () => {
  it('an unknown value is EINVAL; bpf over a captured tree is EINVAL', async () => {
    await expect(readHostWithReportAsync({ ...opts, pids: [process.pid], fdLinks: 'x' as 'bpf' })).rejects.toThrow(/EINVAL/);
    await expect(readHostWithReportAsync({ ...opts, root: dir, fdLinks: 'bpf' })).rejects.toThrow(/EINVAL/);
  });
});
