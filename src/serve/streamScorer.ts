import { AeflowError, isAeflowError } from '../errors.js';
import type { DeadLetter, StreamResult, StreamWriter } from '../sinks/redisStream.js';
import type { StreamEntry, StreamGroupReader } from '../sources/redisStream.js';
import { type ServedModel, TOP_COLUMNS } from './servedModel.js';

export interface StreamJob {
  readonly kind: 'encode' | 'score';
  /** Entries per read (XREADGROUP COUNT), each read a batch for the workers. */
  readonly count: number;
  /** Entries pending longer than this with any consumer are taken over. */
  readonly claimAfterMs: number;
  /** Stop once nothing arrived for this long and nothing is pending in the group; null: run until `signal`. */
  readonly untilIdleMs: number | null;
  /** Stops reading; what is held is still answered and acknowledged. */
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
  /** A progress line every this many entries answered. */
  readonly progressEvery: number;
}

export interface StreamSummary {
  /** Entries answered and acknowledged: written to the output stream, or to its dead letters. */
  readonly entries: number;
  readonly dead: number;
  readonly seconds: number;
  /** Why it stopped. */
  readonly reason: string;
}

/** Times an entry's batch may fail in the workers before the entry goes to the dead letters. */
const MAX_ATTEMPTS = 3;
/** The longest a read waits for new entries: how soon a stop, a claim or the idle check is seen. */
const BLOCK_MS = 1000;

/**
 * One consumer of a stream's group, encoding or scoring its share of the entries with a served model: reads a
 * batch at a time, several batches in the workers at once, writes each batch's answers (and bad records' dead
 * letters) and only then acknowledges its entries. At least once: an entry whose answer was written but not
 * acknowledged (a crash in between) is answered again, by whoever claims it.
 */
export class StreamScorer {
  private readonly held = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private batches = 0;
  private wake: (() => void) | null = null;
  private fatal: unknown = null;
  private lastArrival = performance.now();
  private lastSweep = Number.NEGATIVE_INFINITY;
  private readonly started = performance.now();
  private answered = 0;
  private dead = 0;
  private nextProgress: number;

  constructor(
    private readonly model: ServedModel,
    private readonly reader: StreamGroupReader,
    private readonly writer: StreamWriter,
    private readonly job: StreamJob,
  ) {
    this.nextProgress = job.progressEvery;
  }

  /** Batches in the workers at once: enough that each worker has the next one waiting. */
  private get slots(): number {
    return 2 * this.model.inference.workers;
  }

  async run(): Promise<StreamSummary> {
    await this.reader.ensureGroup();
    await this.takeOwn();
    let reason = 'stopped';
    while (!this.stopped()) {
      await this.slot();
      if (this.stopped()) break;
      const entries = await this.next();
      if (entries.length > 0) {
        this.lastArrival = performance.now();
        this.start(entries);
      } else if (await this.idle()) {
        reason = `nothing arrived for ${(this.job.untilIdleMs as number) / 1000} s and nothing is pending`;
        break;
      }
    }
    await this.settled();
    if (this.fatal) throw this.fatal;
    return { entries: this.answered, dead: this.dead, seconds: (performance.now() - this.started) / 1000, reason };
  }

  private stopped(): boolean {
    return this.job.signal.aborted || this.fatal !== null;
  }

  /** What this consumer (by its name) was delivered before and did not acknowledge: a restart takes it up. */
  private async takeOwn(): Promise<void> {
    let after = '0';
    for (;;) {
      await this.slot();
      if (this.stopped()) return;
      const entries = (await this.reader.readOwn(this.job.count, after)).filter((e) => !this.held.has(e.id));
      if (entries.length === 0) return;
      after = entries[entries.length - 1].id;
      this.start(entries);
    }
  }

  /** Entries others left pending too long, swept now and then; else new ones. */
  private async next(): Promise<StreamEntry[]> {
    const now = performance.now();
    if (now - this.lastSweep >= this.job.claimAfterMs / 2) {
      const claimed = (await this.reader.claim(this.job.claimAfterMs, this.job.count)).filter((e) => !this.held.has(e.id));
      if (this.reader.sweptAll) this.lastSweep = now;
      if (claimed.length > 0) return claimed;
    }
    const block = Math.max(1, Math.min(BLOCK_MS, this.job.untilIdleMs ?? BLOCK_MS));
    return this.reader.readNew(this.job.count, block);
  }

  /** With --until-idle: nothing arrived for that long, nothing is in the workers, and the group has nothing pending. */
  private async idle(): Promise<boolean> {
    const limit = this.job.untilIdleMs;
    if (limit === null || this.batches > 0 || performance.now() - this.lastArrival < limit) return false;
    return (await this.reader.pending()) === 0;
  }

  private async slot(): Promise<void> {
    while (this.batches >= this.slots && !this.stopped()) await new Promise<void>((resolve) => (this.wake = resolve));
  }

  private async settled(): Promise<void> {
    while (this.batches > 0) await new Promise<void>((resolve) => (this.wake = resolve));
  }

  private start(entries: StreamEntry[]): void {
    for (const e of entries) this.held.add(e.id);
    this.batches++;
    this.handle(entries)
      .catch((e) => {
        this.fatal ??= e;
      })
      .finally(() => {
        for (const e of entries) this.held.delete(e.id);
        this.batches--;
        this.wake?.();
        this.wake = null;
      });
  }

  /** One batch: read its records, answer the good ones, write answers and dead letters, then acknowledge all. */
  private async handle(entries: StreamEntry[]): Promise<void> {
    const name = (i: number) => `${this.reader.address.text} entry ${entries[i].id}`;
    const parsed = await this.model.input.records(
      entries.map((e) => e.row ?? ''),
      name,
    );
    const dead: DeadLetter[] = [...parsed.errors].map(([i, error]) => ({
      inputId: entries[i].id,
      error: entries[i].row === null ? noRow(entries[i], name(i)) : error,
    }));
    let answers: StreamResult[] = [];
    try {
      if (parsed.rows > 0)
        answers = await this.answer(
          parsed.x,
          parsed.rows,
          parsed.good.map((i) => entries[i].id),
        );
    } catch (e) {
      if (!isAeflowError(e) || e.code !== 'WORKER_FAILED') throw e;
      return this.failed(entries, e);
    }
    await this.writer.write(answers, dead);
    await this.reader.ack(entries.map((e) => e.id));
    this.done(entries.length, dead.length, entries.length);
  }

  private async answer(x: Float32Array, rows: number, ids: readonly string[]): Promise<StreamResult[]> {
    const { inference } = this.model;
    if (this.job.kind === 'encode') {
      const z = await inference.encode(x, rows);
      const c = inference.codeSize;
      return ids.map((inputId, r) => ({ inputId, fields: Array.from({ length: c }, (_, k) => [`z${k + 1}`, String(z[r * c + k])]).flat() }));
    }
    const threshold = this.model.threshold?.threshold ?? Number.POSITIVE_INFINITY;
    const s = await inference.contributions(x, rows, this.model.groups, this.model.columns.length, TOP_COLUMNS);
    return ids.map((inputId, r) => {
      const fields = ['error', String(s.errors[r]), 'anomaly', s.errors[r] > threshold ? '1' : '0'];
      for (let k = 0; k < TOP_COLUMNS; k++) {
        const c = s.columns[r * TOP_COLUMNS + k];
        if (c >= 0) fields.push(`column_${k + 1}`, this.model.columns[c], `share_${k + 1}`, String(s.shares[r * TOP_COLUMNS + k]));
      }
      return { inputId, fields };
    });
  }

  /**
   * A batch the workers failed on (one died): its entries stay pending, to be claimed and tried again; an entry
   * that has failed MAX_ATTEMPTS times here goes to the dead letters instead, so it cannot stop the group.
   */
  private async failed(entries: StreamEntry[], e: AeflowError): Promise<void> {
    const given: DeadLetter[] = [];
    for (const entry of entries) {
      const n = (this.attempts.get(entry.id) ?? 0) + 1;
      this.attempts.set(entry.id, n);
      if (n >= MAX_ATTEMPTS) given.push({ inputId: entry.id, error: new AeflowError('WORKER_FAILED', `failed ${n} times: ${e.message}`, e.hint) });
    }
    this.job.log(
      `${this.job.kind}: a batch of ${entries.length} entries failed in the workers (${e.message}); ${entries.length - given.length} stay pending, to be claimed after ${this.job.claimAfterMs / 1000} s`,
    );
    if (given.length === 0) return;
    await this.writer.write([], given);
    await this.reader.ack(given.map((d) => d.inputId));
    this.done(given.length, given.length, entries.length);
  }

  /** Counts a batch's entries answered (`dead` of them as dead letters); `batch`: its size, still held. */
  private done(entries: number, dead: number, batch: number): void {
    this.answered += entries;
    this.dead += dead;
    if (this.answered < this.nextProgress) return;
    while (this.nextProgress <= this.answered) this.nextProgress += this.job.progressEvery;
    this.job.log(`${this.job.kind}: ${this.answered} entries done (${this.dead} dead letters), ${this.held.size - batch} held`);
  }
}

function noRow(entry: StreamEntry, name: string): AeflowError {
  return new AeflowError(
    'STREAM_ENTRY_INVALID',
    `${name}: has no field "row" (${entry.fields.length > 0 ? `its fields: ${entry.fields.join(', ')}` : 'it has no fields: deleted from the stream'})`,
    'an entry holds one CSV record, in the field "row"',
  );
}
