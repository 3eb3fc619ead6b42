/** Where a command writes: injectable so that tests and the agent can capture it. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

type Cell = string | number | boolean | null | undefined | readonly string[];

/** A plain, aligned table (no colours: it is read by people and by `grep`). */
export function printTable(io: Io, rows: readonly Record<string, Cell>[], columns: readonly string[]): void {
  if (rows.length === 0) {
    io.stderr.write('(none)\n');
    return;
  }
  const text = (cell: Cell) => (cell === null || cell === undefined ? '-' : Array.isArray(cell) ? cell.join(',') || '-' : String(cell));
  const cells = rows.map((row) => columns.map((column) => text(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i].length)));
  const line = (values: readonly string[]) => values.map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i]))).join('  ');
  io.stdout.write(`${line(columns.map((c) => c.toUpperCase()))}\n`);
  for (const row of cells) io.stdout.write(`${line(row)}\n`);
}

/** A list or a table, as `--json` says. */
export function printList(io: Io, json: boolean | undefined, items: readonly Record<string, unknown>[], columns: readonly string[]): void {
  if (json) printJson(io, items);
  else printTable(io, items as Record<string, Cell>[], columns);
}

/** One object: JSON, or `key: value` lines. */
export function printObject(io: Io, json: boolean | undefined, value: Record<string, unknown>): void {
  if (json) return printJson(io, value);
  for (const [key, field] of Object.entries(value)) {
    const text = field !== null && typeof field === 'object' ? JSON.stringify(field) : String(field);
    io.stdout.write(`${key}: ${text}\n`);
  }
}
