import type { Objective, TrainingEvent } from '../types.js';
import { skippedMessage } from '../sources/badRows.js';
import type { ProgressBar } from './progressBar.js';

type Start = Extract<TrainingEvent, { type: 'start' }>;

/** tfjs-node is an optional dependency whose install often cannot fetch libtensorflow: its absence is the usual case. */
function notInstalled(s: Start['skipped'][number]): boolean {
  return s.name === 'tensorflow' && /Cannot find (package|module) '@tensorflow\/tfjs-node'/.test(s.reason);
}

/**
 * The backend lines: `backend: wasm (tfjs-node not installed; matMul: native avx512), 2 workers, …`. A backend
 * that `auto` skipped for another reason gets a line of its own with the reason; with `verbose`, every one does.
 */
export function backendLines(e: Start, verbose: boolean): string[] {
  const lines: string[] = [];
  const notes: string[] = [];
  for (const s of e.skipped) {
    if (!verbose && notInstalled(s)) notes.push('tfjs-node not installed');
    else lines.push(`backend: ${s.name} unavailable (${s.reason})`);
  }
  if (e.matMul !== e.backend) notes.push(`matMul: ${e.matMul}`);
  const parameters = e.parameters.toLocaleString('en-US');
  lines.push(
    `backend: ${e.backend}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}, ${e.workers} worker${e.workers === 1 ? '' : 's'}, ${parameters} parameters`,
  );
  return lines;
}

/**
 * The console side branch: the dataflow and backend at start, phases, the progress bar, one line per reported epoch.
 * `verbose` defaults to the --verbose that every command takes (main.ts reads it the same way for errors).
 */
export function consoleSink(log: (line: string) => void, progress: ProgressBar, verbose = process.argv.includes('--verbose')): (e: TrainingEvent) => void {
  let phased = false;
  const reported = new Set<string>();
  // Epoch lines name the objective; the first of a run (of each phase, which may reconstruct codes) says it in words.
  let objective: Objective | null = null;
  let described = false;
  return (e) => {
    if (e.type === 'start' || e.type === 'phase') {
      objective = e.objective;
      described = false;
    }
    switch (e.type) {
      case 'start':
        log(`aeflow: ${e.pipeline}: ${e.dataflow}`);
        for (const line of backendLines(e, verbose)) log(line);
        break;
      case 'phase':
        phased = true;
        log(
          `phase ${e.index}/${e.phases} ${e.phase.name}: ${e.phase.epochs} epoch${e.phase.epochs === 1 ? '' : 's'}, ` +
            (e.phase.layer === null ? 'the whole model' : `encoder layer ${e.phase.layer} and its mirror; the layers below frozen`),
        );
        break;
      case 'batch':
        progress.update({
          label: `${phased ? `${e.phase} ` : ''}epoch ${e.epoch}/${e.epochs}`,
          fraction: e.fraction,
          rows: e.rows,
          rowsPerS: e.rows / e.seconds,
          loss: e.loss,
        });
        break;
      case 'epoch': {
        progress.clear();
        for (const [split, s] of Object.entries(e.skipped ?? {})) {
          const key = `${split}:${s.count}`;
          if (s.count === 0 || reported.has(key)) continue;
          reported.add(key);
          log(skippedMessage(s, split));
        }
        if (!e.log) break;
        if (objective && !described) log(`loss: ${objective.description}`);
        described = true;
        const terms = Object.entries(e.testTerms)
          .map(([name, v]) => `  ${name} ${formatLoss(v)}`)
          .join('');
        log(
          `epoch ${String(e.epoch).padStart(String(e.epochs).length)}/${e.epochs}${phased ? ` ${e.phase}` : ''}  ` +
            `${objective?.label ?? 'loss'}: train ${formatLoss(e.trainLoss)}  test ${formatLoss(e.testLoss)}${terms}` +
            `${e.noisyInputLoss === null ? '' : `  (noisy input ${formatLoss(e.noisyInputLoss)})`}  ` +
            `${e.seconds.toFixed(1)} s  ${Math.round(e.samplesPerS).toLocaleString('en-US')} samples/s`,
        );
        const stop = e.earlyStopping;
        if (stop?.stop) {
          log(
            `early stopping: no better test loss than epoch ${stop.bestEpoch}'s ${formatLoss(stop.bestTestLoss)} in ${stop.epochsSinceBest} epochs; ` +
              `the model keeps epoch ${stop.bestEpoch}'s weights`,
          );
        }
        break;
      }
      case 'end':
        break;
    }
  };
}

/** A loss for people: five decimals for small values, four significant digits from 10 up (a VAE's sums per row). */
export function formatLoss(v: number): string {
  if (!Number.isFinite(v) || Math.abs(v) < 10) return v.toFixed(5);
  const integerDigits = Math.floor(Math.log10(Math.abs(v))) + 1;
  return v.toFixed(Math.max(0, 4 - integerDigits));
}
