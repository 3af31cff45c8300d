import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { modelArtifacts, toLayersModel } from '../models/export.js';
import type { TrainableModel } from '../models/tensors/trainable.js';
import { writeLayersModel } from '../models/files.js';

/**
 * Saves each part of a model (the autoencoder, its encoder, its decoder) as a tfjs LayersModel in a folder of
 * `dir` named after it; returns the parts' names.
 */
export async function saveModel(model: TrainableModel, dir: string): Promise<string[]> {
  const parts = model.exportParts();
  for (const [name, layers] of parts) {
    const layersModel = await toLayersModel(layers, name);
    try {
      const artifacts = await modelArtifacts(layersModel);
      await writeLayersModel(path.join(dir, name), {
        modelTopology: artifacts.modelTopology,
        weightSpecs: artifacts.weightSpecs ?? [],
        weightData: tf.io.CompositeArrayBuffer.join(artifacts.weightData),
        format: artifacts.format,
        generatedBy: `aeflow (TensorFlow.js ${tf.version_core})`,
      });
    } finally {
      layersModel.dispose();
    }
  }
  return parts.map(([name]) => name);
}
