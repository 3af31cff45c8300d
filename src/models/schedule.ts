/**
 * Learning-rate schedules: the rate of one optimizer step as a pure function of where the step stands in its
 * phase. Decay (step, cosine) moves once per epoch, because the number of batches in an epoch is known only
 * after the first pass over a streamed CSV; warm-up moves every step, because it is short and meant to tame the
 * first updates. Each phase (a stacked autoencoder's greedy layers, then fine-tuning) starts its schedule anew,
 * as it starts its optimizer anew.
 */

/** How the rate changes, as the YAML's `train.schedule` says (see config/schema.ts). */
export type ScheduleSpec =
  | { readonly type: 'constant'; readonly warmup_steps: number }
  | { readonly type: 'step'; readonly warmup_steps: number; readonly every_epochs: number; readonly gamma: number }
  | { readonly type: 'cosine'; readonly warmup_steps: number; readonly min_lr: number };

/** A step's place in its phase. */
export interface SchedulePosition {
  /** Optimizer steps taken in the phase before this one (0 for its first). */
  readonly step: number;
  /** The phase's epoch this step belongs to, from 1. */
  readonly epoch: number;
  /** Epochs in the phase. */
  readonly epochs: number;
}

export const CONSTANT: ScheduleSpec = { type: 'constant', warmup_steps: 0 };

/**
 * The rate of a step: `base` decayed for its epoch, times the warm-up factor.
 *   constant: base
 *   step:     base · gamma^⌊(epoch − 1) / every_epochs⌋
 *   cosine:   min_lr + (base − min_lr) · ½(1 + cos(π · (epoch − 1) / (epochs − 1)))  (base in a one-epoch phase)
 *   warm-up:  × min(1, (step + 1) / warmup_steps) when warmup_steps > 0
 * A constant schedule without warm-up returns `base` itself, so the optimizer's arithmetic is unchanged.
 */
export function learningRate(spec: ScheduleSpec, base: number, at: SchedulePosition): number {
  let rate = base;
  if (spec.type === 'step') rate = base * spec.gamma ** Math.floor((at.epoch - 1) / spec.every_epochs);
  if (spec.type === 'cosine') {
    const progress = at.epochs > 1 ? (at.epoch - 1) / (at.epochs - 1) : 0;
    // Written down from the base rate, so that the first epoch trains at exactly `base`.
    rate = base - (base - spec.min_lr) * 0.5 * (1 - Math.cos(Math.PI * progress));
  }
  if (spec.warmup_steps > 0 && at.step < spec.warmup_steps) rate *= (at.step + 1) / spec.warmup_steps;
  return rate;
}

/** The schedule in a few words, for the line a run prints at start. */
export function describeSchedule(spec: ScheduleSpec, base: number): string {
  const warmup = spec.warmup_steps > 0 ? `, warm-up ${spec.warmup_steps} steps` : '';
  if (spec.type === 'step') return `lr ${base} ×${spec.gamma} every ${spec.every_epochs} epochs${warmup}`;
  if (spec.type === 'cosine') return `lr ${base} cosine to ${spec.min_lr}${warmup}`;
  return `lr ${base}${warmup}`;
}
