import type { Generated, Snapshot } from '../types.js';
import { type GrayImage, imageGrid } from './imageGrid.js';

export interface ImageShape {
  readonly width: number;
  readonly height: number;
}

/** Whether the model saw something other than what it had to reconstruct (a noise stage). */
export function isDenoising(s: Snapshot): boolean {
  return s.inputs.some((x, i) => x !== s.targets[i]);
}

/**
 * A snapshot as a picture: the rows×cols preview images, each row of originals above the same row reconstructed
 * (2·rows rows); under a noise stage three rows instead — the noisy inputs, the model's denoised outputs, the
 * clean originals.
 */
export function snapshotImage(s: Snapshot, shape: ImageShape, rows: number, cols: number): GrayImage {
  if (isDenoising(s)) return threeRows(s, shape);
  // Left sparse where the test split has fewer rows than the grid: imageGrid leaves those cells gap-gray.
  const cells: Float32Array[] = [];
  for (let i = 0; i < Math.min(s.targets.length, rows * cols); i++) {
    const row = Math.floor(i / cols);
    const col = i % cols;
    cells[2 * row * cols + col] = s.targets[i];
    cells[(2 * row + 1) * cols + col] = s.reconstructions[i];
  }
  return imageGrid(cells, { ...shape, rows: 2 * rows, cols });
}

/** Originals above their reconstructions; under a noise stage: noisy, denoised, clean. */
export function comparisonImage(s: Snapshot, shape: ImageShape): GrayImage {
  if (isDenoising(s)) return threeRows(s, shape);
  return imageGrid([...s.targets, ...s.reconstructions], { ...shape, rows: 2, cols: s.inputs.length });
}

function threeRows(s: Snapshot, shape: ImageShape): GrayImage {
  return imageGrid([...s.inputs, ...s.reconstructions, ...s.targets], { ...shape, rows: 3, cols: s.inputs.length });
}

/** A generative model's pictures, by file name. */
export function generatedImages(g: Generated, shape: ImageShape, rows: number, cols: number): Record<string, GrayImage> {
  const images: Record<string, GrayImage> = {
    'samples.png': imageGrid(g.samples, { ...shape, rows, cols }),
    'interpolation.png': imageGrid(g.interpolation, { ...shape, rows: 1, cols: g.interpolation.length }),
  };
  if (g.manifold) images['manifold.png'] = imageGrid(g.manifold.images, { ...shape, rows: g.manifold.side, cols: g.manifold.side, gap: 0 });
  return images;
}
