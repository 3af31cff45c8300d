import { createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import type { LabelledImages } from '../sources/mnistDigits.js';

/** The MNIST CSV layout: header `label,1x1,1x2,…,28x28` (row x column), then the label and the pixels 0–255. */
export function imageCsvHeader(width: number, height: number): string {
  const names = ['label'];
  for (let r = 1; r <= height; r++) for (let c = 1; c <= width; c++) names.push(`${r}x${c}`);
  return names.join(',');
}

/**
 * Writes labelled images as a CSV in the MNIST layout, streaming. The file appears under its name only when
 * complete (written aside, then renamed), so an interrupted conversion never leaves a truncated CSV behind.
 */
export async function writeImageCsv(file: string, images: LabelledImages): Promise<void> {
  const partial = `${file}.partial`;
  const out = createWriteStream(partial);
  const size = images.width * images.height;
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(imageCsvHeader(images.width, images.height) + '\n');
  let chunk = '';
  for (let i = 0; i < images.labels.length; i++) {
    chunk += `${images.labels[i]},${Array.prototype.join.call(images.pixels.subarray(i * size, (i + 1) * size), ',')}\n`;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  out.end();
  await once(out, 'close');
  await fs.rename(partial, file);
}
