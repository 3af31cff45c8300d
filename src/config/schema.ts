import { z } from 'zod';
import { models } from '../models/builtins.js';
import type { Registry } from '../registry.js';
import { isRedisUrl, parseStreamUrl } from '../sources/streamUrl.js';
import { stages } from '../stages/builtins.js';

/**
 * The pipeline YAML's schema: the one source of truth for what a pipeline may say. Every object is strict
 * (a typo fails), defaults sit here, types come from `z.infer`. Cross-field checks follow the field checks;
 * checks against the data itself (column count) happen in `checkAgainstData`.
 */

/** A member of a registry, validated by the schema of the entry its `type` names. */
function registered<T extends { type: string; schema: z.ZodType<any> }>(registry: Registry<T>) {
  return z.looseObject({ type: z.string() }).transform((value, ctx) => {
    if (!registry.has(value.type)) {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: `unknown ${registry.kind} type "${value.type}"; known types: ${registry.types().join(', ')}`,
      });
      return z.NEVER;
    }
    const result = registry.get(value.type).schema.safeParse(value);
    if (!result.success) {
      for (const issue of result.error.issues) {
        if (issue.code === 'unrecognized_keys') {
          for (const key of issue.keys) ctx.addIssue({ code: 'custom', path: [...issue.path, key], message: unknownKeyMessage(key) });
        } else if (issue.code === 'invalid_value') {
          ctx.addIssue({ code: 'custom', path: issue.path, message: invalidValueMessage(valueAt(value, issue.path), issue.values) });
        } else {
          ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
        }
      }
      return z.NEVER;
    }
    return result.data as z.infer<T['schema']>;
  });
}

export function unknownKeyMessage(key: string): string {
  return `unknown key "${key}"`;
}

/** A value outside a fixed set, shown as given (zod's own message names only what it expected). */
export function invalidValueMessage(given: unknown, values: readonly unknown[]): string {
  return `unknown value ${JSON.stringify(given) ?? String(given)}; expected one of ${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;
}

/** The value at a key path of parsed YAML, or undefined. */
export function valueAt(raw: unknown, keyPath: ReadonlyArray<PropertyKey>): unknown {
  let node = raw;
  for (const key of keyPath) node = node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
  return node;
}

/** A CSV column in the pipeline: its header name, its 1-based number, or a range of numbers ("2-31"). */
const columnRef = z.union([z.string().min(1), z.number().int().min(1)]);

const dataSchema = z
  .object({
    /**
     * Training CSV, relative to the YAML file; or a Redis stream, `redis://HOST:PORT/STREAM`, whose entries each hold
     * one CSV record (no header) in the field `row`, in the test CSV's columns (see train.rows_per_epoch).
     */
    train: z.string().min(1),
    /** Test CSV, relative to the YAML file. */
    test: z.string().min(1),
    /** The first line names the columns. */
    header: z.boolean().default(true),
    /** The label column: header name, 1-based number, or null for none. It is kept out of the features. */
    label_column: z.union([z.string().min(1), z.number().int().min(1), z.null()]).default('label'),
    /** Raw values must lie in [0, scale] and are divided by it (255 for 8-bit pixels); null: used as they are. */
    scale: z.number().positive().nullable().default(255),
    /**
     * Which columns are features: header names, 1-based numbers, or ranges such as "2-31"; every column but the
     * label when left out.
     */
    features: z.array(columnRef).min(1).nullable().default(null),
    /** Columns left out of the features (the same forms). */
    exclude: z.array(columnRef).default([]),
    /**
     * How a numeric column's values become features, from the training split's statistics (saved with the model
     * as preprocessing.json): `scale` divides by data.scale; `standard` subtracts the mean and divides by the
     * standard deviation; `minmax` maps the training range to [0, 1]; `none` uses values as they are.
     */
    normalize: z.enum(['scale', 'standard', 'minmax', 'none']).default('scale'),
    /**
     * An empty numeric field: `error` stops with its place; `skip` drops the row (counted and reported);
     * `mean` fills in the column's training mean; `zero` fills in 0.
     */
    missing: z.enum(['error', 'skip', 'mean', 'zero']).default('error'),
    /** After each numeric feature, a 0/1 feature saying whether its value was missing. */
    missing_indicators: z.boolean().default(false),
    /** Columns holding categories (any text), one-hot encoded over their most frequent values and "other". */
    categorical: z.array(columnRef).default([]),
    /** Values a categorical column keeps (the most frequent in the training split); the rest are "other". */
    max_categories: z.number().int().min(1).default(20),
    /**
     * A row with the wrong column count, a value that is not a number or out of range: `error` stops with its
     * file, line and column; `skip` drops it, counts it and reports the count and first lines.
     */
    on_bad_row: z.enum(['error', 'skip']).default('error'),
    /** `fast`: the byte-level reader (csv-parse takes over at the first quote); `csv-parse`: csv-parse alone. */
    parser: z.enum(['fast', 'csv-parse']).default('fast'),
    /** Image shape for snapshots; square from the column count when left out. */
    image: z
      .object({ width: z.number().int().min(1), height: z.number().int().min(1) })
      .strict()
      .optional(),
  })
  .strict();

const optimizerSchema = z
  .object({
    type: z.enum(['adam', 'sgd']).default('adam'),
    learning_rate: z.number().positive().default(0.001),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.999),
    /** PyTorch's default, not tfjs's. */
    epsilon: z.number().positive().default(1e-8),
  })
  .strict();

/** Linear warm-up, in optimizer steps: step k (from 0) of a phase takes (k + 1) / warmup_steps of its rate. */
const warmupSteps = z.number().int().min(0).default(0);

/**
 * The learning rate over a phase (see models/schedule.ts for the formula): decay moves once per epoch, warm-up
 * every step. `optimizer.learning_rate` is the rate it starts from.
 */
const scheduleSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('constant'), warmup_steps: warmupSteps }).strict(),
    z
      .object({
        type: z.literal('step'),
        warmup_steps: warmupSteps,
        /** The rate is multiplied by `gamma` after every `every_epochs` epochs. */
        every_epochs: z.number().int().min(1),
        gamma: z.number().positive().max(1),
      })
      .strict(),
    z
      .object({
        type: z.literal('cosine'),
        warmup_steps: warmupSteps,
        /** The rate of the phase's last epoch; the first epoch's is `optimizer.learning_rate`. */
        min_lr: z.number().min(0).default(0),
      })
      .strict(),
  ])
  .default({ type: 'constant', warmup_steps: 0 });

const earlyStoppingSchema = z
  .object({
    /** Stop after this many epochs in a row without a test loss below the best so far minus `min_delta`. */
    patience: z.number().int().min(1),
    /** How much lower than the best a test loss must be to count as better. */
    min_delta: z.number().min(0).default(0),
  })
  .strict();

const trainSchema = z
  .object({
    /** Passes over the training data (a stacked autoencoder counts its own, in its model options). */
    epochs: z.number().int().min(1).optional(),
    /**
     * With a Redis stream as data.train (and only then): the entries an epoch takes, the next ones after the last
     * entry consumed (waiting for them while the stream has none); bad entries skipped count among them.
     */
    rows_per_epoch: z.number().int().min(1).optional(),
    /** Worker threads training the model; `auto`: one per core on wasm and cpu, one on tfjs-node (itself multi-threaded). */
    workers: z.union([z.number().int().min(1), z.literal('auto')]).default(1),
    /** `auto` takes tfjs-node when it loads, else wasm, else cpu. */
    backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
    /**
     * Rows per batch when computing test loss and codes. Each worker's WASM memory grows to its largest batch and
     * stays there: 1,000 cost ~60 MB more per worker than 256, for no measurable speed.
     */
    eval_batch: z.number().int().min(1).default(256),
    /** Print an epoch line every `log_every` epochs, and always after the last. */
    log_every: z.number().int().min(1).default(1),
    schedule: scheduleSchema,
    /** Decoupled weight decay λ (AdamW): each step multiplies every trained parameter by 1 − lr·λ first. */
    weight_decay: z.number().min(0).default(0),
    /**
     * Stop when the test loss has not improved for `patience` epochs; the saved model (and comparison.png) is
     * then the best epoch's. Watches the last phase only (a stacked autoencoder's fine-tuning).
     */
    early_stopping: earlyStoppingSchema.optional(),
  })
  .strict();

const snapshotsSchema = z
  .object({
    /** Save a reconstruction grid every `every` epochs, and always after the last; 0 turns snapshots off. */
    every: z.number().int().min(0).default(1),
    rows: z.number().int().min(1).default(3),
    cols: z.number().int().min(1).default(5),
  })
  .strict();

const cacheSchema = z
  .object({
    /** Keep a binary copy of the parsed rows; epochs after the first read it instead of the CSV. */
    enabled: z.boolean().default(true),
    /** The cache folder; `.cache/aeflow` in the working folder when left out. */
    dir: z.string().min(1).optional(),
    /** Least recently used caches are removed beyond this size; a file whose cache would not fit is not cached. */
    max_size_mb: z.number().positive().default(4096),
  })
  .strict();

const checkpointsSchema = z
  .object({
    /** Write a checkpoint every `every` epochs and after the last (0: only when stopped by a signal). */
    every: z.number().int().min(0).default(1),
  })
  .strict();

const outputsSchema = z
  .object({
    /** Run folder; `runs/<pipeline file name>` (relative to where aeflow runs) when left out. */
    dir: z.string().min(1).optional(),
    /** Write model/autoencoder, model/encoder, model/decoder as tfjs LayersModels. */
    save_model: z.boolean().default(true),
    /** Write report.html, one self-contained page with the run's figures and pictures. */
    report: z.boolean().default(true),
    /** Evaluate the model for the report (PCA baseline, probes, anomalies: `aeflow evaluate`); needs save_model. */
    evaluate: z.boolean().default(true),
  })
  .strict();

const anomalySchema = z
  .object({
    /**
     * The anomaly threshold: this percentile of the training rows' reconstruction errors, fitted at the end of
     * training and saved with the model; `aeflow score` and `evaluate` flag rows above it.
     */
    percentile: z.number().gt(0).max(100).default(99),
  })
  .strict();

const evaluateSchema = z
  .object({
    /**
     * Test rows the probes, the latent map and the error histogram hold at most: a seeded uniform sample of a
     * larger test split (the losses, the anomaly threshold and anomalies.csv cover every row).
     */
    test_rows: z.number().int().min(1).default(10_000),
    /** Run the logistic and 5-NN probes (with labels). */
    probes: z.boolean().default(true),
  })
  .strict();

export const pipelineSchema = z
  .object({
    /** Shown in logs and the summary; the file name when left out. */
    name: z.string().min(1).optional(),
    /** Seeds every random choice: initialisation, shuffles, noise. */
    seed: z.number().int().min(0).default(0),
    data: dataSchema,
    /** The dataflow between the source and the model, in order; `batch` comes last. */
    stages: z.array(registered(stages)).min(1),
    model: registered(models),
    optimizer: optimizerSchema.prefault({}),
    /** Reconstruction loss: `half-mse` is 0.5·mean((x̂-x)²), as the reference configuration. */
    loss: z.enum(['half-mse', 'mse', 'binary-crossentropy']).default('half-mse'),
    train: trainSchema,
    snapshots: snapshotsSchema.prefault({}),
    cache: cacheSchema.prefault({}),
    checkpoints: checkpointsSchema.prefault({}),
    outputs: outputsSchema.prefault({}),
    evaluate: evaluateSchema.prefault({}),
    anomaly: anomalySchema.prefault({}),
  })
  .strict()
  .superRefine((p, ctx) => {
    const batchAt = p.stages.findIndex((s) => stages.get(s.type).output === 'batches');
    if (batchAt === -1) {
      ctx.addIssue({ code: 'custom', path: ['stages'], message: 'the stages need a `type: batch` stage, last' });
    } else if (batchAt !== p.stages.length - 1) {
      ctx.addIssue({ code: 'custom', path: ['stages', batchAt], message: 'the batch stage must come last' });
    }
    const model = models.get(p.model.type);
    if (model.trainEpochs === 'required' && p.train.epochs === undefined) {
      ctx.addIssue({ code: 'custom', path: ['train', 'epochs'], message: `required (the number of passes over the training data)` });
    }
    if (model.trainEpochs === 'forbidden' && p.train.epochs !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['train', 'epochs'],
        message: `a ${p.model.type} counts its epochs in model.layer_epochs and model.fine_tune_epochs; remove train.epochs`,
      });
    }
    streamChecks(p, ctx);
    const schedule = p.train.schedule;
    if (schedule.type === 'cosine' && schedule.min_lr > p.optimizer.learning_rate) {
      ctx.addIssue({
        code: 'custom',
        path: ['train', 'schedule', 'min_lr'],
        message: `the cosine schedule must end at most at optimizer.learning_rate (${p.optimizer.learning_rate}), got ${schedule.min_lr}`,
      });
    }
    if (p.data.image && p.model) {
      const width = models.get(p.model.type).inputWidth(p.model);
      if (p.data.image.width * p.data.image.height !== width) {
        ctx.addIssue({
          code: 'custom',
          path: ['data', 'image'],
          message: `image ${p.data.image.width}x${p.data.image.height} has ${p.data.image.width * p.data.image.height} pixels, but the model's input is ${width} wide`,
        });
      }
    }
  });

/** A stream as data.train needs train.rows_per_epoch (a stream has no end to make an epoch of); a file refuses it. */
function streamChecks(p: { data: { train: string; test: string }; train: { rows_per_epoch?: number } }, ctx: z.RefinementCtx): void {
  const stream = isRedisUrl(p.data.train);
  if (stream) {
    try {
      parseStreamUrl(p.data.train, 'data.train');
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['data', 'train'], message: (e as Error).message });
    }
  }
  if (stream && p.train.rows_per_epoch === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['train', 'rows_per_epoch'],
      message: `required when data.train is a Redis stream (${p.data.train}): the entries one epoch takes`,
    });
  }
  if (!stream && p.train.rows_per_epoch !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['train', 'rows_per_epoch'],
      message: 'only with a Redis stream as data.train (redis://HOST:PORT/STREAM): an epoch over a file is the whole file; remove it',
    });
  }
  if (isRedisUrl(p.data.test)) {
    ctx.addIssue({ code: 'custom', path: ['data', 'test'], message: 'the test split is a CSV file (only data.train may be a Redis stream)' });
  }
}

export type PipelineInput = z.input<typeof pipelineSchema>;
export type Pipeline = z.output<typeof pipelineSchema>;

/** Keys holding paths: relative to the YAML file's folder when written there, to the working folder on `--set`. */
export const pathKeys: ReadonlyArray<readonly string[]> = [
  ['data', 'train'],
  ['data', 'test'],
  ['outputs', 'dir'],
  ['cache', 'dir'],
];
