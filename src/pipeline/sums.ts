/** Row-weighted sums of a loss and its named terms, as a checkpoint stores them mid-epoch. */
export interface Totals {
  readonly rows: number;
  readonly loss: number;
  readonly terms: Record<string, number>;
}

/** Row-weighted sums of losses and their terms. */
export class Sums {
  rows = 0;
  private loss = 0;
  private terms: Record<string, number> = {};

  static from(totals: Totals): Sums {
    const s = new Sums();
    s.rows = totals.rows;
    s.loss = totals.loss;
    s.terms = { ...totals.terms };
    return s;
  }

  totals(): Totals {
    return { rows: this.rows, loss: this.loss, terms: { ...this.terms } };
  }

  add(loss: number, terms: Record<string, number>, rows: number): void {
    this.rows += rows;
    this.loss += loss * rows;
    for (const [name, v] of Object.entries(terms)) this.terms[name] = (this.terms[name] ?? 0) + v * rows;
  }

  mean(): { loss: number; terms: Record<string, number>; rows: number } {
    const terms: Record<string, number> = {};
    for (const [name, v] of Object.entries(this.terms)) terms[name] = v / this.rows;
    return { loss: this.loss / this.rows, terms, rows: this.rows };
  }
}
