/**
 * The host source over a captured /proc + /sys tree (the `root` option):
 * every file kind the source reads, a process that vanished half-way, one
 * whose entries cannot be read, and a nested pid namespace.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AF_INET6, mkdev, openHostWithReport, readHostWithReport, TCP_CLOSE, TCP_ESTABLISHED, TCP_LISTEN, type HostReport, type Kernel } from '../src/index.js';

let root: string;
let kernel: Kernel;
let report: HostReport;

function put(rel: string, text: string): void {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
}
function link(rel: string, target: string): void {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.symlinkSync(target, p);
}

/** A stat line: comm with a `)` and spaces, as the kernel allows. */
function stat(pid: number, comm: string, state: string, ppid: number, flags: number, utime: number, stime: number, prio: number, start: number): string {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice nthreads itreal starttime ...
  return `${pid} (${comm}) ${state} ${ppid} ${pid} ${pid} 0 -1 ${flags} 0 0 0 0 ${utime} ${stime} 0 0 ${prio} 0 1 0 ${start} 1000 10 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n`;
}
function status(tgid: number, pid: number, uid: number, nspid: number[]): string {
  return `Name:\tx\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t${tgid}\nNgid:\t0\nPid:\t${pid}\nPPid:\t1\nTracerPid:\t0\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t${uid + 1}\t0\t0\t0\nFDSize:\t64\nNStgid:\t${nspid.join('\t')}\nNSpid:\t${nspid.join('\t')}\n`;
}
function task(pid: number, tid: number, comm: string, o: { ppid?: number; uid?: number; nspid?: number[]; start?: number; cg?: string; flags?: number } = {}): void {
  const d = `proc/${pid}/task/${tid}`;
  put(`${d}/stat`, stat(tid, comm, 'S', o.ppid ?? 1, o.flags ?? 0x400000, 7, 3, 20, o.start ?? 100));
  put(`${d}/status`, status(pid, tid, o.uid ?? 1000, o.nspid ?? [tid]));
  put(`${d}/cgroup`, `1:cpu:/\n0::${o.cg ?? '/'}\n`);
}

const MAPS =
  '5574cc2ea000-5574cc2ec000 r--p 00000000 fe:00 260131                     /usr/bin/cat\n' +
  '5574cc2ec000-5574cc2f1000 r-xp 00002000 fe:00 260131                     /usr/bin/cat\n' +
  '5574cd000000-5574cd021000 rw-p 00000000 00:00 0                          [heap]\n' +
  '7f0000000000-7f0000001000 rw-s 00000000 00:01 4242                       /memfd:buf (deleted)\n' +
  '7f0000001000-7f0000002000 rw-p 00000000 00:00 0                          [anon:v8 heap]\n' +
  '7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]\n' +
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n';

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bpf-iter-fakeproc-'));
  put('proc/self/mountinfo', '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n41 31 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n');
  link('proc/self/ns/pid', 'pid:[4026531836]');
  put('proc/uptime', '1234.50 100.00\n');
  put('proc/stat', 'cpu  1 2 3\nbtime 1700000000\n');
  put('proc/sys/kernel/hostname', 'fakehost\n');
  put('proc/sys/kernel/osrelease', '6.18.0-fake\n');
  put('sys/devices/system/cpu/possible', '0-3\n');

  // Process 100 with a second thread 101, in cgroup /a/b.
  task(100, 100, 'my (weird) prog', { start: 500, cg: '/a/b' });
  task(100, 101, 'worker', { start: 510, cg: '/a/b' });
  link('proc/100/ns/pid', 'pid:[4026531836]');
  link('proc/100/fd/0', '/dev/null');
  link('proc/100/fd/1', 'socket:[5000]');
  link('proc/100/fd/3', 'pipe:[777]');
  link('proc/100/fd/4', 'anon_inode:[eventfd]');
  link('proc/100/fd/7', 'anon_inode:bpf-map');
  put('proc/100/fdinfo/0', 'pos:\t0\nflags:\t02100002\nmnt_id:\t24\nino:\t4\n');
  put('proc/100/fdinfo/1', 'pos:\t0\nflags:\t02\nmnt_id:\t8\nino:\t5000\n');
  put('proc/100/fdinfo/3', 'pos:\t0\nflags:\t04000\nmnt_id:\t14\nino:\t777\n');
  put('proc/100/fdinfo/4', 'pos:\t0\nflags:\t02\nmnt_id:\t15\nino:\t9\neventfd-count:\t0\n');
  put('proc/100/fdinfo/7', 'pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t9\nmap_type:\t1\n');
  put('proc/100/maps', MAPS);

  // Process 200 vanished: its directory is there, its files are gone.
  fs.mkdirSync(path.join(root, 'proc/200/task/200'), { recursive: true });

  // Process 300: readable stat, but its fd table and maps cannot be read.
  task(300, 300, 'locked');
  link('proc/300/ns/pid', 'pid:[4026531836]');
  put('proc/300/fd', 'not a directory'); // ENOTDIR when listed
  fs.mkdirSync(path.join(root, 'proc/300/maps'), { recursive: true }); // EISDIR when read

  // Processes 400 and 401 in a nested pid namespace (pid 1 and 2 inside), 401 a child of 400.
  task(400, 400, 'init-in-ns', { ppid: 100, nspid: [400, 1], start: 600 });
  task(401, 401, 'child-in-ns', { ppid: 400, nspid: [401, 2], start: 700 });
  for (const p of [400, 401]) {
    link(`proc/${p}/ns/pid`, 'pid:[4026532999]');
    fs.mkdirSync(path.join(root, `proc/${p}/fd`), { recursive: true });
    put(`proc/${p}/maps`, '');
  }

  // Kernel thread 2.
  task(2, 2, 'kthreadd', { ppid: 0, flags: 0x208040, start: 0, uid: 0 });

  const tcpHdr = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  put(
    'proc/net/tcp',
    tcpHdr +
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5000 1 00000000b134d9ae 100 0 0 10 0                      \n' +
      '   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 02:000004E2 00000000  1000        0 5001 2 0000000011112222 20 4 30 10 -1                  \n',
  );
  put(
    'proc/net/tcp6',
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
      '   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5002 1 00000000aaaabbbb 100 0 0 10 0\n',
  );
  const udpHdr = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
  put(
    'proc/net/udp',
    udpHdr +
      '  100: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 6000 2 00000000cccccccc 0\n' +
      '  300: 0100007F:A000 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 6001 2 00000000dddddddd 0\n',
  );
  put('proc/net/udp6', '   sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n');
  put(
    'proc/net/unix',
    'Num       RefCount Protocol Flags    Type St Inode Path\n' +
      '0000000020acb4dc: 00000002 00000000 00010000 0001 01  7000 /run/some socket\n' +
      '00000000ea725508: 00000003 00000000 00000000 0001 03  7001\n' +
      '00000000ea725509: 00000002 00000000 00000000 0002 01  7002 @abstract\n' +
      '00000000ea72550a: 00000002 00000000 00000000 0001 02  7003\n',
  );
  put(
    'proc/net/netlink',
    'sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n' +
      '00000000c4d029ac 0   0          00000000 0        0        0     2        0        4       \n' +
      '0000000014dc705b 4   123        00000010 0        0        0     2        0        1588    \n' +
      '0000000014dc705c 0   124        00000000 0        0        0     2        0        1589    \n',
  );
  put(
    'proc/net/ipv6_route',
    'fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0\n' +
      '00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001       lo\n',
  );
  put(
    'proc/kallsyms',
    'ffffffff81000000 T _text\nffffffff82217c60 d null_fops\nffffffff82134040 D socket_file_ops\nffffffffc0001000 t mod_fn\t[my_mod]\n',
  );
  put(
    'proc/slabinfo',
    'slabinfo - version: 2.1\n# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n' +
      'task_struct          120    130   9792    3    8 : tunables    0    0    0 : slabdata     43     43      0\n',
  );
  put('sys/kernel/slab/task_struct/object_size', '9728\n');
  put('sys/kernel/slab/task_struct/align', '64\n');
  fs.mkdirSync(path.join(root, 'sys/fs/cgroup/a/b'), { recursive: true });
  fs.mkdirSync(path.join(root, 'sys/fs/cgroup/z'), { recursive: true });
  put('sys/fs/cgroup/cgroup.procs', '');

  ({ kernel, report } = readHostWithReport({ root }));
});

afterAll(() => {
  fs.chmodSync(root, 0o700);
  fs.rmSync(root, { recursive: true, force: true });
});

describe('host source over a captured tree', () => {
  it('skips the vanished process and keeps the unreadable one, marked', () => {
    expect(report.vanished).toEqual([200]);
    expect(kernel.findTask(200)).toBeUndefined();
    expect(report.denied).toEqual([300]);
    const t = kernel.task(300);
    expect(t.comm).toBe('locked');
    expect(t.files).toBeNull();
    expect(t.mm).toBeNull();
    expect(report.errors.map((e) => e.path)).toEqual(expect.arrayContaining([path.join(root, 'proc/300/fd'), path.join(root, 'proc/300/maps')]));
  });

  it('reads tasks and threads from stat and status', () => {
    const t = kernel.task(100);
    expect(t.comm).toBe('my (weird) prog');
    expect(t.uid).toBe(1000);
    expect(t.gid).toBe(1001);
    expect(t.start_time).toBe(500 * 10_000_000);
    expect(t.sum_exec_runtime).toBe(10 * 10_000_000);
    expect(t.prio).toBe(120);
    expect(t.state).toBe('S');
    const th = kernel.task(101);
    expect(th.group_leader).toBe(t);
    expect(th.files).toBe(t.files);
    expect(th.mm).toBe(t.mm);
    expect(th.comm).toBe('worker');
    expect(kernel.taskCount).toBe(6); // 2, 100, 101, 300, 400, 401
    expect(kernel.processes.toArray().map((p) => p.pid)).toEqual([0, 2, 300, 100, 400, 401]); // start-time order
    expect(kernel.nowNs).toBe(1234.5e9);
    expect(kernel.bootTimeNs).toBe(1700000000e9);
    expect(kernel.nrCpus).toBe(4);
    expect(kernel.description).toContain('fakehost');
  });

  it('keeps a comm of any bytes as the kernel has them (a char per byte), UTF-8 or not', () => {
    const r = fs.mkdtempSync(path.join(os.tmpdir(), 'bpf-iter-fakecomm-'));
    const at = (rel: string) => {
      fs.mkdirSync(path.dirname(path.join(r, rel)), { recursive: true });
      return path.join(r, rel);
    };
    fs.symlinkSync('pid:[4026531836]', at('proc/self/ns/pid'));
    fs.symlinkSync('pid:[4026531836]', at('proc/500/ns/pid'));
    // 'caf' + UTF-8 'é' (c3 a9), then a byte that is no UTF-8 at all (ff).
    const comm = Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9, 0xff]);
    const line = Buffer.from(stat(500, '@', 'S', 0, 0x400000, 1, 1, 20, 10));
    const i = line.indexOf('@');
    fs.writeFileSync(at('proc/500/task/500/stat'), Buffer.concat([line.subarray(0, i), comm, line.subarray(i + 1)]));
    fs.writeFileSync(at('proc/500/task/500/status'), status(500, 500, 0, [500]));
    const none = { root: r, files: false, vmas: false, sockets: false, routes: false, ksyms: false, slabs: false, cgroups: false };
    for (const read of [readHostWithReport, openHostWithReport]) {
      expect(read(none).kernel.task(500).comm).toBe(comm.toString('latin1'));
    }
  });

  it('builds nested pid namespaces from ns/pid and NSpid', () => {
    const a = kernel.task(400);
    const b = kernel.task(401);
    expect(a.pidNs).toBe(b.pidNs);
    expect(a.pidNs.level).toBe(1);
    expect(a.pidNs.parent).toBe(kernel.initPidNs);
    expect(a.pidNr(a.pidNs)).toBe(1);
    expect(b.pidNr(b.pidNs)).toBe(2);
    expect(a.pidNs.child_reaper).toBe(a);
    expect(kernel.findTask(2, a.pidNs)).toBe(b);
    expect(b.real_parent).toBe(a);
    expect(a.real_parent).toBe(kernel.task(100));
    expect(report.pidNsInodes.get(a.pidNs)).toBe(4026532999);
    expect(report.pidNsInodes.get(kernel.initPidNs)).toBe(4026531836);
  });

  it('reads fds with fops by kind, inodes, flags, and links sockets', () => {
    const files = kernel.task(100).files!;
    expect(files.fd.map((f) => f?.f_op.name ?? null)).toEqual(['null_fops', 'socket_file_ops', null, 'pipeanon_fops', 'eventfd_fops', null, null, 'bpf_map_fops']);
    expect(files.fd[1]!.f_inode.i_ino).toBe(5000);
    expect(files.fd[3]!.f_inode.i_ino).toBe(777);
    expect(files.fd[4]!.f_inode.i_ino).toBe(9);
    // fdinfo flags 02100002: O_CLOEXEC goes to the fd table, f_flags keeps O_LARGEFILE|O_RDWR.
    expect(files.fd[0]!.f_flags).toBe(0o100002);
    expect([...files.close_on_exec]).toEqual([0, 7]);
    expect(files.fd[7]!.f_flags).toBe(0o2);
    const sk = files.fd[1]!.private_data;
    expect(sk).toBe(kernel.sockets('tcp')[0]);
    // Real addresses from kallsyms for tables it lists; made up (and marked) for the others.
    expect(files.fd[0]!.f_op.addr).toBe(0xffffffff82217c60n);
    expect(files.fd[0]!.f_op.synthetic).toBe(false);
    expect(files.fd[3]!.f_op.synthetic).toBe(true);
    // A made-up address in a model of a real kernel is not the kernel's: unknown (dumpers print '?' / null).
    expect(files.fd[0]!.f_op.unknown).toBe(false);
    expect(files.fd[3]!.f_op.unknown).toBe(true);
    expect(kernel.task(2).files?.count ?? 0).toBe(0);
  });

  it('lazy (openHost): lists an fd table with one readdir and reads each link on first use of a field needing it', () => {
    const kallsyms = fs.readFileSync(path.join(root, 'proc/kallsyms'), 'utf8');
    const repoint = (rel: string, target: string | null) => {
      fs.unlinkSync(path.join(root, rel));
      if (target !== null) link(rel, target);
    };
    try {
      // With data objects in kallsyms the address depends on the kind: the link is read.
      const known = openHostWithReport({ root }).kernel.task(100).files!;
      expect(known.fd[0]!.f_opAddr).toBe(0xffffffff82217c60n);
      expect(known.fd[3]!.f_opAddr).toBeNull(); // pipeanon_fops is not listed

      // Text only (no CONFIG_KALLSYMS_ALL): no file's address is known, whatever its kind.
      put('proc/kallsyms', 'ffffffff81000000 T _text\nffffffff82400000 D __start_rodata\nffffffffc0001000 t mod_fn\t[my_mod]\n');
      const files = openHostWithReport({ root }).kernel.task(100).files!;
      expect(files.fd.map((f) => (f ? f.f_opAddr : 'closed'))).toEqual([null, null, 'closed', null, null, 'closed', 'closed', null]);
      // No link was read: what fd 0 and fd 3 are now is what a first read finds.
      repoint('proc/100/fd/0', '/dev/zero');
      repoint('proc/100/fd/3', null);
      expect(files.fd[0]!.path).toBe('/dev/zero');
      expect(files.fd[0]!.f_op.name).toBe('zero_fops');
      // Closed since the listing: it was open then, but what it was is not known.
      expect(files.fd[3]!.path).toBe('');
      expect(files.fd[3]!.f_op.name).toBe('');
      expect(files.fd[3]!.f_op.unknown).toBe(true);
      expect(files.fd[1]!.private_data).toBeTruthy(); // the socket, found from the link's inode
    } finally {
      put('proc/kallsyms', kallsyms);
      fs.rmSync(path.join(root, 'proc/100/fd/0'), { force: true });
      fs.rmSync(path.join(root, 'proc/100/fd/3'), { force: true });
      link('proc/100/fd/0', '/dev/null');
      link('proc/100/fd/3', 'pipe:[777]');
    }
  });

  it('reads VMAs with every field of the maps line', () => {
    const v = kernel.task(100).mm!.vmas();
    expect(v.length).toBe(6); // the seven maps lines less [vsyscall]
    expect(v[1]).toMatchObject({ vm_start: 0x5574cc2ec000, vm_end: 0x5574cc2f1000, vm_pgoff: 2, name: null });
    expect(v[1]!.vm_file!.path).toBe('/usr/bin/cat');
    expect(v[1]!.vm_file!.f_inode).toMatchObject({ i_ino: 260131, s_dev: mkdev(0xfe, 0) });
    expect(v[1]!.vm_file).toBe(v[0]!.vm_file); // one file per mapped object
    expect(v[1]!.vm_file!.f_op.name).toBe('ext4_file_operations');
    expect(v[2]).toMatchObject({ name: '[heap]', vm_file: null });
    expect(v[3]!.vm_file!.path).toBe('/memfd:buf (deleted)');
    expect(v[3]!.vm_file!.f_op.name).toBe('shmem_file_operations');
    // No smaps in this tree: maps' 's' is VM_MAYSHARE; VM_SHARED and every bit maps cannot show are unknown.
    expect(v[3]!.vm_flags & 0x88).toBe(0x80);
    expect(v[3]!.vm_flags_unknown & 0x8).toBe(0x8);
    expect(v[3]!.vm_flags_unknown & 0xf).toBe(0x8);
    expect(v[3]!.vm_flags_unknown & 0x80).toBe(0);
    expect(v[4]!.name).toBe('[anon:v8 heap]');
    // The [vsyscall] line /proc appends is the gate area, not a VMA of the mm: the kernel's task_vma never walks it.
    expect(v.every((x) => x.vm_start < 2 ** 63)).toBe(true);
  });

  it('hashes sockets so walk order is file order', () => {
    const tcp = kernel.sockets('tcp');
    expect(tcp.map((s) => s.ino)).toEqual([5000, 5002, 5001]); // listeners (v4 then v6), then established
    expect(tcp[0]!.skc_state).toBe(TCP_LISTEN);
    expect(tcp[1]!.skc_family).toBe(AF_INET6);
    expect([...tcp[0]!.skc_rcv_saddr]).toEqual([127, 0, 0, 1]);
    expect(tcp[0]!.skc_num).toBe(8080);
    expect(tcp[2]!.dport).toBe(0xd431);
    expect(tcp[2]!.inet).toEqual({ tr: 2, tm_when: 0x4e2, retrnsmt: 0, timeout: 0, tail: '2 0000000011112222 20 4 30 10 -1' });
    expect(tcp[2]!.addr).toBe(0x11112222n);
    expect(tcp[2]!.sk_uid).toBe(1000);
    const udp = kernel.sockets('udp');
    expect(udp.map((s) => s.ino)).toEqual([6000, 6001]);
    // sk_state from Flags (__SO_ACCEPTCON: TCP_LISTEN) and St (SS_CONNECTED: TCP_ESTABLISHED, else TCP_CLOSE).
    expect(kernel.sockets('unix').map((s) => [s.ino, s.path, s.skc_state, s.sk_socket, s.sk_refcnt])).toEqual([
      [7000, '/run/some socket', TCP_LISTEN, true, 2],
      [7001, '', TCP_ESTABLISHED, true, 3],
      [7002, '@abstract', TCP_CLOSE, true, 2],
      [7003, '', TCP_ESTABLISHED, false, 2], // SS_CONNECTING: an accept-queue embryo, no struct socket
    ]);
    const nl = kernel.sockets('netlink');
    expect(nl.map((s) => s.ino)).toEqual([4, 1589, 1588]); // protocol 0's bucket, then protocol 4's
    expect(nl[2]!.netlink).toMatchObject({ portid: 123, groups: 0x10 });
    expect(kernel.netlink.buckets[4]).toEqual([nl[2]]);
  });

  it('reads routes, ksyms, slab caches and the cgroup tree', () => {
    const routes = kernel.ipv6Routes.toArray();
    expect(routes.map((r) => [r.dev, r.fib6_dst_len, r.fib6_flags >>> 0])).toEqual([
      ['eth0', 64, 1],
      ['lo', 128, 0x80200001],
    ]);
    expect(routes[1]!.fib6_dst[15]).toBe(1);
    expect(kernel.ksyms.count).toBe(4);
    expect(kernel.ksyms.at(3)).toMatchObject({ name: 'mod_fn', type: 't', module_name: 'my_mod', value: 0xffffffffc0001000n });
    const slab = kernel.kmemCaches.toArray()[0]!;
    expect([slab.name, slab.object_size, slab.size, slab.align, slab.active_objs, slab.num_objs]).toEqual(['task_struct', 9728, 9792, 64, 120, 130]);
    const b = kernel.cgroupByPath('/a/b')!;
    expect(b.id).toBe(fs.statSync(path.join(root, 'sys/fs/cgroup/a/b')).ino);
    expect(b.tasks.toArray().map((t) => t.pid)).toEqual([100, 101]);
    expect(kernel.cgroupByPath('/z')).toBeDefined();
    expect(kernel.task(300).cgroup).toBe(kernel.cgroupRoot);
  });
});

// The child runs as another uid: it gets a world-readable bundle of the source in the temp tree,
// so the test does not depend on the checkout's folder mode or location.
describe.skipIf(process.getuid?.() !== 0)('host source as an unprivileged reader (needs root to drop to uid 65534)', () => {
  it('keeps a task whose fd table and maps refuse access (EACCES), and lists it as denied', () => {
    fs.chmodSync(root, 0o755);
    fs.chmodSync(path.join(root, 'proc/400/maps'), 0o000);
    fs.chmodSync(path.join(root, 'proc/400/fd'), 0o000);
    const here = path.dirname(fileURLToPath(import.meta.url));
    const bundle = path.join(root, 'core.mjs');
    buildSync({ entryPoints: [path.join(here, '../src/index.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: bundle, logLevel: 'silent' });
    const script = path.join(root, 'child.mjs');
    fs.writeFileSync(
      script,
      `const { readHostWithReport } = await import(${JSON.stringify(bundle)});
       const { kernel, report } = readHostWithReport({ root: ${JSON.stringify(root)} });
       const t = kernel.findTask(400);
       console.log(JSON.stringify({ denied: report.denied, errors: report.errors.filter((e) => e.path.includes('/400/')), files: t && t.files === null, mm: t && t.mm === null }));`,
    );
    for (const f of [bundle, script]) fs.chmodSync(f, 0o644);
    const r = spawnSync(process.execPath, [script], { cwd: root, uid: 65534, gid: 65534, encoding: 'utf8' });
    fs.chmodSync(path.join(root, 'proc/400/maps'), 0o644);
    fs.chmodSync(path.join(root, 'proc/400/fd'), 0o755);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.denied).toContain(400);
    expect(out.files).toBe(true);
    expect(out.mm).toBe(true);
    expect(out.errors.map((e: { code: string }) => e.code)).toEqual(['EACCES', 'EACCES']);
  });
});
