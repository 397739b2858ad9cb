/**
 * The seed's C programs on the real kernel, in-process through libbpf:
 * each compared with its TypeScript port over the host model and with
 * /proc; the CLI (`run`, `iter pin` + plain `cat`/`rm`) and the public API
 * (globals, link info, fdinfo, update, every fd view, destroy once).
 * Skips with the reason only where BPF cannot run (not root, no BTF, no clang...).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstValueFrom, toArray } from 'rxjs';
import { buildBpfPrograms, readBpf, readHost, type Kernel } from '@bpf-iter/core';
import { attachIter, loadProgram, openObject, type BpfProgramSpec, type BpfIterLinkInfoInit } from '@bpf-iter/iter-programs';
import { iterObservable } from '@bpf-iter/iter-programs/rx';
import { runCli } from '../../packages/iter-programs/src/cli/cli.js';
import { targetDumper } from '../../packages/iter-programs/src/cli/cat.js';
import { kernelTextObject } from '../../packages/iter-programs/src/cli/kernel_text.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availability, suiteTitle } from '../../packages/core/test/bpf_fixture.js';
import * as taskExPort from '../programs/bpf_iter_task_ex.js';
import * as vmasPort from '../programs/bpf_iter_task_vmas.js';
import * as ipv6Port from '../programs/bpf_iter_ipv6_route.js';
import * as tcp4Port from '../programs/bpf_iter_tcp4.js';
import { taskEx } from './bpf_iter_task_ex.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const TASK_EX = here('./bpf_iter_task_ex.bpf.c');
const VMAS = here('./bpf_iter_task_vmas.bpf.c');
const IPV6 = here('./bpf_iter_ipv6_route.bpf.c');
const TCP4 = here('./bpf_iter_tcp4.bpf.c');
const MAP_ELEM = here('./bpf_iter_bpf_map_elem.bpf.c');

const a = availability('real kernel examples');

/** Runs a TypeScript port over a model kernel and returns its output. */
function runPort(kernel: Kernel, spec: BpfProgramSpec, linkInfo?: BpfIterLinkInfoInit, globals?: { bss?: object }): string {
  const prog = loadProgram(spec, { kernel, globals: globals as never });
  const link = attachIter(prog, linkInfo ? { kernel, linkInfo } : { kernel });
  prog.put();
  try {
    using fd = link.open();
    return fd.readText();
  } finally {
    link.close();
  }
}

/** Runs the CLI in-process; returns stdout, stderr and the exit code. */
async function cli(...argv: string[]): Promise<{ code: number; out: Buffer; err: string }> {
  const outs: Buffer[] = [];
  let err = '';
  const sink = (f: (c: Buffer) => void) => ({ write: (c: string | Uint8Array) => (f(Buffer.from(c)), true) }) as unknown as NodeJS.WritableStream;
  const code = await runCli(argv, { stdout: sink((c) => outs.push(c)), stderr: sink((c) => (err += c.toString())) });
  return { code, out: Buffer.concat(outs), err };
}

describe.skipIf(!a.ok)(suiteTitle('real kernel: the seed programs in C, in-process', a), () => {
  let child: ChildProcess;
  let pid: number;
  let server: Server;
  let port: number;
  let dir: string;

  beforeAll(async () => {
    // A process whose fds and mappings stay still while both sides read them.
    child = spawn('sleep', ['1000'], { stdio: ['pipe', 'pipe', 'pipe'] });
    pid = child.pid!;
    await new Promise<void>((r) => {
      const wait = () => (existsSync(`/proc/${pid}/exe`) && readlinkSync(`/proc/${pid}/exe`).endsWith('sleep') ? r() : setTimeout(wait, 10));
      wait();
    });
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    dir = mkdtempSync(join(tmpdir(), 'bpf-real-'));
  });
  afterAll(async () => {
    child.kill();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('bpf_iter_task_ex (linfo.task.pid): header, then one line per fd of that process only, real f_op addresses, as the TS port prints them on the host model', () => {
    using obj = openObject(TASK_EX);
    obj.program('dump_task_file_target_pid').autoload = false;
    obj.load();
    using link = attachIter(obj.program('dump_task_file'), { linkInfo: { task: { pid } } });
    const out = link.open().readText();
    const lines = out.split('\n').filter(Boolean);
    expect(lines[0]).toBe('    tgid      pid       fd      file');
    const fds = readdirSync(`/proc/${pid}/fd`).map(Number).sort((x, y) => x - y);
    expect(lines.slice(1).map((l) => Number(l.trim().split(/\s+/)[2]))).toEqual(fds);
    for (const l of lines.slice(1)) {
      const [tgid, tid, , fop] = l.trim().split(/\s+/);
      expect([Number(tgid), Number(tid)]).toEqual([pid, pid]);
      expect(fop).toMatch(/^ffffffff[0-9a-f]{8}$/);
    }
    // The TS port over this host: the same tgid, pid and fd columns. (The host model knows real f_op
    // addresses only when kallsyms lists data symbols, CONFIG_KALLSYMS_ALL; here it marks them synthetic.)
    const host = readHost({ pids: [pid], files: true, vmas: false, sockets: false, routes: false, ksyms: false });
    const cols3 = (s: string) => s.split('\n').map((l) => l.trim().split(/\s+/).slice(0, 3).join(' '));
    expect(cols3(runPort(host, taskExPort.dump_task_file, { task: { pid } }))).toEqual(cols3(out));
  });

  it('bpf_iter_task_ex (the target_pid global, set before load): the same lines without link parameters', () => {
    using obj = openObject(TASK_EX);
    expect(obj.globals('.bss')).toEqual([{ name: 'target_pid', type: 'int', typeId: expect.any(Number), offset: 0, size: 4 }]);
    obj.bss.target_pid = pid;
    obj.load();
    expect(obj.bss.target_pid).toBe(pid); // the live map value after load
    using link = attachIter(obj.program('dump_task_file_target_pid'));
    const out = link.open().readText();
    using obj2 = openObject(TASK_EX).load();
    using link2 = attachIter(obj2.program('dump_task_file'), { linkInfo: { task: { pid } } });
    expect(out).toBe(link2.open().readText().split('\n').slice(1).join('\n'));
  });

  it('the TypeScript script and `bpf-iter run OBJ --pid N` print identical bytes', async () => {
    const parts: Buffer[] = [];
    taskEx({ pid }, (c) => parts.push(c));
    const r = await cli('run', TASK_EX, '--pid', String(pid));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.equals(Buffer.concat(parts))).toBe(true);
    const t = await cli('run', TASK_EX, '--prog', 'dump_task_file_target_pid', '--set', `target_pid=${pid}`);
    const parts2: Buffer[] = [];
    taskEx({ targetPid: pid }, (c) => parts2.push(c));
    expect(t.out.equals(Buffer.concat(parts2))).toBe(true);
    expect(t.out.toString().split('\n').filter(Boolean).length).toBe(readdirSync(`/proc/${pid}/fd`).length);
  });

  it('bpf_iter_task_vmas: the process maps as /proc/PID/maps has them, one_task_error stays 0 (read after load), as the TS port prints them', () => {
    using obj = openObject(VMAS);
    obj.bss.pid = pid;
    obj.bss.one_task = 1;
    obj.load();
    using link = attachIter(obj.program('proc_maps'), { linkInfo: { task: { pid } } });
    const out = link.open().readText();
    expect(obj.bss.one_task_error).toBe(0);
    const lines = out.split('\n').filter(Boolean);
    const maps = readFileSync(`/proc/${pid}/maps`, 'utf8')
      .split('\n')
      .filter((l) => l && !l.endsWith('[vsyscall]')); // not a VMA: the iterator never sees it
    expect(lines.length).toBe(maps.length);
    lines.forEach((l, i) => {
      const f = maps[i]!.trim().split(/\s+/);
      const [fields, path] = l.split('\t');
      expect(fields!.split(' ')).toEqual(f.slice(0, 5));
      if (f[4] !== '0') expect(path).toBe(f.slice(5).join(' '));
      else expect(path).toBeUndefined();
    });
    const host = readHost({ pids: [pid], files: false, vmas: true, sockets: false, routes: false, ksyms: false });
    // The TS port over this host: the same bytes (the host model, like the kernel, has no [vsyscall] VMA).
    const ported = runPort(host, vmasPort.proc_maps, { task: { pid } }, { bss: { pid, one_task: 1, one_task_error: 0 } });
    expect(ported).toBe(out);
  });

  it('bpf_iter_ipv6_route: `iter pin` makes a real pin that plain cat reads (= /proc/net/ipv6_route and the TS port), rm removes it', async () => {
    const path = `/sys/fs/bpf/bpf_iter_test_route_${process.pid}`;
    const r = await cli('iter', 'pin', IPV6, path);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    try {
      const catted = execFileSync('cat', [path], { encoding: 'utf8' });
      expect(catted).toBe(readFileSync('/proc/net/ipv6_route', 'utf8'));
      const host = readHost({ files: false, vmas: false, sockets: false, threads: false, routes: true, ksyms: false });
      expect(runPort(host, ipv6Port.dump_ipv6_route)).toBe(catted);
      expect(execFileSync('cat', [path], { encoding: 'utf8' })).toBe(catted); // each open is a new session
      const again = await cli('iter', 'pin', IPV6, path);
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/^bpf-iter: Error: EEXIST: /);
    } finally {
      execFileSync('rm', [path]);
    }
    expect(existsSync(path)).toBe(false);
  });

  it('bpf_iter_tcp4: this test\'s listening socket with the columns /proc/net/tcp and the TS port give it', () => {
    using obj = openObject(TCP4).load();
    using link = attachIter(obj.program('dump_tcp4'));
    const out = link.open().readText();
    const lines = out.split('\n').filter(Boolean);
    expect(lines[0]).toBe('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode');
    lines.slice(1).forEach((l, i) => expect(l.startsWith(`${String(i).padStart(4)}: `)).toBe(true));
    const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    // Columns local..inode (sl numbers differ: /proc counts IPv6 sockets' slots too).
    const cols = (l: string | undefined) => l?.trim().split(/\s+/).slice(1, 10);
    const mine = lines.find((l) => l.split(/\s+/)[2] === local);
    const proc = readFileSync('/proc/net/tcp', 'utf8').split('\n').find((l) => l.trim().split(/\s+/)[1] === local);
    expect(mine).toBeDefined();
    expect(cols(mine)).toEqual(cols(proc));
    const host = readHost({ files: false, vmas: false, threads: false, sockets: true, routes: false, ksyms: false });
    const port_ = runPort(host, tcp4Port.dump_tcp4).split('\n').find((l) => l.split(/\s+/)[2] === local);
    expect(cols(port_)).toEqual(cols(mine));
  });

  it('the API: link info, fdinfo, pin on bpffs, update (EPERM for a wrong old program), every fd view, destroy once', async () => {
    using obj = openObject(TASK_EX).load();
    const p1 = obj.program('dump_task_file');
    const p2 = obj.program('dump_task_file_target_pid');
    obj.bss.target_pid = pid; // after load: the live .bss
    const link = attachIter(p1, { linkInfo: { task: { pid } } });
    const info = link.info();
    expect(info.type).toBe(4); // BPF_LINK_TYPE_ITER
    expect(info.iter.target_name).toBe('task_file');
    expect(info.iter.task).toEqual({ tid: 0, pid });
    expect(link.fdinfo()).toMatch(new RegExp(`link_type:\\titer\\nlink_id:\\t${info.id}\\n[^]*target_name:\\ttask_file\\n[^]*pid:\\t${pid}\\n`));
    const whole = link.open().readText();
    // read(n) in 15-byte chunks (the seed's buffer), lines, Readable, async iterator, Observable: the same bytes.
    const fd = link.open();
    let small = '';
    for (let b = fd.read(15); b.length; b = fd.read(15)) {
      expect(b.length).toBeLessThanOrEqual(15);
      small += b.toString();
    }
    fd.close();
    expect(() => fd.close()).toThrow(/EBADF/);
    expect(small).toBe(whole);
    expect([...link.open().lines()].join('\n') + '\n').toBe(whole);
    const chunks: Buffer[] = [];
    for await (const c of link.open().toStream({ chunkSize: 64 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(whole);
    const viaAsync: Buffer[] = [];
    for await (const c of link.open()) viaAsync.push(c);
    expect(Buffer.concat(viaAsync).toString()).toBe(whole);
    const obs = await firstValueFrom(iterObservable(link).pipe(toArray()));
    expect(Buffer.concat(obs).toString()).toBe(whole);
    // Pin on the real bpffs: open(2) of the pin is a new session.
    const path = `/sys/fs/bpf/bpf_iter_test_api_${process.pid}`;
    link.pin(path);
    try {
      expect(readFileSync(path, 'utf8')).toBe(whole);
    } finally {
      link.unpin();
    }
    expect(existsSync(path)).toBe(false);
    // BPF_LINK_UPDATE: the next session runs the new program (no header, the target_pid filter).
    expect(() => link.update(p2, p2)).toThrow(/EPERM/);
    link.update(p2, p1);
    expect(link.info().prog_id).not.toBe(info.prog_id);
    expect(link.open().readText()).toBe(whole.split('\n').slice(1).join('\n'));
    link.close();
    link.close(); // once: the second close is a no-op
    expect(() => link.open()).toThrow(/EBADF/);
    expect(link.released).toBe(true);
  });

  it('load failures carry the errno and the verifier\'s verdict; bad globals and names are one clear error each', () => {
    const bad = join(dir, 'bad.bpf.c');
    writeFileSync(
      bad,
      '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\nchar _license[] SEC("license") = "GPL";\n' +
        'SEC("iter/task") int no_null_check(struct bpf_iter__task *ctx) { BPF_SEQ_PRINTF(ctx->meta->seq, "%d\\n", ctx->task->pid); return 0; }\n',
    );
    const obj = openObject(bad);
    try {
      expect(() => obj.load()).toThrow(/^EACCES: load .*bad\.bpf\.c: verifier: .*R\d+ invalid mem access/);
    } finally {
      obj.close();
    }
    using ok = openObject(TASK_EX);
    expect(() => (ok.bss.no_such = 1)).toThrow(/^ENOENT: no global 'no_such' in \.bss \(has: target_pid\)/);
    expect(() => (ok.bss.target_pid = 2 ** 31)).toThrow(/^EINVAL: .*out of range/);
    expect(() => ok.program('nope')).toThrow(/^ENOENT: no program 'nope'/);
    expect(() => attachIter(ok.program('dump_task_file'))).toThrow(/^EINVAL: .*was it loaded\?/);
    expect(() => openObject(join(dir, 'missing.bpf.o'))).toThrow(/^ENOENT/);
    writeFileSync(join(dir, 'syntax.bpf.c'), 'int x = ;\n');
    expect(() => openObject(join(dir, 'syntax.bpf.c'))).toThrow(/^EINVAL: clang syntax\.bpf\.c failed/);
    // The kernel checks the link info: a task target given bytes past the union that are not zero.
    ok.load();
    const big = new Uint8Array(32);
    big[20] = 1;
    expect(() => attachIter(ok.program('dump_task_file'), { linkInfo: big })).toThrow(/^E2BIG/);
    ok.close();
    expect(() => ok.bss.target_pid).toThrow(/^EBADF/);
  });

  it('a .bpf.c is compiled once: the second open uses the cached object', () => {
    const a1 = openObject(TASK_EX);
    const a2 = openObject(TASK_EX);
    try {
      expect(a2.path).toBe(a1.path);
      expect(a1.source).toBe(TASK_EX);
    } finally {
      a1.close();
      a2.close();
    }
  });

  it('prog show / map show list the real kernel\'s objects, like bpftool (-j)', async () => {
    using obj = openObject(TASK_EX).load();
    const fdinfo = readFileSync(`/proc/self/fdinfo/${obj.program('dump_task_file').fd}`, 'utf8');
    const id = Number(/prog_id:\t(\d+)/.exec(fdinfo)![1]);
    const r = await cli('prog', 'show', '-j');
    expect(r.code).toBe(0);
    const mine = (JSON.parse(r.out.toString()) as { id: number; name: string; type: string; map_ids: number[] }[]).find((p) => p.id === id);
    expect(mine).toMatchObject({ name: 'dump_task_file', type: 'tracing' });
    const bpftool = JSON.parse(execFileSync('bpftool', ['prog', 'show', 'id', String(id), '-j'], { encoding: 'utf8' })) as Record<string, unknown>;
    for (const k of ['id', 'type', 'name', 'tag', 'gpl_compatible', 'uid', 'bytes_xlated', 'bytes_jited', 'bytes_memlock', 'map_ids', 'btf_id']) expect(mine![k as 'id'], k).toEqual(bpftool[k]);
    const m = await cli('map', 'show', '-j');
    const maps = JSON.parse(m.out.toString()) as { id: number; name: string }[];
    for (const mid of mine!.map_ids) expect(maps.some((x) => x.id === mid)).toBe(true);
    expect((await cli('prog', 'show')).out.toString()).toContain(`${id}: tracing  name dump_task_file  tag `);
  });

  it('iter/bpf_map_elem over the object\'s own .data map prints its one element with link show\'s map_id, or the kernel refuses the program with the reason', async () => {
    using obj = openObject(MAP_ELEM);
    obj.data.seed = 4242;
    try {
      obj.load();
    } catch (e) {
      // This kernel (6.18.44-fc) refuses iter/bpf_map_elem (and bpf_sk_storage_map, sockmap) before verifying anything.
      expect(e).toMatchObject({ errno: 'EPERM' });
      expect((e as Error).message).toMatch(/refused before the first instruction \(processed 0 insns, no message\)/);
      console.warn('bpf_map_elem: this kernel refuses the program at load (EPERM); the read half of this test did not run');
      return;
    }
    const data = obj.map('.data');
    using link = attachIter(obj.program('dump_map_elem'), { linkInfo: { map: { map_fd: data.fd } } });
    expect(link.open().readText()).toBe('0 4242\n');
    const mapId = link.info().iter.map.map_id;
    expect(mapId).toBeGreaterThan(0);
    const rows = JSON.parse((await cli('link', 'show', '--kernel', 'bpf', 'id', String(link.id), '-j')).out.toString()) as unknown[];
    expect(rows).toEqual([{ id: link.id, type: 'iter', prog_id: link.info().prog_id, target_name: 'bpf_map_elem', map_id: mapId }]);
  });

  it('cat task_file --kernel bpf streams the in-kernel dumper: the bytes `cat` prints over the bpf model, for the test\'s process', async () => {
    expect(kernelTextObject('task_file', { kernel: 'bpf', pid })).toMatch(/text_task_file\.bpf\.o$/);
    for (const o of [{ kernel: 'bpf', json: true }, { kernel: 'host' }, { kernel: 'bpf', set: ['x=1'] }]) expect(kernelTextObject('task_file', o)).toBeNull();
    expect(kernelTextObject('task', { kernel: 'bpf' })).toBeNull();
    const streamed = await cli('cat', 'task_file', '--kernel', 'bpf', '--pid', String(pid));
    expect(streamed.code).toBe(0);
    const model = readBpf({ vmas: false, sockets: false, routes: false, ksyms: false, bpfObjects: false, cgroups: false, slabs: false });
    const viaModel = runPort(model, targetDumper('task_file', false), { task: { pid } });
    expect(viaModel.split('\n').length).toBeGreaterThan(4); // header, sleep's fds 0-2, end
    expect(streamed.out.toString()).toBe(viaModel);
  });

  it('link show --kernel bpf lists the real kernel\'s links like bpftool link show (-j): task pid / tid, cgroup id + order', async () => {
    using obj = openObject(TASK_EX);
    obj.program('dump_task_file_target_pid').autoload = false;
    obj.load();
    using cg = openObject(join(buildBpfPrograms(), 'cgroup.bpf.o')).load();
    const tid = pid; // `sleep` has one thread: its tid is its pid
    using byPid = attachIter(obj.program('dump_task_file'), { linkInfo: { task: { pid } } });
    using byTid = attachIter(obj.program('dump_task_file'), { linkInfo: { task: { tid } } });
    using plain = attachIter(obj.program('dump_task_file'));
    using tree = attachIter(cg.firstIterProgram(), { linkInfo: { cgroup: { cgroup_id: 1, order: 3 } } });
    const progId = byPid.info().prog_id;
    const cgProg = tree.info().prog_id;
    const want = [
      { id: byPid.id, type: 'iter', prog_id: progId, target_name: 'task_file', pid },
      { id: byTid.id, type: 'iter', prog_id: progId, target_name: 'task_file', tid },
      { id: plain.id, type: 'iter', prog_id: progId, target_name: 'task_file' },
      { id: tree.id, type: 'iter', prog_id: cgProg, target_name: 'cgroup', cgroup_id: 1, order: 'descendants_post' },
    ];
    const r = await cli('link', 'show', '--kernel', 'bpf', '-j');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out.toString()) as Record<string, unknown>[];
    for (const w of want) expect(rows.find((x) => x.id === w.id)).toEqual(w);
    // bpftool prints the same keys (its version may omit the task parameters: it prints what it knows).
    for (const w of want) {
      const b = JSON.parse(execFileSync('bpftool', ['link', 'show', 'id', String(w.id), '-j'], { encoding: 'utf8' })) as Record<string, unknown>;
      for (const [k, v] of Object.entries(b)) if (k !== 'pinned' && k !== 'pids') expect(rows.find((x) => x.id === w.id)![k], `link ${w.id} ${k}`).toEqual(v);
      expect(Object.keys(b).filter((k) => !(k in w) && k !== 'pinned' && k !== 'pids')).toEqual([]);
    }
    // Text: bpftool's line for a link without parameters, byte for byte; `id ID` selects one, an unknown id is ENOENT.
    const one = await cli('link', 'show', '--kernel', 'bpf', 'id', String(plain.id));
    expect(one.out.toString()).toBe(execFileSync('bpftool', ['link', 'show', 'id', String(plain.id)], { encoding: 'utf8' }));
    expect((await cli('link', 'show', '--kernel', 'bpf', 'id', String(tree.id))).out.toString()).toBe(`${tree.id}: iter  prog ${cgProg}  target_name cgroup  cgroup_id 1  order descendants_post  \n`);
    expect((await cli('link', 'show', '--kernel', 'bpf', 'id', String(byPid.id))).out.toString()).toBe(`${byPid.id}: iter  prog ${progId}  target_name task_file  pid ${pid} \n`);
    const gone = await cli('link', 'show', '--kernel', 'bpf', 'id', '4294967295');
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/ENOENT: no link with id 4294967295/);
    expect((await cli('link', 'show', '--kernel', 'host')).err).toMatch(/EINVAL: link show --kernel takes only bpf/);
  });
});
