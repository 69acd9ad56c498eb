import type { LstmGateOrder } from './gates.js';
import { type CellKind, type CellToken, cellOperandNames, parseCell, sliceBlocks } from './cells.js';
import { UNARY_FORMULAS } from './formulas.js';

/**
 * The fused cells' CPU loop, generated from the table in cells.ts as JavaScript source (this package evaluates
 * nothing; core's CPU backend compiles it once per key, as it does the elementwise loops). The source is the body
 * of a function of no arguments that returns the kernel
 *
 *   (N, H, V) => void
 *
 * where V holds every present operand by name as a strided 2-D view ({ buffer, offset, strides }); an absent
 * optional operand is never touched (it reads as 0). The activations are the elementwise table's JS formulas; the
 * gate blocks are constants of the source (one compiled loop per gate order), the row offsets are hoisted out of
 * the inner loop: as fast as the hand-written loops it replaces, and no argument list to build per call.
 */
export interface CellJs {
  /** Cache key: equal keys, equal source. */
  readonly key: string;
  readonly source: string;
}

// Stryker disable next-line ArrayDeclaration: a stray entry in the empty default names no operand, so none goes absent.
export function cellJs(kind: CellKind, order?: LstmGateOrder, absent: readonly string[] = []): CellJs {
  const names = cellOperandNames(kind);
  const gone = new Set(absent);
  const blocks = sliceBlocks(kind, order);
  const load = (name: string, slice: string | null) =>
    gone.has(name) ? '0' : `D_${name}[r_${name} + (${slice === null ? 'j' : `c_${slice} + j`}) * b_${name}]`;
  const expr = (tokens: readonly CellToken[]) =>
    tokens
      .map((k) => {
        switch (k.t) {
          case 'text':
          case 'num':
            return k.s;
          case 'call':
            return `${k.fn}(`;
          case 'local':
            return `v_${k.name}`;
          case 'load':
            return load(k.name, k.slice);
        }
      })
      .join('');
  const body = parseCell(kind).map((st) =>
    st.store ? `${load(st.to, st.slice)} = ${expr(st.expr)};` : `const v_${st.to} = ${expr(st.expr)};`,
  );
  const live = names.filter((n) => !gone.has(n));
  const unpack = live.map(
    (o) =>
      `const D_${o} = V.${o}.buffer, o_${o} = V.${o}.offset, a_${o} = V.${o}.strides[0], b_${o} = V.${o}.strides[1];`,
  );
  const rows = live.map((o) => `const r_${o} = o_${o} + n * a_${o};`);
  // Stryker disable next-line StringLiteral: every statement ends with ';', the separators only help a reader.
  const [unpackText, rowsText, bodyText] = [unpack.join('\n  '), rows.join(' '), body.join('\n      ')];
  const source = `
const sigmoid = (x) => ${UNARY_FORMULAS.sigmoid.js};
const tanh = (x) => ${UNARY_FORMULAS.tanh.js};
return function ${kind}(N, H, V) {
  ${unpackText}
  ${Object.entries(blocks)
    .map(([s, k]) => `const c_${s} = ${k} * H;`)
    .join(' ')}
  for (let n = 0; n < N; n++) {
    ${rowsText}
    for (let j = 0; j < H; j++) {
      ${bodyText}
    }
  }
};`;
  return { key: cellJsKey(kind, order, absent), source };
}

/** The key of cellJs(kind, order, absent), without generating the source (for a compiled-loop cache). */
export const cellJsKey = (
  kind: CellKind,
  order: LstmGateOrder | undefined,
  absent: readonly string[],
): string => {
  // Stryker disable next-line StringLiteral: any text that is not an order's name keeps the keys apart.
  const o = order ?? '';
  return `${kind}|${o}|${[...absent].sort().join(',')}`;
};
