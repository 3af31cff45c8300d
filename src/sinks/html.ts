/** The pieces report.html is built from: escaped text, tables, figures. */

export function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

export function fmt(v: unknown): string {
  return typeof v === 'number' ? v.toPrecision(4) : '';
}

export function table(header: string[], rows: string[][]): string {
  const th = header.some(Boolean) ? `<tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>` : '';
  return `<table>${th}${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

export function chartFigure(svg: string, caption: string): string {
  return `<figure class="chart">${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
}
