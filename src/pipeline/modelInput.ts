import { lastValueFrom, type Observable } from 'rxjs';
import type { RunSettings } from '../config/runSettings.js';
import { AeflowError, type ErrorCode } from '../errors.js';
import { batchRows } from '../operators/batchRows.js';
import type { Batch, Row } from '../rows.js';
import { csvShape } from '../sources/csv.js';
import { type JsonLayout, jsonRows } from '../sources/jsonRows.js';
import { csvField } from '../sinks/csvText.js';
import { type DataSource, dataRows, modelFeatures } from './dataflow.js';
import type { ColumnPlan } from '../sources/rowBuilder.js';
import { type ModelData, modelSource, preprocessingPlan } from './modelData.js';
import { widthMismatch } from './passes.js';

/** Rows ready for the model: rows × inputs, row-major, in memory of their own. */
export interface InputRows {
  readonly x: Float32Array;
  readonly rows: number;
}

/** Stream records read as a batch: the good ones' rows (in `good`'s order), and each bad one's error. */
export interface RecordRows extends InputRows {
  /** Indices of the records whose rows `x` holds, in order. */
  readonly good: readonly number[];
  readonly errors: ReadonlyMap<number, AeflowError>;
}

/** How a run read its data, as flags may override it (see dataFlags). */
export interface InputSettings {
  readonly scale: number | null;
  readonly labelColumn: string | number | null;
}

/** The errors that belong to one record or request (it is bad), not to the model or the machine. */
const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CSV_EMPTY',
  'CSV_HEADER_INVALID',
  'CSV_ROW_INVALID',
  'CSV_VALUE_INVALID',
  'CSV_VALUE_OUT_OF_RANGE',
  'CSV_PARSE_FAILED',
  'MODEL_INPUT_MISMATCH',
  'REQUEST_INVALID',
  'STREAM_ENTRY_INVALID',
]);

/**
 * What the sender of a request or a stream record can do about a reader's error. The readers' own hints speak
 * of a pipeline's keys (data.scale, data.categorical), which a client of a served model does not set.
 */
const SENDER_HINTS: Partial<Record<ErrorCode, string>> = {
  CSV_EMPTY: 'send at least one row: JSON {"rows": [[…], …]}, or CSV text with a header line and a row',
  CSV_VALUE_INVALID: "send numbers in the training CSV's columns (a text value only where the run has a categorical column)",
  CSV_VALUE_OUT_OF_RANGE: "send values in the training CSV's units and range (e.g. pixels from 0 to 255, not scaled)",
  CSV_ROW_INVALID: "send rows with the training CSV's columns, in its order",
};

function senderHint(e: unknown): unknown {
  if (!(e instanceof AeflowError)) return e;
  const hint = SENDER_HINTS[e.code];
  return hint ? new AeflowError(e.code, e.message, hint) : e;
}

export function isInputError(e: unknown): e is AeflowError {
  return e instanceof AeflowError && INPUT_ERRORS.has(e.code);
}

const encoder = new TextEncoder();

/** Lines without a header, as the reader takes them (see ModelInput.recordLayout). */
interface Headerless {
  readonly source: DataSource;
  /** The header line put before the lines, or null when the run's columns are not known. */
  readonly header: Uint8Array | null;
  readonly columns: readonly string[] | null;
}

function preview(names: readonly string[]): string {
  return names.length <= 4 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, …, ${names[names.length - 1]}`;
}

/** An error about lines read after a header line of ours: its line numbers as the caller counts them. */
function lineBefore(e: unknown, file: string): unknown {
  if (!(e instanceof AeflowError) || !e.message.startsWith(`${file}:`)) return e;
  const rest = e.message.slice(file.length + 1);
  const m = /^(\d+)(.*)$/s.exec(rest);
  if (!m) return e;
  const err = new AeflowError(e.code, `${file}:${Number(m[1]) - 1}${m[2]}`, e.hint);
  err.stack = e.stack;
  return err;
}

/**
 * How rows that do not come from a file reach a saved model — a request's CSV body or JSON rows, a stream's
 * records — read with the model's saved preprocessing (or its run's scale) through the very dataflow `aeflow
 * score` reads a file with, so that the same values give the same features. Rows are never skipped here: a row
 * that would be is an error, since every row asked about needs its answer.
 */
export class ModelInput {
  private headerless: Headerless | AeflowError | null = null;

  private constructor(
    private readonly data: ModelData,
    readonly inputs: number,
    private readonly settings: InputSettings,
    /** The training CSV's header, when its run had one and the file is still there. */
    private readonly trainingHeader: readonly string[] | null,
    private readonly train: string | null,
  ) {}

  static async create(data: ModelData, inputs: number, run: RunSettings, settings: InputSettings = run): Promise<ModelInput> {
    let header: readonly string[] | null = null;
    if (run.train && run.header) {
      try {
        header = (await csvShape(run.train, { header: true, labelColumn: null })).origin.header;
      } catch {
        // The training CSV may live on another machine: then only input that names its columns can be read.
      }
    }
    return new ModelInput(data, inputs, settings, header, run.train);
  }

  /** The columns a JSON row holds, in order: the model's input columns. */
  get layout(): Omit<JsonLayout, 'file'> {
    const p = this.data.preprocessing;
    if (p) {
      return {
        names: p.json.columns.map((c) => c.name),
        width: p.json.columns.length,
        categorical: p.json.columns.map((c) => c.kind === 'categorical'),
        allowMissing: p.json.missing !== 'error',
      };
    }
    const label = this.settings.labelColumn;
    const names = this.trainingHeader?.filter((name, i) => (typeof label === 'number' ? i !== label - 1 : name !== label)) ?? null;
    return {
      names: names?.length === this.inputs ? names : null,
      width: this.inputs,
      categorical: Array.from({ length: this.inputs }, () => false),
      allowMissing: false,
    };
  }

  /** JSON rows (see jsonRows), named `file` in messages. */
  json(rows: unknown, file = 'rows'): Promise<InputRows> {
    const source = this.source(file, true);
    const n = Array.isArray(rows) ? rows.length : 1;
    return this.pack(jsonRows(rows, { file, ...this.layout }).pipe(modelFeatures(source)), Math.max(1, n), file);
  }

  /**
   * CSV text in the run's column layout: with a header line naming the columns (as `aeflow score` reads a
   * file), or without one, the columns then being the training CSV's, in its order (a label column included when
   * it had one).
   */
  async csv(text: Uint8Array, file: string, header: boolean): Promise<InputRows> {
    let lines = 1;
    for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) lines++;
    if (header) return this.pack(dataRows({ ...this.source(file, true), text }), lines, file);
    const h = this.recordLayout();
    if (!h.header) return this.pack(dataRows({ ...h.source, file, text }), lines, file);
    // The run's header before the lines makes the reader hold each of them to the run's column count.
    const body = new Uint8Array(h.header.length + text.length);
    body.set(h.header);
    body.set(text, h.header.length);
    try {
      return await this.pack(dataRows({ ...h.source, file, text: body }), lines + 1, file);
    } catch (e) {
      throw lineBefore(e, file);
    }
  }

  /**
   * Stream records, each one CSV line without a header (see `csv`), read as one text; when that fails, each on
   * its own, so that a bad record is told apart from the rest. `name(i)` names record i in its error.
   */
  async records(records: readonly string[], name: (i: number) => string): Promise<RecordRows> {
    const errors = new Map<number, AeflowError>();
    const candidates: number[] = [];
    records.forEach((r, i) => {
      const problem = this.recordProblem(r, name(i));
      if (problem) errors.set(i, problem);
      else candidates.push(i);
    });
    if (candidates.length === 0) return { x: new Float32Array(0), rows: 0, good: [], errors };
    try {
      const all = await this.csv(encoder.encode(candidates.map((i) => records[i]).join('\n')), name(candidates[0]), false);
      if (all.rows === candidates.length) return { ...all, good: candidates, errors };
    } catch (e) {
      if (!isInputError(e)) throw e;
    }
    return this.oneByOne(records, candidates, name, errors);
  }

  /** What is wrong with a record before it is parsed: not one line, or (unquoted) not the run's column count. */
  private recordProblem(record: string, name: string): AeflowError | null {
    if (record.length === 0 || /[\r\n]/.test(record)) {
      const what = record.length === 0 ? 'is empty' : 'holds a line break';
      return new AeflowError('STREAM_ENTRY_INVALID', `${name}: its row ${what}`, 'an entry holds one CSV record, in the field "row"');
    }
    const columns = this.recordLayout().columns;
    if (!columns || record.includes('"')) return null;
    let fields = 1;
    for (let i = record.indexOf(','); i !== -1; i = record.indexOf(',', i + 1)) fields++;
    if (fields === columns.length) return null;
    return new AeflowError(
      'CSV_ROW_INVALID',
      `${name}: has ${fields} field${fields === 1 ? '' : 's'}, the run's records have ${columns.length} (${preview(columns)})`,
      "a record holds the training CSV's columns, in its order, the label column included when it had one",
    );
  }

  /** Fails now when records without a header cannot be read (the run's label column cannot be placed). */
  checkRecords(): void {
    this.recordLayout();
  }

  private async oneByOne(records: readonly string[], candidates: number[], name: (i: number) => string, errors: Map<number, AeflowError>): Promise<RecordRows> {
    const good: number[] = [];
    const parts: Float32Array[] = [];
    for (const i of candidates) {
      try {
        const r = await this.csv(encoder.encode(records[i]), name(i), false);
        good.push(i);
        parts.push(r.x.subarray(0, this.inputs));
      } catch (e) {
        if (!isInputError(e)) throw e;
        errors.set(i, e);
      }
    }
    const x = new Float32Array(good.length * this.inputs);
    for (const [k, p] of parts.entries()) x.set(p, k * this.inputs);
    return { x, rows: good.length, good, errors };
  }

  /** A source read as `aeflow score` reads a file (with its header), never skipping a row. */
  private source(file: string, header: boolean): DataSource {
    const settings = {
      header,
      labelColumn: this.settings.labelColumn,
      scale: this.settings.scale,
      onBadRow: 'error' as const,
      parser: 'fast' as const,
      cache: null,
    };
    return { ...modelSource(file, settings, this.data, true), skipMissing: false };
  }

  /**
   * How lines without a header are read: in the training CSV's columns, features by number. The label column
   * is no feature and is left unread (new data may leave it empty); placing it needs its number. The run's
   * column names (the training CSV's header, else numbered ones when the model's inputs tell the count) go before
   * the lines, so each is held to that column count.
   */
  private recordLayout(): Headerless {
    this.headerless ??= this.headerlessLayout();
    if (this.headerless instanceof AeflowError) throw this.headerless;
    return this.headerless;
  }

  private headerlessLayout(): Headerless | AeflowError {
    const base = { ...this.source('records', false), labelColumn: null };
    const p = this.data.preprocessing;
    let plan: ColumnPlan;
    let columns = this.trainingHeader;
    if (p) {
      plan = { ...preprocessingPlan(p, false), labelOptional: true };
    } else {
      const label = this.labelNumber();
      if (label instanceof AeflowError) return label;
      const count = this.inputs + (label === null ? 0 : 1);
      if (columns?.length !== count) columns = Array.from({ length: count }, (_, c) => `column ${c + 1}`);
      plan = {
        features: Array.from({ length: count }, (_, c) => c + 1).filter((c) => c !== label),
        exclude: [],
        categorical: [],
        allowMissing: false,
        labelOptional: true,
      };
    }
    const header = columns ? encoder.encode(`${columns.map(csvField).join(',')}\n`) : null;
    return { source: { ...base, header: header !== null, columns: plan }, header, columns };
  }

  private labelNumber(): number | null | AeflowError {
    const label = this.settings.labelColumn;
    if (label === null || typeof label === 'number') return label;
    const i = this.trainingHeader?.indexOf(label) ?? -1;
    if (i >= 0) return i + 1;
    return new AeflowError(
      'USAGE',
      `the run's label column is "${label}", but ${this.train ? `its training CSV (${this.train}) is not here` : 'the run names no training CSV'} to say which column of a record that is`,
      'pass --label-column N (its 1-based number in the records), or --label-column none when the records have no label column',
    );
  }

  private async pack(rows$: Observable<Row>, maxRows: number, file: string): Promise<InputRows> {
    let batch: Batch | null;
    try {
      batch = await lastValueFrom(rows$.pipe(batchRows(maxRows)), { defaultValue: null });
    } catch (e) {
      throw senderHint(e);
    }
    if (!batch) throw new AeflowError('CSV_EMPTY', `${file}: holds no rows`, SENDER_HINTS.CSV_EMPTY);
    if (batch.cols !== this.inputs) throw widthMismatch(file, batch.cols, this.inputs);
    return { x: batch.x, rows: batch.rows };
  }
}
