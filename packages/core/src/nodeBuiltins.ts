/**
 * Node's built-in modules and environment, reached through `process` when called (Node >= 20.16 has
 * process.getBuiltinModule), never by an `import 'node:...'`: bundlers for the browser then see no Node import,
 * and in a browser (no `process`) these return undefined, so every caller has its non-Node path.
 */
interface Builtins {
  'node:child_process': typeof import('node:child_process');
  'node:os': typeof import('node:os');
  'node:worker_threads': typeof import('node:worker_threads');
}

interface MaybeProcess {
  getBuiltinModule?: (id: string) => unknown;
  env?: Record<string, string | undefined>;
}

const proc = (): MaybeProcess | undefined => (globalThis as { process?: MaybeProcess }).process;

/** A Node built-in module, or undefined outside Node (or on Node < 20.16). */
export function nodeBuiltin<ID extends keyof Builtins>(id: ID): Builtins[ID] | undefined {
  return proc()?.getBuiltinModule?.(id) as Builtins[ID] | undefined;
}

/** An environment variable in Node; undefined in a browser (a bundler's `process` shim may lack `env`). */
export function nodeEnv(name: string): string | undefined {
  return proc()?.env?.[name];
}
