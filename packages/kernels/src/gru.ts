import { type Kernel, type Spec, defineKernel } from './spec.js';
import { Uniforms } from './uniforms.js';
import type { View2d } from './lstm.js';
import { withNumerics } from './numerics.js';
import { declare, entry1d, sharedStorage } from './wgsl.js';

/**
 * The fused GRU cell's four kernels (Torch7's GRU: the reset gate applies before the recurrent product, so the
 * cell is split around a matmul m = (r ⊙ hPrev) Uc): one thread per (sample, unit). `act` [N, 2H] holds r then u.
 *
 *   gruGates          act = σ(gates); rh = r hPrev
 *   gruOut            hc = tanh(xc + m); h = hc + u (hPrev - hc)
 *   gruOutBackward    gPre = gH (1 - u)(1 - hc²); gGates[:, H + j] = gH (hPrev - hc) u (1 - u)
 *   gruGatesBackward  gGates[:, j] = gRh hPrev r (1 - r); gHPrev = gH u + gRh r
 *
 * Every operand is a strided 2-D view (offset and two strides in the uniforms); the written operands come first.
 * Locals avoid the name `u`, which is the uniform block.
 */
export interface GruSpec extends Spec {
  readonly kind: 'gruGates' | 'gruOut' | 'gruOutBackward' | 'gruGatesBackward';
  /** Operands read and written through an earlier operand's binding (see wgsl.ts bufferAliases). */
  readonly alias?: Readonly<Record<string, string>>;
}

/** Each kernel's operands, the written ones first (their count second). */
export const GRU_OPERANDS: Record<GruSpec['kind'], readonly [readonly string[], number]> = {
  gruGates: [['act', 'rh', 'gates', 'hPrev'], 2],
  gruOut: [['hc', 'h', 'xc', 'm', 'act', 'hPrev'], 2],
  gruOutBackward: [['gPre', 'gGates', 'act', 'hc', 'hPrev', 'gH'], 2],
  gruGatesBackward: [['gGates', 'gHPrev', 'act', 'hPrev', 'gH', 'gRh'], 2],
};

const BODY: Record<GruSpec['kind'], (at: (name: string, col: string) => string) => string> = {
  gruGates: (at) => `  let rg = ieeeSigmoid(${at('gates', 'j')});
  ${at('act', 'j')} = rg;
  ${at('act', 'H + j')} = ieeeSigmoid(${at('gates', 'H + j')});
  ${at('rh', 'j')} = rg * ${at('hPrev', 'j')};`,
  gruOut: (at) => `  let c = ieeeTanh(${at('xc', 'j')} + ${at('m', 'j')});
  ${at('hc', 'j')} = c;
  ${at('h', 'j')} = c + ${at('act', 'H + j')} * (${at('hPrev', 'j')} - c);`,
  gruOutBackward: (at) => `  let ug = ${at('act', 'H + j')};
  let c = ${at('hc', 'j')};
  let gh = ${at('gH', 'j')};
  ${at('gPre', 'j')} = gh * (1.0 - ug) * (1.0 - c * c);
  ${at('gGates', 'H + j')} = gh * (${at('hPrev', 'j')} - c) * ug * (1.0 - ug);`,
  gruGatesBackward: (at) => `  let rg = ${at('act', 'j')};
  let ug = ${at('act', 'H + j')};
  let grh = ${at('gRh', 'j')};
  ${at('gGates', 'j')} = grh * ${at('hPrev', 'j')} * rg * (1.0 - rg);
  ${at('gHPrev', 'j')} = ${at('gH', 'j')} * ug + grh * rg;`,
};

function uniforms(names: readonly string[]): Uniforms {
  const fields: Record<string, number> = { N: 1, H: 1 };
  for (const n of names) {
    fields[`${n}Offset`] = 1;
    fields[`${n}Strides`] = 2;
  }
  return new Uniforms(fields);
}

/** One of the four kernels, by spec.kind. */
export function gruKernel(spec: GruSpec): Kernel {
  return defineKernel(spec, (s) => {
    const [names, writes] = GRU_OPERANDS[s.kind];
    const alias = s.alias ?? {};
    const U = uniforms(names);
    const { code, bindings } = declare(sharedStorage(names, writes, alias), U);
    // Element (n, col) of operand `name` (through its alias's binding when it has one).
    const at = (name: string, col: string) =>
      `${alias[name] ?? name}[u32(${U.at(`${name}Offset`)} + i32(n) * ${U.at(`${name}Strides`, 0)} + i32(${col}) * ${U.at(`${name}Strides`, 1)})]`;
    const main = `  let N = ${U.u('N')};
  let H = ${U.u('H')};
  if (tid >= N * H) { return; }
  let n = tid / H;
  let j = tid % H;
${BODY[s.kind](at)}`;
    return {
      code: withNumerics(`${code}\n\n${entry1d(main)}\n`),
      workgroupSize: [256, 1, 1] as const,
      bindings,
      uniforms: U,
    };
  });
}

/** Launch values: N, H and each operand's offset and strides, in the kernel's operand order. */
export function gruValues(kind: GruSpec['kind'], N: number, H: number, views: Record<string, View2d>) {
  const v: Record<string, number | readonly number[]> = { N, H };
  for (const name of GRU_OPERANDS[kind][0]) {
    const view = views[name];
    if (!view) throw new Error(`${kind}: operand ${name} is missing`);
    v[`${name}Offset`] = view.offset;
    v[`${name}Strides`] = [view.strides[0]!, view.strides[1]!];
  }
  return v;
}
