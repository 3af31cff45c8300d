import { Observable } from 'rxjs';
import { AeflowError, at } from '../errors.js';
import type { Row, RowOrigin } from '../rows.js';

/** What a JSON row holds: the model's input columns, in order. */
export interface JsonLayout {
  /** Names the rows in messages (`rows:3:2` is row 3, value 2). */
  readonly file: string;
  /** Each column's name, or null when the run's columns have none. */
  readonly names: readonly string[] | null;
  readonly width: number;
  /** Per column: its values are categories (text, or numbers taken as text). */
  readonly categorical: readonly boolean[];
  /** null stands for a missing value (NaN in the row), as an empty CSV field does. */
  readonly allowMissing: boolean;
}

/**
 * Rows given as JSON arrays (a request's `rows`), one value per input column, as rows a CSV reader would give for
 * the same values: numbers as they are, null where missing (when allowed), a categorical column's text as its id
 * (RowOrigin.categories). They then go through the same preprocessing as a CSV's rows. A row of the wrong
 * length, or a value that is not a finite number, ends the stream with a coded error naming row and value.
 *
 * @example
 * jsonRows([[0, 255, 12]], layout).pipe(modelFeatures(source))
 */
export function jsonRows(rows: unknown, layout: JsonLayout): Observable<Row> {
  return new Observable<Row>((subscriber) => {
    try {
      if (!Array.isArray(rows) || rows.length === 0) {
        throw new AeflowError('REQUEST_INVALID', `${layout.file}: expected a non-empty array of rows, each an array of values`, 'send {"rows": [[…], …]}');
      }
      const builder = new JsonRowBuilder(layout);
      for (let i = 0; i < rows.length && !subscriber.closed; i++) subscriber.next(builder.row(rows[i], i));
      subscriber.complete();
    } catch (e) {
      subscriber.error(e);
    }
  });
}

class JsonRowBuilder {
  private readonly origin: RowOrigin;
  private readonly dictionaries: Array<Map<string, number> | null>;

  constructor(private readonly layout: JsonLayout) {
    const anyCategorical = layout.categorical.some(Boolean);
    this.dictionaries = layout.categorical.map((c) => (c ? new Map<string, number>() : null));
    const categories = anyCategorical ? layout.categorical.map((c) => (c ? ([] as string[]) : null)) : undefined;
    this.origin = {
      file: layout.file,
      header: layout.names,
      featureColumns: Array.from({ length: layout.width }, (_, i) => i),
      ...(categories ? { categories } : {}),
    };
  }

  row(values: unknown, index: number): Row {
    const { layout } = this;
    const line = index + 1;
    if (!Array.isArray(values) || values.length !== layout.width) {
      const what = Array.isArray(values)
        ? `has ${values.length} value${values.length === 1 ? '' : 's'}`
        : `is ${JSON.stringify(values) ?? 'undefined'}, not an array`;
      throw new AeflowError(
        'MODEL_INPUT_MISMATCH',
        `${at(layout.file, line)}: row ${what}, the model takes ${layout.width}${layout.names ? ` (${preview(layout.names)})` : ''}`,
        "send one value per input column, in the model's order (GET /model lists them)",
      );
    }
    const x = new Float32Array(layout.width);
    for (let c = 0; c < layout.width; c++) x[c] = this.value(values[c], line, c);
    return { origin: this.origin, line, index, label: null, x };
  }

  private value(v: unknown, line: number, c: number): number {
    if (this.layout.categorical[c]) {
      if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return this.categoryId(c, String(v).trim());
    } else if (typeof v === 'number' && Number.isFinite(v)) {
      return v;
    } else if (v === null && this.layout.allowMissing) {
      return Number.NaN;
    }
    const name = this.layout.names?.[c];
    throw new AeflowError(
      'CSV_VALUE_INVALID',
      `${at(this.layout.file, line, c + 1)}: column ${c + 1}${name === undefined ? '' : ` ("${name}")`} holds ${JSON.stringify(v) ?? 'undefined'}, expected ${
        this.layout.categorical[c] ? 'a category (text)' : 'a finite number'
      }`,
      this.layout.allowMissing ? 'every value must be a number, or null where it is missing' : 'every value must be a number; fix the value or remove the row',
    );
  }

  private categoryId(c: number, value: string): number {
    const dictionary = this.dictionaries[c] as Map<string, number>;
    let id = dictionary.get(value);
    if (id === undefined) {
      id = dictionary.size;
      dictionary.set(value, id);
      ((this.origin.categories as ReadonlyArray<string[]>)[c] as string[]).push(value);
    }
    return id;
  }
}

function preview(names: readonly string[]): string {
  return names.length <= 4 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, …, ${names[names.length - 1]}`;
}
