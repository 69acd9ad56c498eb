import { type Kernel, type Spec, defineKernel } from './spec.js';
import { Uniforms } from './uniforms.js';
import { withNumerics } from './numerics.js';
import { declare, entry1d, sharedStorage } from './wgsl.js';

/**
 * The fused LSTM cell, forward and backward: one thread per (sample, unit). The uniform `gate` places the input
 * (i), candidate (z), forget (f) and output (o) gates within each 4H row (in units of H), so every gate order runs
 * the same kernel. Every operand is a strided 2-D view (offset and two strides in the uniforms); a missing
 * gradient of h or c is a specialisation (no zero tensor is made).
 */
export interface LstmSpec extends Spec {
  readonly kind: 'lstmCell' | 'lstmCellBackward';
  readonly gradH?: boolean;
  readonly gradC?: boolean;
  /** Operands read and written through an earlier operand's binding (see wgsl.ts bufferAliases). */
  readonly alias?: Readonly<Record<string, string>>;
}

export interface GateOffsets {
  readonly i: number;
  readonly z: number;
  readonly f: number;
  readonly o: number;
}

export interface View2d {
  readonly offset: number;
  readonly strides: readonly number[];
}

/** Each kernel's operands, the written ones first (their count second). */
export const LSTM_OPERANDS: Record<LstmSpec['kind'], readonly [readonly string[], number]> = {
  lstmCell: [['h', 'c', 'act', 'gates', 'cPrev'], 3],
  lstmCellBackward: [['gGates', 'gCPrev', 'act', 'c', 'cPrev', 'gH', 'gC'], 2],
};

function uniforms(names: readonly string[]): Uniforms {
  const fields: Record<string, number> = { N: 1, H: 1, gate: 4 };
  for (const n of names) {
    fields[`${n}Offset`] = 1;
    fields[`${n}Strides`] = 2;
  }
  return new Uniforms(fields);
}

/** Launch values: N, H, the gate offsets and each named operand's offset and strides (absent gradients: zeros). */
export function lstmValues(N: number, H: number, gates: GateOffsets, views: Record<string, View2d | null>) {
  const v: Record<string, number | readonly number[]> = { N, H, gate: [gates.i, gates.z, gates.f, gates.o] };
  for (const [name, view] of Object.entries(views)) {
    v[`${name}Offset`] = view?.offset ?? 0;
    v[`${name}Strides`] = view ? [view.strides[0]!, view.strides[1]!] : [0, 0];
  }
  return v;
}

function build(s: LstmSpec, body: (at: At) => string) {
  const [names, writes] = LSTM_OPERANDS[s.kind];
  const present = names.filter((n) => (n !== 'gH' || s.gradH) && (n !== 'gC' || s.gradC));
  const alias = s.alias ?? {};
  const U = uniforms(names);
  const { code, bindings } = declare(sharedStorage(present, writes, alias), U);
  // Element (n, col) of operand `name` (through its alias's binding when it has one).
  const at: At = (name, col) =>
    `${alias[name] ?? name}[u32(${U.at(`${name}Offset`)} + i32(n) * ${U.at(`${name}Strides`, 0)} + i32(${col}) * ${U.at(`${name}Strides`, 1)})]`;
  const main = `  let N = ${U.u('N')};
  let H = ${U.u('H')};
  if (tid >= N * H) { return; }
  let n = tid / H;
  let j = tid % H;
${[...'izfo'].map((g, k) => `  let g${g} = ${U.u('gate', k)} * H + j;`).join('\n')}
${body(at)}`;
  return {
    code: withNumerics(`${code}\n\n${entry1d(main)}\n`),
    workgroupSize: [256, 1, 1] as const,
    bindings,
    uniforms: U,
  };
}

type At = (name: string, col: string) => string;

/** The forward (spec.kind 'lstmCell') or backward ('lstmCellBackward') cell. */
export function lstmKernel(spec: LstmSpec): Kernel {
  return defineKernel(spec, spec.kind === 'lstmCell' ? forward : backward);
}

const g = (gate: keyof GateOffsets) => `g${gate}`;

function forward(s: LstmSpec) {
  return build(s, (at) => {
    return `  let i = ieeeSigmoid(${at('gates', g('i'))});
  let z = ieeeTanh(${at('gates', g('z'))});
  let f = ieeeSigmoid(${at('gates', g('f'))});
  let o = ieeeSigmoid(${at('gates', g('o'))});
  let cn = f * ${at('cPrev', 'j')} + i * z;
  ${at('act', g('i'))} = i;
  ${at('act', g('z'))} = z;
  ${at('act', g('f'))} = f;
  ${at('act', g('o'))} = o;
  ${at('c', 'j')} = cn;
  ${at('h', 'j')} = o * ieeeTanh(cn);`;
  });
}

function backward(s: LstmSpec) {
  return build(s, (at) => {
    return `  let i = ${at('act', g('i'))};
  let z = ${at('act', g('z'))};
  let f = ${at('act', g('f'))};
  let o = ${at('act', g('o'))};
  let tc = ieeeTanh(${at('c', 'j')});
  let gh = ${s.gradH ? at('gH', 'j') : '0.0'};
  let gc = ${s.gradC ? at('gC', 'j') : '0.0'} + gh * o * (1.0 - tc * tc);
  ${at('gGates', g('i'))} = gc * z * i * (1.0 - i);
  ${at('gGates', g('z'))} = gc * i * (1.0 - z * z);
  ${at('gGates', g('f'))} = gc * ${at('cPrev', 'j')} * f * (1.0 - f);
  ${at('gGates', g('o'))} = gh * tc * o * (1.0 - o);
  ${at('gCPrev', 'j')} = gc * f;`;
  });
}
