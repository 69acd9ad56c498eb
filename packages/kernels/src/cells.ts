import { type LstmGateOrder, gateOffsets } from './gates.js';

/**
 * The fused recurrent cells' maths, written once for every backend: each kernel is a list of per-element
 * statements over one (sample n, unit j) of strided 2-D operands, from which cellWgsl.ts makes the WGSL body and
 * cellJs.ts the CPU's loop (and, later, a wasm body). The activations are the elementwise table's (formulas.ts):
 * `sigmoid(e)` and `tanh(e)` call UNARY_FORMULAS.sigmoid / .tanh, so the cells and the ops agree on every value,
 * NaN and Inf included.
 *
 * A statement is `local = expr` or `operand = expr` / `operand[slice] = expr` (a store). In an expression, `name`
 * reads operand `name` at column j, `name[s]` at column s * H + j (s a gate slice of the cell's family), any other
 * name is an earlier local; numbers are plain literals. An optional operand that is absent reads as 0.
 *
 * LSTM (Element-research's FastLSTM/SeqLSTM; PyTorch's): the slices i, z, f, o are the input, candidate, forget
 * and output gates, placed by the gate order (gates.ts). GRU (Torch7's: the reset gate applies before the
 * recurrent product, so the cell is split around a matmul m = (r ⊙ hPrev) Uc): slices r then u.
 */
export interface CellDef {
  readonly family: 'lstm' | 'gru';
  /** Written operands, by name, with their width in units of H (the first one's gives H). */
  readonly writes: Readonly<Record<string, number>>;
  /** Operands read (after the written ones, in this order), with their widths. */
  readonly reads: Readonly<Record<string, number>>;
  /** Read operands that may be absent (a missing gradient: read as 0, no zero tensor made). */
  readonly optional?: readonly string[];
  readonly body: readonly string[];
}

/** The gate slices of each family, in the order of their offsets' uniform (LSTM) or of their columns (GRU). */
export const CELL_SLICES = { lstm: ['i', 'z', 'f', 'o'], gru: ['r', 'u'] } as const;

export const CELLS = {
  /** h = o tanh(c), c = f cPrev + i z; `act` keeps the activated gates for backward. */
  lstmCell: {
    family: 'lstm',
    writes: { h: 1, c: 1, act: 4 },
    reads: { gates: 4, cPrev: 1 },
    body: [
      'i = sigmoid(gates[i])',
      'z = tanh(gates[z])',
      'f = sigmoid(gates[f])',
      'o = sigmoid(gates[o])',
      'cn = f * cPrev + i * z',
      'act[i] = i',
      'act[z] = z',
      'act[f] = f',
      'act[o] = o',
      'c = cn',
      'h = o * tanh(cn)',
    ],
  },
  /** From the saved act, c, cPrev and the gradients of h and c, those of the pre-activation gates and of cPrev. */
  lstmCellBackward: {
    family: 'lstm',
    writes: { gGates: 4, gCPrev: 1 },
    reads: { act: 4, c: 1, cPrev: 1, gH: 1, gC: 1 },
    optional: ['gH', 'gC'],
    body: [
      'i = act[i]',
      'z = act[z]',
      'f = act[f]',
      'o = act[o]',
      'tc = tanh(c)',
      'gh = gH',
      'gc = gC + gh * o * (1 - tc * tc)',
      'gGates[i] = gc * z * i * (1 - i)',
      'gGates[z] = gc * i * (1 - z * z)',
      'gGates[f] = gc * cPrev * f * (1 - f)',
      'gGates[o] = gh * tc * o * (1 - o)',
      'gCPrev = gc * f',
    ],
  },
  /** act = σ(gates) (r, u); rh = r hPrev, the left operand of the matmul by Uc. */
  gruGates: {
    family: 'gru',
    writes: { act: 2, rh: 1 },
    reads: { gates: 2, hPrev: 1 },
    body: ['r = sigmoid(gates[r])', 'act[r] = r', 'act[u] = sigmoid(gates[u])', 'rh = r * hPrev'],
  },
  /** hc = tanh(xc + m); h = (1 - u) hc + u hPrev, with one product fewer. */
  gruOut: {
    family: 'gru',
    writes: { hc: 1, h: 1 },
    reads: { xc: 1, m: 1, act: 2, hPrev: 1 },
    body: ['c = tanh(xc + m)', 'hc = c', 'h = c + act[u] * (hPrev - c)'],
  },
  /** gPre = gH (1 - u)(1 - hc²), the gradient of the candidate's pre-activation; the update gate's gradient. */
  gruOutBackward: {
    family: 'gru',
    writes: { gPre: 1, gGates: 2 },
    reads: { act: 2, hc: 1, hPrev: 1, gH: 1 },
    body: [
      'u = act[u]',
      'c = hc',
      'gh = gH',
      'gPre = gh * (1 - u) * (1 - c * c)',
      'gGates[u] = gh * (hPrev - c) * u * (1 - u)',
    ],
  },
  /** From gRh = gPre Ucᵀ: the reset gate's gradient and gHPrev (the direct path plus the one through rh). */
  gruGatesBackward: {
    family: 'gru',
    writes: { gGates: 2, gHPrev: 1 },
    reads: { act: 2, hPrev: 1, gH: 1, gRh: 1 },
    body: [
      'r = act[r]',
      'u = act[u]',
      'grh = gRh',
      'gGates[r] = grh * hPrev * r * (1 - r)',
      'gHPrev = gH * u + grh * r',
    ],
  },
} as const satisfies Record<string, CellDef>;

export type CellKind = keyof typeof CELLS;
export type LstmCellKind = {
  [K in CellKind]: (typeof CELLS)[K]['family'] extends 'lstm' ? K : never;
}[CellKind];
type Def<K extends CellKind> = (typeof CELLS)[K];
type OptionalOf<K extends CellKind> = Def<K> extends { optional: readonly (infer O)[] } ? O & string : never;
type NameOf<K extends CellKind> = (keyof Def<K>['writes'] | keyof Def<K>['reads']) & string;

/**
 * A cell kernel's operands by name, typed from the table: every operand required, the optional ones nullable.
 * `V` is the backend's view type (core's View).
 */
export type CellOperands<K extends CellKind, V> = { readonly [N in Exclude<NameOf<K>, OptionalOf<K>>]: V } & {
  readonly [N in OptionalOf<K>]: V | null;
};

const NAMES = new Map<CellKind, readonly string[]>();

/** Every operand name of kernel `kind`, the written ones first (one array per kind: backends call it per step). */
export function cellOperandNames(kind: CellKind): readonly string[] {
  let names = NAMES.get(kind);
  if (!names) {
    names = Object.freeze([...Object.keys(CELLS[kind].writes), ...Object.keys(CELLS[kind].reads)]);
    NAMES.set(kind, names);
  }
  return names;
}

/** How many operands kernel `kind` writes (they come first). */
export const cellWrites = (kind: CellKind): number => Object.keys(CELLS[kind].writes).length;

/** Width of operand `name` of `kind`, in units of H. */
export function cellWidth(kind: CellKind, name: string): number {
  const d: CellDef = CELLS[kind];
  const w = d.writes[name] ?? d.reads[name];
  if (w === undefined) throw new Error(`${kind}: no operand ${name}`);
  return w;
}

export const isOptional = (kind: CellKind, name: string): boolean =>
  // Stryker disable next-line ArrayDeclaration: a stray entry in the empty default matches no operand name.
  ((CELLS[kind] as CellDef).optional ?? []).includes(name);

/** The column block (in units of H) of each gate slice: LSTM's from the gate order, GRU's fixed. */
export function sliceBlocks(kind: CellKind, order: LstmGateOrder | undefined): Record<string, number> {
  if (CELLS[kind].family === 'gru') return Object.fromEntries(CELL_SLICES.gru.map((s, k) => [s, k]));
  return { ...gateOffsets(order ?? 'ifog') };
}

/** A parsed statement: a local (`to` a name) or a store (`to` an operand, at `slice` or column j). */
export interface CellStatement {
  readonly store: boolean;
  readonly to: string;
  readonly slice: string | null;
  readonly expr: readonly CellToken[];
}

/** An expression as tokens: loads and locals resolved, the rest (operators, numbers, calls) kept as text. */
export type CellToken =
  | { readonly t: 'text'; readonly s: string }
  | { readonly t: 'num'; readonly s: string }
  | { readonly t: 'call'; readonly fn: 'sigmoid' | 'tanh' }
  | { readonly t: 'local'; readonly name: string }
  | { readonly t: 'load'; readonly name: string; readonly slice: string | null };

const TOKEN = /([A-Za-z_]\w*)(?:\[(\w+)\])?(\s*\()?|(\d+(?:\.\d+)?)|([^A-Za-z_\d]+)/g;

/**
 * The statements of kernel `kind`, checked: every name read is an operand, a local defined before, or one of the
 * two activations; every slice is one of the family's. A mistake in the table fails here, on every backend.
 */
export function parseCell(kind: CellKind, def: CellDef = CELLS[kind]): CellStatement[] {
  const operands = new Set([...Object.keys(def.writes), ...Object.keys(def.reads)]);
  const slices: readonly string[] = CELL_SLICES[def.family];
  const locals = new Set<string>();
  const fail = (why: string): never => {
    throw new Error(`cell ${kind}: ${why}`);
  };
  const slice = (s: string | undefined) => {
    if (s !== undefined && !slices.includes(s)) fail(`unknown slice [${s}]`);
    return s ?? null;
  };
  return def.body.map((line) => {
    const m = /^(\w+)(?:\[(\w+)\])?\s*=\s*(.+)$/.exec(line) ?? fail(`cannot read '${line}'`);
    const [, to, at, rhs] = m as unknown as [string, string, string | undefined, string];
    const expr: CellToken[] = [];
    for (const [, name, at2, call, num, text] of rhs.matchAll(TOKEN)) {
      if (text !== undefined) {
        // Only what reads the same in JS, WGSL (and wasm's text): arithmetic and parentheses.
        if (!/^[\s+\-*/()]+$/.test(text))
          fail(`'${text.trim()}' in '${line}' is not + - * / or a parenthesis`);
        expr.push({ t: 'text', s: text });
      } else if (num !== undefined) expr.push({ t: 'num', s: num });
      else if (call !== undefined) {
        if (name !== 'sigmoid' && name !== 'tanh') fail(`unknown function ${name}`);
        expr.push({ t: 'call', fn: name as 'sigmoid' | 'tanh' });
      } else if (operands.has(name!)) expr.push({ t: 'load', name: name!, slice: slice(at2) });
      else if (locals.has(name!) && at2 === undefined) expr.push({ t: 'local', name: name! });
      else fail(`'${name}' in '${line}' is neither an operand nor an earlier local`);
    }
    const store = operands.has(to);
    if (store && !(to in def.writes)) fail(`stores into ${to}, which it only reads`);
    if (!store) {
      if (at !== undefined || locals.has(to)) fail(`bad local '${line}'`);
      locals.add(to);
    }
    return { store, to, slice: store ? slice(at) : null, expr };
  });
}
