/**
 * The `bpf-iter` command line (commander): commands, options, exit codes.
 * Kept apart from `main.ts` so tests can run commands in-process.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CGROUP_ORDER_NAMES } from '@bpf-iter/core';
import { catCommand, type IterOptions } from './cat.js';
import { errorLine, type CliIo } from './common.js';
import { interruptedBy } from './exit.js';
import { linkShowCommand } from './link.js';
import { mkdirCommand, pinCommand, rmCommand } from './pin.js';
import { runCommand } from './run.js';
import { targetsCommand } from './targets.js';
import { realKernelCommands } from './real.js';

/** Exit code of a usage error (bad option, missing argument). */
export const EXIT_USAGE = 2;
/** Exit code of a failed operation. */
export const EXIT_FAILURE = 1;

/** A u32 option (`linfo.task.pid`, `tid`, map ids are __u32): decimal or 0x hex, 0..2^32-1, else EINVAL (exit 2). */
function u32(v: string): number {
  const s = v.trim();
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(s)) throw new InvalidArgumentError('EINVAL: expected a u32 (decimal or 0x hex).');
  const n = Number(s);
  if (n > 0xffffffff) throw new InvalidArgumentError('EINVAL: out of range for a u32 (0..4294967295).');
  return n;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The link-parameter and kernel options shared by `cat`, `run` and `pin`. */
function iterOptions(c: Command, which: { family?: boolean; json?: boolean; set?: boolean; prog?: boolean }): Command {
  c.option('--pid <N>', 'task targets: only the threads of process N', u32)
    .option('--tid <N>', 'task targets: only thread N', u32)
    .option('--map <ID>', 'bpf_map_elem: the map with this id', u32)
    .option('--cgroup <PATH>', 'cgroup: start cgroup (default /)')
    .addOption(new Option('--order <ORDER>', 'cgroup: walk order (required)').choices(CGROUP_ORDER_NAMES.slice(1)))
    .option('--kernel <KERNEL>', 'host, bpf (the running kernel through real BPF iterators), synthetic or synthetic:SEED (default: synthetic, the embedded kernel)');
  if (which.family) c.addOption(new Option('--family <F>', 'tcp/udp: only IPv4 (4) or IPv6 (6) sockets').choices(['4', '6']).argParser(Number));
  if (which.json) c.option('--json', 'one JSON object per line instead of the text dumper');
  if (which.set) c.option('--set <NAME=VALUE>', "set a .bss/.data global (repeatable)", collect, [] as string[]);
  if (which.prog) c.option('--prog <NAME>', 'the program to use when the module exports several');
  return c;
}

/** Builds the commander program writing to `io`. */
export function buildCli(io: CliIo): Command {
  const program = new Command('bpf-iter');
  program
    .description('BPF iterators over a modelled kernel, modelled on bpftool')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`bpf-iter: ${s.trimEnd()}\n`),
    })
    .exitOverride()
    .showSuggestionAfterError(true);

  program
    .command('targets')
    .description('list iterator targets, their ctx fields and link parameters')
    .option('--json', 'print a JSON array')
    .action((o: { json?: boolean }) => targetsCommand(io, o));

  iterOptions(
    program
      .command('cat')
      .argument('<TARGET|PATH>', 'a target name, or a pinned iterator under /sys/fs/bpf')
      .description("run a target's default dumper (or --json), or read a pin: a fresh iteration each time"),
    { family: true, json: true },
  ).action((what: string, o: IterOptions) => catCommand(io, what, o));

  iterOptions(
    program
      .command('run')
      .argument('<PROGRAM>', 'an ESM .js/.mjs/.ts/.mts module exporting SEC("iter/...") programs (.ts needs tsx), or a BPF object .bpf.o/.bpf.c for the real kernel')
      .description('load, attach and read a program module, or a BPF object on the real kernel'),
    { set: true, prog: true },
  )
    .option('--pid-fd <N>', 'BPF objects: the process N, passed to the kernel as a pidfd', u32)
    .action((file: string, o: IterOptions) => runCommand(io, file, o));

  iterOptions(
    program
      .command('pin')
      .argument('<PROGRAM|TARGET>', 'a program module or a target name (its default dumper)')
      .argument('<PATH>', 'where to pin, under /sys/fs/bpf')
      .description('attach and pin an iterator link (persisted in $BPF_ITER_STATE, else $XDG_STATE_HOME/bpf-iter or ~/.local/state/bpf-iter)'),
    { family: true, json: true, set: true, prog: true },
  ).action((what: string, path: string, o: IterOptions) => pinCommand(io, what, path, o));

  program
    .command('rm')
    .argument('<PATH>')
    .description('unpin')
    .action((path: string) => rmCommand(io, path));

  program
    .command('mkdir')
    .argument('<PATH>')
    .option('-p, --parents', 'create missing parent directories')
    .description('create a bpffs directory')
    .action((path: string, o: { parents?: boolean }) => mkdirCommand(io, path, o));

  const link = program.command('link').description('iterator links');
  link
    .command('show')
    .alias('list')
    .option('--json', 'print a JSON array')
    .description('the live links: the pinned ones, with their parameters')
    .action((o: { json?: boolean }) => linkShowCommand(io, o));

  realKernelCommands(program, io, u32);
  return program;
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the
 * exit code: 0, 1 for a failed operation (one `bpf-iter: Error: ERRNO:
 * message` line on stderr), 2 for a usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildCli(io);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    // Ctrl-C killed a child (the BPF build) too: the run was interrupted, not failed.
    const sig = interruptedBy(e);
    if (sig !== undefined) return sig;
    io.stderr.write(errorLine(e) + '\n');
    return EXIT_FAILURE;
  }
}
