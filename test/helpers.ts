import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { map, type Observable, type OperatorFunction, of } from 'rxjs';
import { copyRow, type Row, type RowOrigin } from '../src/rows.js';

export const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const fixture = (name: string) => path.join(fixtures, name);
export const repoRoot = path.resolve(fixtures, '../..');

/** A fresh temp folder, removed by the returned cleanup. */
export function tempDir(prefix = 'aeflow-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const origin: RowOrigin = { file: 'mem.csv', header: ['label', 'a', 'b', 'c'], featureColumns: [1, 2, 3] };

export function row(index: number, values: number[], label: number | null = index): Row {
  return { origin, line: index + 2, index, label, x: Float32Array.from(values) };
}

export function rowsOf(n: number, width = 3): Observable<Row> {
  return of(
    ...Array.from({ length: n }, (_, i) =>
      row(
        i,
        Array.from({ length: width }, (_, j) => i * 10 + j),
      ),
    ),
  );
}

/** Copies each row's values as it goes by: what a consumer that keeps rows does (readers reuse their memory). */
export function keepRows(): OperatorFunction<Row, Row> {
  return map(copyRow);
}
