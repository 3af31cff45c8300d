import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { GAP_GRAY, imageGrid, writePng } from '../../src/sinks/imageGrid.js';
import { tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

describe('image grid PNG', () => {
  it('places each image in its cell, row-major, and writes a PNG that decodes to the same pixels', () => {
    // 6 images of 3x2 pixels in a 2x3 grid; image k has value k/5 everywhere except a white top-left pixel.
    const images = Array.from({ length: 6 }, (_, k) => {
      const img = new Float32Array(6).fill(k / 5);
      img[0] = 1;
      return img;
    });
    const file = path.join(tmp.dir, 'grid.png');
    writePng(file, imageGrid(images, { width: 3, height: 2, rows: 2, cols: 3, gap: 1 }));

    const png = PNG.sync.read(readFileSync(file));
    expect([png.width, png.height]).toEqual([3 * 3 + 4, 2 * 2 + 3]);
    const gray = (x: number, y: number) => png.data[(y * png.width + x) * 4]; // decoded as RGBA
    for (let k = 0; k < 6; k++) {
      const left = 1 + (k % 3) * 4;
      const top = 1 + Math.floor(k / 3) * 3;
      expect(gray(left, top)).toBe(255);
      expect(gray(left + 2, top + 1)).toBe(Math.round((255 * k) / 5));
    }
    expect(gray(0, 0)).toBe(GAP_GRAY);
    expect(gray(4, 1)).toBe(GAP_GRAY);
  });

  it('clips values to [0, 1] and leaves missing cells gap-gray', () => {
    const grid = imageGrid([Float32Array.from([-1, 2])], { width: 2, height: 1, rows: 1, cols: 2, gap: 0 });
    expect(Array.from(grid.data)).toEqual([0, 255, GAP_GRAY, GAP_GRAY]);
  });
});
