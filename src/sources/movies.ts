import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { AeflowError } from '../errors.js';
import { deriveSeed, shuffledOrder } from '../random.js';

/** A table of text cells ('' where a value is missing), with its column names. */
export interface Table {
  readonly header: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

/** The columns aeflow keeps of vega-datasets' movies.json, in order; `Release Year` is taken from its date. */
export const MOVIE_COLUMNS = [
  'Title',
  'Release Year',
  'US Gross',
  'Worldwide Gross',
  'US DVD Sales',
  'Production Budget',
  'Running Time min',
  'Rotten Tomatoes Rating',
  'IMDB Rating',
  'IMDB Votes',
  'MPAA Rating',
  'Source',
  'Major Genre',
  'Creative Type',
  'Distributor',
] as const;

type Movie = Record<string, string | number | null | undefined>;

/**
 * 3,201 real films from the npm package `vega-datasets` (data/movies.json): box office, budget, ratings, genre,
 * with the gaps the source has (most films lack DVD sales and a running time). A table for tabular pipelines:
 * numbers, categories and missing values in one file.
 */
export function bundledMovies(): Table {
  const require = createRequire(import.meta.url);
  let file: string;
  try {
    // The package exports only its build/ entry (not package.json): the data folder sits beside build/.
    file = path.join(path.dirname(require.resolve('vega-datasets')), '..', 'data', 'movies.json');
  } catch {
    throw new AeflowError('DATA_PACKAGE_MISSING', 'the npm package "vega-datasets" is not installed', 'run `npm ci` in the aeflow folder');
  }
  const movies = JSON.parse(readFileSync(file, 'utf8')) as Movie[];
  const rows = movies.map((m) =>
    MOVIE_COLUMNS.map((c) => {
      const v = c === 'Release Year' ? releaseYear(m['Release Date']) : m[c];
      return v === null || v === undefined ? '' : String(v);
    }),
  );
  return { header: MOVIE_COLUMNS, rows };
}

/** "Jun 12 1998" and similar: the four-digit year, or '' when there is none. */
function releaseYear(date: Movie[string]): string {
  const year = typeof date === 'string' ? /\b(1[89]\d\d|20\d\d)\b/.exec(date) : null;
  return year ? year[1] : '';
}

/** A seeded random split of a table's rows: `trainShare` of them for training, the rest for testing. */
export function splitTable(table: Table, trainShare: number, seed: number): [Table, Table] {
  const order = shuffledOrder(table.rows.length, deriveSeed(seed, 'split'));
  const cut = Math.round(trainShare * order.length);
  const take = (ids: number[]): Table => ({ header: table.header, rows: ids.map((i) => table.rows[i]) });
  return [take(order.slice(0, cut)), take(order.slice(cut))];
}
