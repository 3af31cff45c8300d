import * as tf from '@tensorflow/tfjs-core';
import type * as Layers from '@tensorflow/tfjs-layers';
import { type DenseVariables, toCanonical, variablesOf } from './dense.js';

/**
 * A standard tfjs LayersModel (Sequential of Dense layers) holding copies of the given weights, so any tfjs
 * client can `tf.loadLayersModel` it. The caller disposes the model. tfjs-layers loads here, when a model is
 * saved, not when a worker starts.
 */
export async function toLayersModel(layers: readonly DenseVariables[], name: string): Promise<Layers.Sequential> {
  const tfl = await import('@tensorflow/tfjs-layers');
  const model = tfl.sequential({ name });
  layers.forEach((l, i) => {
    model.add(
      tfl.layers.dense({
        units: l.spec.units,
        activation: l.spec.activation,
        inputShape: i === 0 ? [l.spec.inputs] : undefined,
        name: `${name}_dense_${i + 1}`,
      }),
    );
  });
  const values = toCanonical(
    layers,
    variablesOf(layers).map((v) => v.dataSync() as Float32Array),
  );
  tf.tidy(() =>
    model.setWeights(values.map((a, i) => (i % 2 === 0 ? tf.tensor2d(a, [layers[i >> 1].spec.inputs, layers[i >> 1].spec.units]) : tf.tensor1d(a)))),
  );
  return model;
}

/** The model's topology and weights, as `model.save` would hand them to a save handler. */
export async function modelArtifacts(model: Layers.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved) throw new Error('model.save produced no artifacts');
  return saved;
}
