import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipelineJsonSchema } from '../../src/config/jsonSchema.js';
import { repoRoot } from '../helpers.js';

describe('config/pipeline.schema.json', () => {
  it('is up to date with the zod schema (regenerate with `npm run schema`)', () => {
    const committed = JSON.parse(readFileSync(path.join(repoRoot, 'config', 'pipeline.schema.json'), 'utf8'));
    expect(committed).toEqual(pipelineJsonSchema());
  });

  it('lists every stage and model type', () => {
    const schema = pipelineJsonSchema() as { properties: Record<string, any> };
    const stageTypes = schema.properties.stages.items.anyOf.map((s: any) => s.properties.type.const);
    expect(stageTypes).toEqual(['shuffle', 'noise', 'batch']);
    expect(schema.properties.model.anyOf.map((m: any) => m.properties.type.const)).toEqual([
      'dense-autoencoder',
      'stacked-autoencoder',
      'variational-autoencoder',
    ]);
    expect(schema.properties.train.additionalProperties).toBe(false);
  });
});
