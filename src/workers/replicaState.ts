/**
 * A replica's training state as plain arrays, for checkpoints: read out (`replicaState`) and put back
 * (`restoreReplica`), kernels in the canonical layout whatever layout the backend trains in.
 */
import { concat } from '../arrays.js';
import { AeflowError } from '../errors.js';
import { type DenseVariables, fromCanonical, toCanonical, variablesOf } from '../models/dense.js';
import type { ReplicaState } from './protocol.js';
import { type Replica, setVariables, splitByVariable } from './replica.js';

/** The layers' weights as copies, kernels inputs × units. */
export function canonicalWeights(layers: readonly DenseVariables[]): Float32Array[] {
  return toCanonical(
    layers,
    variablesOf(layers).map((v) => (v.dataSync() as Float32Array).slice()),
  );
}

/** Everything training needs to go on exactly: the weights, the optimizer's state, the model's random draws. */
export function replicaState(r: Replica): ReplicaState {
  const { layers, variables, optimizer } = r.training;
  const saved = optimizer.state();
  const adam = r.optimizerSpec.type === 'adam';
  const moments: ReplicaState['optimizer'] = [];
  if (adam) {
    const m = toCanonical(layers, splitByVariable(saved.m, variables));
    const v = toCanonical(layers, splitByVariable(saved.v, variables));
    variables.forEach((variable, k) => {
      moments.push({ name: `${k}/m`, shape: [variable.size], data: m[k] }, { name: `${k}/v`, shape: [variable.size], data: v[k] });
    });
  }
  return {
    weights: canonicalWeights(r.model.layers()),
    optimizer: moments,
    adamPowers: adam ? [saved.powers[0], saved.powers[1]] : null,
    draws: r.model.draws,
  };
}

/** Puts a saved state back: the weights, then a fresh training state for the phase with the saved moments. */
export function restoreReplica(r: Replica, state: ReplicaState): void {
  const layers = r.model.layers();
  const variables = variablesOf(layers);
  if (state.weights.length !== variables.length) throw invalid(`${state.weights.length} weight arrays, the model has ${variables.length}`);
  state.weights.forEach((w, i) => {
    if (w.length !== variables[i].size) throw invalid(`weight ${i} has ${w.length} values, the model's ${variables[i].size}`);
  });
  setVariables(variables, fromCanonical(layers, state.weights));
  r.restartTraining();
  if (r.optimizerSpec.type === 'adam') restoreMoments(r, state);
  r.model.draws = state.draws;
}

/** Adam's moments ("k/m" and "k/v" for the k-th trained variable, in turn) and running powers. */
function restoreMoments(r: Replica, state: ReplicaState): void {
  const { layers, variables, optimizer } = r.training;
  if (state.optimizer.length !== 2 * variables.length || !state.adamPowers) {
    throw invalid(`${state.optimizer.length} optimizer arrays for ${variables.length} trained variables`);
  }
  const moments = (parity: number) =>
    fromCanonical(
      layers,
      state.optimizer.filter((_, i) => i % 2 === parity).map((o) => o.data),
    );
  optimizer.restore({ m: concat(moments(0), Float32Array), v: concat(moments(1), Float32Array), powers: state.adamPowers });
}

function invalid(what: string): AeflowError {
  return new AeflowError('CHECKPOINT_INVALID', `the checkpoint does not fit this model: ${what}`, 'resume with the pipeline the checkpoint was written by');
}
