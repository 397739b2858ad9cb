/**
 * The `bpf-iter` command line (commander): commands, options, exit codes.
 * Kept apart from `main.ts` so tests can run commands in-process.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CGROUP_ORDER_NAMES, fail } from '@bpf-iter/core';
import type { IterOptions } from './cat.js';
import type { CliIo } from './stream.js';
import { errorLine, interruptedBy } from './exit.js';
import { jsonText, versionInfo, versionText, type OutputOptions } from './output.js';
import { isBpfObjectFile } from './real.js';
import { isBpffsPath } from './bpffs_path.js';
import type { ServeCliOptions } from './serve.js';

// Each command's module (and what it pulls in: programs, targets, links, the
// model, the BPF path) is imported when the command runs: start-up loads
// commander and these definitions only.

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
function iterOptions(c: Command, which: { family?: boolean; set?: boolean; prog?: boolean }): Command {
  c.option('--pid <N>', 'task targets: only the threads of process N', u32)
    .option('--tid <N>', 'task targets: only thread N', u32)
    .option('--map <ID>', 'bpf_map_elem: the map with this id', u32)
    .option('--cgroup <PATH>', 'cgroup: start cgroup (default /)')
    .addOption(new Option('--order <ORDER>', 'cgroup: walk order (required)').choices(CGROUP_ORDER_NAMES.slice(1)))
    .option('--kernel <KERNEL>', KERNEL_HELP);
  if (which.family) c.addOption(new Option('--family <F>', 'tcp/udp: only IPv4 (4) or IPv6 (6) sockets').choices(['4', '6']).argParser(Number));
  if (which.set) c.option('--set <NAME=VALUE>', "set a .bss/.data global (repeatable)", collect, [] as string[]);
  if (which.prog) c.option('--prog <NAME>', 'the program to use when the module exports several');
  return c;
}

const KERNEL_HELP = 'host, bpf (the running kernel through real BPF iterators), synthetic, synthetic:SEED or snapshot:FILE (a saved kernel; default: synthetic, the embedded kernel)';

/** A command's options with the global ones (`-j`, `-p`); `-p` implies `-j`, as in bpftool. */
function opts<T>(cmd: Command): T & OutputOptions {
  const o = cmd.optsWithGlobals() as T & OutputOptions;
  if (o.pretty) o.json = true;
  return o;
}

/** bpftool prints `null` under `-j` for a command with no output (`pin`, `rm`...). */
async function nullUnderJson(io: CliIo, o: OutputOptions, done: Promise<void>): Promise<void> {
  await done;
  if (o.json) io.stdout.write('null\n');
}

/**
 * The `pin` command's arguments and options (`pin` and `iter pin` share
 * them): a program module or target is pinned on the model's bpffs (state
 * file); a BPF object (`.bpf.o`/`.bpf.c`) on the real bpffs through libbpf.
 */
function pinCommandSpec(c: Command, io: CliIo): Command {
  return iterOptions(
    c
      .argument('<PROGRAM|TARGET|OBJ>', 'a program module, a target name (its default dumper; -j: its JSON dumper), or a BPF object .bpf.o/.bpf.c (the real kernel)')
      .argument('<PATH>', 'where to pin, under /sys/fs/bpf')
      .argument('[MAP...]', "BPF objects of a map target: 'map id N', 'map pinned PATH' or 'map name NAME'")
      .description('attach and pin an iterator link (model pins persist in $BPF_ITER_STATE, else $XDG_STATE_HOME/bpf-iter or ~/.local/state/bpf-iter)'),
    { family: true, set: true, prog: true },
  )
    .option('--pid-fd <N>', 'BPF objects: the process N, passed to the kernel as a pidfd', u32)
    .action(async (what: string, path: string, mapWords: string[], _o: unknown, cmd: Command) => {
      const o = opts<IterOptions>(cmd);
      if (isBpfObjectFile(what)) return nullUnderJson(io, o, (async () => (await import('./object.js')).iterPinCommand(io, what, path, mapWords, o))());
      if (mapWords.length) fail('EINVAL', `'${mapWords.join(' ')}': map MAP applies to BPF objects; a model target takes --map ID`);
      return nullUnderJson(io, o, (async () => (await import('./pin.js')).pinCommand(io, what, path, o))());
    });
}

/** How a command ended, for the bin ({@link runCliWhole}). */
export interface CliRun {
  /** The exit code (see {@link runCli}). */
  code: number;
  /**
   * The command ran no user code and left nothing running (`targets`,
   * `version`, `cat TARGET`: a built-in dumper): the bin exits at once
   * instead of waiting for the event loop to drain and tearing the heap
   * down (`process.exit`; stdout and stderr are synchronous on Linux).
   */
  exitNow: boolean;
}

/** Builds the commander program writing to `io`; `run.exitNow` is set by the commands that may end the process at once. */
export function buildCli(io: CliIo, run: CliRun = { code: 0, exitNow: false }): Command {
  const program = new Command('bpf-iter');
  program
    .description('BPF iterators over a modelled kernel, modelled on bpftool')
    .option('-j, --json', 'JSON output (cat/pin of a target: its JSON dumper, one object per line)')
    .option('-p, --pretty', 'indented JSON (implies -j)')
    .version(versionText().trimEnd(), '-V, --version', 'print the version')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`bpf-iter: ${s.trimEnd()}\n`),
    })
    .exitOverride()
    .showSuggestionAfterError(true)
    // A bad --kernel value is a usage error (exit 2) like any bad option, caught before the command runs.
    .hook('preAction', async (_root, action) => {
      const kernel = action.opts<{ kernel?: unknown }>().kernel;
      if (typeof kernel !== 'string') return;
      const { parseKernelSpec } = await import('./kernel_spec.js');
      try {
        parseKernelSpec(kernel);
      } catch (e) {
        action.error(`error: ${(e as Error).message}`, { exitCode: EXIT_USAGE, code: 'bpf-iter.kernel' });
      }
    });

  program
    .command('version')
    .description('print the version (-j: as JSON)')
    .action((_o: unknown, cmd: Command) => {
      const o = opts<object>(cmd);
      run.exitNow = true;
      io.stdout.write(o.json ? jsonText(versionInfo(), o) : versionText());
    });

  program
    .command('targets')
    .description('list iterator targets, their ctx fields and link parameters')
    .action(async (_o: unknown, cmd: Command) => {
      run.exitNow = true;
      return (await import('./targets.js')).targetsCommand(io, opts<object>(cmd));
    });

  iterOptions(
    program
      .command('cat')
      .argument('<TARGET|PATH>', 'a target name, or a pinned iterator under /sys/fs/bpf')
      .description("run a target's default dumper (-j: its JSON dumper), or read a pin: a fresh iteration each time"),
    { family: true },
  ).action(async (what: string, _o: unknown, cmd: Command) => {
    const o = opts<IterOptions>(cmd);
    // The in-kernel dumper needs no model: tried first, so `cat.js` (the model, the programs) is not loaded for it.
    // A pin needs the state file (cat.js); a target runs whole in its own bundle (cat_target.js).
    if (isBpffsPath(what)) return (await import('./cat.js')).catCommand(io, what, o);
    // The in-kernel dumpers run only on the real kernel (--kernel bpf): other kernels skip loading them.
    if (o.kernel === 'bpf') {
      const kt = await import('./kernel_text.js');
      const text = kt.kernelTextObject(what, o);
      if (text) return kt.catKernelText(io, text, o);
    }
    // The bpf source and the snapshot reader are cat.js's: the cat_target bundle reads the host and synthetic kernels.
    const k = o.kernel?.trim();
    if (k === 'bpf' || k?.startsWith('snapshot:')) return (await import('./cat.js')).catCommand(io, what, o);
    // A built-in dumper on the host or a synthetic kernel: no user code, nothing left running.
    run.exitNow = true;
    return (await import('./cat_target.js')).catTargetCommand(io, what, o);
  });

  iterOptions(
    program
      .command('run')
      .argument('<PROGRAM>', 'an ESM .js/.mjs/.ts/.mts module exporting SEC("iter/...") programs (.ts needs tsx), or a BPF object .bpf.o/.bpf.c for the real kernel')
      .description('load, attach and read a program module, or a BPF object on the real kernel'),
    { set: true, prog: true },
  )
    .option('--pid-fd <N>', 'BPF objects: the process N, passed to the kernel as a pidfd', u32)
    .action(async (file: string, _o: unknown, cmd: Command) => (await import('./run.js')).runCommand(io, file, opts<IterOptions>(cmd)));

  pinCommandSpec(program.command('pin'), io);

  const iter = program.command('iter').description('iterators, as bpftool iter');
  pinCommandSpec(iter.command('pin'), io);

  program
    .command('rm')
    .argument('<PATH>')
    .description('unpin (or remove a bad state entry by its path)')
    .action(async (path: string, _o: unknown, cmd: Command) => nullUnderJson(io, opts<object>(cmd), (await import('./pin.js')).rmCommand(io, path)));

  program
    .command('mkdir')
    .argument('<PATH>')
    .option('--parents', 'create missing parent directories')
    .description('create a bpffs directory')
    .action((path: string, _o: unknown, cmd: Command) => {
      const o = opts<{ parents?: boolean }>(cmd);
      return nullUnderJson(io, o, (async () => (await import('./pin.js')).mkdirCommand(io, path, o))());
    });

  const link = program.command('link').description('iterator links, as bpftool link');
  link
    .command('show')
    .alias('list')
    .argument('[LINK...]', 'id ID (with --kernel bpf)')
    .option('--kernel <KERNEL>', "bpf: the running kernel's links, like bpftool link show (default: the links pinned by bpf-iter, with their model parameters)")
    .description('the live links: the pinned ones, with their parameters')
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      const o = opts<{ kernel?: string }>(cmd);
      if (o.kernel === 'bpf') {
        const f = (await import('./show.js')).parseShowFilter(args, ['id']);
        return (await import('./prog.js')).kernelLinkShowCommand(io, o, f);
      }
      if (o.kernel !== undefined) fail('EINVAL', `link show --kernel takes only bpf (the running kernel), not '${o.kernel}'; without it, the links bpf-iter pinned`);
      if (args.length) fail('EINVAL', `link show takes 'id ID' only with --kernel bpf`);
      return (await import('./link.js')).linkShowCommand(io, o);
    });

  // bpftool's own: the real kernel (libbpf) unless --kernel names a model.
  const prog = program.command('prog').description('loaded programs, as bpftool prog');
  prog
    .command('show')
    .alias('list')
    .argument('[PROG...]', 'id ID | name NAME | tag TAG')
    .option('--kernel <KERNEL>', 'bpf (default: the running kernel, like bpftool), host, synthetic, synthetic:SEED or snapshot:FILE (a model, with the programs its pins hold)')
    .description("the kernel's programs")
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      const o = opts<{ kernel?: string }>(cmd);
      const show = await import('./show.js');
      const f = show.parseShowFilter(args, ['id', 'name', 'tag']);
      if (o.kernel === undefined || o.kernel === 'bpf') return (await import('./prog.js')).progShowCommand(io, o, f);
      return show.progShowCommand(io, f, o);
    });

  const map = program.command('map').description('maps, as bpftool map');
  map
    .command('show')
    .alias('list')
    .argument('[MAP...]', 'id ID | name NAME')
    .option('--kernel <KERNEL>', 'bpf (default: the running kernel, like bpftool), host, synthetic, synthetic:SEED or snapshot:FILE (a model)')
    .description("the kernel's maps")
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      const o = opts<{ kernel?: string }>(cmd);
      const show = await import('./show.js');
      const f = show.parseShowFilter(args, ['id', 'name']);
      if (o.kernel === undefined || o.kernel === 'bpf') return (await import('./prog.js')).mapShowCommand(io, o, f);
      return show.mapShowCommand(io, f, o);
    });

  const snapshot = program.command('snapshot').description('kernel snapshots: save a kernel to a file, replay it anywhere with --kernel snapshot:FILE (docs/snapshots.md)');
  snapshot
    .command('save')
    .argument('<FILE>', 'the snapshot to write (gzip-compressed JSON Lines; written whole or not at all)')
    .option('--kernel <KERNEL>', 'host, bpf, synthetic, synthetic:SEED or snapshot:FILE (default: synthetic)')
    .option('--redact <FIELDS>', 'pseudonymise comm, paths and/or addresses (comma-separated; stable pseudonyms keep relations)')
    .description('save a kernel model to FILE')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const o = opts<{ kernel?: string; redact?: string }>(cmd);
      return nullUnderJson(io, o, (async () => (await import('./snapshot.js')).snapshotSaveCommand(io, file, o))());
    });
  snapshot
    .command('info')
    .argument('<FILE>')
    .description('what a snapshot holds: source, machine, kernel release, time, counts per kind (-j: JSON)')
    .action(async (file: string, _o: unknown, cmd: Command) => (await import('./snapshot.js')).snapshotInfoCommand(io, file, opts<object>(cmd)));
  snapshot
    .command('diff')
    .argument('<A>')
    .argument('<B>')
    .description('objects that appeared, vanished or changed from A to B, per kind (-j: JSON)')
    .action(async (a: string, b: string, _o: unknown, cmd: Command) => (await import('./snapshot.js')).snapshotDiffCommand(io, a, b, opts<object>(cmd)));

  program
    .command('serve')
    .description('serve iterator results as metrics: /metrics (Prometheus text format, a fresh iteration per scrape) and OTLP/HTTP push (see docs/metrics.md)')
    .option('--listen <HOST:PORT>', 'where /metrics listens (port 0: any free port, printed at start)', '127.0.0.1:9464')
    .option('--kernel <KERNEL>', 'host, bpf, synthetic, synthetic:SEED or snapshot:FILE (default: synthetic)')
    .option('--program <MODULE_OR_OBJ>', "instead of the default set: a program module (.js/.ts) or BPF object (.bpf.o/.bpf.c) whose output lines are samples, 'name{label=\"v\"} value'")
    .option('--prog <NAME>', 'the program to use when --program has several')
    .option('--set <NAME=VALUE>', 'set a .bss/.data global of --program (repeatable)', collect, [] as string[])
    .option('--pid <N>', '--program on a task target: only the threads of process N', u32)
    .option('--tid <N>', '--program on a task target: only thread N', u32)
    .option('--otlp <URL>', 'also push OTLP/HTTP (JSON) to this URL, e.g. http://127.0.0.1:4318/v1/metrics')
    .option('--otlp-interval <MS>', 'OTLP push interval in ms', u32, 10_000)
    .option('--max-series <N>', 'cardinality cap: most series per metric (the rest are counted in bpf_iter_dropped_series)', u32, 1000)
    .option('--top <N>', 'series kept by the per-process metrics (top N by value)', u32, 20)
    .option('--cache-ms <MS>', 'reuse an iteration finished less than MS ago (scrapes under load)', u32, 1000)
    .action(async (o: ServeCliOptions) => (await import('./serve.js')).serve(io, o));

  return program;
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the
 * exit code: 0, 1 for a failed operation (one `bpf-iter: Error: ERRNO:
 * message` line on stderr), 2 for a usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  return (await runCliWhole(argv, io)).code;
}

/** {@link runCli}, and whether the process may exit at once ({@link CliRun.exitNow}): the bin's entry. */
export async function runCliWhole(argv: readonly string[], io: CliIo): Promise<CliRun> {
  const run: CliRun = { code: 0, exitNow: false };
  run.code = await parseAndRun(buildCli(io, run), argv, io);
  return run;
}

async function parseAndRun(program: Command, argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    // stdout's reader went away (EPIPE, `| head`): a quiet end, as cat's (stream.ts; by name, as bundled commands throw it).
    if (e instanceof Error && e.name === 'StdoutClosedError') return 0;
    // Ctrl-C killed a child (the BPF build) too: the run was interrupted, not failed.
    const sig = interruptedBy(e);
    if (sig !== undefined) return sig;
    io.stderr.write(errorLine(e) + '\n');
    return EXIT_FAILURE;
  }
}
