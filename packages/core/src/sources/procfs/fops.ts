import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK } from '../../model/file.js';

/** `O_PATH`: such fds have `empty_fops`. */
const O_PATH = 0o10000000;

/** anon_inode names (as `/proc/PID/fd` links show them, after `anon_inode:`) -> the kernel's fops symbol. */
export const ANON_FOPS: Readonly<Record<string, string>> = {
  '[eventfd]': 'eventfd_fops',
  '[eventpoll]': 'eventpoll_fops',
  '[timerfd]': 'timerfd_fops',
  '[signalfd]': 'signalfd_fops',
  'bpf-map': 'bpf_map_fops',
  'bpf-prog': 'bpf_prog_fops',
  bpf_link: 'bpf_link_fops',
  bpf_iter: 'bpf_iter_fops',
  btf: 'btf_fops',
  inotify: 'inotify_fops',
  '[fanotify]': 'fanotify_fops',
  '[pidfd]': 'pidfd_fops',
  '[io_uring]': 'io_uring_fops',
  '[userfaultfd]': 'userfaultfd_fops',
  '[perf_event]': 'perf_fops',
  '[fscontext]': 'fscontext_fops',
  '[vfio-device]': 'vfio_device_fops',
  'kvm-vm': 'kvm_vm_fops',
  sync_file: 'sync_file_fops',
  dmabuf: 'dma_buf_fops',
  '[secretmem]': 'secretmem_fops',
  '[rseq]': 'rseq_fops',
};

/** Character devices by path -> the fops their open() installs. */
const CHR_FOPS: Readonly<Record<string, string>> = {
  '/dev/null': 'null_fops',
  '/dev/zero': 'zero_fops',
  '/dev/full': 'full_fops',
  '/dev/random': 'random_fops',
  '/dev/urandom': 'urandom_fops',
  '/dev/kmsg': 'kmsg_fops',
  '/dev/mem': 'mem_fops',
  '/dev/port': 'port_fops',
  '/dev/ptmx': 'ptmx_fops',
  '/dev/pts/ptmx': 'ptmx_fops',
  '/dev/console': 'console_fops',
  '/dev/net/tun': 'tun_fops',
  '/dev/fuse': 'fuse_dev_operations',
  '/dev/kvm': 'kvm_chardev_ops',
  '/dev/userfaultfd': 'userfaultfd_dev_fops',
  '/dev/hwrng': 'rng_chrdev_ops',
};

/** Regular-file and directory fops per filesystem type (`[file, dir]`). */
const FS_FOPS: Readonly<Record<string, readonly [string, string]>> = {
  ext4: ['ext4_file_operations', 'ext4_dir_operations'],
  ext3: ['ext4_file_operations', 'ext4_dir_operations'],
  ext2: ['ext2_file_operations', 'ext2_dir_operations'],
  xfs: ['xfs_file_operations', 'xfs_dir_file_operations'],
  btrfs: ['btrfs_file_operations', 'btrfs_dir_file_operations'],
  tmpfs: ['shmem_file_operations', 'simple_dir_operations'],
  devtmpfs: ['shmem_file_operations', 'simple_dir_operations'],
  hugetlbfs: ['hugetlbfs_file_operations', 'simple_dir_operations'],
  overlay: ['ovl_file_operations', 'ovl_dir_operations'],
  sysfs: ['kernfs_file_fops', 'kernfs_dir_fops'],
  cgroup: ['kernfs_file_fops', 'kernfs_dir_fops'],
  cgroup2: ['kernfs_file_fops', 'kernfs_dir_fops'],
  fuse: ['fuse_file_operations', 'fuse_dir_operations'],
  virtiofs: ['fuse_file_operations', 'fuse_dir_operations'],
  '9p': ['v9fs_file_operations_dotl', 'v9fs_dir_operations_dotl'],
  nfs: ['nfs_file_operations', 'nfs_dir_operations'],
  nfs4: ['nfs4_file_operations', 'nfs_dir_operations'],
  vfat: ['fat_file_operations', 'fat_dir_operations'],
  squashfs: ['generic_ro_fops', 'squashfs_dir_ops'],
  debugfs: ['debugfs_full_proxy_file_operations', 'simple_dir_operations'],
  tracefs: ['tracing_fops', 'simple_dir_operations'],
  bpf: ['bpffs_map_fops', 'simple_dir_operations'],
  devpts: ['tty_fops', 'simple_dir_operations'],
  mqueue: ['mqueue_file_operations', 'simple_dir_operations'],
};

/** What the host source knows about one open file when naming its fops. */
export interface FileKind {
  /** The `/proc/PID/fd/N` link text. */
  link: string;
  /** `i_mode`, 0 if unknown. */
  mode: number;
  /** Filesystem type of the file's superblock ('' if unknown). */
  fstype: string;
  /** fdinfo flags (0 if unknown). */
  flags: number;
  /** The kernel's release (`/proc/sys/kernel/osrelease`); null or absent if unknown. */
  osrelease?: string | null;
}

function procFops(path: string, dir: boolean): string {
  if (dir) {
    if (path === '/proc') return 'proc_root_operations';
    if (/^\/proc\/\d+$/.test(path)) return 'proc_tgid_base_operations';
    if (/^\/proc\/\d+\/task\/\d+$/.test(path)) return 'proc_tid_base_operations';
    if (/^\/proc\/\d+\/task$/.test(path)) return 'proc_task_operations';
    if (/^\/proc\/\d+(\/task\/\d+)?\/fd$/.test(path)) return 'proc_fd_operations';
    if (/^\/proc\/\d+(\/task\/\d+)?\/fdinfo$/.test(path)) return 'proc_fdinfo_operations';
    if (path.startsWith('/proc/sys')) return 'proc_sys_dir_file_operations';
    return 'proc_dir_operations';
  }
  if (/^\/proc\/\d+(\/task\/\d+)?\/maps$/.test(path)) return 'proc_pid_maps_operations';
  if (/^\/proc\/\d+(\/task\/\d+)?\/(stat|statm|status|cgroup|limits|personality|stack|syscall|io)$/.test(path)) return 'proc_single_file_operations';
  if (/^\/proc\/\d+(\/task\/\d+)?\/mountinfo$/.test(path)) return 'proc_mountinfo_operations';
  if (path.startsWith('/proc/sys/')) return 'proc_sys_file_operations';
  // Files made with proc_create*() get the wrapper table.
  return 'proc_reg_file_ops';
}

/**
 * The table of an anonymous pipe (pipe(2)): its own `pipeanon_fops` since
 * Linux 6.15, FIFOs keep `pipefifo_fops`; before 6.15 both share
 * `pipefifo_fops`. An unknown release gets the older name.
 */
export function anonPipeFops(osrelease: string | null): string {
  const m = osrelease ? /^(\d+)\.(\d+)/.exec(osrelease) : null;
  if (!m) return 'pipefifo_fops';
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > 6 || (maj === 6 && min >= 15) ? 'pipeanon_fops' : 'pipefifo_fops';
}

/**
 * The name of the kernel's `file_operations` table for an open file, by
 * file kind: sockets, pipes, anon inodes by their name, character devices
 * by path, regular files and directories by filesystem type. Unknown kinds
 * get a plausible name (the source marks it synthetic when kallsyms lacks it).
 */
export function fopsName(k: FileKind): string {
  const { link, mode, fstype, flags } = k;
  if (flags & O_PATH) return 'empty_fops';
  if (link.startsWith('socket:[')) return 'socket_file_ops';
  if (link.startsWith('pipe:[')) return anonPipeFops(k.osrelease ?? null);
  if (link.startsWith('anon_inode:')) {
    const name = link.slice('anon_inode:'.length);
    if (ANON_FOPS[name]) return ANON_FOPS[name];
    if (name.startsWith('kvm-vcpu')) return 'kvm_vcpu_fops';
    return name.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '') + '_fops';
  }
  // nsfs links: "net:[4026531840]", "mnt:[...]"...
  if (/^[a-z_]+:\[\d+\]$/.test(link)) return 'ns_file_operations';
  if (link.startsWith('/memfd:')) return link.startsWith('/memfd:hugetlb') ? 'hugetlbfs_file_operations' : 'shmem_file_operations';
  const path = link.endsWith(' (deleted)') ? link.slice(0, -' (deleted)'.length) : link;
  const type = mode & S_IFMT;
  if (type === S_IFSOCK) return 'socket_file_ops';
  if (type === S_IFIFO) return 'pipefifo_fops';
  if (type === S_IFBLK) return 'def_blk_fops';
  if (type === S_IFCHR || (type === 0 && path.startsWith('/dev/') && fstype !== 'tmpfs')) {
    if (CHR_FOPS[path]) return CHR_FOPS[path];
    if (/^\/dev\/(pts\/\d+|tty\S*|console)$/.test(path)) return 'tty_fops';
    if (path.startsWith('/dev/vhost-')) return 'vhost_' + path.slice('/dev/vhost-'.length).replace(/\W/g, '_') + '_fops';
    return 'def_chr_fops';
  }
  const dir = type === S_IFDIR;
  if (fstype === 'proc' || (fstype === '' && (path === '/proc' || path.startsWith('/proc/')))) return procFops(path, dir);
  const fs = FS_FOPS[fstype];
  if (fs) return dir ? fs[1] : fs[0];
  if (type === S_IFREG || type === 0) return fstype ? `${fstype}_file_operations` : 'ext4_file_operations';
  return fstype ? `${fstype}_dir_operations` : 'ext4_dir_operations';
}

/**
 * The `i_mode` type bits a link implies when the inode cannot be stat'ed
 * (sockets, pipes, anon inodes need no stat).
 */
export function modeOfLink(link: string): number {
  if (link.startsWith('socket:[')) return S_IFSOCK | 0o777;
  if (link.startsWith('pipe:[')) return S_IFIFO | 0o600;
  if (link.startsWith('anon_inode:')) return 0o600;
  if (link.startsWith('/memfd:')) return S_IFREG | 0o777;
  return S_IFREG | 0o644;
}
