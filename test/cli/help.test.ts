import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CommandName, commands, type OptionSpec } from '../../src/cli/commands.js';
import { repoRoot } from '../helpers.js';
import { aeflow } from './cli.js';

const names = Object.keys(commands) as CommandName[];
const optionsOf = (name: CommandName): Array<[string, OptionSpec]> => Object.entries(commands[name].options);
/** Help wraps its lines: compare text with every run of whitespace as one space. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

describe('aeflow --help, generated from the command definitions', () => {
  const help = aeflow(['--help']);

  it('lists every command with every one of its options', () => {
    expect(help.code).toBe(0);
    for (const name of names) {
      const section = help.stdout.slice(help.stdout.indexOf(`${name}: ${commands[name].summary}`));
      expect(section, name).toContain(`aeflow ${name}`);
      const usage = section.slice(0, section.indexOf('\n\n'));
      for (const [option] of optionsOf(name)) expect(usage, `${name} --${option}`).toContain(`--${option}`);
    }
    // The options the hand-written help used to leave out.
    expect(help.stdout).toMatch(/aeflow run \(PIPELINE\.yaml \| --resume RUN\)/);
    const encode = help.stdout.slice(help.stdout.indexOf('aeflow encode'), help.stdout.indexOf('aeflow evaluate'));
    expect(encode).toContain('[--workers N|auto]');
    const evaluate = help.stdout.slice(help.stdout.indexOf('aeflow evaluate'), help.stdout.indexOf('aeflow cache'));
    for (const option of ['[--out DIR]', '[--no-probes]', '[--on-bad-row error|skip]', '[--test-rows N]', '[--workers N|auto]'])
      expect(evaluate).toContain(option);
  });

  it("README's CLI section holds exactly what aeflow --help prints", () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const block = /<!-- aeflow --help [^\n]*-->\n```\n([\s\S]*?)\n```\n<!-- end of aeflow --help -->/.exec(readme);
    expect(block, 'README.md has the marked block').not.toBeNull();
    expect(block![1], 'README is stale: npm run build && node scripts/readme-help.mjs').toBe(help.stdout.trimEnd());
  });

  it('help and no arguments print the same text; help exits 0, no arguments 2', () => {
    const word = aeflow(['help']);
    const none = aeflow([]);
    expect(word.code).toBe(0);
    expect(none.code).toBe(2);
    expect(word.stdout).toBe(help.stdout);
    expect(none.stdout).toBe(help.stdout);
  });

  it('aeflow <command> --help describes every option with its default', () => {
    for (const name of names) {
      const r = aeflow([name, '--help']);
      expect(r.code, name).toBe(0);
      const text = flat(r.stdout);
      expect(text).toContain(`aeflow ${name}: ${commands[name].summary}`);
      for (const [option, o] of optionsOf(name)) {
        expect(text, `${name} --${option}`).toContain(`--${option}`);
        expect(text, `${name} --${option}`).toContain(o.description);
        if (o.default !== undefined) expect(text, `${name} --${option}`).toContain(`default: ${o.default}`);
      }
      expect(text).toContain('--verbose');
    }
  });

  it('every option in a definition is one the command accepts', () => {
    for (const name of names) {
      // --help still prints after every option is parsed: an option parseArgs did not know would be a USAGE error.
      const args = optionsOf(name).flatMap(([option, o]) => (o.type === 'boolean' ? [`--${option}`] : [`--${option}`, o.choices?.[0] ?? '1']));
      const r = aeflow([name, ...args, '--help']);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`aeflow ${name}:`);
    }
  });

  it('a usage mistake shows the generated usage in its hint', () => {
    const r = aeflow(['encode', '--model', 'm']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error [USAGE]: aeflow encode needs --model, --input and --out');
    expect(flat(r.stderr)).toContain(
      flat(help.stdout.slice(help.stdout.indexOf('aeflow encode'), help.stdout.indexOf('\n\n', help.stdout.indexOf('aeflow encode')))),
    );
  });
});

describe('aeflow --version', () => {
  it('prints the version in package.json, as -v does', () => {
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-v']) {
      const r = aeflow([flag]);
      expect(r.code, flag).toBe(0);
      expect(r.stdout, flag).toBe(`${version}\n`);
    }
  });
});
