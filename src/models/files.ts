import { promises as fs } from 'node:fs';
import path from 'node:path';
import { concat } from '../arrays.js';
import { AeflowError } from '../errors.js';

/** The files of a tfjs LayersModel as `tf.loadLayersModel` expects them: model.json + one weights file. */
export interface LayersModelFiles {
  readonly modelTopology: unknown;
  readonly weightSpecs: unknown[];
  readonly weightData: ArrayBuffer;
  readonly format?: string;
  readonly generatedBy?: string;
}

/** Writes `model.json` and `weights.bin` into `dir`, weights first so a model.json never points at nothing. */
export async function writeLayersModel(dir: string, files: LayersModelFiles): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'weights.bin'), new Uint8Array(files.weightData));
  const json = {
    format: files.format ?? 'layers-model',
    generatedBy: files.generatedBy ?? 'aeflow',
    convertedBy: null,
    modelTopology: files.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: files.weightSpecs }],
  };
  await fs.writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
}

/** Reads a LayersModel folder (or its model.json) back into memory, with every weights file joined. */
export async function readLayersModel(location: string): Promise<LayersModelFiles> {
  const file = location.endsWith('.json') ? location : path.join(location, 'model.json');
  let json: { modelTopology?: unknown; weightsManifest?: Array<{ paths: string[]; weights: unknown[] }>; format?: string };
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new AeflowError(
      'MODEL_NOT_FOUND',
      `${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not a readable model.json'}`,
      'pass a folder written by `aeflow run` (e.g. runs/mnist/model/encoder) or its model.json',
    );
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new AeflowError(
      'MODEL_NOT_FOUND',
      `${file}: not a tfjs LayersModel (no modelTopology / weightsManifest)`,
      'pass a model folder written by `aeflow run`',
    );
  }
  const weightSpecs: unknown[] = [];
  const parts: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) parts.push(await fs.readFile(path.join(path.dirname(file), p)));
  }
  return { modelTopology: json.modelTopology, weightSpecs, weightData: concat(parts, Uint8Array).buffer, format: json.format };
}
