import { ENTRY_1D, THREAD_INDEX, binding, metaBinding } from './emit.js';
import { type Kernel, kernel } from './spec.js';

/**
 * The fused LSTM cell, forward and backward: one thread per (sample, unit). `offsets` places the input (i),
 * candidate (z), forget (f) and output (o) gates within each 4H row, so every gate order is one specialisation.
 * Inputs are dense; meta = [N, H, gatesOff, cPrevOff].
 */
export interface LstmSpec {
  readonly kind: 'lstmCell' | 'lstmCellBackward';
  readonly offsets: { readonly i: number; readonly z: number; readonly f: number; readonly o: number };
}

const SIGMOID =
  'fn sigm(x: f32) -> f32 { return select(exp(x) / (1.0 + exp(x)), 1.0 / (1.0 + exp(-x)), x >= 0.0); }';

export function lstmCellKernel(offsets: LstmSpec['offsets']): Kernel {
  return kernel({ kind: 'lstmCell', offsets } as LstmSpec, (s) => ({
    code: `${binding(0, 'h', 'f32', true)}
${binding(1, 'c', 'f32', true)}
${binding(2, 'act', 'f32', true)}
${binding(3, 'gates', 'f32', false)}
${binding(4, 'cPrev', 'f32', false)}
${metaBinding(5)}
${SIGMOID}

${ENTRY_1D} {
  ${THREAD_INDEX}
  let N = u32(info[0]);
  let H = u32(info[1]);
  if (tid >= N * H) { return; }
  let n = tid / H;
  let j = tid % H;
  let g = u32(info[2]) + n * 4u * H + j;
  let a = n * 4u * H + j;
  let i = sigm(gates[g + ${s.offsets.i}u * H]);
  let z = tanh(clamp(gates[g + ${s.offsets.z}u * H], -15.0, 15.0));
  let f = sigm(gates[g + ${s.offsets.f}u * H]);
  let o = sigm(gates[g + ${s.offsets.o}u * H]);
  let cn = f * cPrev[u32(info[3]) + tid] + i * z;
  act[a + ${s.offsets.i}u * H] = i;
  act[a + ${s.offsets.z}u * H] = z;
  act[a + ${s.offsets.f}u * H] = f;
  act[a + ${s.offsets.o}u * H] = o;
  c[tid] = cn;
  h[tid] = o * tanh(clamp(cn, -15.0, 15.0));
}
`,
    workgroupSize: [256, 1, 1] as const,
  }));
}

/** meta = [N, H, actOff, cOff, cPrevOff, gradHOff, gradCOff]; gradients dense. */
export function lstmCellBackwardKernel(offsets: LstmSpec['offsets']): Kernel {
  return kernel({ kind: 'lstmCellBackward', offsets } as LstmSpec, (s) => ({
    code: `${binding(0, 'gGates', 'f32', true)}
${binding(1, 'gCPrev', 'f32', true)}
${binding(2, 'act', 'f32', false)}
${binding(3, 'c', 'f32', false)}
${binding(4, 'cPrev', 'f32', false)}
${binding(5, 'gH', 'f32', false)}
${binding(6, 'gC', 'f32', false)}
${metaBinding(7)}

${ENTRY_1D} {
  ${THREAD_INDEX}
  let N = u32(info[0]);
  let H = u32(info[1]);
  if (tid >= N * H) { return; }
  let n = tid / H;
  let j = tid % H;
  let a = u32(info[2]) + n * 4u * H + j;
  let i = act[a + ${s.offsets.i}u * H];
  let z = act[a + ${s.offsets.z}u * H];
  let f = act[a + ${s.offsets.f}u * H];
  let o = act[a + ${s.offsets.o}u * H];
  let tc = tanh(clamp(c[u32(info[3]) + tid], -15.0, 15.0));
  let gh = gH[u32(info[5]) + tid];
  let gc = gC[u32(info[6]) + tid] + gh * o * (1.0 - tc * tc);
  let gg = n * 4u * H + j;
  gGates[gg + ${s.offsets.i}u * H] = gc * z * i * (1.0 - i);
  gGates[gg + ${s.offsets.z}u * H] = gc * i * (1.0 - z * z);
  gGates[gg + ${s.offsets.f}u * H] = gc * cPrev[u32(info[4]) + tid] * f * (1.0 - f);
  gGates[gg + ${s.offsets.o}u * H] = gh * tc * o * (1.0 - o);
  gCPrev[tid] = gc * f;
}
`,
    workgroupSize: [256, 1, 1] as const,
  }));
}
