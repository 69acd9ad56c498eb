import {
  CELLS,
  CELL_SLICES,
  type CellKind,
  type CellToken,
  cellOperandNames,
  cellWrites,
  parseCell,
} from './cells.js';
import { UNARY_FORMULAS } from './formulas.js';
import { withNumerics } from './numerics.js';
import { type Kernel, type Spec, defineKernel } from './spec.js';
import { Uniforms } from './uniforms.js';
import { declare, entry1d, lines, sharedStorage } from './wgsl.js';

/**
 * The fused cells' WGSL, generated from the table in cells.ts: one thread per (sample, unit). Every operand is a
 * strided 2-D view (offset and two strides in the uniforms); LSTM's gate offsets are a uniform, so every gate
 * order runs the same pipeline; an absent optional operand is a specialisation (read as 0, no zero tensor made).
 */
export interface CellSpec extends Spec {
  readonly kind: CellKind;
  /** Optional operands that are absent (sorted, so equal specs have equal keys). */
  readonly absent?: readonly string[];
  /** Operands read and written through an earlier operand's binding (see wgsl.ts bufferAliases). */
  readonly alias?: Readonly<Record<string, string>>;
}

export interface View2d {
  readonly offset: number;
  readonly strides: readonly number[];
}

const hasGateUniform = (kind: CellKind) => CELLS[kind].family === 'lstm';

function uniforms(kind: CellKind): Uniforms {
  const fields: Record<string, number> = { N: 1, H: 1 };
  if (hasGateUniform(kind)) fields.gate = 4;
  for (const n of cellOperandNames(kind)) {
    fields[`${n}Offset`] = 1;
    fields[`${n}Strides`] = 2;
  }
  return new Uniforms(fields);
}

/**
 * Launch values: N, H, LSTM's gate blocks (sliceBlocks) and each operand's offset and strides (absent: zeros).
 */
export function cellValues(
  kind: CellKind,
  N: number,
  H: number,
  blocks: Readonly<Record<string, number>>,
  views: Readonly<Record<string, View2d | null>>,
) {
  const v: Record<string, number | readonly number[]> = { N, H };
  // Stryker disable next-line ConditionalExpression: equivalent: a GRU launch given a `gate` value has no such uniform, and pack reads declared fields only
  if (hasGateUniform(kind)) v.gate = CELL_SLICES.lstm.map((s) => blocks[s]!);
  for (const name of cellOperandNames(kind)) {
    const view = views[name];
    if (view === undefined) throw new Error(`${kind}: operand ${name} is missing`);
    v[`${name}Offset`] = view?.offset ?? 0;
    v[`${name}Strides`] = view ? [view.strides[0]!, view.strides[1]!] : [0, 0];
  }
  return v;
}

/** The WGSL function an activation of the elementwise table is (its formula is a call of x). */
function wgslFunction(fn: 'sigmoid' | 'tanh'): string {
  const m = /^(\w+)\(x\)$/.exec(UNARY_FORMULAS[fn].wgsl);
  if (!m) throw new Error(`the WGSL formula of ${fn} is not a function of x`);
  return m[1]!;
}

/** One of the cell kernels, by spec.kind. */
export function cellKernel(spec: CellSpec): Kernel {
  return defineKernel(spec, (s) => {
    const names = cellOperandNames(s.kind);
    // Stryker disable next-line ArrayDeclaration: equivalent: a stray name in the default set names no operand
    const absent = new Set(s.absent ?? []);
    const present = names.filter((n) => !absent.has(n));
    const alias = s.alias ?? {};
    const U = uniforms(s.kind);
    const { code, bindings } = declare(sharedStorage(present, cellWrites(s.kind), alias), U);
    // Element (n, col) of operand `name` (through its alias's binding when it has one).
    const at = (name: string, slice: string | null) => {
      const col = slice === null ? 'j' : `s_${slice}`;
      return `${alias[name] ?? name}[u32(${U.at(`${name}Offset`)} + i32(n) * ${U.at(`${name}Strides`, 0)} + i32(${col}) * ${U.at(`${name}Strides`, 1)})]`;
    };
    const expr = (tokens: readonly CellToken[]) =>
      wgslCellExpr(tokens, (k) => (absent.has(k.name) ? '0.0' : at(k.name, k.slice)));
    const slices = CELL_SLICES[CELLS[s.kind].family].map((sl, k) =>
      hasGateUniform(s.kind)
        ? `  let s_${sl} = ${U.u('gate', k)} * H + j;`
        : `  let s_${sl} = ${k}u * H + j;`,
    );
    const body = parseCell(s.kind).map((st) =>
      st.store ? `  ${at(st.to, st.slice)} = ${expr(st.expr)};` : `  let v_${st.to} = ${expr(st.expr)};`,
    );
    const main = `  let N = ${U.u('N')};
  let H = ${U.u('H')};
  if (tid >= N * H) { return; }
  let n = tid / H;
  let j = tid % H;
${lines([...slices, ...body])}`;
    return {
      code: withNumerics(`${code}\n\n${entry1d(main)}\n`),
      workgroupSize: [256, 1, 1] as const,
      bindings,
      uniforms: U,
    };
  });
}

/**
 * One of the cell table's expressions as WGSL: numbers as f32 literals, activations through the numerics prelude,
 * locals as `v_<name>`; what an operand load becomes is the caller's (a strided read here, a register in the
 * persistent kernel).
 */
export function wgslCellExpr(
  tokens: readonly CellToken[],
  load: (k: Extract<CellToken, { t: 'load' }>) => string,
): string {
  return tokens
    .map((k) => {
      switch (k.t) {
        case 'text':
          return k.s;
        case 'num':
          return k.s.includes('.') ? k.s : `${k.s}.0`;
        case 'call':
          return `${wgslFunction(k.fn)}(`;
        case 'local':
          return `v_${k.name}`;
        case 'load':
          return load(k);
      }
    })
    .join('');
}
