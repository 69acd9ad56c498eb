import { WebrnnError } from './deps.js';

/**
 * An error raised inside a module, carrying the path of modules it happened in, outermost first, e.g.
 * `nn.Sequential[2] (nn.Linear(7 -> 10)): input has 5 features ...`.
 */
export class ModuleError extends WebrnnError {
  constructor(
    readonly path: readonly string[],
    readonly reason: string,
  ) {
    super(formatPath(path), reason);
    this.name = 'ModuleError';
  }

  /** Wrap any error thrown inside module `desc` (errors from deeper modules already carry their path). */
  static wrap(e: unknown, desc: string): unknown {
    if (e instanceof ModuleError) return e;
    if (e instanceof Error) {
      const err = new ModuleError([desc], e.message);
      err.stack = e.stack;
      return err;
    }
    return e;
  }

  /** Prefix the path with a container's step, e.g. `nn.Sequential[2]`. */
  static within(e: unknown, step: string): unknown {
    if (!(e instanceof ModuleError)) return e;
    const err = new ModuleError([step, ...e.path], e.reason);
    err.stack = e.stack;
    return err;
  }
}

function formatPath(path: readonly string[]): string {
  // Steps of containers read as `nn.Sequential[2]`; the module that failed follows in parentheses.
  return path.map((p, i) => (i === path.length - 1 && path.length > 1 ? `(${p})` : p)).join(' ');
}
