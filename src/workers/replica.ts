import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from '../backend.js';
import { AdamKernel, kernelMemory } from '../models/adamKernel.js';
import { type DenseVariables, kernelFor, variablesOf } from '../models/dense.js';
import type { LossName } from '../models/losses.js';
import { FlatOptimizer } from '../models/optimizer.js';
import { buildModel } from '../models/tensors/build.js';
import type { TrainableModel } from '../models/tensors/trainable.js';
import { type OptimizerSpec, type Request, type SharedTraining, trainingFloats, trainingRegions } from './protocol.js';

/**
 * What the current phase trains. The trainable parameters live twice: in tfjs variables (for the forward and
 * backward passes) and here, flat (stored layout), where the optimizer updates them in one pass; the variables
 * are then set from here.
 */
export interface Training {
  readonly layers: readonly DenseVariables[];
  readonly variables: tf.Variable[];
  readonly params: Float32Array;
  /** Gradient slots: this step's gradient with one replica; with several, one per replica (each writes its own). */
  readonly slots: readonly Float32Array[];
  readonly optimizer: FlatOptimizer;
}

/** One replica of the model a trainer worker holds, with its training state. */
export class Replica {
  training: Training;

  private constructor(
    readonly backend: BackendName,
    /** This replica's index: its gradient slot and its share of the parameters with several. */
    readonly index: number,
    readonly shared: SharedTraining | undefined,
    readonly model: TrainableModel,
    readonly optimizerSpec: OptimizerSpec,
    readonly loss: LossName,
  ) {
    this.training = startTraining(model, optimizerSpec, shared);
  }

  /** The replica an `init` request describes, on the backend selected for it. */
  static build(backend: BackendName, { model, optimizer, loss, replica, shared }: Request<'init'>): Replica {
    return new Replica(backend, replica, shared, buildModel(model, kernelFor(backend), loss), optimizer, loss);
  }

  /** Every parameter of the model, trained in this phase or not. */
  get parameters(): number {
    return variablesOf(this.model.layers()).reduce((n, v) => n + v.size, 0);
  }

  /** Starts a training phase (greedy layer k, or null for the whole model), with a fresh optimizer. */
  startPhase(layer: number | null): void {
    this.model.setPhase(layer);
    this.restartTraining();
  }

  /** Fresh training state for the current phase, from the variables as they are. */
  restartTraining(): void {
    this.training = startTraining(this.model, this.optimizerSpec, this.shared);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/**
 * Fresh training state for the model's current phase: parameters read from the variables, a new optimizer.
 * Parameters, gradients and Adam's moments live in WebAssembly memory, where AdamKernel updates them; with
 * several replicas it is the shared memory of SharedTraining (every replica writes the same values here, before
 * any step).
 */
function startTraining(model: TrainableModel, spec: OptimizerSpec, shared: SharedTraining | undefined): Training {
  const layers = model.trainableLayers();
  const variables = variablesOf(layers);
  const size = variables.reduce((n, v) => n + v.size, 0);
  const memory = shared?.memory ?? kernelMemory(trainingFloats(1, size), false);
  const { slots, params, m, v, sum } = trainingRegions(memory, shared?.replicas ?? 1, shared?.parameters ?? size, size);
  let offset = 0;
  for (const variable of variables) {
    params.set(variable.dataSync() as Float32Array, offset);
    offset += variable.size;
  }
  return { layers, variables, params, slots, optimizer: new FlatOptimizer(spec, size, { m, v, sum, kernel: AdamKernel.over(memory) }) };
}

/** Sets variables from arrays of their sizes. */
export function setVariables(variables: readonly tf.Variable[], values: readonly Float32Array[]): void {
  // The CPU backend keeps the array a tensor is made from, which the optimizer goes on updating: it gets a copy.
  // The others copy it into their own memory.
  const copy = tf.getBackend() === 'cpu';
  tf.tidy(() => {
    for (const [i, v] of variables.entries()) v.assign(tf.tensor(copy ? values[i].slice() : values[i], v.shape));
  });
}

/** A flat array cut into the variables' sizes (views, not copies). */
export function splitByVariable(flat: Float32Array, variables: readonly tf.Variable[]): Float32Array[] {
  let offset = 0;
  return variables.map((v) => {
    const part = flat.subarray(offset, offset + v.size);
    offset += v.size;
    return part;
  });
}
