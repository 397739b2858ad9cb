/** The /proc parsers of the host source, on lines as the kernel prints them. */
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHostWithReport, S_IFCHR, S_IFDIR, S_IFREG } from '../src/index.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { configLacksKallsymsAll, fileHasDataObjects, findSymbols, forEachKsym } from '../src/sources/procfs/kallsyms.js';
import { fopsName } from '../src/sources/procfs/fops.js';
import { parseMaps } from '../src/sources/procfs/maps.js';
import { parseSmaps } from '../src/sources/procfs/smaps.js';
import { parseMountinfo } from '../src/sources/procfs/mountinfo.js';
import { parseInetTable } from '../src/sources/procfs/net.js';
import { parseStat } from '../src/sources/procfs/stat.js';
import { parseCgroupV2Path } from '../src/sources/procfs/cgroup.js';

const gunzipText = (p: string): string => gunzipSync(readFileSync(p)).toString('latin1');

describe('procfs parsers', () => {
  it('stat: a comm with parentheses and spaces', () => {
    const s = parseStat('42 (a) b (c)) R 7 42 42 0 -1 4194304 1 0 0 0 11 22 0 0 -81 0 3 0 12345 0 0\n');
    expect(s).toMatchObject({ pid: 42, comm: 'a) b (c)', state: 'R', ppid: 7, flags: 4194304, utime: 11, stime: 22, priority: -81, num_threads: 3, starttime: 12345 });
  });

  it('maps: a line without a name keeps its trailing space out of the path', () => {
    const [r] = parseMaps('7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n');
    expect(r).toMatchObject({ start: 0x7f0000000000, end: 0x7f0000001000, perms: 'rw-p', ino: 0, path: '' });
    const [f] = parseMaps('00400000-00452000 r-xp 0000a000 103:02 1234567                            /opt/a b/x (deleted)\n');
    expect(f).toMatchObject({ offset: 0xa000, devMajor: 0x103, devMinor: 2, ino: 1234567, path: '/opt/a b/x (deleted)' });
  });

  it('smaps: VmFlags mnemonics become the kernel vm_flags bits (values read by a task_vma BPF program on 6.18)', () => {
    const vma = (head: string, flags: string, pkey?: number): string =>
      `${head}\nSize:                 16 kB\nKernelPageSize:        4 kB\nRss:                   0 kB\nTHPeligible:           0\n` +
      (pkey === undefined ? '' : `ProtectionKey:  ${String(pkey).padStart(8)}\n`) +
      `VmFlags: ${flags}\n`;
    const text =
      vma('7fc93551d000-7fc935524000 rw-p 00000000 00:00 0 ', 'rd wr mr mw me lo lf ac mg ') +
      vma('7fc93552a000-7fc93552f000 rw-s 00000000 00:01 1029                       /dev/zero (deleted)', 'rd wr sh mr mw me ms lo sr ') +
      vma('7fc935716000-7fc935719000 r--p 00000000 00:00 0 ', 'rd mr mw me sl ') +
      vma('7fc935719000-7fc93571d000 rw-p 00000000 00:00 0 ', 'rd wr mr mw me nr wf dd dp ') +
      vma('7f194e708000-7f194e70a000 rw-s 00000000 00:01 7 /memfd:x (deleted)', 'rd wr sh mr mw me ms ui ', 3) +
      vma('7f0000000000-7f0000001000 r--p 00000000 00:00 0 ', 'rd mr ?? ');
    const rows = parseSmaps(text);
    expect(rows.map((r) => r.vm_flags.toString(16))).toEqual(['80182073', 'a0fb', '40000000071', '10006200073', '203000000fb', '11']);
    expect(rows.slice(0, 5).map((r) => r.vm_flags_unknown)).toEqual([0, 0, 0, 0, 0]);
    // `??`: a set bit the table cannot place, so every unnamed bit is unknown; named ones stay known.
    expect(rows[5]!.vm_flags_unknown & 0xfff).toBe(0x800); // bit 11 has no mnemonic
    expect(rows[1]).toMatchObject({ start: 0x7fc93552a000, perms: 'rw-s', devMinor: 1, ino: 1029, path: '/dev/zero (deleted)' });
  });

  it('tcp6: addresses are four little-endian u32 groups', () => {
    const [r] = parseInetTable(
      'hdr\n   0: 0000000000000000FFFF00000100007F:0050 00000000000000000000000001000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0000000000000000 100 0 0 10 0\n',
    );
    expect([...r!.saddr]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
    expect([...r!.daddr].slice(12)).toEqual([0, 0, 0, 1]);
    expect(r!.sport).toBe(80);
    expect(r!.tail).toBe('1 0000000000000000 100 0 0 10 0');
  });

  it('kallsyms: modules lose their brackets; hidden (zero) addresses give no fops addresses', () => {
    const rows: string[] = [];
    forEachKsym('ffffffff81000000 T _text\nffffffffc0000000 t f\t[m]\n', (n, t, v, m) => rows.push(`${n}/${t}/${v.toString(16)}/${m}`));
    expect(rows).toEqual(['_text/T/ffffffff81000000/', 'f/t/ffffffffc0000000/m']);
    expect(findSymbols('0000000000000000 d null_fops\n', new Set(['null_fops'])).size).toBe(0);
    expect(findSymbols('ffffffff82000000 d null_fops\n', new Set(['null_fops'])).get('null_fops')).toBe(0xffffffff82000000n);
  });

  it('mountinfo: octal escapes in paths', () => {
    const [m] = parseMountinfo('41 31 0:38 / /sys/fs/my\\040cg rw,relatime shared:1 - cgroup2 cgroup2 rw\n');
    expect(m).toMatchObject({ mnt_id: 41, major: 0, minor: 38, mountPoint: '/sys/fs/my cg', fstype: 'cgroup2' });
  });

  it('config.gz: only an explicit "# CONFIG_KALLSYMS_ALL is not set" rules data symbols out', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bpf-iter-config-'));
    try {
      const gz = (name: string, text: string): string => {
        writeFileSync(path.join(dir, name), gzipSync(text));
        return path.join(dir, name);
      };
      expect(configLacksKallsymsAll(gz('off.gz', 'CONFIG_KALLSYMS=y\n# CONFIG_KALLSYMS_ALL is not set\n'))).toBe(true);
      expect(configLacksKallsymsAll(gz('on.gz', 'CONFIG_KALLSYMS=y\nCONFIG_KALLSYMS_ALL=y\n'))).toBe(false);
      expect(configLacksKallsymsAll(gz('silent.gz', 'CONFIG_KALLSYMS=y\n'))).toBe(false);
      // Configs larger than the prefix decoded first: the option early, late (past the prefix), or cut by its end.
      const filler = (n: number) => Array.from({ length: n }, (_, i) => `CONFIG_X${i}_${((i * 2654435761) >>> 0).toString(36)}=y`).join('\n') + '\n';
      expect(configLacksKallsymsAll(gz('big-off-early.gz', `# CONFIG_KALLSYMS_ALL is not set\n${filler(5000)}`))).toBe(true);
      expect(configLacksKallsymsAll(gz('big-on-early.gz', `CONFIG_KALLSYMS_ALL=y\n${filler(5000)}`))).toBe(false);
      expect(configLacksKallsymsAll(gz('big-off-late.gz', `${filler(5000)}# CONFIG_KALLSYMS_ALL is not set\n${filler(100)}`))).toBe(true);
      expect(configLacksKallsymsAll(gz('big-on-late.gz', `${filler(5000)}CONFIG_KALLSYMS_ALL=y\n`))).toBe(false);
      expect(configLacksKallsymsAll(gz('big-silent.gz', filler(5000)))).toBe(false);
      // "...is not set" followed by more on its line past the prefix's end: not the option's line.
      expect(configLacksKallsymsAll(gz('big-longer.gz', `${filler(400)}# CONFIG_KALLSYMS_ALL is not settled\n${filler(5000)}`))).toBe(false);
      writeFileSync(path.join(dir, 'bad.gz'), 'not gzip');
      expect(configLacksKallsymsAll(path.join(dir, 'bad.gz'))).toBe(false);
      expect(configLacksKallsymsAll(path.join(dir, 'missing.gz'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!existsSync('/proc/config.gz'))('config.gz on this kernel: without CONFIG_KALLSYMS_ALL its kallsyms lists no data object (the shortcut is the scan’s answer)', () => {
    if (configLacksKallsymsAll('/proc/config.gz')) expect(fileHasDataObjects('/proc/kallsyms')).toBe(false);
    else expect(gunzipText('/proc/config.gz')).not.toMatch(/^# CONFIG_KALLSYMS_ALL is not set$/m);
  });

  it('cgroup: the v2 line, with a removed cgroup’s suffix dropped', () => {
    expect(parseCgroupV2Path('4:memory:/x\n0::/a/b (deleted)\n')).toBe('/a/b');
    expect(parseCgroupV2Path('4:memory:/x\n')).toBeNull();
  });

  it('fops names by kind', () => {
    const k = (link: string, mode = 0, fstype = '', flags = 0): string => fopsName({ link, mode, fstype, flags });
    expect(k('anon_inode:[timerfd]')).toBe('timerfd_fops');
    expect(k('anon_inode:[signalfd]')).toBe('signalfd_fops');
    expect(k('anon_inode:bpf_link')).toBe('bpf_link_fops');
    expect(k('anon_inode:inotify')).toBe('inotify_fops');
    expect(k('anon_inode:[pidfd]')).toBe('pidfd_fops');
    expect(k('anon_inode:[io_uring]')).toBe('io_uring_fops');
    expect(k('/dev/pts/3', S_IFCHR, 'devpts')).toBe('tty_fops');
    expect(k('/dev/ptmx', S_IFCHR, 'devtmpfs')).toBe('ptmx_fops');
    expect(k('/dev/tty1', S_IFCHR, 'devtmpfs')).toBe('tty_fops');
    expect(k('/memfd:x (deleted)', S_IFREG, 'tmpfs')).toBe('shmem_file_operations');
    expect(k('/dev/shm/x', S_IFREG, 'tmpfs')).toBe('shmem_file_operations');
    expect(k('/home', S_IFDIR, 'ext4')).toBe('ext4_dir_operations');
    expect(k('/proc/1/maps', S_IFREG, 'proc')).toBe('proc_pid_maps_operations');
    expect(k('net:[4026531840]')).toBe('ns_file_operations');
    expect(k('/etc', S_IFDIR, 'ext4', 0o10000000)).toBe('empty_fops'); // O_PATH
  });

  it('anonymous pipes have their own table from Linux 6.15; FIFOs keep pipefifo_fops', () => {
    const pipe = (osrelease: string | null) => fopsName({ link: 'pipe:[7]', mode: 0, fstype: '', flags: 0, osrelease });
    expect(pipe('6.14.11-amd64')).toBe('pipefifo_fops');
    expect(pipe('6.15.0')).toBe('pipeanon_fops');
    expect(pipe('6.18.44-cloud')).toBe('pipeanon_fops');
    expect(pipe('7.0.1')).toBe('pipeanon_fops');
    expect(pipe('5.10.0')).toBe('pipefifo_fops');
    expect(pipe(null)).toBe('pipefifo_fops'); // unknown release: the name every kernel has
    expect(fopsName({ link: '/tmp/fifo', mode: 0o010600, fstype: 'tmpfs', flags: 0, osrelease: '6.18.0' })).toBe('pipefifo_fops');
  });

  it('a root without /proc gives an empty snapshot and a reason, not an exception', () => {
    const { kernel, report } = readHostWithReport({ root: path.join(os.tmpdir(), 'bpf-iter-no-such-root') });
    expect(kernel.taskCount).toBe(0);
    expect(report.errors[0]).toMatchObject({ code: 'ENOENT' });
  });
});
