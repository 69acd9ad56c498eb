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

/**
 * How gather and scatterAdd report an index out of range, on every device (the CPU at the call, WebGPU at the next
 * read): `op` raises it, about a `noun` ('index', 'target') that addresses `range` ('axis 0 of shape [4, 2]',
 * '3 classes'). The position is the one in the index as the user passed it: its row-major flat position, or,
 * with `positionAlongAxis` (indexSelect, whose 1-D index the backend sees spread over the other dims), its
 * coordinate along the axis; printed as coordinates in `positionShape` when given. `module`, when given, prefixes
 * device-side reports (on the CPU the module's own error wrapping names it).
 */
export interface IndexCheck {
  readonly op: string;
  readonly noun: string;
  readonly range: string;
  readonly positionAlongAxis?: boolean;
  readonly positionShape?: readonly number[];
  readonly module?: string;
}

/** What a device-side check found: the bad value, its position, and the valid extent [0, extent). */
export interface CheckFailure {
  readonly value: number;
  readonly position: number;
  readonly extent: number;
}

/** A launch that can raise: an index check, or an integer division (op `div`) that must not divide by zero. */
export type DeviceCheck =
  | ({ readonly kind: 'index' } & IndexCheck)
  | { readonly kind: 'divisor'; readonly op: string };

/** The coordinates of flat (row-major) position `i` in `shape`, to name an element in a message. */
export function coordinatesOf(i: number, shape: readonly number[]): number[] {
  const at = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    at[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return at;
}

/** The one message for a bad index, whichever device found it. */
export function indexError(check: IndexCheck, f: CheckFailure): WebrnnError {
  const { noun } = check;
  const where = check.positionShape
    ? fmtShape(coordinatesOf(f.position, check.positionShape))
    : `${f.position}`;
  return new WebrnnError(
    check.op,
    `${noun} ${f.value} at position ${where} is out of range for ${check.range} (expected 0 <= ${noun} < ${f.extent})`,
  );
}

/** The one message for an integer division by zero. */
export function divisionByZero(op: string): WebrnnError {
  return new WebrnnError(op, 'integer division by zero (an int32 divisor is 0)');
}

/** The error a device-side check reports at the next read (prefixed by the module it ran in, if any). */
export function deviceCheckError(check: DeviceCheck, f: CheckFailure): WebrnnError {
  const e = check.kind === 'index' ? indexError(check, f) : divisionByZero(check.op);
  return check.kind === 'index' && check.module ? new WebrnnError(check.module, e.message) : e;
}
