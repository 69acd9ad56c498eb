import type { LstmGateOrder, TypedArray, View } from '@webrnn/core';

/**
 * The fused cells' CPU loops as they were written by hand before the cell table (kernels' cells.ts) generated
 * them: the reference that the generated loops must equal bit for bit (cellsGenerated.test.ts).
 */
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const tanh = Math.tanh;
const gateOffsets = (order: LstmGateOrder) =>
  ({
    izfo: { i: 0, z: 1, f: 2, o: 3 },
    ifog: { i: 0, f: 1, o: 2, z: 3 },
    ifgo: { i: 0, f: 1, z: 2, o: 3 },
  })[order];

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
