/**
 * The seed's programs, run as the examples run them, with their output
 * checked against the kernel model (and this host for ipv6_route).
 */
import { readFileSync } from 'node:fs';
import { asTask, AF_INET, defaultKernel, readHost, withKernel } from '@bpf-iter/core';
import { ipv6RouteLine, mapsLine } from '@bpf-iter/iter-programs';
import { describe, expect, it } from 'vitest';
import { exampleSelf, test_task_file } from './bpf_iter_task_ex.js';
import { test_task_file as test_target_pid } from './bpf_iter_task_ex_target_pid.js';
import { main as ipv6Route } from './ipv6_route.js';
import { test_task_vma } from './task_vmas.js';
import { main as tcp4 } from './tcp4.js';

function capture(fn: (out: (s: string) => void) => unknown): string {
  let s = '';
  fn((x) => (s += x));
  return s;
}

/** The `tgid pid fd f_op` lines the seed's program must print for a process, from the model. */
function expectedFileLines(pid: number): string[] {
  const t = defaultKernel().task(pid);
  const lines: string[] = [];
  t.files!.fd.forEach((f, fd) => {
    if (f) lines.push(`${String(t.tgid).padStart(8)} ${String(t.pid).padStart(8)} ${String(fd).padStart(8)} ${f.f_op.addr.toString(16)}`);
  });
  return lines;
}

describe('seed examples', () => {
  const self = exampleSelf();

  it('bpf_iter_task_ex: PID line, header, one line per fd of getpid() only', () => {
    const out = asTask(self, () => capture(test_task_file));
    const lines = out.split('\n');
    expect(lines[0]).toBe(`PID ${self.pid}`);
    expect(lines[1]).toBe('    tgid      pid       fd      file');
    const body = lines.slice(2).filter(Boolean);
    expect(body).toEqual(expectedFileLines(self.pid));
    expect(body.length).toBeGreaterThan(3);
  });

  it('the target_pid variant prints the same lines without link parameters', () => {
    const out = asTask(self, () => capture(test_target_pid));
    expect(out.split('\n').filter(Boolean)).toEqual(expectedFileLines(self.pid));
  });

  it('ipv6_route pinned then cat: the model routes as /proc/net/ipv6_route prints them', () => {
    const out = capture(ipv6Route);
    expect(out).toBe(defaultKernel().ipv6Routes.toArray().map(ipv6RouteLine).join(''));
  });

  it('ipv6_route on this host equals /proc/net/ipv6_route byte for byte', () => {
    const host = readHost({ ksyms: false, threads: false, files: false, vmas: false });
    const out = withKernel(host, () => capture(ipv6Route));
    expect(out).toBe(readFileSync('/proc/net/ipv6_route', 'utf8'));
  });

  it('task_vmas: every VMA of getpid() in maps form, no other task seen, read in 4-byte chunks', () => {
    let err = -1;
    const out = asTask(self, () => capture((o) => (err = test_task_vma(o))));
    expect(err).toBe(0);
    const lines = out.split('\n').filter(Boolean);
    const vmas = self.mm!.vmas();
    expect(lines.length).toBe(vmas.length);
    // The selftest compares with /proc/PID/maps whitespace-insensitively (the program prints a tab, no
    // padding, and no name for mappings without a file: it only prints bpf_d_path of vm_file).
    const norm = (s: string) => s.trim().split(/\s+/).join(' ');
    expect(lines.map(norm)).toEqual(vmas.map((v) => norm(v.vm_file ? mapsLine(v) : mapsLine({ ...v, name: null }))));
  });

  it('tcp4: header then the IPv4 sockets only, numbered from 0', () => {
    const out = capture(tcp4);
    const lines = out.split('\n').filter(Boolean);
    expect(lines[0]).toBe('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode');
    const v4 = defaultKernel().sockets('tcp').filter((s) => s.skc_family === AF_INET);
    expect(lines.length - 1).toBe(v4.length);
    lines.slice(1).forEach((l, i) => {
      expect(l.startsWith(`${String(i).padStart(4)}: `)).toBe(true);
      expect(l.split(/\s+/)[10]).toBe(String(v4[i]!.ino));
    });
  });
});
