/**
 * The piscina task file: every job a worker thread does, as a named handler (piscina's `name` run option picks
 * one). A thread keeps each job's state in that job's module, so it can train a model and then evaluate it. Each
 * job's module loads on its first request: an inference worker never loads the training code.
 */
import type { InferenceRequest, InferenceResponse } from './inferenceProtocol.js';
import type { Request, Response } from './protocol.js';

export async function train(request: Request): Promise<Response> {
  return (await import('./trainer.worker.js')).default(request);
}

export async function infer(request: InferenceRequest): Promise<InferenceResponse> {
  return (await import('./inference.worker.js')).default(request);
}
