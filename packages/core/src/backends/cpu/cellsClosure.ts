import {
  type CellKind,
  type CellToken,
  type LstmGateOrder,
  UNARY_FORMULAS,
  parseCell,
  sliceBlocks,
} from '@webrnn/kernels';
import type { View } from '../backend.js';
import { type Closure, formulaClosure } from './formulaClosure.js';

type CellLoop = (N: number, H: number, views: Readonly<Record<string, View | null>>) => void;

/**
 * The fused cells without `new Function` (a page whose Content-Security-Policy forbids 'unsafe-eval'): the cell
 * table's statements (kernels' parseCell) turned into closures by formulaClosure, with the activations inlined
 * from the same formula table. The same values as the compiled loop, slower.
 */
export function cellClosureLoop(
  kind: CellKind,
  order: LstmGateOrder | undefined,
  absent: readonly string[],
): CellLoop {
  const gone = new Set(absent);
  const blocks = sliceBlocks(kind, order);
  // Variables: one per (operand, slice) read and per local, numbered in order of first use.
  const vars = new Map<string, number>();
  type Load = { slot: number; name: string; slice: string | null };
  // The loads of the statement being read (each statement reads its operands afresh: an earlier one may store).
  // Stryker disable next-line ArrayDeclaration: each statement starts its own list before any load.
  let loads: Load[] = [];
  const varOf = (key: string) => {
    let i = vars.get(key);
    if (i === undefined) vars.set(key, (i = vars.size));
    return i;
  };
  const text = (tokens: readonly CellToken[], from: number, to: number): string => {
    let out = '';
    for (let i = from; i < to; i++) {
      const k = tokens[i]!;
      if (k.t === 'text' || k.t === 'num') out += k.s;
      else if (k.t === 'local') out += `v${varOf(`local ${k.name}`)}`;
      else if (k.t === 'load') {
        if (gone.has(k.name)) out += '0';
        else {
          // Stryker disable next-line StringLiteral: any text that is no slice's name keeps the keys apart; the key emptied ("") fails cellsClosureStatements.test.ts (checked by hand).
          const key = `load ${k.name}[${k.slice ?? ''}]`;
          const slot = varOf(key);
          // Stryker disable next-line ConditionalExpression,ArrowFunction: loading a variable twice per statement only costs time (`if (false)` was killed before marking).
          if (!loads.some((l) => l.slot === slot)) loads.push({ slot, name: k.name, slice: k.slice });
          out += `v${slot}`;
        }
      } else {
        // An activation call: its argument runs to the ')' that closes it, inlined into the formula.
        const [j, cut] = closingParen(kind, tokens, i + 1, to);
        const closing = (tokens[j] as { s: string }).s;
        const arg = text(tokens, i + 1, j) + closing.slice(0, cut);
        out += `(${UNARY_FORMULAS[k.fn].js.replace(/\bx\b/g, `(${arg})`)})${closing.slice(cut + 1)}`;
        i = j;
      }
    }
    return out;
  };
  const statements = parseCell(kind).map((st) => {
    loads = [];
    const expr = text(st.expr, 0, st.expr.length);
    // Stryker disable next-line UnaryOperator: a store's slot is never read.
    const slot = st.store ? -1 : varOf(`local ${st.to}`);
    return { store: st.store, to: st.to, slice: st.slice, expr, slot, loads };
  });
  const names = [...vars.keys()].map((_, i) => `v${i}`);
  const compiled: {
    run: Closure;
    store: boolean;
    to: string;
    slice: string | null;
    slot: number;
    loads: Load[];
  }[] = statements.map((s) => ({ ...s, run: formulaClosure(s.expr, names) }));
  type Data = { [i: number]: number };
  return (N, H, V) => {
    // Stryker disable next-line ArrayDeclaration: every slot is written before it is read (loads first, locals defined before use).
    const v = new Array<number>(names.length).fill(0);
    const at = (name: string, slice: string | null, n: number, j: number) => {
      const view = V[name]!;
      return (
        view.offset + n * view.strides[0]! + (slice === null ? j : blocks[slice]! * H + j) * view.strides[1]!
      );
    };
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++) {
        for (const s of compiled) {
          for (const l of s.loads) v[l.slot] = (V[l.name]!.buffer as Data)[at(l.name, l.slice, n, j)]!;
          const value = s.run(v);
          if (s.store) {
            // Stryker disable next-line ConditionalExpression: written operands are never optional (only reads are), so never absent today (`if (false)` was killed before marking).
            if (!gone.has(s.to)) (V[s.to]!.buffer as Data)[at(s.to, s.slice, n, j)] = value;
          } else v[s.slot] = value;
        }
      }
    }
  };
}

/**
 * Where the parenthesis a call opened just before `from` closes: the token (a text token, as only those hold
 * parentheses) and the position of its ')' in the text, which may close more (`tanh((a + b))`) or go on (`) * (`).
 */
function closingParen(
  kind: CellKind,
  tokens: readonly CellToken[],
  from: number,
  to: number,
): [number, number] {
  let depth = 1;
  for (let j = from; j < to; j++) {
    const t = tokens[j]!;
    if (t.t === 'call') depth++;
    else if (t.t === 'text') {
      // Stryker disable next-line EqualityOperator: with <=, one more turn reads t.s[length] (undefined), no parenthesis (>= and > fail cellsClosureStatements.test.ts; checked by hand).
      for (let c = 0; c < t.s.length; c++) {
        if (t.s[c] === '(') depth++;
        else if (t.s[c] === ')' && --depth === 0) return [j, c];
      }
    }
  }
  throw new Error(`cell ${kind}: a call's parenthesis is not closed`);
}
