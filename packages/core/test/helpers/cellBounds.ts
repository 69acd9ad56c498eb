import { type CellKind, type LstmGateOrder, parseCell, sliceBlocks } from '@webrnn/kernels';
import { type CellExpr, cellExpr } from '../../src/backends/cpu/wasm/cellExpr.js';

/**
 * An independent evaluator of the cell table for the wasm cells' tests: it computes each written value in float64
 * together with a bound on the error of a float32 evaluation of the same expression (forward error analysis):
 * u = 2^-24 per rounding, an absolute 2^-149 per operation for underflow, and for an activation its own
 * `ACT_ULPS` ulps plus its argument's error times its Lipschitz constant (1/4 for sigmoid, 1 for tanh), capped
 * by its range. `finite` is false where a NaN or an infinity fed the value or an intermediate may overflow
 * float32: there only the special values are compared.
 */
export const ACT_ULPS = 4;
const U = 2 ** -24;
const TINY = 2 ** -149;
const MAX32 = 3.4028234663852886e38;

export interface Bounded {
  readonly v: number;
  readonly err: number;
  readonly finite: boolean;
  /** A NaN operand feeds the value (then every implementation must give NaN). */
  readonly nanIn: boolean;
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

function evaluate(
  e: CellExpr,
  read: (name: string, slice: string | null) => number,
  locals: Map<string, Bounded>,
): Bounded {
  switch (e.k) {
    case 'num':
      return { v: e.value, err: 0, finite: true, nanIn: false };
    case 'load': {
      const v = read(e.name, e.slice);
      return { v, err: 0, finite: Number.isFinite(v), nanIn: Number.isNaN(v) };
    }
    case 'local':
      return locals.get(e.name)!;
    case 'neg': {
      const a = evaluate(e.arg, read, locals);
      return { ...a, v: -a.v };
    }
    case 'call': {
      const a = evaluate(e.arg, read, locals);
      const [v, lip, range] = e.fn === 'sigmoid' ? [sigmoid(a.v), 0.25, 1] : [Math.tanh(a.v), 1, 2];
      const err = Math.min(range, ACT_ULPS * 2 * U * Math.abs(v) + lip * a.err + TINY);
      // An activation of a loaded infinity saturates exactly; of a computed one, float32 may have made a NaN.
      const finite = !Number.isNaN(v) && (a.finite || e.arg.k === 'load');
      return { v, err, finite, nanIn: a.nanIn };
    }
    case 'bin': {
      const a = evaluate(e.a, read, locals);
      const b = evaluate(e.b, read, locals);
      const [x, y] = [Math.abs(a.v) + a.err, Math.abs(b.v) + b.err];
      let v: number;
      let err: number;
      if (e.op === '+' || e.op === '-') {
        v = e.op === '+' ? a.v + b.v : a.v - b.v;
        err = a.err + b.err + U * (x + y);
      } else if (e.op === '*') {
        v = a.v * b.v;
        err = x * y - Math.abs(v) + U * x * y;
      } else {
        v = a.v / b.v;
        // Only safe away from 0: the table divides by nothing today; a denominator within its error is unbounded.
        const d = Math.abs(b.v) - b.err;
        err = d > 0 ? x / d - Math.abs(v) + U * (x / d) : Number.POSITIVE_INFINITY;
      }
      const finite = a.finite && b.finite && Number.isFinite(v) && x * y < MAX32 / 4 && x + y < MAX32 / 4;
      // Inf - Inf in the bound itself: no bound.
      return {
        v,
        err: Number.isNaN(err) ? Number.POSITIVE_INFINITY : err + TINY,
        finite,
        nanIn: a.nanIn || b.nanIn,
      };
    }
  }
}

const PARSED = new Map<CellKind, (ReturnType<typeof parseCell>[number] & { tree: CellExpr })[]>();

/**
 * The bounded values of every store of `kind` at row n, unit j, keyed `operand[column]` (column in units, over
 * width * H); `read(name, column)` gives an operand's float32 value there (0 for an absent one).
 */
export function boundedCell(
  kind: CellKind,
  order: LstmGateOrder | undefined,
  H: number,
  j: number,
  read: (name: string, column: number) => number,
): Map<string, Bounded> {
  const blocks = sliceBlocks(kind, order);
  const col = (slice: string | null) => (slice === null ? j : blocks[slice]! * H + j);
  const locals = new Map<string, Bounded>();
  const out = new Map<string, Bounded>();
  let parsed = PARSED.get(kind);
  if (!parsed) {
    parsed = parseCell(kind).map((st) => ({ ...st, tree: cellExpr(st.expr) }));
    PARSED.set(kind, parsed);
  }
  for (const st of parsed) {
    const b = evaluate(st.tree, (name, slice) => read(name, col(slice)), locals);
    if (st.store) out.set(`${st.to}[${col(st.slice)}]`, b);
    else locals.set(st.to, b);
  }
  return out;
}
