import type { TypedArray } from '../../dtype.js';
import { sigmoid, tanh } from './formulas.js';
import { gateOffsets } from '@webrnn/kernels';
import type { LstmGateOrder, View } from '../backend.js';

/** Row-major element `col` of row `n` of a 2-D view. */
const at = (v: View, n: number, col: number) => v.offset + n * v.strides[0]! + col * v.strides[1]!;

/** One pass per row: activations, the new cell, the new hidden state. Every operand is a strided 2-D view. */
export function lstmCellCpu(
  order: LstmGateOrder,
  gates: View,
  cPrev: View,
  h: View,
  c: View,
  act: View,
): void {
  const G = gates.buffer as TypedArray;
  const CP = cPrev.buffer as TypedArray;
  const Hb = h.buffer as TypedArray;
  const Cb = c.buffer as TypedArray;
  const A = act.buffer as TypedArray;
  const N = h.shape[0]!;
  const H = h.shape[1]!;
  const k = gateOffsets(order);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < H; j++) {
      const i = sigmoid(G[at(gates, n, k.i * H + j)]!);
      const z = tanh(G[at(gates, n, k.z * H + j)]!);
      const f = sigmoid(G[at(gates, n, k.f * H + j)]!);
      const og = sigmoid(G[at(gates, n, k.o * H + j)]!);
      const cn = f * CP[at(cPrev, n, j)]! + i * z;
      A[at(act, n, k.i * H + j)] = i;
      A[at(act, n, k.z * H + j)] = z;
      A[at(act, n, k.f * H + j)] = f;
      A[at(act, n, k.o * H + j)] = og;
      Cb[at(c, n, j)] = cn;
      Hb[at(h, n, j)] = og * tanh(cn);
    }
  }
}

export function lstmCellBackwardCpu(
  order: LstmGateOrder,
  act: View,
  c: View,
  cPrev: View,
  gradH: View | null,
  gradC: View | null,
  gradGates: View,
  gradCPrev: View,
): void {
  const A = act.buffer as TypedArray;
  const C = c.buffer as TypedArray;
  const CP = cPrev.buffer as TypedArray;
  const GH = gradH?.buffer as TypedArray | undefined;
  const GC = gradC?.buffer as TypedArray | undefined;
  const GG = gradGates.buffer as TypedArray;
  const GCP = gradCPrev.buffer as TypedArray;
  const N = c.shape[0]!;
  const H = c.shape[1]!;
  const k = gateOffsets(order);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < H; j++) {
      const i = A[at(act, n, k.i * H + j)]!;
      const z = A[at(act, n, k.z * H + j)]!;
      const f = A[at(act, n, k.f * H + j)]!;
      const o = A[at(act, n, k.o * H + j)]!;
      const tc = tanh(C[at(c, n, j)]!);
      const gh = GH ? GH[at(gradH!, n, j)]! : 0;
      const gc = (GC ? GC[at(gradC!, n, j)]! : 0) + gh * o * (1 - tc * tc);
      GG[at(gradGates, n, k.i * H + j)] = gc * z * i * (1 - i);
      GG[at(gradGates, n, k.z * H + j)] = gc * i * (1 - z * z);
      GG[at(gradGates, n, k.f * H + j)] = gc * CP[at(cPrev, n, j)]! * f * (1 - f);
      GG[at(gradGates, n, k.o * H + j)] = gh * tc * o * (1 - o);
      GCP[at(gradCPrev, n, j)] = gc * f;
    }
  }
}
