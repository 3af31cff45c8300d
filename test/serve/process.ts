import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { repoRoot } from '../helpers.js';

/**
 * A CLI process the test started (aeflow serve, a stream scorer), with what it printed so far and a way to wait
 * for a line it prints: tests synchronize on what the process reports, never on time.
 */
export class CliProcess {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private watchers: Array<{ pattern: RegExp; after: number; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void }> = [];

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'cli', 'main.js'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      this.out += s;
      this.check();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.err += s;
      this.check();
    });
    this.exited = once(this.child, 'exit').then(([code, signal]) => {
      for (const w of this.watchers) w.reject(new Error(`the process exited (${code ?? signal}) before printing ${w.pattern}:\n${this.out}\n${this.err}`));
      this.watchers = [];
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
  }

  /**
   * Resolves with the first match of `pattern` in what the process printed (stdout and stderr), now or later;
   * `after`: only in standard output past that many characters (what it prints next, not what it printed).
   */
  waitFor(pattern: RegExp, after = 0): Promise<RegExpExecArray> {
    const m = this.match(pattern, after);
    if (m) return Promise.resolve(m);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.reject(new Error(`the process has exited:\n${this.out}\n${this.err}`));
    return new Promise((resolve, reject) => this.watchers.push({ pattern, after, resolve, reject }));
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  private match(pattern: RegExp, after: number): RegExpExecArray | null {
    return after > 0 ? pattern.exec(this.out.slice(after)) : (pattern.exec(this.out) ?? pattern.exec(this.err));
  }

  private check(): void {
    this.watchers = this.watchers.filter((w) => {
      const m = this.match(w.pattern, w.after);
      if (m) w.resolve(m);
      return !m;
    });
  }
}

/** `aeflow serve` on a free loopback port, once it says it listens. */
export async function startServer(args: string[], env: Record<string, string> = {}): Promise<{ server: CliProcess; url: string }> {
  const server = new CliProcess(['serve', '--port', '0', ...args], env);
  const m = await server.waitFor(/listening on (http:\/\/\S+)/);
  return { server, url: m[1] };
}
