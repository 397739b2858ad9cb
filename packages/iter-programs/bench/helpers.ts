/**
 * Cost of a helper call from a running program against the model operation
 * it wraps, in one run:
 *
 *   npx tsx --conditions=@bpf-iter/source packages/iter-programs/bench/helpers.ts
 *
 * One iterator session on a small model (one task; one socket for the
 * socket helpers, on `iter/tcp`) whose program makes N
 * calls of each helper; the baseline is the same N operations on the model
 * directly (`map.lookup`, `map.update`, reading `sockOpts(sk).icsk_ca_name`,
 * a plain loop), outside any program. Best of ROUNDS, process CPU time,
 * calls/s and the ratio to the baseline. No target: it shows the price of
 * the kernel's checks (availability, flags, errnos) per call.
 */
import { loadavg } from 'node:os';
import { BPF_MAP_TYPE_HASH, Kernel, withKernel } from '@bpf-iter/core';
import { attachIter, bpf_getsockopt, bpf_loop, bpf_map_lookup_elem, bpf_map_update_elem, loadProgram, SEC, SOL_TCP, TCP_CONGESTION } from '../src/index.js';
import '../src/targets/index.js';

const N = 200_000;
const ROUNDS = Number(process.env.ROUNDS ?? 7);

const k = new Kernel();
k.createTask({ comm: 'bench', mm: k.newMm() });
const map = k.createMap({ map_type: BPF_MAP_TYPE_HASH, key_size: 4, value_size: 8, max_entries: 1024 });
const keys = Array.from({ length: 1024 }, (_, i) => Uint8Array.from([i & 255, i >> 8, 0, 0]));
const val = new Uint8Array(8);
for (const key of keys) map.update(key, val);
const { Socket, IPPROTO_TCP, AF_INET, SOCK_STREAM, TCP_ESTABLISHED } = await import('@bpf-iter/core');
const sk = k.addSocket(new Socket({ proto: 'tcp', skc_family: AF_INET, sk_type: SOCK_STREAM, sk_protocol: IPPROTO_TCP, skc_state: TCP_ESTABLISHED, skc_rcv_saddr: new Uint8Array(4), skc_daddr: new Uint8Array(4), skc_num: 1, dport: 2, ino: 1, cookie: 1n }));
const cc = new Uint8Array(16);

/** Runs `body` once inside a task program (the helpers' checks see a running program). */
function inProgram(body: () => void, target = 'task', field = 'task'): number {
  const prog = loadProgram(SEC(`iter/${target}`, (ctx: any) => (ctx[field] ? (body(), 0) : 0)), { kernel: k });
  const link = withKernel(k, () => attachIter(prog));
  prog.put();
  const t0 = process.cpuUsage();
  const fd = withKernel(k, () => link.open());
  fd.readAll();
  const d = process.cpuUsage(t0);
  fd.close();
  link.close();
  return (d.user + d.system) * 1000;
}
function direct(body: () => void): number {
  const t0 = process.cpuUsage();
  body();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) * 1000;
}

let sink = 0;
const pairs: [string, () => void, () => void, string?, string?][] = [
  ['bpf_map_lookup_elem (hash)', () => { for (let i = 0; i < N; i++) sink += bpf_map_lookup_elem(map, keys[i & 1023]!)!.length; }, () => { for (let i = 0; i < N; i++) sink += map.lookup(keys[i & 1023]!).length; }],
  ['bpf_map_update_elem (hash, BPF_EXIST)', () => { for (let i = 0; i < N; i++) sink += bpf_map_update_elem(map, keys[i & 1023]!, val, 2); }, () => { for (let i = 0; i < N; i++) map.update(keys[i & 1023]!, val, 2); }],
  ['bpf_getsockopt TCP_CONGESTION', () => { for (let i = 0; i < N; i++) sink += bpf_getsockopt(sk, SOL_TCP, TCP_CONGESTION, cc); }, () => { for (let i = 0; i < N; i++) sink += k.sockOpts(sk).icsk_ca_name.length; }, 'tcp', 'sk_common'],
  ['bpf_loop (N callbacks)', () => { sink += bpf_loop(N, (i) => ((sink += i), 0), null, 0); }, () => { for (let i = 0; i < N; i++) sink += i; }],
];

for (let r = 0; r < 2; r++) for (const [, h, b, t, f] of pairs) (inProgram(h, t, f), direct(b));
console.log(`N = ${N} calls per run, best of ${ROUNDS} rounds, node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}`);
for (const [name, h, b, t, f] of pairs) {
  let bh = Infinity;
  let bb = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    bh = Math.min(bh, inProgram(h, t, f));
    bb = Math.min(bb, direct(b));
  }
  const ch = N / (bh / 1e9);
  const cb = N / (bb / 1e9);
  console.log(`${name.padEnd(40)} ${(ch / 1e6).toFixed(2).padStart(7)} M calls/s   baseline ${(cb / 1e6).toFixed(2).padStart(7)} M ops/s   ratio ${(ch / cb).toFixed(2)}`);
}
if (sink === -1) console.log(sink);
