/** Shared helpers of the built-in target tests: hand-built kernels, sessions, recorders. */
import {
  asTask,
  AF_INET,
  AF_INET6,
  AF_NETLINK,
  AF_UNIX,
  IPPROTO_TCP,
  IPPROTO_UDP,
  Kernel,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_STREAM,
  Socket,
  TCP_ESTABLISHED,
  TCP_LISTEN,
  withKernel,
  type SockProto,
  type Task,
} from '@bpf-iter/core';
import '../../src/targets/index.js';
import { attachIter, loadProgram, SEC, type BpfIterLink, type BpfProgramSpec, type IterFd } from '../../src/index.js';
import type { BpfIterLinkInfoInit } from '../../src/link_info.js';

export function errOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { errno?: string }).errno ?? String(e);
  }
  return undefined;
}

export interface Session {
  link: BpfIterLink;
  /** A new iterator fd, created in the kernel (and as the task) given. */
  open(as?: Task): IterFd;
  /** open() + readAll() + close(). */
  text(as?: Task, chunkSize?: number): string;
  close(): void;
}

/** Loads `spec`, attaches it with `linkInfo` against kernel `k`. */
export function session(k: Kernel, spec: BpfProgramSpec, o: { linkInfo?: BpfIterLinkInfoInit | null; globals?: Record<string, any>; as?: Task } = {}): Session {
  const prog = loadProgram(spec, o.globals ? { globals: { bss: o.globals } } : {});
  const attach = () => attachIter(prog, o.linkInfo ? { linkInfo: o.linkInfo } : {});
  let link: BpfIterLink;
  try {
    link = withKernel(k, () => (o.as ? asTask(o.as, attach) : attach()));
  } finally {
    prog.put();
  }
  const open = (as?: Task) => withKernel(k, () => (as ? asTask(as, () => link.open()) : link.open()));
  return {
    link,
    open,
    text(as, chunkSize) {
      const fd = open(as);
      try {
        return fd.readText(chunkSize ? { chunkSize } : {});
      } finally {
        fd.close();
      }
    },
    close: () => link.close(),
  };
}

/** Reads with a fixed `size` until EOF. */
export function drain(fd: IterFd, size: number): Buffer {
  const parts: Buffer[] = [];
  for (;;) {
    const b = fd.read(size);
    if (b.length === 0) break;
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** A program on `target` that records what `pick(ctx)` returns for each run (including the end call). */
export function recorder<T>(target: string, pick: (ctx: any) => T, body?: (ctx: any) => number): { spec: BpfProgramSpec; calls: T[] } {
  const calls: T[] = [];
  const spec = SEC(`iter/${target}`, function rec(ctx: any) {
    calls.push(pick(ctx));
    return body ? body(ctx) : 0;
  });
  return { spec, calls };
}

/** A kernel with an init process (pid 1) that has an fd table and an address space. */
export function smallKernel(o: { nrCpus?: number } = {}): { k: Kernel; init: Task } {
  const k = new Kernel({ nrCpus: o.nrCpus ?? 1 });
  const init = k.createTask({ comm: 'init', mm: k.newMm() });
  return { k, init };
}

const v4 = (a: number[]) => Uint8Array.from(a);
export const LOOPBACK4 = v4([127, 0, 0, 1]);
export const ANY4 = v4([0, 0, 0, 0]);
export const LOOPBACK6 = Uint8Array.from([...new Array(15).fill(0), 1]);
export const ANY6 = new Uint8Array(16);

let nextIno = 50000;

/** Builds a socket (not yet hashed). */
export function mkSock(
  k: Kernel,
  proto: SockProto,
  o: { family?: number; state?: number; saddr?: Uint8Array; daddr?: Uint8Array; sport?: number; dport?: number; uid?: number; protocol?: number } = {},
): Socket {
  const family = o.family ?? (proto === 'unix' ? AF_UNIX : proto === 'netlink' ? AF_NETLINK : AF_INET);
  const zero = family === AF_INET6 ? ANY6 : family === AF_INET ? ANY4 : new Uint8Array(0);
  const type = proto === 'tcp' || proto === 'unix' ? SOCK_STREAM : proto === 'udp' ? SOCK_DGRAM : SOCK_RAW;
  const protocol = o.protocol ?? (proto === 'tcp' ? IPPROTO_TCP : proto === 'udp' ? IPPROTO_UDP : 0);
  const state = o.state ?? (proto === 'tcp' ? TCP_ESTABLISHED : 7);
  return new Socket({ proto, skc_family: family, sk_type: type, sk_protocol: protocol, skc_state: state, skc_rcv_saddr: o.saddr ?? zero, skc_daddr: o.daddr ?? zero, skc_num: o.sport ?? 0, dport: o.dport ?? 0, sk_uid: o.uid ?? 0, ino: nextIno++, cookie: k.allocCookie() });
}

export { TCP_LISTEN, TCP_ESTABLISHED, AF_INET, AF_INET6 };
