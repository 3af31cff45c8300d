/**
 * The data every layer shares, at the bottom of the import graph: what training tells its side branches, what a
 * checkpoint, summary.json and evaluation.json hold. Types only, importing nothing: any module may import them,
 * and so a sink that writes an event, or a worker that saves a replica's state, needs nothing from the layer
 * that makes them (scripts/check-layers.mjs keeps imports pointing down).
 */

/** A TensorFlow.js backend aeflow runs on. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | BackendName;

/** What a pass skipped under `on_bad_row: skip`: how many rows, the first few lines, the first one's message. */
export interface SkippedRows {
  count: number;
  /** Line numbers of the first skipped rows, ascending. */
  lines: number[];
  /** The message of the skipped row with the smallest line (what was found, what was expected). */
  first: string | null;
}

/**
 * A stretch of training with its own objective and a fresh optimizer. `layer` null trains the whole model;
 * `layer` k (1-based) trains only encoder layer k and its mirror decoder layer on the codes of the frozen
 * layers below it (greedy layer-wise pretraining).
 */
export interface Phase {
  readonly name: string;
  readonly epochs: number;
  readonly layer: number | null;
}

/**
 * A replica's training state, as plain arrays (checkpoints hold it). Kernels are inputs × units whatever layout
 * the backend trains in, so a checkpoint resumes on any backend.
 */
export interface ReplicaState {
  /** Every variable of the model (kernel, bias, kernel, bias...), in its fixed order. */
  readonly weights: Float32Array[];
  /** Adam's moments of the variables the phase trains: "k/m" and "k/v" for the k-th; empty for SGD. */
  readonly optimizer: Array<{ name: string; shape: number[]; data: Float32Array }>;
  /**
   * Adam's running powers β1^t and β2^t, kept as products (recomputing them with pow() differs in the last
   * bits); restored exactly, a resumed run repeats the uninterrupted one bit for bit. Null for SGD.
   */
  readonly adamPowers: [number, number] | null;
  /** Random draws the model has made (a VAE's sampling), so a resumed run draws on from there. */
  readonly draws: number;
}

/** Where a run stands: enough to go on exactly as if it had never stopped. */
export interface Checkpoint {
  /** 2: kernels stored inputs × units and Adam as per-variable moments (1: tfjs's own optimizer state). */
  readonly version: 2;
  /** Global epochs completed (the one in progress, when `batches` > 0, is not counted). */
  readonly epoch: number;
  /** Index of the phase in progress and epochs completed in it. */
  readonly phase: number;
  readonly phaseEpoch: number;
  /** Batches of the next epoch already trained (a stop mid-epoch), and their row-weighted loss sums. */
  readonly batches: number;
  readonly partial: { rows: number; loss: number; terms: Record<string, number> };
  /** Rows per epoch, once known. */
  readonly knownRows: number;
  /** metrics.jsonl so far, one object per completed epoch. */
  readonly metrics: unknown[];
  readonly state: ReplicaState;
  /** Under early stopping: the best epoch so far and its weights (what the saved model will hold). */
  readonly best?: { readonly epoch: number; readonly weights: Float32Array[] };
  /** Training from a Redis stream: how far the run has consumed it (whole epochs only). */
  readonly stream?: StreamPosition;
  readonly written: string;
}

/**
 * How far a run has consumed its Redis stream: whole epochs only. A stop mid-epoch (see Checkpoint.batches) leaves
 * the epoch unconsumed; the resumed run reads its entries again from `lastId` and skips the batches it trained.
 */
export interface StreamPosition {
  /** The ID of the last entry of the last whole epoch; "0-0" before the first (a fresh run starts at the stream's start). */
  readonly lastId: string;
  /** The ID after which that epoch's entries begin, null before the first epoch: where the evaluation reads them again. */
  readonly lastEpochFrom: string | null;
  /** Entries the whole epochs took (bad entries skipped included). */
  readonly entries: number;
}

/** Where early stopping stands after an epoch (see pipeline/earlyStopping.ts). */
export interface EarlyStoppingStatus {
  /** The epoch with the lowest test loss so far (counted over the run), and that loss. */
  readonly bestEpoch: number;
  readonly bestTestLoss: number;
  /** Epochs since the best one that did not improve on it. */
  readonly epochsSinceBest: number;
  /** Whether training stops after this epoch. */
  readonly stop: boolean;
}

/** What a run's train and test losses measure, so that a reader can tell them from the evaluation's 0.5·MSE. */
export interface Objective {
  /** A stable name: `half-mse`, `mse`, `binary-crossentropy`, `negative-elbo` or `beta-vae`. */
  readonly id: string;
  /** The short name epoch lines print before the losses. */
  readonly label: string;
  /** In words: what the losses compare with what. */
  readonly description: string;
}

/** What a training run tells its side branches; sinks subscribe to these and only write. */
export type TrainingEvent<Trainer = unknown> =
  | {
      type: 'start';
      pipeline: string;
      dataflow: string;
      backend: BackendName;
      skipped: Array<{ name: BackendName; reason: string }>;
      matMul: string;
      workers: number;
      parameters: number;
      phases: Phase[];
      /** What the train and test losses measure (the last phase's objective). */
      objective: Objective;
    }
  | {
      type: 'phase';
      phase: Phase;
      index: number;
      phases: number;
      /** What this phase's losses measure (a greedy layer reconstructs its own input). */
      objective: Objective;
    }
  | { type: 'batch'; epoch: number; epochs: number; phase: string; rows: number; loss: number; fraction: number; seconds: number }
  | EpochEvent
  | { type: 'checkpoint'; checkpoint: Checkpoint }
  | { type: 'end'; final: Snapshot; generated: Generated | null; trainer: Trainer };

/** An epoch as metrics remember it (no pictures). */
export type EpochRecord = Omit<EpochEvent, 'type' | 'snapshot'>;

export interface EpochEvent {
  type: 'epoch';
  /** Counted over the whole run, across phases. */
  epoch: number;
  epochs: number;
  phase: string;
  phaseEpoch: number;
  trainLoss: number;
  /** Named parts of the training loss (a VAE's reconstruction and kl), means over the epoch. */
  trainTerms: Record<string, number>;
  testLoss: number;
  testTerms: Record<string, number>;
  /** The loss of the noisy test input itself against the clean one (what doing nothing scores), with noise. */
  noisyInputLoss: number | null;
  seconds: number;
  samplesPerS: number;
  rows: number;
  testRows: number;
  /** Live tensors in the worker after the epoch: flat unless something leaks. */
  tensors: number;
  /** The process's resident memory after the epoch (worker threads included). */
  rssMb: number;
  /** Under `on_bad_row: skip`: the rows this epoch's passes skipped, per split. */
  skipped: { train: SkippedRows; test: SkippedRows } | null;
  /** The learning rate of the epoch's last optimizer step, as the schedule gave it to the trainer. */
  lr: number;
  /** Optimizer steps taken in the phase so far, this epoch's included. */
  steps: number;
  /** With `train.early_stopping`, in the phase it watches: the best epoch so far, and whether training stops. */
  earlyStopping: EarlyStoppingStatus | null;
  log: boolean;
  snapshot: Snapshot | null;
}

/** The preview images (the first rows×cols test rows, through the stages) and their reconstructions. */
export interface Snapshot {
  readonly epoch: number;
  readonly phase: string;
  /** What the model saw: noisy under a noise stage. */
  readonly inputs: Float32Array[];
  /** The clean rows; the same arrays as `inputs` without noise. */
  readonly targets: Float32Array[];
  readonly reconstructions: Float32Array[];
}

/** A generative model's pictures, decoded after training. */
export interface Generated {
  readonly samples: Float32Array[];
  /** The first preview image, the decoded line between the codes of the first two, the second image. */
  readonly interpolation: Float32Array[];
  /** A grid over the latent space, for a 2-d latent; row-major, side × side. */
  readonly manifold: { images: Float32Array[]; side: number } | null;
}

/** summary.json. */
export interface Summary {
  pipeline: string;
  model: string;
  backend: string;
  /** Whose matMul ran: `native avx512` (aeflow's native kernel on WASM), or the backend's own. */
  matmul: string;
  workers: number;
  epochs: number;
  phases: string[];
  rows: number;
  test_rows: number;
  /** The training objective's name (`half-mse`, `negative-elbo`…): what train_loss and test_loss are. */
  objective: string;
  /** The objective in words, e.g. "half-mse (0.5·mean squared error) of the clean target from the noisy input". */
  test_loss_is: string;
  train_loss: number;
  test_loss: number;
  /** Named parts of the test loss (a VAE's reconstruction and kl). */
  test_terms: Record<string, number>;
  /** With a noise stage: the loss of the noisy test input against the clean one, what doing nothing scores. */
  noisy_input_loss?: number;
  /** Under `on_bad_row: skip`: what each split's last pass skipped (count, first lines, first message). */
  skipped_rows?: { train: SkippedRows; test: SkippedRows };
  /** The epoch whose weights model/ holds (with early stopping, the best; else the last), whose losses these are. */
  saved_epoch: number;
  /** `epochs`: every epoch of train.epochs ran; `early_stopping`: the test loss stopped improving. */
  stopped_by: 'epochs' | 'early_stopping';
  /** Why training stopped, in a sentence. */
  stop_reason: string;
  samples_per_s: number;
  /** The epochs' training passes. */
  train_s: number;
  /** From the start to the saved model (training, test passes, snapshots, saving). */
  to_saved_model_s: number;
  /** The whole run: to the end of the evaluation and the report. */
  wall_s: number;
  parameters: number;
  /** The process's peak resident memory at the saved model, worker threads included. */
  peak_rss_mb: number;
  outputs: Record<string, string>;
  finished_at: string;
}

/** Test accuracy of a probe trained on the training rows' features. */
export interface ProbeScores {
  logistic: number;
  knn: number;
}

/** A pass of the evaluation, and how far it has come. */
export interface EvaluationStage {
  readonly name: string;
  readonly rows: number;
  /** 0..1 of the pass, or NaN while unknown. */
  readonly fraction: number;
}

export interface Evaluation {
  model: string;
  code_size: number;
  train_rows: number;
  test_rows: number;
  /** 0.5·mean squared error on the test rows: the model, and PCA with `pca_components` fitted on the training rows. */
  model_test_loss: number;
  /** What model_test_loss is, so that it is not taken for a run's training objective (noisy input, a VAE's ELBO). */
  model_test_loss_is: string;
  pca_test_loss: number;
  pca_components: number;
  /** model / PCA: below 1, the autoencoder reconstructs better than PCA. */
  model_vs_pca: number;
  /**
   * The same errors as a sum of squared errors over a row's values, averaged over the test rows: Hinton &
   * Salakhutdinov's unit for images (2 × the row width × the 0.5·MSE).
   */
  model_sq_error_per_row: number;
  pca_sq_error_per_row: number;
  /**
   * Rows above the `percentile` of the training rows' errors, from a quantile sketch (DDSketch) of every
   * training error: the threshold is within `relative_accuracy` of the exact percentile.
   */
  anomaly: { percentile: number; threshold: number; relative_accuracy: number; flagged: number; file: string };
  /** Label prediction from features (see probes.ts); null when the data has no labels or probes were turned off. */
  probes: ({ raw: ProbeScores; pca: ProbeScores; model: ProbeScores; k: number; classes: number; passes: number } & { test_rows: number }) | null;
  /**
   * What the evaluation kept of the test split: every row, or a seeded uniform sample of `held` rows (the probes,
   * the latent map and the error histogram use it). The losses, the threshold and anomalies.csv cover every row.
   * `bytes`: the memory the held rows take, set by the sample's size, not the file's.
   */
  sample: { held: number; of: number; seed: number; complete: boolean; bytes: number };
  skipped_rows?: { train: SkippedRows; test: SkippedRows };
  backend: string;
  workers: number;
  seconds: { training_pass: number; test_pass: number; probes: number; total: number };
  /** The process's peak resident memory at the end (worker threads included; in `aeflow run`, training's too). */
  peak_rss_mb: number;
}

/** The figures, and what the plots draw. */
export interface EvaluationResult {
  readonly evaluation: Evaluation;
  /** The held test rows' reconstruction errors. */
  readonly testErrors: Float32Array;
  /** The held test rows' codes projected onto their two principal directions, with labels ('' without). */
  readonly latent: Array<{ x: number; y: number; label: string }>;
}
