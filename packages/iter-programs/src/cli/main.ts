#!/usr/bin/env node
/**
 * The `bpf-iter` CLI, modeled on bpftool. This first version lists the
 * iterator targets; `cat`, `run`, `pin`, `rm` and `link show` follow.
 */
const TARGETS = [
  'task', 'task_file', 'task_vma', 'tcp', 'udp', 'unix', 'netlink', 'ipv6_route', 'ksym',
  'bpf_map', 'bpf_map_elem', 'bpf_prog', 'bpf_link', 'cgroup', 'kmem_cache',
];

const [cmd = 'help'] = process.argv.slice(2);
if (cmd === 'targets') {
  for (const t of TARGETS) console.log(t);
} else {
  console.log('usage: bpf-iter targets');
  process.exitCode = cmd === 'help' ? 0 : 1;
}
