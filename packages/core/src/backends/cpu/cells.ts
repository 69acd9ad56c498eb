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
import { cellWasmRun } from './wasm/cellsWasm.js';
import { wasmEnabled } from './wasm/runtime.js';

/**
 * The fused cells on the CPU. float32 cells of at least WASM_MIN_UNITS units with contiguous rows run in wasm
 * SIMD (wasm/cellsWasm.ts, generated from the same table); the others run the loops @webrnn/kernels generates
 * from its cell table (cellJs.ts), compiled once per (kind, gate order, absent operands) with `new Function`, as
 * elementwise.ts compiles its loops, so the maths is inlined into a plain loop (no closure call per element).
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
  const [N, H] = [shape[0]!, shape[1]! / cellWidth(kind, first)];
  if (H >= 4 && N * H >= WASM_MIN_UNITS && wasmReady(views) && cellWasmRun(kind, views, order, absent, N, H))
    return;
  compile(kind, order, absent)(N, H, views);
}

/**
 * Below this many (row, unit) pairs, or under 4 units (a row then pads to a whole f32x4 and is copied element by
 * element), the JS loop runs: the wasm call costs about 0.6-0.8 us whatever the size (copies in and out, the
 * call), which the JS loop beats on a few dozen units. Measured, CPU time per call, JS / wasm: at 64 units
 * lstmCell 4.5 / 1.7 us (1 x 64), lstmCellBackward 2.0 / 1.6, gruOut 1.5 / 1.1 (all gain); at 32 units gruOut
 * 0.8 / 1.0 and lstmCellBackward 1.0 / 1.3 (8 x 4: lose); at 1 x 256 4-5x and at 32 x 256 4.4-8.3x faster in wasm.
 */
const WASM_MIN_UNITS = 64;

/** The wasm cells take float32 views whose rows are contiguous (any row stride), with wasm enabled. */
function wasmReady(views: Readonly<Record<string, View | null>>): boolean {
  for (const k in views) {
    const v = views[k];
    if (v && (v.dtype !== 'float32' || (v.strides[1] !== 1 && v.shape[1] !== 1))) return false;
  }
  return wasmEnabled('cell');
}
