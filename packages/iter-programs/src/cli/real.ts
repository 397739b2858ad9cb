/**
 * The commands that act on the real kernel through libbpf (see
 * `object.ts`, `prog.ts`): `iter pin`, `prog show`, `map show`. Their
 * modules are imported when a command runs, so the other commands never
 * load libbpf.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { CGROUP_ORDER_NAMES } from '@bpf-iter/core';
import type { CliIo } from './common.js';
import type { ObjectOptions } from './object.js';

/** True for a file the real kernel loads (`.bpf.o`, `.o`, `.bpf.c`, `.c`). */
export function isBpfObjectFile(s: string): boolean {
  return /\.(o|c)$/.test(s);
}

/** Adds `iter pin`, `prog show` and `map show` to `program`. */
export function realKernelCommands(program: Command, io: CliIo, uint: (v: string) => number): void {
  const iter = program.command('iter').description('iterators on the real kernel (bpftool iter)');
  iter
    .command('pin')
    .argument('<OBJ>', 'a BPF object .bpf.o, or a .bpf.c compiled for this kernel')
    .argument('<PATH>', 'where to pin on the real bpffs (/sys/fs/bpf/...)')
    .argument('[MAP...]', "the map of a map target: 'map id N', 'map pinned PATH' or 'map name NAME'")
    .description("load the object's first iter/ program (or --prog), attach it with the link parameters and pin the link: `cat PATH` reads it, `rm PATH` removes it")
    .option('--pid <N>', 'task targets: only the threads of process N', uint)
    .option('--tid <N>', 'task targets: only thread N', uint)
    .option('--pid-fd <N>', 'task targets: process N, passed as a pidfd', uint)
    .option('--map <ID>', 'map targets: the map with this id', uint)
    .option('--cgroup <PATH>', 'cgroup: start cgroup (/ for the root, else a directory of the cgroup2 mount, absolute or relative to it)')
    .addOption(new Option('--order <ORDER>', 'cgroup: walk order').choices(CGROUP_ORDER_NAMES.slice(1)))
    .option('--prog <NAME>', 'the program to load when the object has several')
    .option('--set <NAME=VALUE>', 'set a .bss/.data global before load (repeatable)', (v: string, prev: string[] = []) => [...prev, v], [] as string[])
    .action(async (obj: string, path: string, map: string[], o: ObjectOptions) => (await import('./object.js')).iterPinCommand(io, obj, path, map, o));

  program
    .command('prog')
    .description('programs of the real kernel')
    .command('show')
    .alias('list')
    .option('-j, --json', 'print a JSON array')
    .description('every loaded BPF program (like bpftool prog show)')
    .action(async (o: { json?: boolean }) => (await import('./prog.js')).progShowCommand(io, o));

  program
    .command('map')
    .description('maps of the real kernel')
    .command('show')
    .alias('list')
    .option('-j, --json', 'print a JSON array')
    .description('every BPF map (like bpftool map show)')
    .action(async (o: { json?: boolean }) => (await import('./prog.js')).mapShowCommand(io, o));
}
