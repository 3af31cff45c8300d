import type { BackendChoice } from '../backend.js';
import { runSettings } from '../config/runSettings.js';
import { anomalyThreshold, columnGroups, type ModelData, readModelData, type ThresholdChoice } from '../pipeline/modelData.js';
import { type InputSettings, ModelInput } from '../pipeline/modelInput.js';
import { Inference } from '../workers/inference.js';

/** Input columns named per row of a score: the most contributing, as in scores.csv. */
export const TOP_COLUMNS = 3;

export interface ServedModelOptions {
  /** A run's model folder (RUN/model). */
  readonly folder: string;
  readonly backend: BackendChoice;
  readonly workers: number;
  /** Overrides of the run's data settings (the commands' --scale, --label-column). */
  readonly settings?: Partial<InputSettings>;
}

/**
 * A saved model loaded for answering: its workers, how input reaches it (ModelInput), its anomaly threshold, and
 * the input columns a score puts a row's error down to. What `aeflow serve` and the stream scorers share.
 */
export class ServedModel {
  private constructor(
    readonly folder: string,
    readonly inference: Inference,
    readonly data: ModelData,
    readonly input: ModelInput,
    /** null: the model has no saved threshold, and its run no evaluation.json. */
    readonly threshold: ThresholdChoice | null,
    /** The input column each feature comes from, and the columns' names (see Inference.contributions). */
    readonly groups: Int32Array,
    readonly columns: readonly string[],
  ) {}

  static async load(options: ServedModelOptions): Promise<ServedModel> {
    const data = readModelData(options.folder);
    const run = runSettings(options.folder);
    const inference = await Inference.start({ model: options.folder, backend: options.backend, workers: options.workers });
    try {
      const settings = { scale: options.settings?.scale ?? run.scale, labelColumn: options.settings?.labelColumn ?? run.labelColumn };
      const input = await ModelInput.create(data, inference.inputs, run, settings);
      const p = data.preprocessing;
      const names = input.layout.names ?? Array.from({ length: inference.inputs }, (_, f) => `feature ${f + 1}`);
      const groups = p ? columnGroups(p) : Int32Array.from({ length: inference.inputs }, (_, f) => f);
      return new ServedModel(options.folder, inference, data, input, anomalyThreshold(data), groups, names);
    } catch (e) {
      await inference.close();
      throw e;
    }
  }

  /** What GET /model says of it. */
  describe(): Record<string, unknown> {
    const { inference, threshold } = this;
    const layout = this.input.layout;
    return {
      model: this.folder,
      inputs: inference.inputs,
      code_size: inference.codeSize,
      decoder: inference.hasDecoder,
      columns: layout.names,
      categorical: layout.names?.filter((_, i) => layout.categorical[i]) ?? [],
      missing_allowed: layout.allowMissing,
      preprocessing: this.data.preprocessing !== null,
      threshold: threshold && { value: threshold.threshold, percentile: threshold.percentile, file: threshold.file },
      backend: inference.backend,
      workers: inference.workers,
    };
  }

  close(): Promise<void> {
    return this.inference.close();
  }
}
