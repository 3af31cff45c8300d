import { promises as fs } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { AeflowError } from '../errors.js';
import type { LabelledImages } from './mnistDigits.js';

/**
 * Reads an IDX pair (the MNIST file format: big-endian magic, dimensions, then unsigned bytes), gzipped or
 * not: an images file (magic 0x00000803) and its labels file (0x00000801).
 */
export async function readIdx(imagesFile: string, labelsFile: string): Promise<LabelledImages> {
  const images = await readIdxFile(imagesFile, 3);
  const labels = await readIdxFile(labelsFile, 1);
  if (images.dims[0] !== labels.dims[0]) {
    throw new AeflowError(
      'CSV_PARSE_FAILED',
      `${imagesFile} holds ${images.dims[0]} images but ${labelsFile} ${labels.dims[0]} labels`,
      'use the matching pair of IDX files',
    );
  }
  return { width: images.dims[2], height: images.dims[1], labels: labels.data, pixels: images.data };
}

async function readIdxFile(file: string, rank: number): Promise<{ dims: number[]; data: Uint8Array }> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch {
    throw new AeflowError('CSV_NOT_FOUND', `${file}: no such file`, 'check the path');
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const magic = bytes.readUInt32BE(0);
  if (magic !== 0x800 + rank) {
    throw new AeflowError(
      'CSV_PARSE_FAILED',
      `${file}: not an IDX file of rank ${rank} (magic 0x${magic.toString(16)})`,
      'pass the MNIST-format .idx(.gz) files',
    );
  }
  const dims = Array.from({ length: rank }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * rank;
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < offset + count)
    throw new AeflowError('CSV_PARSE_FAILED', `${file}: truncated (${bytes.length} bytes, expected ${offset + count})`, 'the file is incomplete; reinstall it');
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + offset, count) };
}
