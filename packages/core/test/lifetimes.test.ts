/**
 * Object lifetimes (reference §3.8, §5.11, docs/kernel-model.md "Lifetimes"):
 * a removed object that is still referenced stays readable and is marked
 * dead; it is freed only when its last reference drops.
 */
import { describe, expect, test } from 'vitest';
import {
  AF_INET,
  BPF_CGROUP_ITER_CHILDREN,
  BPF_MAP_TYPE_ARRAY,
  BpfError,
  IPPROTO_UDP,
  IdrWalker,
  Kernel,
  SOCK_DGRAM,
  Socket,
  SockWalker,
  TaskFileWalker,
  TaskWalker,
  cgroupWalkNext,
  isErrno,
  KmemCache,
  refStats,
  type Cgroup,
} from '@bpf-iter/core';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

function children(cg: Cgroup): string[] {
  const out: string[] = [];
  for (let c = cgroupWalkNext(BPF_CGROUP_ITER_CHILDREN, null, cg); c; c = cgroupWalkNext(BPF_CGROUP_ITER_CHILDREN, c, cg)) out.push(c.name);
  return out;
}

describe('held objects outlive their removal', () => {
  test('a task that exits while a walker holds it stays readable and dead, freed at the walker’s put', () => {
    const k = new Kernel();
    const t = k.createTask({ comm: 'victim' });
    const other = k.createTask({ comm: 'other' });
    const before = refStats.outstanding;
    const w = new TaskWalker(k, { ns: k.initPidNs, type: 'ALL', pid: 0 });
    expect(w.start()).toBe(t);
    k.exit(t);
    expect(t.dead).toBe(true);
    expect(t.freed).toBe(false);
    expect(t.comm).toBe('victim');
    expect(k.findTask(t.pid)).toBeUndefined();
    expect(w.next()).toBe(other);
    expect(t.freed).toBe(true);
    w.stop();
    expect(refStats.outstanding).toBe(before);
    // An exited task nobody holds is freed at once.
    k.exit(other);
    expect(other.freed).toBe(true);
    expect(() => other.get()).toThrow(/use after free/);
  });

  test('a file closed while held stays readable and dead until put; a dup keeps it open', () => {
    const k = new Kernel();
    const t = k.createTask({ comm: 'p' });
    const fd = k.open(t, '/etc/passwd');
    const f = t.files!.fd[fd]!;
    const copy = k.dup(t, fd);
    k.close(t, fd);
    expect(f.dead).toBe(false); // still installed at `copy`
    const w = new TaskFileWalker(k, { ns: k.initPidNs, type: 'ALL', pid: 0 });
    const x = w.start()!;
    expect([x.fd, x.file]).toEqual([copy, f]);
    k.close(t, copy);
    expect(f.dead).toBe(true);
    expect(f.freed).toBe(false);
    expect(x.file.path).toBe('/etc/passwd');
    expect(w.next()).toBeNull();
    expect(f.freed).toBe(true);
    w.stop();
  });

  test('a cgroup removed while referenced stays listed under its parent as dying until put', () => {
    const k = new Kernel();
    const a = k.mkdirCgroup(k.cgroupRoot, 'a');
    const b = k.mkdirCgroup(k.cgroupRoot, 'b');
    b.get();
    k.rmdirCgroup(b);
    expect(b.dead).toBe(true);
    expect(b.freed).toBe(false);
    expect(children(k.cgroupRoot)).toEqual(['a', 'b']); // css_next_child still lists a dying cgroup
    expect(k.cgroupRoot.childList()).toEqual([a]); // but it is not a live child
    expect(k.cgroups.get(b.id)).toBeUndefined();
    expect(k.cgroupByPath('/b')).toBeUndefined();
    // Its name can be taken again right away.
    const b2 = k.mkdirCgroup(k.cgroupRoot, 'b');
    expect(b2.id).not.toBe(b.id);
    b.put();
    expect(b.freed).toBe(true);
    expect(children(k.cgroupRoot)).toEqual(['a', 'b']);
    expect(children(k.cgroupRoot).length).toBe(2);
    expect(k.cgroupRoot.children.toArray()).toEqual([a, b2]);
  });

  test('a socket closed while batched stays readable (unhashed, dead) until the walker moves past it', () => {
    const k = new Kernel();
    const mk = (): Socket => {
      const sk = new Socket({ proto: 'udp', skc_family: AF_INET, sk_type: SOCK_DGRAM, sk_protocol: IPPROTO_UDP, skc_state: 7, skc_rcv_saddr: new Uint8Array(4), skc_daddr: new Uint8Array(4), skc_num: 53, ino: k.allocIno(), cookie: k.allocCookie() });
      return k.addSocket(sk, 5);
    };
    const [s1, s2, s3] = [mk(), mk(), mk()];
    const before = refStats.outstanding;
    const w = new SockWalker(k, 'udp');
    expect(w.start()!.sk).toBe(s1);
    expect(refStats.outstanding).toBe(before + 3); // the whole bucket is batched
    k.closeSocket(s2);
    expect(s2.dead).toBe(true);
    expect(s2.hashed).toBe(false);
    expect(s2.freed).toBe(false);
    const e = w.next()!;
    expect(e.sk).toBe(s2); // handed out; targets skip unhashed sockets
    expect(e.bucket).toBe(5);
    expect(w.next()!.sk).toBe(s3);
    expect(s2.freed).toBe(true);
    w.stop();
    expect(refStats.outstanding).toBe(before);
  });

  test('a map destroyed while an IdrWalker holds it is dead but readable; freed at put', () => {
    const k = new Kernel();
    const m = k.createMap({ map_type: BPF_MAP_TYPE_ARRAY, key_size: 4, value_size: 4, max_entries: 2, name: 'm' });
    const w = new IdrWalker(k.maps);
    expect(w.start()).toBe(m);
    k.destroyMap(m);
    expect([m.dead, m.freed, m.name]).toEqual([true, false, 'm']);
    expect(w.next()).toBeNull();
    expect(m.freed).toBe(true);
    w.stop();
  });
});

describe('getAndPut: a walker stepping from one object to the next', () => {
  const cache = (k: Kernel, name: string): KmemCache => k.addKmemCache(new KmemCache(name, 64, 64, 8, 1, 1, 64, 1));

  test('same counts as get() then put(): the next is held, the previous let go and freed if it was removed', () => {
    const k = new Kernel();
    const a = cache(k, 'a');
    const b = cache(k, 'b');
    const before = refStats.outstanding;
    expect(a.getAndPut(null)).toBe(a); // the first step holds one more
    expect([a.refcnt, refStats.outstanding - before]).toEqual([2, 1]);
    k.destroyKmemCache(a);
    expect(a.freed).toBe(false);
    expect(b.getAndPut(a)).toBe(b); // a step: still one held
    expect([a.freed, b.refcnt, refStats.outstanding - before]).toEqual([true, 2, 1]);
    b.put();
    expect([b.refcnt, refStats.outstanding]).toEqual([1, before]);
  });

  test('the next is taken before the previous is dropped: an object that is both stays alive', () => {
    const k = new Kernel();
    const a = cache(k, 'a');
    const before = refStats.outstanding;
    a.get();
    k.destroyKmemCache(a); // only the walker's reference is left
    expect(a.getAndPut(a)).toBe(a);
    expect([a.freed, a.refcnt, refStats.outstanding - before]).toEqual([false, 1, 1]);
    a.put();
    expect([a.freed, refStats.outstanding]).toEqual([true, before]);
  });

  test('a freed object cannot be taken, and the previous one stays held', () => {
    const k = new Kernel();
    const a = cache(k, 'a');
    const b = cache(k, 'b');
    k.destroyKmemCache(b);
    const before = refStats.outstanding;
    a.get();
    expect(String(thrown(() => b.getAndPut(a)))).toMatch(/use after free: KmemCache/);
    expect([a.refcnt, refStats.outstanding - before]).toEqual([2, 1]);
    a.put();
  });
});

describe('errors and exits', () => {
  test('rmdir: EBUSY with tasks, with live children, on the root; ENOENT when already removed', () => {
    const k = new Kernel();
    const a = k.mkdirCgroup(k.cgroupRoot, 'a');
    const a1 = k.mkdirCgroup(a, 'a1');
    const t = k.createTask({ comm: 'p', cgroup: a1 });
    expect(isErrno(thrown(() => k.rmdirCgroup(a1)), 'EBUSY')).toBe(true);
    expect(isErrno(thrown(() => k.rmdirCgroup(a)), 'EBUSY')).toBe(true);
    expect(isErrno(thrown(() => k.rmdirCgroup(k.cgroupRoot)), 'EBUSY')).toBe(true);
    k.exit(t);
    k.rmdirCgroup(a1);
    expect(isErrno(thrown(() => k.rmdirCgroup(a1)), 'ENOENT')).toBe(true);
    expect(isErrno(thrown(() => k.mkdirCgroup(a1, 'x')), 'ENOENT')).toBe(true);
    k.rmdirCgroup(a);
    expect(k.cgroupRoot.childList()).toEqual([]);
    expect(isErrno(thrown(() => k.mkdirCgroup(k.cgroupRoot, 'a/b')), 'EINVAL')).toBe(true);
    k.mkdirCgroup(k.cgroupRoot, 'z');
    expect(isErrno(thrown(() => k.mkdirCgroup(k.cgroupRoot, 'z')), 'EEXIST')).toBe(true);
  });

  test('close of a bad fd is a BpfError EBADF (errno 9); dup of one too', () => {
    const k = new Kernel();
    const t = k.createTask({ comm: 'p' });
    k.open(t, '/a');
    const e = thrown(() => k.close(t, 7));
    expect(e).toBeInstanceOf(BpfError);
    expect((e as BpfError).errno).toBe('EBADF');
    expect((e as BpfError).errnoValue).toBe(9);
    expect((e as BpfError).negative).toBe(-9);
    k.close(t, 0);
    expect(isErrno(thrown(() => k.close(t, 0)), 'EBADF')).toBe(true);
    expect(isErrno(thrown(() => k.dup(t, 0)), 'EBADF')).toBe(true);
  });

  test('the exit of a leader ends the whole thread group', () => {
    const k = new Kernel();
    const l = k.createTask({ comm: 'p', mm: k.newMm() });
    const t1 = k.clone(l);
    const t2 = k.clone(l);
    const other = k.createTask({ comm: 'q' });
    const n = k.taskCount;
    k.exit(l);
    for (const t of [l, t1, t2]) {
      expect(t.dead).toBe(true);
      expect(k.findTask(t.pid)).toBeUndefined();
    }
    expect(l.signal.nr_threads).toBe(0);
    expect(k.taskCount).toBe(n - 3);
    expect(k.processes.toArray()).toEqual([k.initTask, other]);
    expect(isErrno(thrown(() => k.clone(l)), 'ESRCH')).toBe(true);
    expect(isErrno(thrown(() => k.fork(t1)), 'ESRCH')).toBe(true);
  });

  test('the exit of a non-leader thread leaves the rest of the group', () => {
    const k = new Kernel();
    const l = k.createTask({ comm: 'p' });
    const t1 = k.clone(l);
    const t2 = k.clone(l);
    k.exit(t1);
    expect(l.signal.threads.toArray()).toEqual([l, t2]);
    expect(l.dead).toBe(false);
    expect(l.files).not.toBeNull(); // the shared table is still in use
  });

  test('a zombie stays visible (state Z, no files or mm) until reaped', () => {
    const k = new Kernel();
    const t = k.createTask({ comm: 'z', mm: k.newMm() });
    const fd = k.open(t, '/a');
    const f = t.files!.fd[fd]!;
    k.exit(t, { zombie: true });
    expect(t.state).toBe('Z');
    expect(t.dead).toBe(false);
    expect(k.findTask(t.pid)).toBe(t);
    expect(t.files).toBeNull();
    expect(t.mm).toBeNull();
    expect(f.dead).toBe(true); // its last fd table went away
    const w = new TaskWalker(k, { ns: k.initPidNs, type: 'ALL', pid: 0 });
    expect(w.start()).toBe(t);
    w.stop();
    k.reap(t);
    expect(t.dead).toBe(true);
    expect(t.state).toBe('X');
    expect(k.findTask(t.pid)).toBeUndefined();
    const live = k.createTask({ comm: 'live' });
    expect(isErrno(thrown(() => k.reap(live)), 'EINVAL')).toBe(true);
  });

  test('fork copies the fd table: closing in the child keeps the parent’s file open', () => {
    const k = new Kernel();
    const p = k.createTask({ comm: 'p' });
    const fd = k.open(p, '/a');
    const f = p.files!.fd[fd]!;
    const c = k.fork(p);
    expect(c.files).not.toBe(p.files);
    expect(c.files!.fd[fd]).toBe(f);
    k.close(c, fd);
    expect(f.dead).toBe(false);
    k.exit(p);
    expect(f.dead).toBe(true);
  });
});
