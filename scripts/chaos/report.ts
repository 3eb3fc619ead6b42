/** Plain-text tables for the terminal and for pasting into the README. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Status counts grouped for a table cell: `503 identity_unavailable ×4, ERR ECONNREFUSED ×2`. */
export function statusSummary(byStatus: Map<string, number>, match: (key: string) => boolean): string {
  const parts = [...byStatus.entries()].filter(([key]) => match(key)).sort((a, b) => b[1] - a[1]).map(([key, n]) => `${key} ×${n}`);
  return parts.length ? parts.join(', ') : '0';
}

export function sumStatus(byStatus: Map<string, number>, match: (key: string) => boolean): number {
  let sum = 0;
  for (const [key, n] of byStatus) if (match(key)) sum += n;
  return sum;
}

export const is2xx = (key: string) => /^2\d\d/.test(key);
export const is4xx = (key: string) => /^4\d\d/.test(key);
export const is5xx = (key: string) => /^5\d\d/.test(key);
export const isError = (key: string) => key.startsWith('ERR') || key.startsWith('EXC');

export const ms = (value: number | null | undefined) => (value === null || value === undefined ? 'n/a' : `${value} ms`);
