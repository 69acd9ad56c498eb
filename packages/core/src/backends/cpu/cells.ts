import {
  type CellKind,
  type LstmGateOrder,
  cellJs,
  cellJsKey,
  cellOperandNames,
  cellWidth,
} from '@webrnn/kernels';
import type { TypedArray } from '../../dtype.js';
import type { View } from '../backend.js';

/**
 * The fused cells on the CPU: the loops @webrnn/kernels generates from its cell table (cellJs.ts), compiled once
 * per (kind, gate order, absent operands) with `new Function`, as elementwise.ts compiles its loops, so the maths
 * is inlined into a plain loop (no closure call per element).
 */
type CellLoop = (N: number, H: number, ...operands: unknown[]) => void;

const cache = new Map<string, CellLoop>();

/**
 * The one place that evaluates generated source. A fallback for where `new Function` is refused (a strict CSP)
 * belongs here and should follow elementwise.ts's: an interpreter can walk kernels' `parseCell(kind)` statements
 * (loads, locals, + - * and the two activations) without evaluating any source.
 */
function compile(kind: CellKind, order: LstmGateOrder | undefined, absent: readonly string[]): CellLoop {
  const key = cellJsKey(kind, order, absent);
  let loop = cache.get(key);
  if (!loop) {
    // The source is generated from our own cell table, never from user input.
    loop = new Function(cellJs(kind, order, absent).source)() as CellLoop;
    cache.set(key, loop);
  }
  return loop;
}

/** Cell kernel `kind` over every (row, unit) of its operands (views by name; an absent optional one null). */
export function cellCpu(
  kind: CellKind,
  views: Readonly<Record<string, View | null>>,
  order: LstmGateOrder | undefined,
): void {
  const names = cellOperandNames(kind);
  const first = views[names[0]!]!;
  const N = first.shape[0]!;
  const H = first.shape[1]! / cellWidth(kind, names[0]!);
  const absent = names.filter((n) => !views[n]);
  const args: unknown[] = [];
  for (const n of names) {
    const v = views[n];
    if (v) args.push(v.buffer as TypedArray, v.offset, v.strides[0]!, v.strides[1]!);
    else args.push(null, 0, 0, 0);
  }
  compile(kind, order, absent)(N, H, ...args);
}
