import type { OperatorFunction } from 'rxjs';
import type { z } from 'zod';

/** What a stage knows when it builds its operator for one pass over a split. */
export interface StageContext {
  /** The pipeline's seed; stages derive their own streams from it. */
  readonly seed: number;
  /** 1-based epoch of a training pass; 0 for passes that are not training (test, encode). */
  readonly epoch: number;
  readonly split: 'train' | 'test' | 'encode';
  /** The range of the values reaching the stages ([0, 1] after scaling), or null when unknown. */
  readonly range: readonly [number, number] | null;
}

/**
 * A pipeline stage as `stages:` names it: `type` joins YAML to definition, `schema` validates its options
 * (strict, with defaults), `create` builds the RxJS operator for one pass, `describe` says what it does in a
 * few words for the run's header line.
 */
export interface StageDefinition<Options extends { type: string } = { type: string }> {
  readonly type: string;
  readonly schema: z.ZodType<Options>;
  /**
   * `rows` stages map rows to rows; the `batch` stage turns rows into batches and comes last. A row's arrays
   * are only valid while the stage handles it (they are views into a reader's buffer or the shuffle's window,
   * overwritten by the next row): a stage that keeps a row past its `next` copies the values (`copyRow`), as
   * the shuffle and `batchRows` do.
   */
  readonly output: 'rows' | 'batches';
  create(options: Options, context: StageContext): OperatorFunction<any, any>;
  describe(options: Options): string;
}

export function defineStage<Options extends { type: string }>(definition: StageDefinition<Options>): StageDefinition<Options> {
  return definition;
}
