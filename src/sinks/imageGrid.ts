import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

export interface GridLayout {
  /** Pixels per image, row by row. */
  readonly width: number;
  readonly height: number;
  readonly rows: number;
  readonly cols: number;
  /** Pixels between images. */
  readonly gap?: number;
}

export interface GrayImage {
  readonly width: number;
  readonly height: number;
  /** One byte per pixel, row by row. */
  readonly data: Uint8Array;
}

/** The gray of the gaps between images: neither black nor white, so image edges stay visible. */
export const GAP_GRAY = 96;

/**
 * Lays images (values in [0, 1], each width×height, row by row) out in a rows×cols grid, row-major.
 * Values are clipped to [0, 1] and rounded to 0–255. Missing images leave their cell gap-gray; an image with
 * fewer values than width×height is padded with black.
 */
export function imageGrid(images: readonly Float32Array[], layout: GridLayout): GrayImage {
  const gap = layout.gap ?? 2;
  const { width: w, height: h, rows, cols } = layout;
  const width = cols * w + (cols + 1) * gap;
  const height = rows * h + (rows + 1) * gap;
  const data = new Uint8Array(width * height).fill(GAP_GRAY);
  images.slice(0, rows * cols).forEach((image, k) => {
    if (image.length > w * h) throw new RangeError(`image ${k} has ${image.length} values, more than ${w}x${h}`);
    const top = gap + Math.floor(k / cols) * (h + gap);
    const left = gap + (k % cols) * (w + gap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = image[y * w + x] ?? 0;
        data[(top + y) * width + left + x] = Math.round(255 * Math.min(1, Math.max(0, Number.isNaN(v) ? 0 : v)));
      }
    }
  });
  return { width, height, data };
}

/** Writes a gray image as an 8-bit grayscale PNG. */
export function writePng(file: string, image: GrayImage): void {
  const png = new PNG({ width: image.width, height: image.height, colorType: 0, inputColorType: 0, bitDepth: 8, inputHasAlpha: false });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  writeFileSync(file, PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}
