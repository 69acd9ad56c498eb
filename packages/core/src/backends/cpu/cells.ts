import {
  CELLS,
  type CellDef,
  type CellKind,
  type LstmGateOrder,
  cellJs,
  cellJsKey,
  cellOperandNames,
  cellWidth,
} from '@webrnn/kernels';
import type { View } from '../backend.js';
import { cellClosureLoop } from './cellsClosure.js';
import { canCompileFormulas } from './formulaClosure.js';

/**
 * The fused cells on the CPU: the loops @webrnn/kernels generates from its cell table (cellJs.ts), compiled once
 * per (kind, gate order, absent operands) with `new Function`, as elementwise.ts compiles its loops, so the maths
 * is inlined into a plain loop (no closure call per element).
 */
type CellLoop = (N: number, H: number, views: Readonly<Record<string, View | null>>) => void;

const cache = new Map<string, CellLoop>();

/**
 * The one place that evaluates generated source; where `new Function` is refused (a strict CSP), the same
 * statements run as closures (cellsClosure.ts), as elementwise.ts falls back to its closures.
 */
function compile(kind: CellKind, order: LstmGateOrder | undefined, absent: readonly string[]): CellLoop {
  const key = cellJsKey(kind, order, absent);
  let loop = cache.get(key);
  if (!loop) {
    // The source is generated from our own cell table, never from user input.
    loop = canCompileFormulas()
      ? (new Function(cellJs(kind, order, absent).source)() as CellLoop)
      : cellClosureLoop(kind, order, absent);
    cache.set(key, loop);
  }
  return loop;
}

const NONE: readonly string[] = [];

/** Cell kernel `kind` over every (row, unit) of its operands (views by name; an absent optional one null). */
export function cellCpu(
  kind: CellKind,
  views: Readonly<Record<string, View | null>>,
  order: LstmGateOrder | undefined,
): void {
  const first = cellOperandNames(kind)[0]!;
  const optional = (CELLS[kind] as CellDef).optional ?? NONE;
  const absent = optional.length === 0 ? NONE : optional.filter((n) => !views[n]);
  const { shape } = views[first]!;
  compile(kind, order, absent)(shape[0]!, shape[1]! / cellWidth(kind, first), views);
}
