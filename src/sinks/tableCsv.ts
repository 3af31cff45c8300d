import { promises as fs } from 'node:fs';
import type { Table } from '../sources/movies.js';

/** A cell as CSV: quoted when it holds a comma, a quote or a line break (quotes doubled), else as it is. */
export function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Writes a table as CSV with a header line; a missing value is an empty cell. */
export async function writeTableCsv(file: string, table: Table): Promise<void> {
  const line = (cells: readonly string[]) => cells.map(csvCell).join(',');
  await fs.writeFile(file, [line(table.header), ...table.rows.map(line)].join('\n') + '\n');
}
