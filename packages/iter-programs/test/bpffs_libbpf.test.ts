import { describe, expect, it } from 'vitest';
import { firstValueFrom, toArray, take } from 'rxjs';
import {
  attachIter,
  BpfFs,
  bpffs,
  bpf_link__destroy,
  bpf_link__fd,
  bpf_link__pin,
  bpf_link__unpin,
  bpf_link__update_program,
  bpf_iter_link_info,
  bpf_program__attach_iter,
  BPF_SEQ_PRINTF,
  defineSkeleton,
  libbpf,
  LIBBPF_OPTS,
  loadProgram,
  openAndLoad,
  SEC,
  type BpfIterLink,
} from '../src/index.js';
import { iterLines$, iterObservable } from '../src/rx.js';
import { arrayTarget, objs, registerArray, tname } from './fixtures.js';
import { bpf_iter_reg_target } from '../src/index.js';

function errOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { errno?: string }).errno ?? String(e);
  }
  return undefined;
}

const printer = (target: string, text: string) =>
  loadProgram(
    SEC(`iter/${target}`, function p(ctx: any) {
      if (ctx.item) BPF_SEQ_PRINTF(ctx.meta.seq, '%s', text);
      else BPF_SEQ_PRINTF(ctx.meta.seq, '#%llu\n', ctx.meta.session_id);
      return 0;
    }),
  );

describe('bpffs (§8)', () => {
  it('pin + cat twice: same content, increasing session ids', () => {
    const fs = new BpfFs();
    const t = registerArray(objs(2));
    const l = attachIter(printer(t, 'ab'));
    fs.pin(l, '/sys/fs/bpf/my_iter');
    l.close();
    const a = fs.cat('/sys/fs/bpf/my_iter');
    const b = fs.cat('/sys/fs/bpf/my_iter');
    expect(a.startsWith('abab#')).toBe(true);
    const sid = (s: string) => BigInt(s.slice(5).trim());
    expect(sid(b)).toBeGreaterThan(sid(a));
    expect(fs.ls()).toEqual(['my_iter']);
    expect(fs.get('/sys/fs/bpf/my_iter')).toBe(l);
  });

  it('path rules: ENOENT parent, EEXIST, EPERM outside / dots, ENOTDIR, EISDIR, ENOTEMPTY', () => {
    const fs = new BpfFs();
    const t = registerArray(objs(1));
    const l = attachIter(printer(t, 'x'));
    expect(errOf(() => fs.pin(l, '/sys/fs/bpf/nodir/p'))).toBe('ENOENT');
    fs.mkdir('/sys/fs/bpf/dir');
    expect(errOf(() => fs.mkdir('/sys/fs/bpf/dir'))).toBe('EEXIST');
    fs.pin(l, '/sys/fs/bpf/dir/p');
    expect(errOf(() => fs.pin(l, '/sys/fs/bpf/dir/p'))).toBe('EEXIST');
    expect(errOf(() => fs.pin(l, '/tmp/p'))).toBe('EPERM');
    expect(errOf(() => fs.pin(l, '/sys/fs/bpf/a.b'))).toBe('EPERM');
    expect(errOf(() => fs.pin(l, '/sys/fs/bpf/dir/p/q'))).toBe('ENOTDIR');
    expect(errOf(() => fs.pin(l, 'relative'))).toBe('EINVAL');
    expect(errOf(() => fs.open('/sys/fs/bpf/dir'))).toBe('EISDIR');
    expect(errOf(() => fs.open('/sys/fs/bpf/missing'))).toBe('ENOENT');
    expect(errOf(() => fs.rm('/sys/fs/bpf/dir'))).toBe('EISDIR');
    expect(errOf(() => fs.rmdir('/sys/fs/bpf/dir'))).toBe('ENOTEMPTY');
    expect(errOf(() => fs.rm('/sys/fs/bpf/missing'))).toBe('ENOENT');
    expect(errOf(() => fs.pin(l, '/sys/fs/bpf/' + 'n'.repeat(256)))).toBe('ENAMETOOLONG');
    fs.rm('/sys/fs/bpf/dir/p');
    fs.rmdir('/sys/fs/bpf/dir');
    fs.mkdir('/sys/fs/bpf/x/y/z', { recursive: true });
    expect(fs.exists('/sys/fs/bpf/x/y/z')).toBe(true);
    l.close();
  });

  it('update changes later opens only; rm keeps open sessions working and releases the link', () => {
    const fs = new BpfFs();
    const t = registerArray(objs(1));
    const abcd = printer(t, 'abcd');
    const l = attachIter(abcd);
    fs.pin(l, '/sys/fs/bpf/f');
    l.close();
    const old = fs.open('/sys/fs/bpf/f');
    const link = fs.get('/sys/fs/bpf/f') as BpfIterLink;
    link.update(printer(t, 'ABCD'));
    link.close();
    expect(fs.cat('/sys/fs/bpf/f').startsWith('ABCD')).toBe(true);
    const open2 = fs.open('/sys/fs/bpf/f');
    fs.rm('/sys/fs/bpf/f');
    expect(link.released).toBe(true);
    expect(old.readText().startsWith('abcd')).toBe(true);
    expect(open2.readText().startsWith('ABCD')).toBe(true);
    expect(errOf(() => fs.open('/sys/fs/bpf/f'))).toBe('ENOENT');
  });

  it('serialize / restore round-trip (programs with an origin module)', async () => {
    const fs = new BpfFs();
    const t = registerArray(objs(2));
    const spec = SEC(`iter/${t}`, function (ctx: any, g: any) {
      if (ctx.item) BPF_SEQ_PRINTF(ctx.meta.seq, '%d,', g.bss.k);
      return 0;
    }, { name: 'ser', origin: { module: 'virtual:test', export: 'ser' } });
    const p = loadProgram(spec, { globals: { bss: { k: 5, big: 2n ** 60n } } });
    const l = attachIter(p, { linkInfo: { task: { pid: 3 } } });
    fs.mkdir('/sys/fs/bpf/d');
    fs.pin(l, '/sys/fs/bpf/d/it');
    l.close();
    const state = JSON.parse(JSON.stringify(fs.serialize()));
    expect(state.pins[0]).toMatchObject({ path: '/sys/fs/bpf/d/it', target: t, prog: { name: 'ser', origin: { module: 'virtual:test' } } });
    expect(state.pins[0].link_info).toBe('00000000030000000000000000000000');
    const fs2 = new BpfFs();
    await fs2.restore(state, () => spec);
    expect(fs2.cat('/sys/fs/bpf/d/it')).toBe('5,5,');
    const restored = fs2.get('/sys/fs/bpf/d/it') as BpfIterLink;
    expect(restored.linfo.task.pid).toBe(3);
    expect(restored.prog.globals.bss.big).toBe(2n ** 60n);
  });

  it('the global bpffs and libbpf pin/unpin/obj_get/open', () => {
    const t = registerArray(objs(1));
    const skelDef = defineSkeleton({ progs: { dump: printer(t, 'P').spec } });
    const skel = skelDef.open_and_load()!;
    const link = bpf_program__attach_iter(skel.progs.dump, null)!;
    const path = `/sys/fs/bpf/${tname('pin')}`;
    expect(bpf_link__pin(link, path)).toBe(0);
    expect(bpf_link__pin(link, path)).toBe(-16);
    const fd = libbpf.open(path);
    expect(libbpf.read(fd, 100).toString()).toMatch(/^P#\d+\n$/);
    libbpf.close(fd);
    const lfd = libbpf.bpf_obj_get(path);
    expect(libbpf.bpf_iter_create(lfd)).toBeGreaterThan(2);
    expect(bpf_link__unpin(link)).toBe(0);
    expect(bpffs.exists(path)).toBe(false);
    expect(libbpf.open(path)).toBe(-1);
    expect(libbpf.errno).toBe(2);
    bpf_link__destroy(link);
    skelDef.destroy(skel);
  });
});

describe('libbpf facade: the seed example ports line by line', () => {
  // The task_file target is modelled here with a plain array of {task, fd, file}.
  const files = [
    { task: { tgid: 1859, pid: 1859 }, fd: 0, file: { f_op: { addr: 0xffffffff82270aa0n } } },
    { task: { tgid: 1859, pid: 1859 }, fd: 1, file: { f_op: { addr: 0xffffffff82270aa0n } } },
    { task: { tgid: 77, pid: 77 }, fd: 0, file: { f_op: { addr: 0xffffffff82255120n } } },
    { task: { tgid: 1859, pid: 1860 }, fd: 3, file: { f_op: { addr: 0xffffffff82272980n } } },
  ];
  const target = tname('task_file');
  bpf_iter_reg_target(
    arrayTarget<(typeof files)[number]>(target, (aux) => (aux.task?.type === 'PID' ? files.filter((f) => f.task.tgid === aux.task!.pid) : files), {
      attach_target(_p, linfo, aux) {
        aux.task = linfo.task.pid ? { type: 'PID', pid: linfo.task.pid } : { type: 'ALL', pid: 0 };
        return 0;
      },
      seq_info: {
        ...arrayTarget(target, () => files).seq_info,
        seq_ops: {
          ...arrayTarget(target, () => files).seq_info.seq_ops,
        },
      },
    }),
  );
  // ctx in the test fixture is { meta, item }; map it to the task_file ctx shape.
  const dump_task_file = SEC(`iter/${target}`, function dump_task_file(c: any, { bss }: any) {
    const ctx = { meta: c.meta, task: c.item?.task ?? null, fd: c.item?.fd ?? 0, file: c.item?.file ?? null };
    const seq = ctx.meta.seq;
    const task = ctx.task;
    const file = ctx.file;
    const fd = ctx.fd;
    if (task == null || file == null) return 0;
    if (ctx.meta.seq_num == 0n) BPF_SEQ_PRINTF(seq, '    tgid      pid       fd      file\n');
    if (task.tgid != bss.target_pid) return 0;
    BPF_SEQ_PRINTF(seq, '%8d %8d %8d %lx\n', task.tgid, task.pid, fd, file.f_op);
    return 0;
  });
  const bpf_iter_task_ex = defineSkeleton({ progs: { dump_task_file }, bss: { target_pid: 0 } });

  function do_read_opts(prog: any, opts: any): string {
    let out = '';
    const link = bpf_program__attach_iter(prog, opts);
    if (!link) throw new Error('bpf_program__attach_iter() fails');
    const iter_fd = libbpf.bpf_iter_create(bpf_link__fd(link));
    if (iter_fd < 0) throw new Error('bpf_iter_create() fails');
    const buf = new Uint8Array(16);
    let len: number;
    while ((len = libbpf.read(iter_fd, buf, buf.length - 1)) > 0) {
      out += Buffer.from(buf.subarray(0, len)).toString();
    }
    expect(len).toBe(0);
    libbpf.close(iter_fd);
    bpf_link__destroy(link);
    return out;
  }

  it('test_task_file with linfo.task.pid and skel.bss.target_pid', () => {
    const opts = LIBBPF_OPTS('bpf_iter_attach_opts');
    const skel = bpf_iter_task_ex.open_and_load()!;
    skel.bss.target_pid = 1859;
    const linfo = bpf_iter_link_info();
    linfo.task.pid = 1859;
    opts.link_info = linfo;
    opts.link_info_len = 16;
    expect(do_read_opts(skel.progs.dump_task_file, opts)).toBe(
      '    tgid      pid       fd      file\n' +
        '    1859     1859        0 ffffffff82270aa0\n' +
        '    1859     1859        1 ffffffff82270aa0\n' +
        '    1859     1860        3 ffffffff82272980\n',
    );
    // without parameters: the program filters by target_pid
    expect(do_read_opts(skel.progs.dump_task_file, null).split('\n').length).toBe(5);
    bpf_iter_task_ex.destroy(skel);
  });

  it('errors: unloaded program, bad opts, update_program, openAndLoad', () => {
    const skel = bpf_iter_task_ex.open();
    expect(bpf_program__attach_iter(skel.progs.dump_task_file, null)).toBeNull();
    expect(libbpf.errno).toBe(22);
    bpf_iter_task_ex.load(skel);
    expect(bpf_program__attach_iter(skel.progs.dump_task_file, { sz: 3 } as never)).toBeNull();
    expect(bpf_program__attach_iter(skel.progs.dump_task_file, LIBBPF_OPTS('bpf_iter_attach_opts', { link_info: new Uint8Array(16), link_info_len: 0 }))).toBeNull();
    expect(libbpf.errno).toBe(22);
    expect(() => LIBBPF_OPTS('bpf_iter_attach_opts', { nope: 1 } as never)).toThrow();
    const link = bpf_program__attach_iter(skel.progs.dump_task_file, null)!;
    const skel2 = bpf_iter_task_ex.open_and_load()!;
    expect(bpf_link__update_program(link, skel2.progs.dump_task_file)).toBe(0);
    const other = openAndLoad({ p: SEC(`iter/${registerArray([])}`, () => 0), bss: { a: 1 } });
    expect(other.bss).toEqual({ a: 1 });
    expect(bpf_link__update_program(link, other.progs.p!)).toBe(-22);
    expect(libbpf.lseek(bpf_link__fd(link), 0)).toBe(-1);
    expect(libbpf.close(9999)).toBe(-1);
    expect(libbpf.errno).toBe(9);
    other.destroy();
    bpf_link__destroy(link);
    bpf_iter_task_ex.destroy(skel);
    bpf_iter_task_ex.destroy(skel2);
  });
});

describe('streams and observables', () => {
  const t = registerArray(objs(5));
  const l = attachIter(
    loadProgram(
      SEC(`iter/${t}`, (ctx: any) => {
        if (ctx.item) BPF_SEQ_PRINTF(ctx.meta.seq, 'line %d\n', ctx.item.i);
        return 0;
      }),
    ),
  );

  it('Readable stream, async iterator, lines', async () => {
    const chunks: Buffer[] = [];
    const fd = l.open();
    for await (const c of fd.toStream({ chunkSize: 7 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('line 0\nline 1\nline 2\nline 3\nline 4\n');
    expect(fd.isClosed).toBe(true);
    const fd2 = l.open();
    let s = '';
    for await (const c of fd2) s += c.toString();
    expect(s.split('\n').length).toBe(6);
    expect(fd2.isClosed).toBe(true);
    expect([...l.open().lines({ chunkSize: 3 })]).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  });

  it('Observable: fresh session per subscription; closes exactly once on unsubscribe', async () => {
    const opened: { closed: () => boolean; sid: bigint }[] = [];
    const src = () => {
      const fd = l.open();
      opened.push({ closed: () => fd.isClosed, sid: fd.session_id });
      return fd;
    };
    const all = await firstValueFrom(iterLines$(src, { chunkSize: 8 }).pipe(toArray()));
    expect(all).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    const first = await firstValueFrom(iterLines$(src, { chunkSize: 8 }).pipe(take(1)));
    expect(first).toBe('line 0');
    expect(opened.length).toBe(2);
    expect(opened[1]!.sid).toBeGreaterThan(opened[0]!.sid);
    expect(opened.every((o) => o.closed())).toBe(true);
    const bufs = await firstValueFrom(iterObservable(l).pipe(toArray()));
    expect(Buffer.concat(bufs).toString()).toContain('line 4');
  });

  it('Observable errors carry the errno', async () => {
    const t2 = registerArray(objs(1));
    const bad = attachIter(loadProgram(SEC(`iter/${t2}`, () => 1)));
    await expect(firstValueFrom(iterObservable(bad))).rejects.toMatchObject({ errno: 'EAGAIN' });
  });
});
