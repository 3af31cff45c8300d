import path from 'node:path';
import { concatMap, defer, finalize, from, map, mergeAll, type Observable, type OperatorFunction } from 'rxjs';
import { AeflowError } from '../errors.js';
import { columnPlan } from '../config/columns.js';
import type { ColumnPlan } from '../sources/rowBuilder.js';
import type { Pipeline } from '../config/schema.js';
import { batchRows } from '../operators/batchRows.js';
import { normalize } from '../operators/normalize.js';
import type { Batch, Row } from '../rows.js';
import { BadRows } from '../sources/badRows.js';
import { csvRows, csvShape } from '../sources/csv.js';
import type { FlowControl } from '../sources/flowControl.js';
import { preprocess } from '../operators/preprocess.js';
import type { Preprocessing } from '../preprocessing/preprocessing.js';
import { type CacheOptions, cachedCsvRows } from '../sources/rowCache.js';
import { isPattern, shardFiles } from '../sources/shards.js';
import { isRedisUrl, parseStreamUrl } from '../sources/streamUrl.js';
import { stages } from '../stages/builtins.js';
import type { StageContext } from '../stages/stage.js';

/**
 * How to read one CSV: what every pass over it shares, whether it trains, tests, evaluates or encodes. Built from
 * a pipeline (`dataSource`) or from a run's settings and command-line flags (encode, evaluate).
 */
export interface DataSource {
  readonly file: string;
  readonly header: boolean;
  readonly labelColumn: string | number | null;
  /** Raw values must lie in [0, scale] and are divided by it; null: used as they are. */
  readonly scale: number | null;
  readonly onBadRow: 'error' | 'skip';
  readonly parser: 'fast' | 'csv-parse';
  /** The row cache, or null to always read the CSV. `write: false` reads a cache that exists but makes none. */
  readonly cache: (CacheOptions & { readonly write?: boolean }) | null;
  /** Which columns are features and how the reader takes them (default: every column but the label, numbers). */
  readonly columns?: ColumnPlan;
  /**
   * The fitted preprocessing, applied in place of the plain division by `scale`; absent: divide by `scale` (null:
   * raw values, as the statistics pass wants them). `skipMissing`: drop (and count) rows it cannot fill.
   */
  readonly preprocessing?: Preprocessing;
  readonly skipMissing?: boolean;
  /** The CSV's bytes, in memory (a request's body, stream records): read in place of `file`, with no row cache. */
  readonly text?: Uint8Array;
}

export interface PassOptions {
  /** Under `on_bad_row: skip`, where the pass counts the rows it skips. */
  readonly badRows?: BadRows;
  readonly flow?: FlowControl;
  readonly progress?: (bytesParsed: number, totalBytes: number, rows: number) => void;
  /** Where batches are packed (training: the trainer's reused shared memory); fresh arrays by default. */
  readonly allocate?: (length: number) => Float32Array;
}

/**
 * The rows of one CSV, parsed and normalized: from the row cache when it holds the file, else from the CSV
 * (writing the cache on the way unless told not to). A pattern (`data/shards/*.csv`) reads every file it matches
 * as one, in sorted order; `-` reads standard input. Every pass of every command reads through here.
 */
export function dataRows(source: DataSource, options: PassOptions = {}): Observable<Row> {
  if (!isPattern(source.file)) return fileRows(source, options);
  // Shards: each read (and cached) as a file of its own, in sorted order, numbered on as one file.
  return defer(async () => {
    const files = await shardFiles(source.file);
    let offset = 0;
    let first: { file: string; header: readonly string[] | null } | null = null;
    return from(files).pipe(
      concatMap((file) => {
        const before = offset;
        return fileRows({ ...source, file }, options).pipe(
          map((row) => {
            if (row.index === 0) first = checkShardHeader(first, row);
            offset = before + row.index + 1;
            return before === 0 ? row : { ...row, index: before + row.index };
          }),
        );
      }),
    );
  }).pipe(mergeAll());
}

/** Shards must agree on their header: the first shard's names every other shard's columns. */
function checkShardHeader(first: { file: string; header: readonly string[] | null } | null, row: Row): { file: string; header: readonly string[] | null } {
  const header = row.origin.header;
  if (!first) return { file: row.origin.file, header };
  if (JSON.stringify(first.header) !== JSON.stringify(header)) {
    throw new AeflowError(
      'CSV_HEADER_INVALID',
      `${row.origin.file}:1: its header (${header?.join(',') ?? 'none'}) differs from ${first.file}'s (${first.header?.join(',') ?? 'none'})`,
      'every shard of a pattern must have the same columns in the same order',
    );
  }
  return first;
}

/** The rows of one file (or standard input, `-`, which has no row cache). */
function fileRows(source: DataSource, options: PassOptions): Observable<Row> {
  const skip = source.onBadRow === 'skip';
  // Row-level skips (counted by the reader, or remembered by the row cache) and range skips are counted apart,
  // so a cached pass neither loses nor double-counts them; the pass's collector gets both.
  const report = skip || source.skipMissing ? (options.badRows ?? new BadRows()) : undefined;
  const rowLevel = skip ? new BadRows() : undefined;
  const csv = {
    header: source.header,
    labelColumn: source.labelColumn,
    parser: source.parser,
    flow: options.flow,
    progress: options.progress,
    badRows: rowLevel,
    columns: source.columns,
    text: source.text,
  };
  const cached = source.cache && source.file !== '-' && !source.text;
  const rows = (cached ? cachedCsvRows(source.file, csv, source.cache as CacheOptions) : csvRows(source.file, csv)).pipe(modelFeatures(source, report));
  return report && rowLevel ? rows.pipe(finalize(() => report.merge(rowLevel.skipped))) : rows;
}

/** A pipeline and what was fitted on its data before training (tabular pipelines' preprocessing, else null). */
export interface PipelineData {
  readonly config: Pipeline;
  readonly preprocessing: Preprocessing | null;
}

/**
 * Raw rows to the model's features, as every reader of a source does: the fitted preprocessing when the source
 * has one, else the division by `scale`. Rows' arrays must be theirs alone (aeflow's readers emit views of memory
 * they reuse once a row is handled; the cache writer copies raw values first): they are scaled where they are.
 */
export function modelFeatures(source: DataSource, report?: BadRows): OperatorFunction<Row, Row> {
  return source.preprocessing
    ? preprocess(source.preprocessing, source.skipMissing ? (report ?? new BadRows()) : undefined)
    : normalize(source.scale, report, { inPlace: true });
}

/**
 * How the pipeline reads one of its splits: through its fitted preprocessing when it has one, else divided by
 * data.scale; `raw`: the values as the CSV has them, for the statistics pass that fits the preprocessing.
 */
export function dataSource(config: Pipeline, split: 'train' | 'test', preprocessing: Preprocessing | null = null, raw = false): DataSource {
  const { data } = config;
  return {
    file: data[split],
    header: data.header,
    labelColumn: data.label_column,
    scale: raw ? null : data.scale,
    onBadRow: data.on_bad_row,
    parser: data.parser,
    cache: config.cache.enabled ? cacheOptions(config) : null,
    columns: columnPlan(config),
    ...(preprocessing && !raw ? { preprocessing, skipMissing: data.missing === 'skip' } : {}),
  };
}

/** Rows of one split of the pipeline, parsed and normalized, streamed from its CSV or its row cache. */
export function splitRows(pipeline: PipelineData, split: 'train' | 'test', options: PassOptions = {}): Observable<Row> {
  return dataRows(dataSource(pipeline.config, split, pipeline.preprocessing), options);
}

/**
 * The width and origin of the training split's first row, read through the pipeline's column plan. A stream's
 * records are in the test CSV's columns, so a stream-fed pipeline reads that file's instead.
 */
export function trainingShape(config: Pipeline): ReturnType<typeof csvShape> {
  return csvShape(isRedisUrl(config.data.train) ? config.data.test : config.data.train, {
    header: config.data.header,
    labelColumn: config.data.label_column,
    badRows: config.data.on_bad_row === 'skip' ? new BadRows() : undefined,
    columns: columnPlan(config),
  });
}

/** The pipeline's row cache: its folder (`.cache/aeflow` in the working folder by default) and size bound. */
export function cacheOptions(config: Pipeline): CacheOptions {
  return { dir: config.cache.dir ?? defaultCacheDir(), maxBytes: config.cache.max_size_mb * 1024 * 1024 };
}

export function defaultCacheDir(): string {
  return path.resolve('.cache', 'aeflow');
}

/** The row stages of the pipeline (everything before `batch`), built for one pass. */
export function rowStages(config: Pipeline, context: StageContext): OperatorFunction<Row, Row> {
  const operators = config.stages
    .filter((s) => stages.get(s.type).output === 'rows')
    .map((s) => stages.get(s.type).create(s, context) as OperatorFunction<Row, Row>);
  return (source) => operators.reduce((stream, op) => stream.pipe(op), source);
}

export function trainBatchSize(config: Pipeline): number {
  const batch = config.stages.find((s) => s.type === 'batch') as { size: number } | undefined;
  return batch?.size ?? 1;
}

/**
 * One pass over a split as batches: the CSV, normalized, through the row stages, batched. Training passes
 * use the pipeline's batch size; evaluation passes use `train.eval_batch`.
 */
export function splitBatches(pipeline: PipelineData, split: 'train' | 'test', epoch: number, options: PassOptions = {}): Observable<Batch> {
  return splitRows(pipeline, split, options).pipe(passBatches(pipeline, split, epoch, options.allocate));
}

/** A pass's rows through the row stages into batches, whatever read them (a CSV, a Redis stream). */
export function passBatches(
  pipeline: PipelineData,
  split: 'train' | 'test',
  epoch: number,
  allocate?: (length: number) => Float32Array,
): OperatorFunction<Row, Batch> {
  const { config } = pipeline;
  const size = split === 'train' ? trainBatchSize(config) : config.train.eval_batch;
  return (rows$) => rows$.pipe(rowStages(config, stageContext(pipeline, split, epoch)), batchRows(size, allocate));
}

/**
 * What the stages of one pass know: seed, epoch (0 outside training), split, and the values' range: [0, 1] after
 * a division by data.scale, unknown after fitted preprocessing (standardized values have no bounds).
 */
export function stageContext(pipeline: PipelineData, split: StageContext['split'], epoch: number): StageContext {
  const { config, preprocessing } = pipeline;
  const range = preprocessing || config.data.scale === null ? null : ([0, 1] as const);
  return { seed: config.seed, epoch: split === 'train' ? epoch : 0, split, range };
}

/** The dataflow in one line, as a run prints it at start. */
export function describeDataflow(pipeline: PipelineData, model: string, trainer: string): string {
  const { config, preprocessing: p } = pipeline;
  const train = config.data.train;
  const parts = [
    isRedisUrl(train) ? `redis(${parseStreamUrl(train, 'data.train').text}, ${config.train.rows_per_epoch} entries an epoch)` : `csv(${path.basename(train)})`,
  ];
  if (p) parts.push(`preprocess(${p.json.columns.length} columns -> ${p.width} features, ${p.json.normalize}, missing ${p.json.missing})`);
  else if (config.data.scale !== null) parts.push(`normalize(/${config.data.scale})`);
  for (const s of config.stages) parts.push(stages.get(s.type).describe(s));
  parts.push(`train(${model} ${trainer})`);
  return parts.join(' -> ');
}
