/**
 * Samples: one value of one series (`name{labels} value`), the unit every
 * source is turned into. Iterator programs emit them as lines in the
 * Prometheus text format's sample syntax, so a BPF C program can
 * `BPF_SEQ_PRINTF(seq, "name{comm=\"%s\"} 1\n", ...)` and a JS program
 * `bpf_seq_write(seq, sampleLine(...))`.
 */
import { fail } from '@bpf-iter/core';

/** Label values of one series. */
export type Labels = Readonly<Record<string, string>>;

/** One value of one series. Samples of the same series are summed. */
export interface Sample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Checks a metric name (Prometheus: `[a-zA-Z_:][a-zA-Z0-9_:]*`). EINVAL otherwise. */
export function checkName(name: string): string {
  if (!NAME.test(name)) fail('EINVAL', `bad metric name '${name}' (want [a-zA-Z_:][a-zA-Z0-9_:]*)`);
  return name;
}

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/**
 * One sample line, `name{k="v",...} value\n`, for programs to write.
 * @example
 * bpf_seq_write(ctx.meta.seq, sampleLine('tasks', { state: t.state }, 1));
 */
export function sampleLine(name: string, labels: Record<string, string | number>, value: number): string {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${escape(String(v))}"`);
  return `${name}${l.length ? `{${l.join(',')}}` : ''} ${value}\n`;
}

/**
 * Parses one line of a program's output: a sample (`name{k="v"} value`),
 * or null for a blank or `#` comment line. EINVAL (with the line) for
 * anything else: a program's output is never guessed at.
 */
export function parseSampleLine(line: string): Sample | null {
  const s = line.trim();
  if (s === '' || s.startsWith('#')) return null;
  const bad = (why: string): never => fail('EINVAL', `not a sample line (${why}): ${JSON.stringify(s.slice(0, 200))}`);
  let i = 0;
  while (i < s.length && s[i] !== '{' && s[i] !== ' ' && s[i] !== '\t') i++;
  const name = s.slice(0, i);
  if (!NAME.test(name)) bad('metric name');
  const labels: Record<string, string> = {};
  if (s[i] === '{') {
    i++;
    for (;;) {
      while (s[i] === ' ' || s[i] === ',') i++;
      if (s[i] === '}') {
        i++;
        break;
      }
      const eq = s.indexOf('=', i);
      if (eq < 0) bad('label without =');
      const key = s.slice(i, eq).trim();
      if (!LABEL.test(key)) bad(`label name '${key}'`);
      if (s[eq + 1] !== '"') bad('unquoted label value');
      let v = '';
      let j = eq + 2;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\') {
          j++;
          v += s[j] === 'n' ? '\n' : s[j];
        } else v += s[j];
      }
      if (j >= s.length) bad('unterminated label value');
      labels[key] = v;
      i = j + 1;
    }
  }
  const rest = s.slice(i).trim().split(/\s+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === '') bad('value');
  const value = Number(rest[0]);
  if (Number.isNaN(value) && rest[0] !== 'NaN') bad('value');
  return { name, labels, value };
}
