#!/usr/bin/env node
// Assembles aeflow's WebAssembly text into dist/ with wabt (npm run build runs it after tsc), so that what runs
// is made from source a person can read and change:
//   src/models/adam.wat -> dist/models/adam.wasm (own memory) and dist/models/adam-shared.wasm (shared memory)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { parseWat } = await wabt();

/** Assembles `source` (read from `file`, which errors name) into dist/`out`. */
function assemble(file, source, out) {
  // SIMD for the kernel, threads for a shared memory; validate() takes the features too (its default leaves threads out).
  const features = { simd: true, threads: true };
  const module = parseWat(file, source, features);
  try {
    module.validate(features);
    const { buffer } = module.toBinary({});
    const target = path.join(root, 'dist', out);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, buffer);
  } finally {
    module.destroy();
  }
}

try {
  // Adam's kernel imports its memory, and a module accepts a shared memory only if it declares it shared (see adam.wat).
  const adam = 'src/models/adam.wat';
  const own = readFileSync(path.join(root, adam), 'utf8');
  const memory = '(import "env" "memory" (memory 0))';
  if (own.split(memory).length !== 2) throw new Error(`${adam}: expected ${memory} once, to make the shared variant from`);
  assemble(adam, own, 'models/adam.wasm');
  assemble(adam, own.replace(memory, '(import "env" "memory" (memory 0 65536 shared))'), 'models/adam-shared.wasm');
} catch (e) {
  // wabt's own messages name the file, line and column; its stack is one minified line.
  console.error(`assemble-wasm: ${e.message}`);
  process.exit(1);
}
