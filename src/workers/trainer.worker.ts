/**
 * The trainer worker's job (piscina task file, reached through worker.ts): requests by kind, each handled by the
 * module of its concern: the replica and its training step (replica.ts, trainingStep.ts), its outputs on a
 * batch (replicaOutputs.ts), checkpoints' arrays (replicaState.ts), the saved model (saveModel.ts). Tensors live
 * here: the model replica, its optimizer, and every tensor a task creates, disposed before the task returns.
 * Float32Arrays come in and go out.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; the @tensorflow/tfjs bundle registers them (on the same core) when it
// loads. Training needs them; inference does not, and its workers start faster without the bundle.
import '@tensorflow/tfjs';
import { selectBackend } from '../backend.js';
import { AeflowError } from '../errors.js';
import type { Kind, Request, Requests, Response } from './protocol.js';
import { Replica } from './replica.js';
import { decodeBatch, encodeBatch, evaluateBatch, reconstructBatch } from './replicaOutputs.js';
import { canonicalWeights, replicaState, restoreReplica } from './replicaState.js';
import { respond } from './respond.js';
import { saveModel } from './saveModel.js';
import { trainStep } from './trainingStep.js';

/** The one replica this thread holds, from `init` to `release`. */
let replica: Replica | null = null;

/** Entry point: one request in, one response out. */
export default function handle(request: Request): Promise<Response> {
  return respond<Request, Response>(handlers, request);
}

type Handlers = { [K in Kind]: (request: Request<K>) => Promise<Requests[K]['result']> | Requests[K]['result'] };

const handlers: Handlers = {
  async init(request) {
    const selection = await selectBackend(request.backend);
    replica?.dispose();
    replica = Replica.build(selection.name, request);
    return { backend: selection.name, skipped: [...selection.skipped], matMul: selection.matMul, parameters: replica.parameters };
  },
  phase({ layer }) {
    current().startPhase(layer);
    return {};
  },
  step: (batch) => trainStep(current(), batch, null),
  shareStep(batch) {
    const r = current();
    if (!r.shared) throw new Error('shareStep needs shared gradient memory (init with several replicas)');
    return trainStep(r, batch, r.shared);
  },
  evaluate: (batch) => evaluateBatch(current(), batch),
  decode: (batch) => decodeBatch(current(), batch),
  reconstruct: (batch) => reconstructBatch(current(), batch),
  encode: (batch) => encodeBatch(current(), batch),
  weights: () => ({ weights: canonicalWeights(current().model.layers()) }),
  save: async ({ dir }) => ({ parts: await saveModel(current().model, dir) }),
  state: () => replicaState(current()),
  restore({ state }) {
    restoreReplica(current(), state);
    return {};
  },
  release() {
    replica?.dispose();
    replica = null;
    return {};
  },
  memory() {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes, optimizerLoop: replica?.training.optimizer.lastStep ?? null };
  },
};

function current(): Replica {
  if (!replica) {
    throw new AeflowError(
      'WORKER_FAILED',
      'the worker has no model (it was restarted or never initialised)',
      'rerun; if it repeats, rerun with --verbose and report it',
    );
  }
  return replica;
}
