/**
 * The trainer worker (piscina task file). Tensors live here: the model replica, its optimizer, and every
 * tensor a task creates, disposed before the task returns. Float32Arrays come in and go out.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../backend.js';
import { AeflowError, type SerializedError } from '../errors.js';
import { buildModel } from '../models/build.js';
import { denseFor } from '../models/dense.js';
import { modelArtifacts, toLayersModel } from '../models/export.js';
import { type LossName, reconstructionLoss } from '../models/losses.js';
import type { TrainableModel } from '../models/trainable.js';
import { readLayersModel, writeLayersModel } from '../sinks/modelFiles.js';
import { logisticProbe, knnProbe } from '../models/probes.js';
import { barrier } from './barrier.js';
import { maybeFail } from './faults.js';
import type { BatchPayload, Kind, OptimizerSpec, Request, Requests, Response, SharedGradients, StepResult } from './protocol.js';
import path from 'node:path';

interface Replica {
  readonly backend: BackendName;
  readonly replica: number;
  readonly shared: SharedGradients | undefined;
  readonly model: TrainableModel;
  optimizer: tf.Optimizer;
  readonly optimizerSpec: OptimizerSpec;
  readonly loss: LossName;
}

let replica: Replica | null = null;
/** Saved models loaded for encode / evaluate, by name. */
const loaded = new Map<string, tf.LayersModel>();

function loadedModel(name = 'model'): tf.LayersModel {
  const model = loaded.get(name);
  if (!model) throw new Error(`no model loaded as "${name}"`);
  return model;
}

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
    replica?.optimizer.dispose();
    const built = buildModel(model, denseFor(selection.name), loss);
    replica = { backend: selection.name, replica: index, shared, model: built, optimizer: makeOptimizer(optimizer), optimizerSpec: optimizer, loss };
    const parameters = built.variables().reduce((n, v) => n + v.size, 0);
    return { backend: selection.name, skipped: [...selection.skipped], parameters };
  },

  phase({ layer }) {
    const r = current();
    r.model.setPhase(layer);
    r.optimizer.dispose();
    r.optimizer = makeOptimizer(r.optimizerSpec);
    return {};
  },

  step(batch) {
    const r = current();
    let terms: Record<string, tf.Scalar> = {};
    const cost = tf.tidy(() => {
      const [x, target] = inputs(batch);
      return r.optimizer.minimize(
        () => {
          const value = r.model.loss(x, target, true);
          terms = keepAll(value.terms);
          return value.total;
        },
        true,
        r.model.trainableVariables(),
      ) as tf.Scalar;
    });
    return { loss: readScalar(cost), terms: readTerms(terms) };
  },

  shareStep(batch) {
    const r = current();
    const shared = r.shared;
    if (!shared) throw new Error('shareStep needs shared gradient memory (init with several replicas)');
    const variables = r.model.trainableVariables();
    const size = variables.reduce((n, v) => n + v.size, 0);
    const slots = new Float32Array(shared.gradients, 0, shared.replicas * shared.parameters);
    const mine = slots.subarray(r.replica * shared.parameters, r.replica * shared.parameters + size);
    let result: StepResult = { loss: 0, terms: {} };
    if (batch.rows === 0) {
      mine.fill(0);
    } else {
      let terms: Record<string, tf.Scalar> = {};
      const { value, grads } = tf.tidy(() => {
        const [x, target] = inputs(batch);
        return tf.variableGrads(() => {
          const v = r.model.loss(x, target, true);
          terms = keepAll(v.terms);
          return v.total;
        }, variables);
      });
      let offset = 0;
      for (const v of variables) {
        const g = grads[v.name].dataSync() as Float32Array;
        for (let i = 0; i < g.length; i++) mine[offset + i] = batch.weight * g[i];
        offset += v.size;
      }
      tf.dispose(grads);
      result = { loss: readScalar(value), terms: readTerms(terms) };
    }
    barrier(shared);
    // Every replica sums the same slots in the same order: identical updates, identical weights.
    const mean = new Float32Array(size);
    for (let k = 0; k < shared.replicas; k++) {
      const slot = slots.subarray(k * shared.parameters, k * shared.parameters + size);
      for (let i = 0; i < size; i++) mean[i] += slot[i];
    }
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      let offset = 0;
      for (const v of variables) {
        named[v.name] = tf.tensor(mean.subarray(offset, offset + v.size), v.shape);
        offset += v.size;
      }
      r.optimizer.applyGradients(named);
    });
    return result;
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
    return {
      weights: r.model
        .variables()
        .map((v) => v.dataSync() as Float32Array)
        .map((a) => a.slice()),
    };
  },

  async save({ dir }) {
    const r = current();
    const parts = r.model.exportParts();
    for (const [name, layers] of parts) {
      const model = toLayersModel(layers, name);
      try {
        const artifacts = await modelArtifacts(model);
        await writeLayersModel(path.join(dir, name), {
          modelTopology: artifacts.modelTopology,
          weightSpecs: artifacts.weightSpecs ?? [],
          weightData: tf.io.CompositeArrayBuffer.join(artifacts.weightData),
          format: artifacts.format,
          generatedBy: `aeflow (TensorFlow.js ${tf.version.tfjs})`,
        });
      } finally {
        model.dispose();
      }
    }
    return { parts: parts.map(([name]) => name) };
  },

  async load({ backend, model, as = 'model' }) {
    const selection = await selectBackend(backend);
    const files = await readLayersModel(model);
    loaded.get(as)?.dispose();
    const layers = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: files.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: files.weightSpecs as tf.io.WeightsManifestEntry[],
        weightData: files.weightData,
      }),
    );
    loaded.set(as, layers);
    const inputShape = layers.inputs[0].shape;
    const outputShape = layers.outputs[0].shape;
    if (inputShape.length !== 2 || outputShape.length !== 2) {
      throw new AeflowError(
        'MODEL_INPUT_MISMATCH',
        `${model}: expected a model from rows to rows, got input ${JSON.stringify(inputShape)}`,
        'pass an encoder written by `aeflow run`',
      );
    }
    return { backend: selection.name, inputs: inputShape[1] as number, outputs: outputShape[1] as number };
  },

  predict(batch) {
    const model = loadedModel(batch.model);
    const y = tf.tidy(() => model.predict(inputs(batch)[0]) as tf.Tensor2D);
    const cols = y.shape[1];
    return { y: readArray(y), cols };
  },

  async state() {
    const r = current();
    const named = await r.optimizer.getWeights();
    const optimizer = named.map(({ name, tensor }) => ({ name, shape: [...tensor.shape], data: Float32Array.from(tensor.dataSync()) }));
    // getWeights hands out the moment variables themselves, and a fresh scalar for the iteration count: free that.
    for (const { tensor } of named) if (!(tensor instanceof tf.Variable)) tensor.dispose();
    const weights = r.model.variables().map((v) => (v.dataSync() as Float32Array).slice());
    const adam = adamPowers(r.optimizer);
    return { weights, optimizer, adamPowers: adam ? [adam[0].dataSync()[0], adam[1].dataSync()[0]] : null, draws: r.model.draws };
  },

  async restore({ state }) {
    const r = current();
    const variables = r.model.variables();
    if (state.weights.length !== variables.length) {
      throw new AeflowError(
        'CHECKPOINT_INVALID',
        `the checkpoint holds ${state.weights.length} weight arrays, the model has ${variables.length}`,
        'resume with the pipeline the checkpoint was written by',
      );
    }
    tf.tidy(() => {
      variables.forEach((v, i) => {
        if (state.weights[i].length !== v.size)
          throw new AeflowError(
            'CHECKPOINT_INVALID',
            `checkpoint weight ${i} has ${state.weights[i].length} values, the model's ${v.size}`,
            'resume with the pipeline the checkpoint was written by',
          );
        v.assign(tf.tensor(state.weights[i], v.shape));
      });
    });
    const named = state.optimizer.map(({ name, shape, data }) => ({ name, tensor: tf.tensor(data, shape) }));
    await r.optimizer.setWeights(named);
    for (const { tensor } of named) tensor.dispose();
    const adam = adamPowers(r.optimizer);
    if (adam && state.adamPowers) {
      const powers = state.adamPowers;
      tf.tidy(() => {
        for (const [i, v] of adam.entries()) v.assign(tf.scalar(powers[i]));
      });
    }
    r.model.draws = state.draws;
    return {};
  },

  gram(batch) {
    const [outer, sum] = tf.tidy(() => {
      const x = inputs(batch)[0];
      return [tf.matMul(tf.transpose(x), x), tf.sum(x, 0)];
    });
    return { outer: readArray(outer), sum: readArray(sum) };
  },

  rowErrors(batch) {
    const model = loadedModel(batch.model);
    const errors = tf.tidy(() => {
      const x = inputs(batch)[0];
      return tf.mul(0.5, tf.mean(tf.squaredDifference(model.predict(x) as tf.Tensor2D, x), 1));
    });
    return { errors: readArray(errors) };
  },

  probe(request) {
    return { logistic: logisticProbe(request), knn: knnProbe(request) };
  },

  memory() {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
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

/** Adam's running β powers (tfjs keeps them as the private variables accBeta1, accBeta2), or null. */
function adamPowers(optimizer: tf.Optimizer): [tf.Variable, tf.Variable] | null {
  const o = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  return o.accBeta1 instanceof tf.Variable && o.accBeta2 instanceof tf.Variable ? [o.accBeta1, o.accBeta2] : null;
}

function makeOptimizer(o: OptimizerSpec): tf.Optimizer {
  return o.type === 'adam' ? tf.train.adam(o.learning_rate, o.beta1, o.beta2, o.epsilon) : tf.train.sgd(o.learning_rate);
}

/** Input and target tensors of a batch (the target is the input itself unless the batch carries one). */
function inputs(batch: BatchPayload): [tf.Tensor2D, tf.Tensor2D] {
  const x = tf.tensor2d(batch.x, [batch.rows, batch.cols]);
  const target = batch.target ? tf.tensor2d(batch.target, [batch.rows, batch.cols]) : x;
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
