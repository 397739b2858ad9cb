/**
 * Seq ops shared by the socket targets (`tcp`, `udp`, `unix`, `netlink`):
 * a header token first (so the first socket still sees `seq_num` 0 and an
 * empty walk's end call sees 2^64-1), then the core {@link SockWalker}'s
 * bucket batches; sockets unhashed after batching are skipped (SEQ_SKIP).
 */
import { SockWalker, type Kernel, type SockEntry, type SockProto, type Socket } from '@bpf-iter/core';
import { neg } from '../errno.js';
import type { BpfFuncProto, BpfIterSeqInfo } from '../registry.js';
import { currentRun } from '../run_ctx.js';
import { bpf_iter_show } from '../seq_file.js';
import { sessionKernel } from './session.js';
import { bpf_getsockopt, bpf_setsockopt } from '../helpers/sockopt.js';

/** `SEQ_START_TOKEN`: the header pseudo-object of the socket seq files. */
export const SEQ_START_TOKEN = Symbol('SEQ_START_TOKEN');
/** Return value of `show` that skips an object. */
export const SEQ_SKIP = 1;

interface SockPriv {
  kernel: Kernel | null;
  walker: SockWalker | null;
}

type Entry = SockEntry | typeof SEQ_START_TOKEN;

/**
 * seq_info of a socket target; `fields(e)` builds the target's ctx fields
 * for a socket, `endFields` those of the end call.
 */
export function sockSeqInfo(proto: SockProto, fields: (e: SockEntry) => Record<string, unknown>, endFields: () => Record<string, unknown>): BpfIterSeqInfo<Entry, SockPriv> {
  return {
    seq_priv: () => ({ kernel: null, walker: null }),
    init_seq_private(priv, aux) {
      priv.kernel = sessionKernel(aux);
      priv.walker = new SockWalker(priv.kernel, proto);
    },
    fini_seq_private: (priv) => priv.walker?.stop(),
    seq_ops: {
      start(seq, pos) {
        if (pos.value === 0) return SEQ_START_TOKEN;
        return seq.private.walker!.start();
      },
      next(seq, v, pos) {
        pos.value++;
        return v === SEQ_START_TOKEN ? seq.private.walker!.start() : seq.private.walker!.next();
      },
      stop(seq, v) {
        if (v === null) bpf_iter_show(seq, endFields(), true, 1);
        seq.private.walker!.stop();
      },
      show(seq, v) {
        if (v === SEQ_START_TOKEN) return 0;
        if (!v.sk.hashed) return SEQ_SKIP;
        return bpf_iter_show(seq, fields(v), false, 1);
      },
    },
  };
}

/** The kernel of the running program's session (for target helpers). */
function runningKernel(): Kernel | null {
  const r = currentRun();
  return (r?.seq.private as SockPriv | undefined)?.kernel ?? null;
}

/**
 * `bpf_sock_destroy(sk)` (a kfunc for tcp/udp iterator programs): aborts the
 * socket and unhashes it. Returns 0, or -EINVAL for a socket of another
 * protocol than the target's.
 */
export function sockDestroyProto(proto: SockProto): BpfFuncProto {
  return {
    name: 'bpf_sock_destroy',
    func: (sk: Socket) => {
      const k = runningKernel();
      if (!k || !sk || sk.proto !== proto) return neg('EINVAL');
      k.closeSocket(sk);
      return 0;
    },
  };
}

/** `bpf_setsockopt` / `bpf_getsockopt` (the `sk` variants) for the tcp and unix targets; null for other helpers. */
export function sockoptProto(func: string): BpfFuncProto | null {
  return func === 'bpf_setsockopt' ? SETSOCKOPT : func === 'bpf_getsockopt' ? GETSOCKOPT : null;
}
const SETSOCKOPT: BpfFuncProto = Object.freeze({ name: 'bpf_setsockopt', func: bpf_setsockopt });
const GETSOCKOPT: BpfFuncProto = Object.freeze({ name: 'bpf_getsockopt', func: bpf_getsockopt });
