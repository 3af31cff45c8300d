#!/usr/bin/env node
// Adam's update over half the reference model's parameters (one replica's share with 2 workers), in the
// JavaScript loop and in AdamKernel (WebAssembly), on the same arrays: ms per step, and a check that both give
// the same bits.
//   npm run build && node bench/adam.mjs [parameters=247098]
import { AdamKernel, kernelMemory } from '../dist/models/adamKernel.js';
import { FlatOptimizer } from '../dist/models/optimizer.js';
import { trainingRegions } from '../dist/workers/protocol.js';

const size = Number(process.argv[2] ?? 247098);
const spec = { type: 'adam', learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const memory = kernelMemory(5 * size, true);
const { slots, params, m, v } = trainingRegions(memory, 2, size, size);
for (const [k, slot] of slots.entries()) for (let i = 0; i < size; i++) slot[i] = Math.sin(i * (k + 1.5)) * 1e-3;
for (let i = 0; i < size; i++) params[i] = Math.cos(i) * 0.05;
const gradient = { parts: slots, weights: [0.5, 0.5] };
const time = (step) => {
  for (let i = 0; i < 30; i++) step();
  const started = performance.now();
  for (let i = 0; i < 300; i++) step();
  return (performance.now() - started) / 300;
};
const kernelled = new FlatOptimizer(spec, size, { m, v, kernel: AdamKernel.over(memory) });
const plain = new FlatOptimizer(spec, size);
const plainParams = params.slice();
const plainGradient = { parts: slots.map((s) => s.slice()), weights: [0.5, 0.5] };
const k = time(() => kernelled.step(params, gradient));
const js = time(() => plain.step(plainParams, plainGradient));
const same = params.every((p, i) => Object.is(p, plainParams[i]));
console.log(`Adam over ${size} parameters: kernel (${kernelled.lastStep}) ${k.toFixed(3)} ms, JavaScript ${js.toFixed(3)} ms a step; same bits: ${same}`);
