import { CsvText, csvField as field } from '../sinks/csvText.js';
import type { Codes, Reconstructions, Scores } from './operations.js';
import type { ServedModel } from './servedModel.js';

/** How an answer is written: JSON (the default), or CSV when the request accepts text/csv. */
export type AnswerFormat = 'json' | 'csv';

/** The answer's bytes and their content type. */
export interface Answer {
  readonly type: string;
  readonly body: Buffer;
}

const TYPES: Record<AnswerFormat, string> = { json: 'application/json; charset=utf-8', csv: 'text/csv; charset=utf-8' };

/**
 * The answers of encode, reconstruct and score as bytes, numbers written digit by digit with float32's nine
 * significant digits (sinks/csvText): a 256-row answer holds tens of thousands of numbers, and a string per
 * number at full double precision made writing the answer cost more than the model (`bench/run.mjs`, serve
 * section). A value that is not finite is written null in JSON.
 */
export class AnswerWriter {
  private readonly text = new CsvText();

  constructor(private readonly model: ServedModel) {}

  encode(r: Codes, format: AnswerFormat): Answer {
    const c = this.model.inference.codeSize;
    if (format === 'csv')
      return this.csv(
        Array.from({ length: c }, (_, k) => `z${k + 1}`),
        r.codes,
        c,
      );
    this.text.text('{"codes":');
    this.matrix(r.codes, c);
    return this.json('}');
  }

  reconstruct(r: Reconstructions, format: AnswerFormat): Answer {
    const d = this.model.inference.inputs;
    if (format === 'csv') {
      const t = this.text;
      t.text(['error', ...this.model.columns].map(field).join(','));
      t.newline();
      for (let i = 0; i < r.errors.length; i++) {
        t.number(r.errors[i]);
        for (let j = 0; j < d; j++) {
          t.comma();
          t.number(r.y[i * d + j]);
        }
        t.newline();
      }
      return { type: TYPES.csv, body: t.take() };
    }
    this.text.text('{"reconstructions":');
    this.matrix(r.y, d);
    this.text.text(',"errors":');
    this.numbers(r.errors, 0, r.errors.length);
    return this.json('}');
  }

  score(r: Scores, format: AnswerFormat): Answer {
    const t = this.model.threshold;
    const top = r.columns.length / Math.max(1, r.errors.length);
    const anomaly = (i: number) => (t ? r.errors[i] > t.threshold : null);
    if (format === 'csv') return this.scoreCsv(r, top, anomaly);
    const columns = Array.from(r.errors, (_, i) =>
      Array.from({ length: top }, (_, k) => i * top + k)
        .filter((j) => r.columns[j] >= 0)
        .map((j) => ({ column: this.model.columns[r.columns[j]], share: r.shares[j] })),
    );
    this.text.text('{"errors":');
    this.numbers(r.errors, 0, r.errors.length);
    this.text.text(`,"anomaly":${JSON.stringify(t ? Array.from(r.errors, (_, i) => anomaly(i)) : null)},"threshold":${t ? t.threshold : null}`);
    if (!t) this.text.text(',"note":"the model has no anomaly threshold (no model/anomaly.json, no evaluation.json in its run): anomaly is null"');
    this.text.text(`,"columns":${JSON.stringify(columns)}`);
    return this.json('}');
  }

  /** error,anomaly (empty without a threshold), then the contributing columns and shares, as scores.csv. */
  private scoreCsv(r: Scores, top: number, anomaly: (i: number) => boolean | null): Answer {
    const t = this.text;
    t.text(['error', 'anomaly', ...Array.from({ length: top }, (_, k) => [`column_${k + 1}`, `share_${k + 1}`]).flat()].join(','));
    t.newline();
    for (let i = 0; i < r.errors.length; i++) {
      t.number(r.errors[i]);
      t.comma();
      const a = anomaly(i);
      if (a !== null) t.int(a ? 1 : 0);
      for (let k = 0; k < top; k++) {
        const c = r.columns[i * top + k];
        t.comma();
        if (c >= 0) t.text(field(this.model.columns[c]));
        t.comma();
        if (c >= 0) t.number(r.shares[i * top + k]);
      }
      t.newline();
    }
    return { type: TYPES.csv, body: t.take() };
  }

  private csv(header: string[], values: Float32Array, cols: number): Answer {
    const t = this.text;
    t.text(header.join(','));
    t.newline();
    for (let at = 0; at < values.length; at += cols) {
      for (let j = 0; j < cols; j++) {
        if (j > 0) t.comma();
        t.number(values[at + j]);
      }
      t.newline();
    }
    return { type: TYPES.csv, body: t.take() };
  }

  private matrix(values: Float32Array, cols: number): void {
    this.text.text('[');
    for (let at = 0; at < values.length; at += cols) {
      if (at > 0) this.text.comma();
      this.numbers(values, at, at + cols);
    }
    this.text.text(']');
  }

  private numbers(values: Float32Array, start: number, end: number): void {
    const t = this.text;
    t.text('[');
    for (let i = start; i < end; i++) {
      if (i > start) t.comma();
      const v = values[i];
      if (Number.isFinite(v)) t.number(v);
      else t.text('null');
    }
    t.text(']');
  }

  private json(end: string): Answer {
    this.text.text(end);
    return { type: TYPES.json, body: this.text.take() };
  }
}
