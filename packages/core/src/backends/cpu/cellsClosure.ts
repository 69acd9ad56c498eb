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
          const key = `load ${k.name}[${k.slice ?? ''}]`;
          const slot = varOf(key);
          if (!loads.some((l) => l.slot === slot)) loads.push({ slot, name: k.name, slice: k.slice });
          out += `v${slot}`;
        }
      } else {
        // An activation call: its argument runs to the matching ')' and is inlined into the formula.
        let depth = 1;
        let j = i + 1;
        for (; j < to; j++) {
          const t = tokens[j]!;
          if (t.t === 'call') depth++;
          else if (t.t === 'text') depth += (t.s.match(/\(/g)?.length ?? 0) - (t.s.match(/\)/g)?.length ?? 0);
          if (depth <= 0) break;
        }
        const closing = tokens[j]!;
        const arg =
          text(tokens, i + 1, j) + (closing.t === 'text' ? closing.s.slice(0, closing.s.indexOf(')')) : '');
        out += `(${UNARY_FORMULAS[k.fn].js.replace(/\bx\b/g, `(${arg})`)})`;
        if (closing.t === 'text') out += closing.s.slice(closing.s.indexOf(')') + 1);
        i = j;
      }
    }
    return out;
  };
  const statements = parseCell(kind).map((st) => {
    loads = [];
    const expr = text(st.expr, 0, st.expr.length);
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
            if (!gone.has(s.to)) (V[s.to]!.buffer as Data)[at(s.to, s.slice, n, j)] = value;
          } else v[s.slot] = value;
        }
      }
    }
  };
}
