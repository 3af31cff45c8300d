import { needsPreprocessing } from '../config/columns.js';
import { checkAgainstData, loadPipeline } from '../config/load.js';
import { parseCommand, usageError } from './args.js';

/** `aeflow validate`: check a pipeline (and, unless --no-data, that its CSVs exist and fit the model). */
export async function validateCommand(argv: string[]): Promise<number> {
  const args = parseCommand('validate', argv);
  if (!args) return 0;
  const { values, positionals } = args;
  if (positionals.length !== 1) throw usageError('validate', 'aeflow validate needs one pipeline file');
  const loaded = await loadPipeline(positionals[0], values.set ?? []);
  if (!values['no-data']) {
    const { width } = await checkAgainstData(loaded);
    if (loaded.autoInput || needsPreprocessing(loaded.config)) {
      // The feature count after one-hot categories and indicators is known once a run fits the preprocessing.
      console.log(`${loaded.file}: valid; the data has ${width} input columns (the model's input width is fitted when it runs)`);
    } else {
      console.log(`${loaded.file}: valid; data ${width} features wide matches the model`);
    }
  } else {
    console.log(`${loaded.file}: valid (data not checked)`);
  }
  return 0;
}
