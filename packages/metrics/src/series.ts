/**
 * Series sums: samples folded into one value per series as they arrive, so
 * a collection keeps one object per series, not one per iterated object
 * (200,000 fds of one process are one series). Sample lines are parsed
 * once per distinct text: a line whose text before its value was seen
 * before only has its value read.
 */
import { type parseSampleLine, parseSampleValue, parseSeriesPart, type Labels, type Sample } from './samples.js';

/** One series and its summed value. */
export interface Series {
  readonly labels: Labels;
  value: number;
}

/** A series' identity: its labels in name order (NUL never occurs in a label name; values are escaped by length). */
export function keyOf(l: Labels): string {
  const keys = Object.keys(l);
  if (keys.length > 1) keys.sort();
  let k = '';
  for (const key of keys) {
    const v = l[key]!;
    k += `${key}\0${v.length}\0${v}`;
  }
  return k;
}

/** Characters a value token of the fast path may hold (anything else is parsed in full). */
function plainValue(tok: string): boolean {
  if (tok.length === 0) return false;
  for (let i = 0; i < tok.length; i++) {
    const c = tok.charCodeAt(i);
    // 0-9 . + - e E
    if (!((c >= 48 && c <= 57) || c === 46 || c === 43 || c === 45 || c === 101 || c === 69)) return false;
  }
  return true;
}

/**
 * Sums of samples per metric and series, in first-seen order. Summing is
 * in arrival order, as summing the samples one by one would be.
 * @example
 * const sums = new SeriesSums();
 * sums.addLine('tasks{state="R"} 1');
 * sums.addLine('tasks{state="R"} 1');
 * sums.samples(); // [{ name: 'tasks', labels: { state: 'R' }, value: 2 }]
 */
export class SeriesSums {
  /** Per metric name, its series by {@link keyOf}. */
  readonly byName = new Map<string, Map<string, Series>>();
  /** A line's text before ` value` → its series (only for lines that are exactly `series value`). */
  private readonly byText = new Map<string, Series>();

  /** Adds one sample. */
  add(name: string, labels: Labels, value: number): Series {
    let m = this.byName.get(name);
    if (!m) this.byName.set(name, (m = new Map()));
    const k = keyOf(labels);
    const cur = m.get(k);
    if (cur) {
      cur.value += value;
      return cur;
    }
    const s: Series = { labels, value };
    m.set(k, s);
    return s;
  }

  /** Adds one line of a program's output (as {@link parseSampleLine} reads it: blank and `#` lines are skipped, anything else that is not a sample is EINVAL). */
  addLine(line: string): void {
    const sp = line.lastIndexOf(' ');
    if (sp > 0) {
      const seen = this.byText.get(line.slice(0, sp));
      if (seen) {
        const tok = line.slice(sp + 1);
        if (plainValue(tok)) {
          const v = Number(tok);
          if (!Number.isNaN(v)) {
            seen.value += v;
            return;
          }
        }
      }
    }
    const s = line.trim();
    if (s === '' || s.startsWith('#')) return;
    const p = parseSeriesPart(s);
    const series = this.add(p.name, p.labels, parseSampleValue(s, p.end));
    // Remember the text only when the line is exactly `SERIES VALUE`: then a later line with that text and a plain value is the same series.
    if (s.length === line.length && p.end === sp && plainValue(line.slice(sp + 1))) this.byText.set(line.slice(0, sp), series);
  }

  /** One sample per series (its sum), metric by metric in first-seen order. */
  samples(): Sample[] {
    const out: Sample[] = [];
    for (const [name, m] of this.byName) for (const s of m.values()) out.push({ name, labels: s.labels, value: s.value });
    return out;
  }
}
