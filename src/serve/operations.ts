import type { BatchKind } from './microBatcher.js';
import { type ServedModel, TOP_COLUMNS } from './servedModel.js';

export interface Codes {
  readonly codes: Float32Array;
}
export interface Reconstructions {
  readonly y: Float32Array;
  readonly errors: Float32Array;
}
/** Each row's error, and its TOP_COLUMNS contributing input columns (-1: none) with their shares. */
export interface Scores {
  readonly errors: Float32Array;
  readonly columns: Int32Array;
  readonly shares: Float32Array;
}

/** What a served model's rows can be asked for, as batch kinds (see MicroBatcher); each row's answer is its slice. */
export function operations(model: ServedModel): { encode: BatchKind<Codes>; reconstruct: BatchKind<Reconstructions>; score: BatchKind<Scores> } {
  const { inference } = model;
  const code = inference.codeSize;
  const inputs = inference.inputs;
  return {
    encode: {
      name: 'encode',
      run: async (x, rows) => ({ codes: await inference.encode(x, rows) }),
      slice: (r, start, end) => ({ codes: r.codes.subarray(start * code, end * code) }),
    },
    reconstruct: {
      name: 'reconstruct',
      run: (x, rows) => inference.reconstruct(x, rows),
      slice: (r, start, end) => ({ y: r.y.subarray(start * inputs, end * inputs), errors: r.errors.subarray(start, end) }),
    },
    score: {
      name: 'score',
      run: (x, rows) => inference.contributions(x, rows, model.groups, model.columns.length, TOP_COLUMNS),
      slice: (r, start, end) => ({
        errors: r.errors.subarray(start, end),
        columns: r.columns.subarray(start * TOP_COLUMNS, end * TOP_COLUMNS),
        shares: r.shares.subarray(start * TOP_COLUMNS, end * TOP_COLUMNS),
      }),
    },
  };
}
