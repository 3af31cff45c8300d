#!/usr/bin/env node
// Builds aeflow's native matMul (native/gemm.cc) for this machine, when the package installs (`prepare`). Needs a
// C++ compiler and Node's headers (node-gyp); where they are missing the build is skipped with a note, and
// training uses tfjs's own WASM matMul. Never fails the install.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const r = spawnSync(command, args, { cwd: dir, encoding: 'utf8' });
if (r.status === 0) {
  console.log('aeflow: built the native matMul (native/build/Release/aeflow_gemm.node)');
} else {
  const why = r.error ? r.error.message : (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ');
  console.log(`aeflow: native matMul not built (${why}); training will use tfjs's WASM matMul`);
}
