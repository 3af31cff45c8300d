import { type CommandName, type CommandSpec, commands, commonOptions, type OptionSpec } from './commands.js';

/** Help lines wrap here: they read in an 80-to-100-column terminal and in README's code block. */
const WIDTH = 100;
/** Holds `default:` to the first word of the default across a line break. */
const NBSP = '\u00a0';

/** `--out DIR`, `--backend auto|tensorflow|wasm|cpu`, `--force`: an option as usage lines show it. */
function flag(name: string, o: OptionSpec): string {
  if (o.type === 'boolean') return `--${name}`;
  return `--${name} ${o.value ?? o.choices?.join('|') ?? 'VALUE'}`;
}

/** The words of a command's usage line: required options bare, the others in brackets, repeatable ones with `...`. */
function usageWords(name: CommandName): string[] {
  const spec: CommandSpec = commands[name];
  const words = [`aeflow ${name}`];
  const or = spec.positional?.or;
  if (spec.positional) words.push(or ? `(${spec.positional.name} | ${flag(or, spec.options[or])})` : spec.positional.name);
  for (const [option, o] of Object.entries(spec.options)) {
    if (option === or) continue;
    words.push(o.required ? flag(option, o) : `[${flag(option, o)}]${o.multiple ? '...' : ''}`);
  }
  return words;
}

/** Joins words into lines of at most WIDTH columns: the first after `first`, the others after `indent`. */
function wrap(words: readonly string[], first: string, indent: string): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of words) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent;
      empty = true;
    }
    line += (empty ? '' : ' ') + word;
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** A command's usage, wrapped: what a USAGE error shows. */
export function usage(name: CommandName, first = ''): string {
  return wrap(usageWords(name), first, `${' '.repeat(first.length)}    `).join('\n');
}

/** `aeflow --help`: every command, its summary and its usage with every option. */
export function mainHelp(): string {
  const sections = (Object.keys(commands) as CommandName[]).map((name) => `${name}: ${commands[name].summary}\n${usage(name, '  ')}`);
  return [
    'aeflow: train autoencoders as declarative, streaming pipelines',
    '',
    ...sections.flatMap((s) => [s, '']),
    'Every command: --verbose adds stack traces to errors; -h, --help lists its options with their defaults.',
    'aeflow --version (-v) prints the version. Exit codes: 0 done, 1 error, 2 usage mistake, 130 interrupted.',
  ].join('\n');
}

/** One row of a help table: the term, then its description wrapped in the second column. */
function row(term: string, description: string): string[] {
  const column = 28;
  const lead = `  ${term}`;
  const words = description.split(' ');
  const lines =
    lead.length >= column - 1 ? [lead, ...wrap(words, ' '.repeat(column), ' '.repeat(column))] : wrap(words, lead.padEnd(column), ' '.repeat(column));
  return lines.map((line) => line.replaceAll(NBSP, ' '));
}

/** `aeflow <command> --help`: the usage, then the positional and every option with its description and default. */
export function commandHelp(name: CommandName): string {
  const spec: CommandSpec = commands[name];
  const lines = [`aeflow ${name}: ${spec.summary}`, '', usage(name, 'usage: '), ''];
  if (spec.positional) lines.push(...row(spec.positional.name, spec.positional.description));
  const options: Record<string, OptionSpec> = { ...spec.options, ...commonOptions };
  for (const [option, o] of Object.entries(options)) {
    const term = o.short ? `-${o.short}, ${flag(option, o)}` : flag(option, o);
    const notes = [o.required ? 'required' : '', o.multiple ? 'repeatable' : '', o.default === undefined ? '' : `default:${NBSP}${o.default}`].filter(Boolean);
    lines.push(...row(term, notes.length > 0 ? `${o.description} (${notes.join('; ')})` : o.description));
  }
  return lines.join('\n');
}
