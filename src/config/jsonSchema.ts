import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { models } from '../models/builtins.js';
import { stages } from '../stages/builtins.js';
import { pipelineSchema } from './schema.js';

/**
 * The pipeline's JSON Schema, generated from the zod schema so editors (YAML language server:
 * `# yaml-language-server: $schema=../config/pipeline.schema.json`) autocomplete and check pipelines.
 * Stages and models are filled in from their registries.
 */
export function pipelineJsonSchema(): Record<string, unknown> {
  const toJson = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const root = toJson(pipelineSchema);
  const properties = root.properties as Record<string, Record<string, unknown>>;
  const strip = (s: Record<string, unknown>) => {
    const { $schema: _, ...rest } = s;
    return rest;
  };
  properties.stages = { ...properties.stages, items: { anyOf: stages.all().map((s) => strip(toJson(s.schema))) } };
  properties.model = { anyOf: models.all().map((m) => strip(toJson(m.schema))) };
  return { title: 'aeflow pipeline', ...root };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv[2] ?? 'config/pipeline.schema.json';
  writeFileSync(out, JSON.stringify(pipelineJsonSchema(), null, 2) + '\n');
  console.log(`wrote ${out}`);
}
