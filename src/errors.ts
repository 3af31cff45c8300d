/**
 * Every error a user can cause ends as an AeflowError: a stable `code` that scripts and tests can rely on,
 * a message saying what was found and where, and a hint saying what to do about it.
 */
export type ErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_SYNTAX'
  | 'CONFIG_INVALID'
  | 'CONFIG_DATA_MISMATCH'
  | 'TYPE_UNKNOWN'
  | 'CSV_NOT_FOUND'
  | 'CSV_NOT_TEXT'
  | 'CSV_GZIP_INVALID'
  | 'CSV_EMPTY'
  | 'CSV_HEADER_INVALID'
  | 'CSV_ROW_INVALID'
  | 'CSV_VALUE_INVALID'
  | 'CSV_VALUE_OUT_OF_RANGE'
  | 'CSV_PARSE_FAILED'
  | 'DATA_PACKAGE_MISSING'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_INPUT_MISMATCH'
  | 'BACKEND_UNAVAILABLE'
  | 'WORKER_FAILED'
  | 'CHECKPOINT_NOT_FOUND'
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_WRITE_FAILED'
  | 'OUTPUT_EXISTS'
  | 'INTERRUPTED'
  | 'TRAINING_DIVERGED'
  | 'USAGE';

export class AeflowError extends Error {
  override readonly name = 'AeflowError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }

  /** Plain object that survives structured cloning across worker threads. */
  toJSON(): SerializedError {
    return { code: this.code, message: this.message, hint: this.hint, stack: this.stack };
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  hint?: string;
  stack?: string;
}

export function isAeflowError(e: unknown): e is AeflowError {
  return e instanceof AeflowError;
}

export function fromSerialized(e: SerializedError): AeflowError {
  const err = new AeflowError(e.code, e.message, e.hint);
  if (e.stack) err.stack = e.stack;
  return err;
}

/** A CSV location, 1-based, as an editor shows it. */
export function at(file: string, line: number, column?: number): string {
  return column === undefined ? `${file}:${line}` : `${file}:${line}:${column}`;
}

/** How the CLI prints an error: message, hint, and the stack only when asked. */
export function formatError(e: unknown, verbose: boolean): string {
  if (isAeflowError(e)) {
    const lines = [`error [${e.code}]: ${e.message}`];
    if (e.hint) lines.push(`hint: ${e.hint}`);
    if (verbose && e.stack) lines.push(e.stack);
    return lines.join('\n');
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const lines = [`internal error: ${err.message}`, 'hint: this is a bug in aeflow; rerun with --verbose and report the stack.'];
  if (verbose && err.stack) lines.push(err.stack);
  return lines.join('\n');
}
