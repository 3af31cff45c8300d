/**
 * The trainer worker (piscina task file). Tensors live here: the model replica, its optimizer, and every
 * tensor a task creates, disposed before the task returns. Float32Arrays come in and go out.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; the @tensorflow/tfjs bundle registers them (on the same core) when it
// loads. Training needs them; inference does not, and its workers start faster without the bundle.
import '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../backend.js';
import { AeflowError, type SerializedError } from '../errors.js';
import { buildModel } from '../models/tensors/build.js';
import { type DenseVariables, fromCanonical, kernelFor, toCanonical, variablesOf } from '../models/dense.js';
import { modelArtifacts, toLayersModel } from '../models/export.js';
import { type LossName, reconstructionLoss } from '../models/losses.js';
import { AdamKernel, kernelMemory } from '../models/adamKernel.js';
import { FlatOptimizer } from '../models/optimizer.js';
import { heapView } from '../models/heapView.js';
import type { TrainableModel } from '../models/tensors/trainable.js';
import { writeLayersModel } from '../sinks/modelFiles.js';
import { barrier } from './barrier.js';
import { maybeFail } from './faults.js';
import {
  type BatchPayload,
  type Kind,
  type OptimizerSpec,
  type ReplicaState,
  type Request,
  type Requests,
  type Response,
  type SharedTraining,
  type StepResult,
  trainingFloats,
  trainingRegions,
} from './protocol.js';
import path from 'node:path';

interface Replica {
  readonly backend: BackendName;
  readonly replica: number;
  readonly shared: SharedTraining | undefined;
  readonly model: TrainableModel;
  readonly optimizerSpec: OptimizerSpec;
  readonly loss: LossName;
  /** What the current phase trains: the parameters of its layers, flat (stored layout), and their optimizer. */
  training: Training;
}

/**
 * The trainable parameters live twice: in tfjs variables (for the forward and backward passes) and here, flat,
 * where the optimizer updates them in one pass; the variables are then set from here.
 */
interface Training {
  readonly layers: readonly DenseVariables[];
  readonly variables: tf.Variable[];
  readonly params: Float32Array;
  /** Gradient slots: this step's gradient with one replica; with several, one per replica (each writes its own). */
  readonly slots: readonly Float32Array[];
  readonly optimizer: FlatOptimizer;
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

let replica: Replica | null = null;

/** Entry point: one request in, one response out; errors travel as data so their codes survive. */
export default async function handle(request: Request): Promise<Response> {
  try {
    maybeFail(request.kind);
    const result = await (handlers[request.kind] as (r: Request) => unknown)(request);
    return { ok: true, result } as Response;
  } catch (e) {
    return { ok: false, error: serialize(e) };
  }
}

type Handlers = { [K in Kind]: (request: Request<K>) => Promise<Requests[K]['result']> | Requests[K]['result'] };

const handlers: Handlers = {
  async init({ backend, model, optimizer, loss, replica: index, shared }) {
    const selection = await selectBackend(backend);
    replica?.model.dispose();
    const built = buildModel(model, kernelFor(selection.name), loss);
    replica = {
      backend: selection.name,
      replica: index,
      shared,
      model: built,
      optimizerSpec: optimizer,
      loss,
      training: startTraining(built, optimizer, shared),
    };
    const parameters = variablesOf(built.layers()).reduce((n, v) => n + v.size, 0);
    return { backend: selection.name, skipped: [...selection.skipped], matMul: selection.matMul, parameters };
  },

  phase({ layer }) {
    const r = current();
    r.model.setPhase(layer);
    r.training = startTraining(r.model, r.optimizerSpec, r.shared);
    return {};
  },

  step(batch) {
    return train(current(), batch, null);
  },

  shareStep(batch) {
    const r = current();
    if (!r.shared) throw new Error('shareStep needs shared gradient memory (init with several replicas)');
    return train(r, batch, r.shared);
  },

  evaluate(batch) {
    const r = current();
    let terms: Record<string, tf.Scalar> = {};
    let inputCost: tf.Scalar | null = null;
    const cost = tf.tidy(() => {
      const [x, target] = inputs(batch);
      const value = r.model.loss(x, target, false);
      terms = keepAll(value.terms);
      if (target !== x) inputCost = tf.keep(reconstructionLoss(r.loss, x, target));
      return value.total;
    });
    return { loss: readScalar(cost), terms: readTerms(terms), inputLoss: inputCost ? readScalar(inputCost) : null };
  },

  decode(batch) {
    const r = current();
    const y = tf.tidy(() => r.model.decode(inputs(batch)[0]));
    const cols = y.shape[1];
    return { y: readArray(y), cols };
  },

  reconstruct(batch) {
    const r = current();
    const y = tf.tidy(() => r.model.reconstruct(inputs(batch)[0]));
    return { y: readArray(y) };
  },

  encode(batch) {
    const r = current();
    const z = tf.tidy(() => r.model.encode(inputs(batch)[0]));
    const cols = z.shape[1];
    return { z: readArray(z), cols };
  },

  weights() {
    const r = current();
    return { weights: canonicalWeights(r.model.layers()) };
  },

  async save({ dir }) {
    const r = current();
    const parts = r.model.exportParts();
    for (const [name, layers] of parts) {
      const model = await toLayersModel(layers, name);
      try {
        const artifacts = await modelArtifacts(model);
        await writeLayersModel(path.join(dir, name), {
          modelTopology: artifacts.modelTopology,
          weightSpecs: artifacts.weightSpecs ?? [],
          weightData: tf.io.CompositeArrayBuffer.join(artifacts.weightData),
          format: artifacts.format,
          generatedBy: `aeflow (TensorFlow.js ${tf.version_core})`,
        });
      } finally {
        model.dispose();
      }
    }
    return { parts: parts.map(([name]) => name) };
  },

  state() {
    const r = current();
    const { layers, variables, optimizer } = r.training;
    const saved = optimizer.state();
    const moments: ReplicaState['optimizer'] = [];
    if (r.optimizerSpec.type === 'adam') {
      const m = toCanonical(layers, split(saved.m, variables));
      const v = toCanonical(layers, split(saved.v, variables));
      variables.forEach((variable, k) => {
        moments.push({ name: `${k}/m`, shape: [variable.size], data: m[k] }, { name: `${k}/v`, shape: [variable.size], data: v[k] });
      });
    }
    return {
      weights: canonicalWeights(r.model.layers()),
      optimizer: moments,
      adamPowers: r.optimizerSpec.type === 'adam' ? [saved.powers[0], saved.powers[1]] : null,
      draws: r.model.draws,
    };
  },

  restore({ state }) {
    const r = current();
    const layers = r.model.layers();
    const variables = variablesOf(layers);
    const invalid = (what: string) =>
      new AeflowError('CHECKPOINT_INVALID', `the checkpoint does not fit this model: ${what}`, 'resume with the pipeline the checkpoint was written by');
    if (state.weights.length !== variables.length) throw invalid(`${state.weights.length} weight arrays, the model has ${variables.length}`);
    state.weights.forEach((w, i) => {
      if (w.length !== variables[i].size) throw invalid(`weight ${i} has ${w.length} values, the model's ${variables[i].size}`);
    });
    setVariables(variables, fromCanonical(layers, state.weights));
    r.training = startTraining(r.model, r.optimizerSpec, r.shared);
    const { layers: trained, variables: trainedVariables, optimizer } = r.training;
    if (r.optimizerSpec.type === 'adam') {
      if (state.optimizer.length !== 2 * trainedVariables.length || !state.adamPowers) {
        throw invalid(`${state.optimizer.length} optimizer arrays for ${trainedVariables.length} trained variables`);
      }
      const m = fromCanonical(
        trained,
        state.optimizer.filter((_, i) => i % 2 === 0).map((o) => o.data),
      );
      const v = fromCanonical(
        trained,
        state.optimizer.filter((_, i) => i % 2 === 1).map((o) => o.data),
      );
      optimizer.restore({ m: concat(m), v: concat(v), powers: state.adamPowers });
    }
    r.model.draws = state.draws;
    return {};
  },

  release() {
    replica?.model.dispose();
    replica = null;
    return {};
  },

  memory() {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes, optimizerLoop: replica?.training.optimizer.lastStep ?? null };
  },
};

function current(): Replica {
  if (!replica)
    throw new AeflowError(
      'WORKER_FAILED',
      'the worker has no model (it was restarted or never initialised)',
      'rerun; if it repeats, rerun with --verbose and report it',
    );
  return replica;
}

/**
 * One training step on a batch: gradients; with several replicas, the exchange through shared memory described
 * at SharedTraining; the optimizer's update; the variables set from the parameters.
 */
function train(r: Replica, batch: BatchPayload & { shares?: readonly number[] }, shared: SharedTraining | null): StepResult {
  const { variables, params, slots, optimizer } = r.training;
  const size = params.length;
  const mine = shared ? slots[r.replica] : slots[0];
  let result: StepResult = { loss: 0, terms: {} };
  if (batch.rows === 0) {
    mine.fill(0);
  } else {
    let terms: Record<string, tf.Scalar> = {};
    const { value, grads: named } = tf.tidy(() => {
      const [x, target] = inputs(batch);
      return tf.variableGrads(() => {
        const v = r.model.loss(x, target, true);
        terms = keepAll(v.terms);
        return v.total;
      }, variables);
    });
    let offset = 0;
    for (const v of variables) {
      mine.set(heapView(named[v.name]), offset);
      offset += v.size;
    }
    tf.dispose(named);
    result = { loss: readScalar(value), terms: readTerms(terms) };
  }
  if (shared) {
    barrier(shared);
    const from = Math.floor((size * r.replica) / shared.replicas);
    const to = Math.floor((size * (r.replica + 1)) / shared.replicas);
    // Every replica sums the slots in the same order: identical updates, identical weights.
    optimizer.step(params, { parts: slots, weights: batch.shares ?? [] }, from, to);
    barrier(shared);
  } else {
    optimizer.step(params, mine);
  }
  setVariables(variables, split(params, variables));
  return result;
}

/** Sets variables from arrays of their sizes. */
function setVariables(variables: readonly tf.Variable[], values: readonly Float32Array[]): void {
  // The CPU backend keeps the array a tensor is made from, which the optimizer goes on updating: it gets a copy.
  // The others copy it into their own memory.
  const copy = tf.getBackend() === 'cpu';
  tf.tidy(() => {
    for (const [i, v] of variables.entries()) v.assign(tf.tensor(copy ? values[i].slice() : values[i], v.shape));
  });
}

/** A flat array cut into the variables' sizes (views, not copies). */
function split(flat: Float32Array, variables: readonly tf.Variable[]): Float32Array[] {
  let offset = 0;
  return variables.map((v) => {
    const part = flat.subarray(offset, offset + v.size);
    offset += v.size;
    return part;
  });
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** The layers' weights as copies, kernels inputs × units. */
function canonicalWeights(layers: readonly DenseVariables[]): Float32Array[] {
  return toCanonical(
    layers,
    variablesOf(layers).map((v) => (v.dataSync() as Float32Array).slice()),
  );
}

/** Input and target tensors of a batch (the target is the input itself unless the batch carries one). */
function inputs(batch: BatchPayload): [tf.Tensor2D, tf.Tensor2D] {
  const from = (batch.start ?? 0) * batch.cols;
  const to = from + batch.rows * batch.cols;
  // Batches in shared memory are reused once the step is done: the CPU backend, which would keep the array
  // itself, gets a copy; the others copy it into their own memory anyway.
  const own = (a: Float32Array) => (a.buffer instanceof SharedArrayBuffer && tf.getBackend() === 'cpu' ? a.slice(from, to) : a.subarray(from, to));
  const x = tf.tensor2d(own(batch.x), [batch.rows, batch.cols]);
  const target = batch.target ? tf.tensor2d(own(batch.target), [batch.rows, batch.cols]) : x;
  return [x, target];
}

/** Reads a tensor out after its tidy (returning arrays from inside a tidy is slow) and disposes it. */
function readArray(t: tf.Tensor): Float32Array {
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return data;
}

/** Keeps scalars past the tidy they were made in; the caller reads and disposes them. */
function keepAll(terms: Readonly<Record<string, tf.Scalar>>): Record<string, tf.Scalar> {
  const kept: Record<string, tf.Scalar> = {};
  for (const [name, t] of Object.entries(terms)) kept[name] = tf.keep(t);
  return kept;
}

function readTerms(terms: Record<string, tf.Scalar>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(terms)) out[name] = readScalar(t);
  return out;
}

function readScalar(t: tf.Scalar): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

function serialize(e: unknown): SerializedError {
  if (e instanceof AeflowError) return e.toJSON();
  const err = e instanceof Error ? e : new Error(String(e));
  return { code: 'WORKER_FAILED', message: `worker: ${err.message}`, hint: 'rerun with --verbose and report the stack', stack: err.stack };
}
