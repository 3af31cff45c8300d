import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defer, finalize, lastValueFrom, mergeMap, tap, timer } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { batchRows } from '../../src/operators/batchRows.js';
import { csvRows } from '../../src/sources/csv.js';
import { FlowControl } from '../../src/sources/flowControl.js';
import { tempDir } from '../helpers.js';

describe('FlowControl with the CSV source', () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);

  it('a slow consumer holds the reader back: rows in flight stay bounded however long the file', async () => {
    const file = path.join(tmp.dir, 'long.csv');
    const lines = ['label,a,b'];
    for (let i = 0; i < 3000; i++) lines.push(`${i % 10},${i % 256},${(7 * i) % 256}`);
    writeFileSync(file, lines.join('\n') + '\n');

    const flow = new FlowControl(2);
    let parsed = 0;
    let consumed = 0;
    let maxAhead = 0;
    await lastValueFrom(
      csvRows(file, { header: true, labelColumn: 'label', flow }).pipe(
        tap(() => {
          parsed++;
          maxAhead = Math.max(maxAhead, parsed - consumed);
        }),
        batchRows(20),
        mergeMap((batch) => {
          flow.acquire();
          // a worker that takes 1 ms per batch, slower than parsing
          return defer(() => timer(1)).pipe(
            tap(() => (consumed += batch.rows)),
            finalize(() => flow.release()),
          );
        }, 2),
      ),
    );
    expect(consumed).toBe(3000);
    // two batches in flight plus the one being filled
    expect(maxAhead).toBeLessThanOrEqual(3 * 20);
  });

  it('without flow control the same reader runs ahead (the bound above is the control working)', async () => {
    const file = path.join(tmp.dir, 'long.csv');
    let parsed = 0;
    let consumed = 0;
    let maxAhead = 0;
    await lastValueFrom(
      csvRows(file, { header: true, labelColumn: 'label' }).pipe(
        tap(() => {
          parsed++;
          maxAhead = Math.max(maxAhead, parsed - consumed);
        }),
        batchRows(20),
        mergeMap((batch) => timer(1).pipe(tap(() => (consumed += batch.rows))), 2),
      ),
    );
    expect(maxAhead).toBeGreaterThan(500);
  });
});
