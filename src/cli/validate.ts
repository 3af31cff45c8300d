import { checkAgainstData, loadPipeline } from '../config/load.js';
import { AeflowError } from '../errors.js';
import { parseCommand } from './args.js';

const usage = 'aeflow validate PIPELINE.yaml [--set key=value]... [--no-data]';

/** `aeflow validate`: check a pipeline (and, unless --no-data, that its CSVs exist and fit the model). */
export async function validateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('validate', argv, { set: { type: 'string', multiple: true }, 'no-data': { type: 'boolean' } }, usage);
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 1) throw new AeflowError('USAGE', 'aeflow validate needs one pipeline file', `usage: ${usage}`);
  const loaded = await loadPipeline(positionals[0], values.set ?? []);
  if (!values['no-data']) {
    const { width } = await checkAgainstData(loaded);
    console.log(`${loaded.file}: valid; data ${width} features wide matches the model`);
  } else {
    console.log(`${loaded.file}: valid (data not checked)`);
  }
  return 0;
}
