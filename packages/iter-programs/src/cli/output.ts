/**
 * bpftool's output options, global to every command: `-j`/`--json` (JSON,
 * one line) and `-p`/`--pretty` (indented JSON; implies `-j`), and
 * `--version`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The global output options as the commands get them. */
export interface OutputOptions {
  json?: boolean;
  pretty?: boolean;
}

/** `value` as JSON text: one line for `-j`, indented for `-p`. */
export function jsonText(value: unknown, o: OutputOptions): string {
  return JSON.stringify(value, null, o.pretty ? 2 : undefined) + '\n';
}

/** The package's version (its package.json, found upwards from this file: src/cli, a dist chunk or the bin). */
export function packageVersion(): string {
  // __dirname in the bin (a CommonJS bundle), import.meta.url in the ESM builds and the sources.
  const here = typeof __dirname !== 'undefined' ? __dirname : dirname(fileURLToPath(import.meta.url));
  for (let d = here, i = 0; i < 4; d = dirname(d), i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@bpf-iter/iter-programs' && pkg.version) return pkg.version;
    } catch {
      // not here
    }
  }
  return 'unknown';
}

/** `bpf-iter version` / `-V`: like bpftool's (`bpftool v7.1.0`, `using libbpf v1.1`). */
export function versionInfo(): { version: string; node_version: string; kernels: string[] } {
  return { version: packageVersion(), node_version: process.versions.node, kernels: ['synthetic', 'host', 'bpf'] };
}

/** The text form of {@link versionInfo}. */
export function versionText(): string {
  const v = versionInfo();
  return `bpf-iter v${v.version}\nusing node v${v.node_version}\nkernels: ${v.kernels.join(', ')}\n`;
}
