import { describe, expect, it } from 'vitest';
import { bundledDigits, splitImages } from '../../src/sources/mnistDigits.js';

describe('bundled MNIST digits', () => {
  const digits = bundledDigits();

  it('are 10,000 28x28 images with pixels rounded back to 0-255', () => {
    expect(digits.labels.length).toBe(10_000);
    expect(digits.pixels.length).toBe(10_000 * 784);
    expect(Math.max(...digits.pixels.subarray(0, 784 * 50))).toBe(255);
    // real digits: mostly background, some ink
    const ink = digits.pixels.subarray(0, 784).filter((p) => p > 128).length;
    expect(ink).toBeGreaterThan(40);
    expect(ink).toBeLessThan(400);
  });

  it('split 8,000 / 2,000 the same way every time, with every digit in both parts', () => {
    const [train, test] = splitImages(digits, 8000, 0);
    const [train2] = splitImages(digits, 8000, 0);
    expect(train.labels.length).toBe(8000);
    expect(test.labels.length).toBe(2000);
    expect(train2.labels).toEqual(train.labels);
    expect(new Set(test.labels).size).toBe(10);
    // shuffled: not in digit order
    expect(train.labels.slice(0, 20).every((l) => l === train.labels[0])).toBe(false);
  });
});
