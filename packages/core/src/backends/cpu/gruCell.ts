import type { TypedArray } from '../../dtype.js';
import { sigmoid, tanh } from './formulas.js';
import type { View } from '../backend.js';

/**
 * The fused GRU cell's four elementwise kernels (see Backend.gruGates and friends). Each is one pass per (row,
 * unit) over strided 2-D views; `act` holds r in columns [0, H) and u in [H, 2H).
 */

/** Buffer index of element (n, col) of a 2-D view. */
const at = (v: View, n: number, col: number) => v.offset + n * v.strides[0]! + col * v.strides[1]!;

const buf = (v: View) => v.buffer as TypedArray;

export function gruGatesCpu(gates: View, hPrev: View, act: View, rh: View): void {
  const [G, HP, A, RH] = [gates, hPrev, act, rh].map(buf) as [TypedArray, TypedArray, TypedArray, TypedArray];
  const [N, H] = [rh.shape[0]!, rh.shape[1]!];
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < H; j++) {
      const r = sigmoid(G[at(gates, n, j)]!);
      A[at(act, n, j)] = r;
      A[at(act, n, H + j)] = sigmoid(G[at(gates, n, H + j)]!);
      RH[at(rh, n, j)] = r * HP[at(hPrev, n, j)]!;
    }
  }
}

export function gruOutCpu(xc: View, m: View, act: View, hPrev: View, hc: View, h: View): void {
  const [X, M, A, HP, HC, Hb] = [xc, m, act, hPrev, hc, h].map(buf) as TypedArray[];
  const [N, H] = [h.shape[0]!, h.shape[1]!];
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < H; j++) {
      const c = tanh(X![at(xc, n, j)]! + M![at(m, n, j)]!);
      const u = A![at(act, n, H + j)]!;
      const hp = HP![at(hPrev, n, j)]!;
      HC![at(hc, n, j)] = c;
      // (1 - u) hc + u hPrev with one product fewer (the WGSL kernel computes it the same way).
      Hb![at(h, n, j)] = c + u * (hp - c);
    }
  }
}

export function gruOutBackwardCpu(
  act: View,
  hc: View,
  hPrev: View,
  gradH: View,
  gradPre: View,
  gradGates: View,
): void {
  const [A, HC, HP, GH, GP, GG] = [act, hc, hPrev, gradH, gradPre, gradGates].map(buf) as TypedArray[];
  const [N, H] = [hc.shape[0]!, hc.shape[1]!];
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < H; j++) {
      const u = A![at(act, n, H + j)]!;
      const c = HC![at(hc, n, j)]!;
      const gh = GH![at(gradH, n, j)]!;
      GP![at(gradPre, n, j)] = gh * (1 - u) * (1 - c * c);
      GG![at(gradGates, n, H + j)] = gh * (HP![at(hPrev, n, j)]! - c) * u * (1 - u);
    }
  }
}

export function gruGatesBackwardCpu(
  act: View,
  hPrev: View,
  gradH: View,
  gradRh: View,
  gradGates: View,
  gradHPrev: View,
): void {
  const [A, HP, GH, GR, GG, GHP] = [act, hPrev, gradH, gradRh, gradGates, gradHPrev].map(buf) as TypedArray[];
  const [N, H] = [gradHPrev.shape[0]!, gradHPrev.shape[1]!];
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < H; j++) {
      const r = A![at(act, n, j)]!;
      const u = A![at(act, n, H + j)]!;
      const grh = GR![at(gradRh, n, j)]!;
      GG![at(gradGates, n, j)] = grh * HP![at(hPrev, n, j)]! * r * (1 - r);
      GHP![at(gradHPrev, n, j)] = GH![at(gradH, n, j)]! * u + grh * r;
    }
  }
}
