/**
 * Shared by lstm*.test.ts and gru*.test.ts: plain-number references of the cells (Torch7's and PyTorch's
 * conventions), and runners that drive a recurrent module Torch-style, tape-style and by central differences.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import {
  type Tensor,
  add,
  fromData,
  manualSeed,
  mul,
  nn,
  noGrad,
  randn,
  sum,
  tensor,
  tidy,
} from '@webrnn/rnn';

export const f64 = { dtype: 'float64' as const };
export type Mat = number[][];
type Recurrent = InstanceType<typeof nn.AbstractRecurrent>;

// ---- plain numbers ---------------------------------------------------------------------------------------------

/** A tensor as rows (a rank-1 tensor is one row). */
export function rows(t: Tensor): Mat {
  const d = Array.from(t.dataSync());
  const c = t.shape[t.rank - 1]!;
  const out: Mat = [];
  for (let i = 0; i < d.length; i += c) out.push(d.slice(i, i + c));
  return out;
}
export const flat = (t: Tensor): number[] => Array.from(t.dataSync());
export const mat = (m: Mat): Tensor => tensor(m, f64);
export const vecT = (v: number[]): Tensor => tensor(v, f64);

export const sig = (v: number) => 1 / (1 + Math.exp(-v));
export const map = (a: Mat, f: (v: number) => number): Mat => a.map((r) => r.map(f));
export const zip = (a: Mat, b: Mat, f: (x: number, y: number) => number): Mat =>
  a.map((r, i) => r.map((v, j) => f(v, b[i]![j]!)));
export const madd = (a: Mat, b: Mat) => zip(a, b, (x, y) => x + y);
export const mmul = (a: Mat, b: Mat) => zip(a, b, (x, y) => x * y);
/** Broadcast a row vector over the rows of a. */
export const rowMul = (a: Mat, v: number[]) => a.map((r) => r.map((x, j) => x * v[j]!));
export const zerosM = (n: number, m: number): Mat => Array.from({ length: n }, () => new Array(m).fill(0));

/** x Wᵀ + b, with W [out][in] (Torch's layout). */
export function affine(x: Mat, W: Mat, b?: number[]): Mat {
  return x.map((row) => W.map((w, o) => w.reduce((s, wk, k) => s + wk * row[k]!, b ? b[o]! : 0)));
}
/** Columns k*H..(k+1)*H-1. */
export const cols = (m: Mat, k: number, H: number): Mat => m.map((r) => r.slice(k * H, (k + 1) * H));
/** Rows k*H..(k+1)*H-1 of a weight, or entries of a bias. */
export const block = <T>(m: T[], k: number, H: number): T[] => m.slice(k * H, (k + 1) * H);

/** Torch's FastLSTM step: gates [i, z, f, o] = x Wᵀ + b + h Uᵀ. */
export function refFastLSTM(x: Mat, h: Mat, c: Mat, W: Mat, b: number[], U: Mat) {
  return lstmFromGates(madd(affine(x, W, b), affine(h, U)), c);
}

/** The cell update from gate pre-activations [N][4H] in FastLSTM's order (i, z, f, o). */
export function lstmFromGates(g: Mat, c: Mat) {
  const H = c[0]!.length;
  const i = map(cols(g, 0, H), sig);
  const z = map(cols(g, 1, H), Math.tanh);
  const f = map(cols(g, 2, H), sig);
  const o = map(cols(g, 3, H), sig);
  const c2 = madd(mmul(f, c), mmul(i, z));
  return { h: mmul(o, map(c2, Math.tanh)), c: c2 };
}

export interface RefGate {
  W: Mat;
  b: number[];
  U: Mat;
  w?: number[];
}

/** Element-research's nn.LSTM step (peepholes when the gates have `w`; the output gate's sees the new cell). */
export function refLSTM(x: Mat, h: Mat, c: Mat, g: { i: RefGate; f: RefGate; z: RefGate; o: RefGate }) {
  const pre = (q: RefGate) => madd(affine(x, q.W, q.b), affine(h, q.U));
  const peep = (q: RefGate, cell: Mat) => (q.w ? rowMul(cell, q.w) : zerosM(cell.length, cell[0]!.length));
  const i = map(madd(pre(g.i), peep(g.i, c)), sig);
  const f = map(madd(pre(g.f), peep(g.f, c)), sig);
  const z = map(pre(g.z), Math.tanh);
  const c2 = madd(mmul(f, c), mmul(i, z));
  const o = map(madd(pre(g.o), peep(g.o, c2)), sig);
  return { h: mmul(o, map(c2, Math.tanh)), c: c2 };
}

/** PyTorch's nn.LSTM step: gates [i, f, g, o] = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh. */
export function refPyTorchLSTM(x: Mat, h: Mat, c: Mat, Wih: Mat, Whh: Mat, bih: number[], bhh: number[]) {
  const H = h[0]!.length;
  const g = madd(affine(x, Wih, bih), affine(h, Whh, bhh));
  const i = map(cols(g, 0, H), sig);
  const f = map(cols(g, 1, H), sig);
  const gg = map(cols(g, 2, H), Math.tanh);
  const o = map(cols(g, 3, H), sig);
  const c2 = madd(mmul(f, c), mmul(i, gg));
  return { h: mmul(o, map(c2, Math.tanh)), c: c2 };
}

/** Torch7's GRU step: [r, z] = σ(x Wgᵀ + bg + h Ugᵀ); n = tanh(x Whᵀ + bh + (r ⊙ h) Uhᵀ); h' = (1-z) n + z h. */
export function refTorchGRU(
  x: Mat,
  h: Mat,
  p: { Wg: Mat; bg: number[]; Ug: Mat; Wh: Mat; bh: number[]; Uh: Mat },
) {
  const H = h[0]!.length;
  const g = madd(affine(x, p.Wg, p.bg), affine(h, p.Ug));
  const r = map(cols(g, 0, H), sig);
  const z = map(cols(g, 1, H), sig);
  const n = map(madd(affine(x, p.Wh, p.bh), affine(mmul(r, h), p.Uh)), Math.tanh);
  return zip(
    zip(n, z, (nv, zv) => (1 - zv) * nv),
    mmul(z, h),
    (a, b) => a + b,
  );
}

/** PyTorch's GRU step (gates r, z, n): n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)). */
export function refPyTorchGRU(x: Mat, h: Mat, Wih: Mat, Whh: Mat, bih: number[], bhh: number[]) {
  const H = h[0]!.length;
  const gi = affine(x, Wih, bih);
  const gh = affine(h, Whh, bhh);
  const r = map(madd(cols(gi, 0, H), cols(gh, 0, H)), sig);
  const z = map(madd(cols(gi, 1, H), cols(gh, 1, H)), sig);
  const n = map(madd(cols(gi, 2, H), mmul(r, cols(gh, 2, H))), Math.tanh);
  return zip(
    zip(n, z, (nv, zv) => (1 - zv) * nv),
    mmul(z, h),
    (a, b) => a + b,
  );
}

// ---- driving modules -------------------------------------------------------------------------------------------

export interface RunResult {
  outs: Mat[];
  gradIns: Mat[];
  /** Gradients of the parameters, in parameters() order. */
  grads: number[][];
}

/**
 * Torch style: forget, zero the gradients, one forward per step, then backward in reverse order with
 * gradOutput R_t (the gradient of loss = Σ_t sum(out_t ⊙ R_t)).
 */
export function torchStyle(m: Recurrent, xs: Tensor[], rs: Tensor[]): RunResult {
  return tidy(() => {
    m.forget();
    m.zeroGradParameters();
    const outs = xs.map((x) => rows(m.forward(x) as Tensor));
    const gradIns: Mat[] = [];
    for (let t = xs.length - 1; t >= 0; t--) gradIns[t] = rows(m.backward(xs[t]!, rs[t]!) as Tensor);
    return { outs, gradIns, grads: m.parameters()[1].map(flat) };
  });
}

/** Tape style: the same loss built from the outputs, then loss.backward(). */
export function tapeStyle(m: Recurrent, xs: Tensor[], rs: Tensor[]): RunResult {
  return tidy(() => {
    m.forget();
    m.zeroGradParameters();
    const leaves = xs.map((x) => x.clone().requiresGrad_());
    const outs = leaves.map((x) => m.forward(x) as Tensor);
    let loss = sum(mul(outs[0]!, rs[0]!));
    for (let t = 1; t < outs.length; t++) loss = add(loss, sum(mul(outs[t]!, rs[t]!)));
    loss.backward();
    return {
      outs: outs.map(rows),
      gradIns: leaves.map((x) => rows(x.grad!)),
      grads: m.parameters()[0].map((p) => flat(p.grad!)),
    };
  });
}

/** loss = Σ_t sum(out_t ⊙ R_t) after forget() (`before` runs first, e.g. to reseed dropout masks). */
export function lossOf(m: Recurrent, xs: Tensor[], rs: Tensor[], before?: () => void): number {
  return tidy(() =>
    noGrad(() => {
      before?.();
      m.forget();
      let total = 0;
      xs.forEach((x, t) => {
        total += sum(mul(m.forward(x) as Tensor, rs[t]!)).itemSync();
      });
      return total;
    }),
  );
}

/** Central differences of lossOf with respect to every parameter element (parameters() order). */
export function fdParamGrads(m: Recurrent, xs: Tensor[], rs: Tensor[], before?: () => void, eps = 1e-6) {
  return m.parameters()[0].map((p) => {
    const base = Float64Array.from(p.dataSync());
    const set = (data: Float64Array) =>
      noGrad(() =>
        tidy(() => {
          p.copy_(fromData(data, p.shape, f64));
        }),
      );
    const out = Array.from(base, (_, e) => {
      const at = (d: number) => {
        const data = Float64Array.from(base);
        data[e] = data[e]! + d;
        set(data);
        return lossOf(m, xs, rs, before);
      };
      return (at(eps) - at(-eps)) / (2 * eps);
    });
    set(base);
    return out;
  });
}

/** Central differences of lossOf with respect to every input element. */
export function fdInputGrads(m: Recurrent, xs: Tensor[], rs: Tensor[], before?: () => void, eps = 1e-6) {
  return xs.map((x, t) => {
    const base = Float64Array.from(x.dataSync());
    const g = Array.from(base, (_, e) => {
      const at = (d: number) =>
        tidy(() => {
          const data = Float64Array.from(base);
          data[e] = data[e]! + d;
          const moved = xs.map((y, k) => (k === t ? fromData(data, x.shape, f64) : y));
          return lossOf(m, moved, rs, before);
        });
      return (at(eps) - at(-eps)) / (2 * eps);
    });
    return rows(fromData(Float64Array.from(g), x.shape, f64));
  });
}

/** Every number of `a` within `tol` of `b` (nested arrays of the same shape). */
export function expectClose(a: unknown, b: unknown, tol: number, where = ''): void {
  if (Array.isArray(a)) {
    expect(Array.isArray(b), `${where}: shapes differ`).toBe(true);
    expect((a as unknown[]).length, `${where}: lengths differ`).toBe((b as unknown[]).length);
    (a as unknown[]).forEach((x, i) => expectClose(x, (b as unknown[])[i], tol, `${where}[${i}]`));
    return;
  }
  const x = a as number;
  const y = b as number;
  if (!(Math.abs(x - y) <= tol)) expect.fail(`${where}: ${x} vs ${y} (tolerance ${tol})`);
}

/** Copy plain numbers into a parameter. */
export function setParam(p: Tensor, values: Mat | number[]): void {
  const data = Float64Array.from((values as unknown[]).flat() as number[]);
  noGrad(() =>
    tidy(() => {
      p.copy_(fromData(data, p.shape, { dtype: p.dtype }));
    }),
  );
}

/** Random plain matrices (from a simple LCG, independent of the engine's generator). */
export function randomMat(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const m = (r: number, c: number, scale = 1): Mat =>
    Array.from({ length: r }, () => Array.from({ length: c }, () => (next() * 2 - 1) * scale));
  const v = (n: number, scale = 1) => m(1, n, scale)[0]!;
  return { m, v };
}

// ---- LSTM weights ----------------------------------------------------------------------------------------------

type FastLSTMModule = InstanceType<typeof nn.FastLSTM>;
type LSTMModule = InstanceType<typeof nn.LSTM>;

/** A random float64 sequence of T steps: inputs [n, inputSize] and loss projections R [n, outputSize]. */
export function randomSequence(T: number, seed: number, n: number, inputSize: number, outputSize: number) {
  manualSeed(seed);
  const xs = Array.from({ length: T }, () => randn([n, inputSize], f64));
  const rs = Array.from({ length: T }, () => randn([n, outputSize], f64));
  return { xs, rs };
}

/** Plain-number weights of a FastLSTM. */
export function fastWeights(m: FastLSTMModule) {
  return { W: rows(m.i2g.weight), b: flat(m.i2g.bias!), U: rows(m.o2g.weight) };
}

/** Plain-number weights of an nn.LSTM. */
export function lstmWeights(m: LSTMModule) {
  const g = (q: LSTMModule['inputGate']) => ({
    W: rows(q.i2g.weight),
    b: flat(q.i2g.bias!),
    U: rows(q.o2g.weight),
    ...(q.c2g ? { w: flat(q.c2g.weight) } : {}),
  });
  return { i: g(m.inputGate), f: g(m.forgetGate), z: g(m.hiddenLayer), o: g(m.outputGate) };
}

/** Load PyTorch nn.LSTM weights (gate blocks i, f, g, o) into a FastLSTM (blocks i, z = g, f, o). */
export function loadPyTorchLSTM(m: FastLSTMModule, Wih: Mat, Whh: Mat, bih: number[], bhh: number[]): void {
  const h = m.outputSize;
  const order = [0, 2, 1, 3]; // FastLSTM block k takes PyTorch block order[k]
  setParam(
    m.i2g.weight,
    order.flatMap((k) => block(Wih, k, h)),
  );
  setParam(
    m.o2g.weight,
    order.flatMap((k) => block(Whh, k, h)),
  );
  setParam(
    m.i2g.bias!,
    order.flatMap((k) => block(bih, k, h).map((v, j) => v + block(bhh, k, h)[j]!)),
  );
}

// ---- PyTorch fixtures (packages/rnn/test/fixtures/*.json) -------------------------------------------------------

export interface FixtureTensor {
  readonly shape: number[];
  readonly dtype?: string;
  readonly data: number[];
}
export interface FixtureCase {
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly params?: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
  readonly grads?: Record<string, unknown>;
}

/** The cases of a fixture file, or null when it is not there (yet). */
export function loadFixture(file: string): FixtureCase[] | null {
  // WEBRNN_FIXTURES points at another folder of fixtures (e.g. freshly generated ones).
  const dir = process.env.WEBRNN_FIXTURES ?? fileURLToPath(new URL('./fixtures', import.meta.url));
  const path = `${dir}/${file}`;
  if (!existsSync(path)) return null;
  return (JSON.parse(readFileSync(path, 'utf8')) as { cases: FixtureCase[] }).cases;
}

const isFixtureTensor = (v: unknown): v is FixtureTensor =>
  typeof v === 'object' && v !== null && Array.isArray((v as FixtureTensor).shape) && 'data' in v;

/** The fixture tensors of some records, by lower-case name (nested records are searched too). */
export function tensorsOf(...records: (Record<string, unknown> | undefined)[]): Map<string, FixtureTensor> {
  const out = new Map<string, FixtureTensor>();
  const visit = (r: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(r)) {
      if (isFixtureTensor(v))
        out.set(k.toLowerCase(), { ...v, data: (v.data as unknown[]).flat(8) as number[] });
      else if (typeof v === 'object' && v !== null && !Array.isArray(v)) visit(v as Record<string, unknown>);
    }
  };
  for (const r of records) if (r) visit(r);
  return out;
}

/** The first tensor whose name matches one of the patterns. */
export function pick(pool: Map<string, FixtureTensor>, ...patterns: RegExp[]): FixtureTensor | undefined {
  for (const re of patterns) for (const [k, v] of pool) if (re.test(k)) return v;
  return undefined;
}

/** A fixture tensor as steps of rows: [T, N, C] -> T matrices; [N, C] -> one; [C] -> one row. */
export function stepsOf(t: FixtureTensor): Mat[] {
  const c = t.shape[t.shape.length - 1]!;
  const n = t.shape.length >= 2 ? t.shape[t.shape.length - 2]! : 1;
  const T = t.shape.length === 3 ? t.shape[0]! : 1;
  return Array.from({ length: T }, (_, s) =>
    Array.from({ length: n }, (_, i) => t.data.slice((s * n + i) * c, (s * n + i + 1) * c)),
  );
}

/** A 2-D fixture tensor (a weight) as rows. */
export const matOf = (t: FixtureTensor): Mat => stepsOf(t)[0]!;
