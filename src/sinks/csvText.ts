/** Powers of ten that a double holds exactly (10^0 … 10^22). */
const POWERS = Array.from({ length: 23 }, (_, i) => 10 ** i);
const ZERO = 48;
const SIGNIFICANT = 9;
const SCALE = 10 ** (SIGNIFICANT - 1);

/**
 * CSV text built straight into bytes: numbers are written digit by digit into one growing buffer, with no string
 * per number. `encode` and `evaluate` write hundreds of numbers per row, and a string per number made the
 * conversion, not the model, the slow part (`bench/encode.mjs`). Values are float32 codes and errors: nine
 * significant digits, which every float32 value needs at most to be read back exactly, trailing zeros dropped;
 * plain notation from 1e-5 to 1e9, exponent notation (`1.5e-7`) beyond, as JavaScript prints numbers.
 *
 * @example
 * const text = new CsvText();
 * text.number(0.5); text.comma(); text.int(3); text.newline();
 * stream.write(text.take()); // "0.5,3\n"
 */
export class CsvText {
  private buf = Buffer.alloc(1 << 16);
  private at = 0;

  get length(): number {
    return this.at;
  }

  /** The bytes written so far (a copy), and a fresh start. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.at));
    this.at = 0;
    return out;
  }

  comma(): void {
    this.room(1);
    this.buf[this.at++] = 44;
  }

  newline(): void {
    this.room(1);
    this.buf[this.at++] = 10;
  }

  /** Text as it is (a header, a label): the caller quotes it if it must be. */
  text(s: string): void {
    this.room(3 * s.length);
    this.at += this.buf.write(s, this.at, 'utf8');
  }

  /** A whole number (a row index, a line): every digit. */
  int(v: number): void {
    if (!Number.isSafeInteger(v)) {
      this.text(String(v));
      return;
    }
    this.room(17);
    if (v < 0) {
      this.buf[this.at++] = 45;
      v = -v;
    }
    this.digits(v, digitCount(v));
  }

  /** A number to nine significant digits; NaN and infinities as JavaScript spells them. */
  number(v: number): void {
    if (v === 0 || !Number.isFinite(v)) {
      if (v === 0) this.int(0);
      else this.text(String(v));
      return;
    }
    this.room(24);
    if (v < 0) {
      this.buf[this.at++] = 45;
      v = -v;
    }
    let e = Math.floor(Math.log10(v));
    let m = Math.round(scaled(v, SIGNIFICANT - 1 - e));
    // log10 can land one off near powers of ten; the mantissa then has 8 or 10 digits.
    if (m >= 10 * SCALE) {
      e++;
      m = Math.round(scaled(v, SIGNIFICANT - 1 - e));
    } else if (m < SCALE) {
      e--;
      m = Math.round(scaled(v, SIGNIFICANT - 1 - e));
    }
    let n = SIGNIFICANT;
    while (n > 1 && m % 10 === 0) {
      m /= 10;
      n--;
    }
    if (e >= -5 && e < 9) this.plain(m, n, e);
    else this.exponent(m, n, e);
  }

  /** m's n digits with the decimal point after digit e + 1. */
  private plain(m: number, n: number, e: number): void {
    if (e < 0) {
      this.buf[this.at++] = ZERO;
      this.buf[this.at++] = 46;
      for (let i = -1; i > e; i--) this.buf[this.at++] = ZERO;
      this.digits(m, n);
      return;
    }
    if (n <= e + 1) {
      this.digits(m, n);
      for (let i = n; i <= e; i++) this.buf[this.at++] = ZERO;
      return;
    }
    const low = POWERS[n - e - 1];
    this.digits(Math.floor(m / low), e + 1);
    this.buf[this.at++] = 46;
    this.digits(m % low, n - e - 1);
  }

  private exponent(m: number, n: number, e: number): void {
    const low = POWERS[n - 1];
    this.digits(Math.floor(m / low), 1);
    if (n > 1) {
      this.buf[this.at++] = 46;
      this.digits(m % low, n - 1);
    }
    this.buf[this.at++] = 101;
    this.buf[this.at++] = e < 0 ? 45 : 43;
    const x = Math.abs(e);
    this.digits(x, digitCount(x));
  }

  /** The n lowest decimal digits of v, zero-padded on the left. */
  private digits(v: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) {
      this.buf[this.at + i] = ZERO + (v % 10);
      v = Math.floor(v / 10);
    }
    this.at += n;
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(2 * this.buf.length, this.at + bytes));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}

/** v · 10^p, exactly where the power is exact. */
function scaled(v: number, p: number): number {
  if (p >= 0) return p < POWERS.length ? v * POWERS[p] : v * 10 ** p;
  return -p < POWERS.length ? v / POWERS[-p] : v / 10 ** -p;
}

function digitCount(v: number): number {
  let n = 1;
  while (v >= 10 && n < 17) {
    v = Math.floor(v / 10);
    n++;
  }
  return n;
}
