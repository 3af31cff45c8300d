/**
 * The piscina task file: every job a worker thread does, as a named handler (piscina's `name` run option picks
 * one). A thread keeps each job's state in that job's module, so it can train a model and then evaluate it.
 */
export { default as infer } from './inference.worker.js';
export { default as train } from './trainer.worker.js';
