import type { DType } from './dtype.js';

/** Every error the engine raises names the op (or module) that raised it. */
export class WebrnnError extends Error {
  constructor(
    readonly op: string,
    message: string,
  ) {
    super(`${op}: ${message}`);
    this.name = 'WebrnnError';
  }
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function check(cond: boolean, op: string, message: () => string): asserts cond {
  if (!cond) throw new WebrnnError(op, message());
}

export function checkDType(op: string, got: DType, allowed: readonly DType[], what = 'input'): void {
  if (!allowed.includes(got)) {
    throw new WebrnnError(op, `${what} has dtype ${got}, expected ${allowed.join(' or ')}`);
  }
}
