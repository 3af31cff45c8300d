#!/usr/bin/env node
// Builds aeflow's native matMul (native/gemm.cc) for this machine, when the package installs (`prepare`). Needs a
// C++ compiler and Node's headers (node-gyp); where they are missing the build is skipped with a note, and
// training uses tfjs's own WASM matMul. Never fails the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
// node-gyp: the one npm gives its scripts, else the one bundled with npm beside this node.
const bundled = path.join(path.dirname(path.dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp ?? (existsSync(bundled) ? bundled : undefined);
const rebuild = ['rebuild'];
// Node's own headers, where its install has them (Debian's nodejs, the official tarballs): node-gyp would
// otherwise download them, which fails offline.
const prefix = path.dirname(path.dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) rebuild.push(`--nodedir=${prefix}`);
const [command, args] = gyp ? [process.execPath, [gyp, ...rebuild]] : ['node-gyp', rebuild];
const r = spawnSync(command, args, { cwd: dir, encoding: 'utf8' });
if (r.status === 0) {
  console.log('aeflow: built the native matMul (native/build/Release/aeflow_gemm.node)');
} else {
  const why = r.error ? r.error.message : (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ');
  console.log(`aeflow: native matMul not built (${why}); training will use tfjs's WASM matMul`);
}
