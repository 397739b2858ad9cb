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

const NEEDS_ESCAPE = /[\\\n"]/;
const escape = (v: string): string => (NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : v);

/**
 * A series' text, `name{k="v",...}` (just `name` without labels): a sample
 * line is this, a space, the value and a newline.
 * @example
 * seriesText('tasks', { state: 'R' }); // 'tasks{state="R"}'
 */
export function seriesText(name: string, labels: Record<string, string | number>): string {
  // Built by concatenation: this runs once per iterated object.
  let text = name;
  let sep = '{';
  for (const k of Object.keys(labels)) {
    text += `${sep}${k}="${escape(String(labels[k]))}"`;
    sep = ',';
  }
  return sep === ',' ? `${text}}` : text;
}

/**
 * One sample line, `name{k="v",...} value\n`, for programs to write.
 * @example
 * bpf_seq_write(ctx.meta.seq, sampleLine('tasks', { state: t.state }, 1));
 */
export function sampleLine(name: string, labels: Record<string, string | number>, value: number): string {
  return `${seriesText(name, labels)} ${value}\n`;
}

/** The series part (`name{labels}`) of a trimmed sample line, and the index just after it. EINVAL (with the line) when it is not one. */
export function parseSeriesPart(s: string): { name: string; labels: Record<string, string>; end: number } {
  let i = 0;
  while (i < s.length && s[i] !== '{' && s[i] !== ' ' && s[i] !== '\t') i++;
  const name = s.slice(0, i);
  if (!NAME.test(name)) badLine(s, 'metric name');
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
      if (eq < 0) badLine(s, 'label without =');
      const key = s.slice(i, eq).trim();
      if (!LABEL.test(key)) badLine(s, `label name '${key}'`);
      if (s[eq + 1] !== '"') badLine(s, 'unquoted label value');
      let v = '';
      let j = eq + 2;
      // The common value has no escapes: one slice up to its closing quote.
      const q = s.indexOf('"', j);
      const bs = s.indexOf('\\', j);
      if (q >= 0 && (bs < 0 || bs > q)) {
        v = s.slice(j, q);
        j = q;
      } else {
        for (; j < s.length && s[j] !== '"'; j++) {
          if (s[j] === '\\') {
            j++;
            v += s[j] === 'n' ? '\n' : s[j];
          } else v += s[j];
        }
      }
      if (j >= s.length) badLine(s, 'unterminated label value');
      labels[key] = v;
      i = j + 1;
    }
  }
  return { name, labels, end: i };
}

/** The value of a trimmed sample line whose series part ends at `end` (an optional timestamp after it is allowed). */
export function parseSampleValue(s: string, end: number): number {
  const rest = s.slice(end).trim().split(/\s+/);
  if (rest.length < 1 || rest.length > 2 || rest[0] === '') badLine(s, 'value');
  const value = Number(rest[0]);
  if (Number.isNaN(value) && rest[0] !== 'NaN') badLine(s, 'value');
  return value;
}

function badLine(s: string, why: string): never {
  fail('EINVAL', `not a sample line (${why}): ${JSON.stringify(s.slice(0, 200))}`);
}

/**
 * Parses one line of a program's output: a sample (`name{k="v"} value`),
 * or null for a blank or `#` comment line. EINVAL (with the line) for
 * anything else: a program's output is never guessed at.
 */
export function parseSampleLine(line: string): Sample | null {
  const s = line.trim();
  if (s === '' || s.startsWith('#')) return null;
  const p = parseSeriesPart(s);
  return { name: p.name, labels: p.labels, value: parseSampleValue(s, p.end) };
}
