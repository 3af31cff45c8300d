/** Powers of ten that a double holds exactly (10^0 … 10^22). */
const POWERS = Array.from({ length: 23 }, (_, i) => 10 ** i);
const ZERO = 48;
const SIGNIFICANT = 9;
const SCALE = 10 ** (SIGNIFICANT - 1);
/** A double's bits, for its binary exponent and leading mantissa bits. */
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

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
    let e = decimalExponent(v);
    let m = Math.round(scaled(v, SIGNIFICANT - 1 - e));
    // The estimate can land one off near powers of ten; the mantissa then has 8 or 10 digits.
    if (m >= 10 * SCALE) {
      e++;
      m = Math.round(scaled(v, SIGNIFICANT - 1 - e));
    } else if (m < SCALE) {
      e--;
      m = Math.round(scaled(v, SIGNIFICANT - 1 - e));
    }
    // Nine digits fit an int32: the digit arithmetic below stays in integers.
    m |= 0;
    let n = SIGNIFICANT;
    for (let q = (m / 10) | 0; n > 1 && q * 10 === m; q = (m / 10) | 0) {
      m = q;
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
    const high = (m / low) | 0;
    this.digits(high, e + 1);
    this.buf[this.at++] = 46;
    this.digits(m - high * low, n - e - 1);
  }

  private exponent(m: number, n: number, e: number): void {
    const low = POWERS[n - 1];
    const high = (m / low) | 0;
    this.digits(high, 1);
    if (n > 1) {
      this.buf[this.at++] = 46;
      this.digits(m - high * low, n - 1);
    }
    this.buf[this.at++] = 101;
    this.buf[this.at++] = e < 0 ? 45 : 43;
    const x = Math.abs(e);
    this.digits(x, digitCount(x));
  }

  /** The n lowest decimal digits of v (≥ 0), zero-padded on the left; in int32 arithmetic below 2³¹. */
  private digits(v: number, n: number): void {
    const { buf, at } = this;
    if (v < 2147483648) {
      let x = v | 0;
      for (let i = n - 1; i >= 0; i--) {
        const q = (x / 10) | 0;
        buf[at + i] = ZERO + x - q * 10;
        x = q;
      }
    } else {
      for (let i = n - 1; i >= 0; i--) {
        buf[at + i] = ZERO + (v % 10);
        v = Math.floor(v / 10);
      }
    }
    this.at = at + n;
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(2 * this.buf.length, this.at + bytes));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}

/**
 * ⌊log₁₀ v⌋ for v > 0, estimated from the double's bits (binary exponent, and log₂ of the mantissa by a
 * quadratic): off by one only right next to a power of ten, which the caller corrects. Math.log10 was a third
 * of the time of writing a number.
 */
function decimalExponent(v: number): number {
  // Subnormal doubles have no leading 1 bit; float32 values never are.
  if (v < 1e-300) return Math.floor(Math.log10(v));
  bits[0] = v;
  const high = words[1];
  const e2 = ((high >>> 20) & 0x7ff) - 1023;
  const f = (high & 0xfffff) / 1048576;
  return Math.floor((e2 + f + 0.3466 * f * (1 - f)) * 0.3010299956639812);
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

/** A CSV field: quoted when it holds a comma, a quote or a line end. */
export function csvField(text: string): string {
  return /[\x22,\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
