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
  return plainNumber(tok, 0, tok.length) !== undefined;
}

/**
 * The value of `s[from, to)` when it is a plain number token (only
 * `0-9 . + - e E`, what `Number()` reads), else undefined: the caller
 * parses the line in full, which gives the error or the odd form.
 */
function plainNumber(s: string, from: number, to: number): number | undefined {
  if (from >= to) return undefined;
  // Up to 15 digits: an exact integer (below 2^53), summed without a string.
  let n = 0;
  let i = from;
  for (; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  if (i === to && to - from <= 15) return n;
  for (; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || c === 46 || c === 43 || c === 45 || c === 101 || c === 69)) return undefined;
  }
  const v = Number(s.slice(from, to));
  return Number.isNaN(v) ? undefined : v;
}

/** A series text (a line's text before ` value`) and its series. */
interface Seen {
  readonly text: string;
  readonly series: Series;
}

/** A series text's parse: its metric, labels and {@link keyOf} key. */
interface ParsedSeries {
  readonly name: string;
  readonly labels: Labels;
  readonly key: string;
}

/** Default most series texts a {@link SeriesTexts} keeps. */
export const DEFAULT_SERIES_TEXTS = 50_000;

/**
 * Series texts parsed once and kept between collections: a source's
 * programs print mostly the same series every time, so a collection parses
 * only the new ones. Emptied when it reaches `max` texts (processes come
 * and go: the texts of gone ones are not kept forever).
 * @example
 * const texts = new SeriesTexts();
 * const src = { metrics: [], collect: async () => readSamples(link.open(), texts) };
 */
export class SeriesTexts {
  private readonly map = new Map<string, ParsedSeries>();
  constructor(readonly max = DEFAULT_SERIES_TEXTS) {}
  /** The parse of `text`, if kept. */
  get(text: string): ParsedSeries | undefined {
    return this.map.get(text);
  }
  /** Keeps the parse of `text`. */
  set(text: string, p: ParsedSeries): void {
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(text, p);
  }
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
  private readonly byText = new Map<string, Seen>();
  /** The two series texts met last: programs write runs of the same one or two (a VMA's count and bytes). */
  private last: Seen | null = null;
  private prev: Seen | null = null;

  /** @param texts series texts already parsed (kept by a source between its collections), or a fresh set */
  constructor(private readonly texts = new SeriesTexts()) {}

  /** Adds one sample. */
  add(name: string, labels: Labels, value: number): Series {
    return this.addKeyed(name, labels, keyOf(labels), value);
  }

  private addKeyed(name: string, labels: Labels, k: string, value: number): Series {
    let m = this.byName.get(name);
    if (!m) this.byName.set(name, (m = new Map()));
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
      const text = line.slice(0, sp);
      const seen = this.byText.get(text);
      const v = seen || this.texts.get(text) ? plainNumber(line, sp + 1, line.length) : undefined;
      if (v !== undefined) {
        if (seen) {
          seen.series.value += v;
          this.met(seen);
        } else {
          // Parsed in an earlier collection: only its series is new here.
          const p = this.texts.get(text)!;
          this.remember(text, this.addKeyed(p.name, p.labels, p.key, v));
        }
        return;
      }
    }
    const s = line.trim();
    if (s === '' || s.startsWith('#')) return;
    const p = parseSeriesPart(s);
    const key = keyOf(p.labels);
    const series = this.addKeyed(p.name, p.labels, key, parseSampleValue(s, p.end));
    // Remember the text only when the line is exactly `SERIES VALUE`: then a later line with that text and a plain value is the same series.
    if (s.length === line.length && p.end === sp && plainValue(line.slice(sp + 1))) {
      const text = line.slice(0, sp);
      this.texts.set(text, { name: p.name, labels: p.labels, key });
      this.remember(text, series);
    }
  }

  /**
   * Adds every complete line of `text` (each ending in `\n`) and returns
   * the unfinished rest. A line repeating one of the last two series texts
   * is summed in place, without a string of its own.
   */
  addText(text: string): string {
    let pos = 0;
    for (let nl; (nl = text.indexOf('\n', pos)) >= 0; pos = nl + 1) {
      const hit = this.repeats(this.last, text, pos, nl) ?? this.repeats(this.prev, text, pos, nl);
      if (hit) {
        this.met(hit);
        continue;
      }
      this.addLine(text.slice(pos, nl));
    }
    return pos === 0 ? text : text.slice(pos);
  }

  /** Adds `text[pos, nl)` to `seen` when the line is `seen.text`, a space and a plain number (what {@link addLine} would find by that text). */
  private repeats(seen: Seen | null, text: string, pos: number, nl: number): Seen | null {
    if (seen === null) return null;
    const at = pos + seen.text.length;
    if (at >= nl || text.charCodeAt(at) !== 32 || !text.startsWith(seen.text, pos)) return null;
    const v = plainNumber(text, at + 1, nl);
    if (v === undefined) return null;
    seen.series.value += v;
    return seen;
  }

  private remember(text: string, series: Series): void {
    const seen = { text, series };
    this.byText.set(text, seen);
    this.met(seen);
  }

  private met(seen: Seen): void {
    if (seen !== this.last) {
      this.prev = this.last;
      this.last = seen;
    }
  }

  /** One sample per series (its sum), metric by metric in first-seen order. */
  samples(): Sample[] {
    const out: Sample[] = [];
    for (const [name, m] of this.byName) for (const s of m.values()) out.push({ name, labels: s.labels, value: s.value });
    return out;
  }
}
