import { AeflowError } from './errors.js';

/**
 * A registry joined on `type`: pipeline YAML names an entry by its `type`, the registry finds its definition.
 * Built-ins are listed explicitly (see `stages/builtins.ts`, `models/builtins.ts`), never registered as a side
 * effect of an import.
 */
export class Registry<T extends { readonly type: string }> {
  private readonly entries = new Map<string, T>();

  constructor(readonly kind: string) {}

  register(entry: T): this {
    if (this.entries.has(entry.type)) throw new Error(`${this.kind} type "${entry.type}" registered twice`);
    this.entries.set(entry.type, entry);
    return this;
  }

  types(): string[] {
    return [...this.entries.keys()];
  }

  has(type: string): boolean {
    return this.entries.has(type);
  }

  get(type: string): T {
    const entry = this.entries.get(type);
    if (!entry) {
      throw new AeflowError('TYPE_UNKNOWN', `unknown ${this.kind} type "${type}"`, `known ${this.kind} types: ${this.types().join(', ')}`);
    }
    return entry;
  }

  all(): T[] {
    return [...this.entries.values()];
  }
}
