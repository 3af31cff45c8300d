import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, stringify, type Document } from 'yaml';
import type { z } from 'zod';
import { AeflowError } from '../errors.js';
import { models } from '../models/builtins.js';
import type { Preprocessing } from '../preprocessing/preprocessing.js';
import { BadRows } from '../sources/badRows.js';
import { columnPlan, needsPreprocessing } from './columns.js';
import { csvShape } from '../sources/csv.js';
import { isRedisUrl } from '../sources/streamUrl.js';
import { invalidValueMessage, pathKeys, pipelineSchema, unknownKeyMessage, type Pipeline, valueAt } from './schema.js';

export interface LoadedPipeline {
  readonly config: Pipeline;
  /** The YAML file as the user named it. */
  readonly file: string;
  /** `runs/<name>` defaults and messages use it. */
  readonly name: string;
  /** "pipelines/mnist.yaml:12:5" for a YAML path, or the `--set` that gave the value. */
  locate(keyPath: ReadonlyArray<string | number>): string;
  /** The configuration after defaults and overrides, as YAML. */
  resolvedYaml(): string;
  /** A path key's value as the user wrote it, in the YAML or in a `--set`, before it was resolved. */
  written(keyPath: ReadonlyArray<string | number>): string | undefined;
  /**
   * Whether `model.encoder` starts with `auto`: the input width comes from the data (the feature count after
   * preprocessing), and `withInputWidth` gives the pipeline with it. Until then `config` holds a width of 1.
   */
  readonly autoInput: boolean;
  withInputWidth(width: number): LoadedPipeline;
  /**
   * The preprocessing fitted on the training split (see `needsPreprocessing`), or null: rows are divided by
   * data.scale. `withPreprocessing` gives the pipeline with it, and with its width as an `auto` input's.
   */
  readonly preprocessing: Preprocessing | null;
  withPreprocessing(preprocessing: Preprocessing): LoadedPipeline;
}

type KeyPath = Array<string | number>;

/** Parses `a.b.0=value` (value read as YAML, so numbers stay numbers). */
export function parseSet(assignment: string): { keyPath: KeyPath; value: unknown } {
  const eq = assignment.indexOf('=');
  if (eq <= 0) {
    throw new AeflowError('USAGE', `--set ${assignment}: expected KEY=VALUE`, 'e.g. --set train.epochs=2 or --set data.train=data/x.csv');
  }
  const keyPath = assignment
    .slice(0, eq)
    .split('.')
    .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  const raw = assignment.slice(eq + 1);
  let value: unknown;
  try {
    value = parseDocument(raw, { schema: 'core' }).toJS();
  } catch {
    value = raw;
  }
  return { keyPath, value: value === undefined ? raw : value };
}

/**
 * Reads a pipeline YAML, applies `--set` overrides, validates it against the schema and resolves its paths.
 * Any problem ends in one CONFIG_* error listing every issue with its YAML line.
 */
export async function loadPipeline(file: string, sets: readonly string[] = [], cwd = process.cwd()): Promise<LoadedPipeline> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new AeflowError('CONFIG_NOT_FOUND', `${file}: no such pipeline file`, 'pipelines live in pipelines/*.yaml; check the path');
  }
  const lineCounter = new LineCounter();
  // The core schema: plain YAML types only, no custom tags, nothing executed.
  const doc = parseDocument(text, { lineCounter, schema: 'core', prettyErrors: false, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    const lines = problems.map((p) => {
      const pos = lineCounter.linePos(p.pos[0]);
      return `  ${file}:${pos.line}:${pos.col}: ${p.message.split('\n')[0]}`;
    });
    throw new AeflowError('CONFIG_SYNTAX', `${file} is not valid YAML:\n${lines.join('\n')}`, 'fix the YAML syntax at the line shown');
  }

  const yamlDir = path.dirname(path.resolve(cwd, file));
  const fromSet = new Map<string, string>();
  const written = new Map<string, string>();
  for (const assignment of sets) {
    const { keyPath, value } = parseSet(assignment);
    const isPath = pathKeys.some((k) => k.join('.') === keyPath.join('.'));
    if (isPath && typeof value === 'string') written.set(keyPath.join('.'), value);
    // A Redis stream's address is no path.
    const v = isPath && typeof value === 'string' && !isRedisUrl(value) ? path.resolve(cwd, value) : value;
    try {
      doc.setIn(keyPath, doc.createNode(v));
    } catch (e) {
      throw new AeflowError('USAGE', `--set ${assignment}: cannot set that key (${(e as Error).message})`, 'name a key of the pipeline, e.g. train.epochs');
    }
    fromSet.set(keyPath.join('.'), `--set ${assignment}`);
  }

  const locate = (keyPath: ReadonlyArray<string | number>): string => {
    for (let n = keyPath.length; n > 0; n--) {
      const set = fromSet.get(keyPath.slice(0, n).join('.'));
      if (set) return set;
    }
    const node = nodeAt(doc, keyPath);
    if (node?.range) {
      const pos = lineCounter.linePos(node.range[0]);
      return `${file}:${pos.line}:${pos.col}`;
    }
    return file;
  };

  const raw = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new AeflowError('CONFIG_INVALID', `${file}: a pipeline is a YAML mapping (key: value lines)`, 'start from pipelines/mnist.yaml');
  }
  const autoInput = raw.model?.encoder?.[0] === 'auto';
  const loaded = (width: number, preprocessing: Preprocessing | null = null): LoadedPipeline => {
    const config = validate(autoInput ? withWidth(raw, width) : raw, file, locate);
    for (const key of pathKeys) {
      const [section, field] = key as [keyof Pipeline, string];
      const obj = config[section] as Record<string, unknown> | undefined;
      if (obj && typeof obj[field] === 'string' && !isRedisUrl(obj[field] as string)) {
        if (!written.has(key.join('.'))) written.set(key.join('.'), obj[field] as string);
        obj[field] = path.resolve(yamlDir, obj[field] as string);
      }
    }
    const name = config.name ?? path.basename(file).replace(/\.ya?ml$/i, '');
    return {
      config,
      file,
      name,
      locate,
      resolvedYaml: () => stringify({ ...config, name }),
      written: (keyPath) => written.get(keyPath.join('.')),
      autoInput,
      withInputWidth: (w) => loaded(w, preprocessing),
      preprocessing,
      withPreprocessing: (p) => loaded(autoInput ? p.width : width, p),
    };
  };
  return loaded(1);
}

function validate(raw: unknown, file: string, locate: (keyPath: KeyPath) => string): Pipeline {
  const parsed = pipelineSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AeflowError(
      'CONFIG_INVALID',
      `${file} has ${describeCount(parsed.error.issues.length)}:\n${formatIssues(parsed.error.issues, locate, raw)}`,
      `see README "The pipeline YAML" or config/pipeline.schema.json`,
    );
  }
  return parsed.data;
}

/** The raw pipeline with an `auto` input width (encoder's first, and a given decoder's last) set to `width`. */
function withWidth(raw: Record<string, any>, width: number): Record<string, any> {
  const model = { ...raw.model, encoder: [width, ...raw.model.encoder.slice(1)] };
  if (Array.isArray(model.decoder) && model.decoder[model.decoder.length - 1] === 'auto') model.decoder = [...model.decoder.slice(0, -1), width];
  return { ...raw, model };
}

function describeCount(n: number): string {
  return n === 1 ? '1 problem' : `${n} problems`;
}

/** One line per issue: location, key path, message; unknown keys point at the key itself. `raw` is the parsed YAML, for the values given. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], locate: (p: KeyPath) => string, raw?: unknown): string {
  const lines: string[] = [];
  for (const issue of issues.slice(0, 20)) {
    const keyPath = issue.path as KeyPath;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`  ${locate([...keyPath, key])}: ${dotted([...keyPath, key])}: ${unknownKeyMessage(key)}`);
    } else {
      lines.push(`  ${locate(keyPath)}: ${dotted(keyPath) || '(top level)'}: ${plainMessage(issue, raw)}`);
    }
  }
  if (issues.length > 20) lines.push(`  … and ${issues.length - 20} more`);
  return lines.join('\n');
}

function plainMessage(issue: z.core.$ZodIssue, raw: unknown): string {
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return `required (${issue.expected})`;
  // The value given, as the other messages show it.
  if (issue.code === 'invalid_value') return invalidValueMessage(valueAt(raw, issue.path), issue.values);
  return issue.message;
}

function dotted(keyPath: KeyPath): string {
  return keyPath
    .map((k) => (typeof k === 'number' ? `[${k}]` : k))
    .join('.')
    .replace(/\.\[/g, '[');
}

function nodeAt(doc: Document, keyPath: ReadonlyArray<string | number>): { range?: [number, number, number] | null } | null {
  let node: unknown = doc.contents;
  let last: unknown = node;
  for (const key of keyPath) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
      if (!pair) return last as never;
      node = pair.value ?? pair.key;
      // An unknown key's own position is more useful than its value's.
      if (key === keyPath[keyPath.length - 1] && isScalar(pair.key)) return pair.key as never;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
    } else {
      return last as never;
    }
    if (isNode(node)) last = node;
  }
  return last as never;
}

/**
 * Checks the pipeline against its data before any work starts: the CSVs exist, are readable, have the columns
 * the pipeline names, and give the width the model expects (the fitted preprocessing's feature count, when the
 * pipeline has one).
 */
export async function checkAgainstData(loaded: LoadedPipeline): Promise<{ width: number }> {
  const { config, preprocessing } = loaded;
  // Under a skip policy a bad first row is skipped here too: the shape comes from the first good one.
  const csv = {
    header: config.data.header,
    labelColumn: config.data.label_column,
    badRows: config.data.on_bad_row === 'skip' ? new BadRows() : undefined,
    columns: columnPlan(config),
  };
  const expected = models.get(config.model.type).inputWidth(config.model);
  let width = 0;
  // A stream's records are in the test CSV's columns: checking the test CSV checks them (each record is checked as read).
  const splits = isRedisUrl(config.data.train) ? (['test'] as const) : (['train', 'test'] as const);
  for (const split of splits) {
    const file = config.data[split];
    const shape = await csvShape(file, csv).catch((e) => {
      throw e instanceof AeflowError && e.code === 'CSV_NOT_FOUND' ? csvNotFound(loaded, split, e) : e;
    });
    width = preprocessing ? preprocessing.width : shape.width;
    // An `auto` input takes the width the data gives; without its preprocessing fitted, a tabular pipeline's
    // feature count is not known yet (categories), so only its columns are checked.
    const known = preprocessing !== null || !needsPreprocessing(config);
    if (!loaded.autoInput && known && width !== expected) throw widthMismatch(loaded, expected, preprocessing ? null : file, width);
  }
  return { width };
}

/** The model's first layer against the data's feature count (`file` null: after preprocessing). */
function widthMismatch(loaded: LoadedPipeline, expected: number, file: string | null, width: number): AeflowError {
  const where = loaded.locate(['model', 'encoder']);
  const label = loaded.config.data.label_column;
  if (file === null) {
    return new AeflowError(
      'CONFIG_DATA_MISMATCH',
      `${where}: the model's input is ${expected} wide, but the preprocessing gives ${width} features (one-hot categories and missing-value indicators count)`,
      'start model.encoder with auto to take the width from the data',
    );
  }
  return new AeflowError(
    'CONFIG_DATA_MISMATCH',
    `${where}: the model's input is ${expected} wide, but ${file} has ${width} feature columns` +
      (label === null ? '' : ` (besides the label column "${label}")`),
    `make the first layer size ${width} (or auto), or check data.label_column and data.features`,
  );
}

/**
 * A data file that is not there, as the user wrote it and where: a path written in the YAML is relative to the
 * YAML file's folder, one given with --set to the working folder, and the hint says which.
 */
function csvNotFound(loaded: LoadedPipeline, split: 'train' | 'test', e: AeflowError): AeflowError {
  const keyPath = ['data', split];
  const file = loaded.config.data[split];
  const what = e.message.startsWith(`${file}: `) ? e.message.slice(file.length + 2) : e.message;
  const typed = loaded.written(keyPath) ?? file;
  const where = loaded.locate(keyPath);
  const folder = what.startsWith('is a folder');
  if (where.startsWith('--set ')) {
    const hint = folder ? `point data.${split} at a .csv file` : `a path given with --set is relative to the working folder (${process.cwd()}); check it`;
    return new AeflowError('CSV_NOT_FOUND', `${typed}: ${what} (${where})`, hint);
  }
  const yamlDir = path.dirname(path.resolve(loaded.file));
  const hint = folder
    ? `point data.${split} at a .csv file`
    : path.isAbsolute(typed)
      ? `check data.${split} in ${loaded.file}, or give the path with --set data.${split}=PATH`
      : `a path in the pipeline is relative to the YAML file's folder (${path.relative(process.cwd(), yamlDir) || '.'}/), not to where aeflow runs; fix data.${split} there, or give the path with --set data.${split}=PATH`;
  return new AeflowError('CSV_NOT_FOUND', `${where}: data.${split}: ${typed}: ${what}${typed === file ? '' : ` (${file})`}`, hint);
}
