import { formatLoss, type Objective } from '../pipeline/objective.js';
import type { TrainingEvent } from '../pipeline/train.js';
import type { ProgressBar } from './progressBar.js';

/** The console side branch: the dataflow and backend at start, phases, the progress bar, one line per reported epoch. */
export function consoleSink(log: (line: string) => void, progress: ProgressBar): (e: TrainingEvent) => void {
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
        for (const s of e.skipped) log(`backend: ${s.name} unavailable (${s.reason})`);
        log(
          `backend: ${e.backend}${e.matMul === e.backend ? '' : ` (matMul: ${e.matMul})`}, ${e.workers} worker${e.workers === 1 ? '' : 's'}, ${e.parameters.toLocaleString('en-US')} parameters`,
        );
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
          log(
            `skipped ${s.count} bad ${split} row${s.count === 1 ? '' : 's'} (on_bad_row: skip), at lines ${s.lines.join(', ')}${s.count > s.lines.length ? ', …' : ''}; the first: ${s.first}`,
          );
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
        break;
      }
      case 'end':
        break;
    }
  };
}
