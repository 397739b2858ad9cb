import type { Ksym } from '@bpf-iter/core';
import { px } from './format.js';

/** One line of /proc/kallsyms (`s_show`); `showValue` false prints zeros, as for unprivileged readers. */
export function kallsymsLine(s: Ksym, showValue = true): string {
  const v = px(showValue ? s.value : 0n);
  return s.module_name ? `${v} ${s.type} ${s.name}\t[${s.module_name}]\n` : `${v} ${s.type} ${s.name}\n`;
}
