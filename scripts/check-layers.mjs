#!/usr/bin/env node
// The layers of src/, bottom first: a module may import from its own layer and the layers below, never above.
// `npm test` runs this; it prints every import that points up and exits 1. docs/architecture.md says why.
//   node scripts/check-layers.mjs [SRC_DIR]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Each layer: the folders of src/ and its top-level files (without .ts) that belong to it. */
export const LAYERS = [
  ['types', 'errors', 'random', 'rows', 'arrays', 'registry', 'webassembly.d'],
  ['sources'],
  ['preprocessing'],
  ['operators'],
  ['stages'],
  ['models', 'backend'],
  ['sinks'],
  ['config'],
  ['workers'],
  ['pipeline'],
  ['serve'],
  ['cli'],
];

/** The upward imports in a source tree: `file imports target` lines. */
export function upwardImports(src) {
  const layerOf = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i])));
  const unit = (file) => {
    const [first, second] = path.relative(src, file).split(path.sep);
    return second === undefined ? first.replace(/\.ts$/, '') : first;
  };
  const problems = [];
  for (const file of tsFiles(src)) {
    const from = unit(file);
    const own = layerOf.get(from);
    if (own === undefined) {
      problems.push(`${path.relative(src, file)}: "${from}" is in no layer (add it to LAYERS in scripts/check-layers.mjs)`);
      continue;
    }
    for (const m of readFileSync(file, 'utf8').matchAll(
      /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+'(\.{1,2}\/[^']+)'|import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g,
    )) {
      const target = path.resolve(path.dirname(file), m[1] ?? m[2]);
      const to = unit(target);
      const theirs = layerOf.get(to);
      if (theirs !== undefined && theirs > own)
        problems.push(`${path.relative(src, file)} imports ${path.relative(src, target)}: ${from} (layer ${own}) may not depend on ${to} (layer ${theirs})`);
    }
  }
  return problems;
}

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const src = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src'));
  const problems = upwardImports(src);
  for (const p of problems) console.error(`check-layers: ${p}`);
  if (problems.length > 0) process.exit(1);
}
