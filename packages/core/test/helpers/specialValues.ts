import { readFileSync } from 'node:fs';
import * as core from '@webrnn/core';
import type { DType, DeviceName, Tensor } from '@webrnn/core';

/**
 * PyTorch's answers at NaN, +-Inf and +-0 (fixtures/specialValues.json, written by
 * scripts/golden/make_special_values.py) as cases that run our op on either device: each case makes its inputs,
 * applies the op and names the values PyTorch gave.
 */
interface Fixture {
  readonly grid: string[];
  readonly unary: Record<string, string[]>;
  readonly binary: Record<string, string[][]>;
  readonly rows: string[][];
  readonly reduce: Record<string, string[]>;
  readonly softmax: string[][];
  readonly logSoftmax: string[][];
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/specialValues.json', import.meta.url), 'utf8'),
) as Fixture;
const num = (v: string) =>
  Number(v === 'inf' ? 'Infinity' : v === '-inf' ? '-Infinity' : v === 'nan' ? 'NaN' : v);
const nums = (v: readonly string[]) => v.map(num);

export interface SpecialCase {
  readonly name: string;
  readonly want: readonly number[];
  /** Computations with transcendental functions; the rest are exact. */
  readonly inexact: boolean;
  readonly run: (device: DeviceName, dtype: DType) => Tensor;
}

const UNARY: Record<string, (x: Tensor) => Tensor> = {
  neg: core.neg,
  abs: core.abs,
  sign: core.sign,
  exp: core.exp,
  log: core.log,
  sqrt: core.sqrt,
  tanh: core.tanh,
  sigmoid: core.sigmoid,
  relu: core.relu,
  square: core.square,
  reciprocal: core.reciprocal,
  hardtanh: (x) => core.hardtanh(x),
  'clamp(-1, 2)': (x) => core.clamp(x, -1, 2),
};

const BINARY: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
  add: core.add,
  sub: core.sub,
  mul: core.mul,
  div: core.div,
  pow: core.pow,
  maximum: core.maximum,
  minimum: core.minimum,
  gt: core.gt,
  ge: core.ge,
  lt: core.lt,
  le: core.le,
  eq: core.eq,
};

const REDUCE: Record<string, (x: Tensor) => Tensor> = {
  sum: (x) => core.sum(x, [1]),
  mean: (x) => core.mean(x, [1]),
  max: (x) => core.max(x, [1]),
  min: (x) => core.min(x, [1]),
  argmax: (x) => core.argmax(x, 1),
  argmin: (x) => core.argmin(x, 1),
};

const INEXACT = ['exp', 'log', 'sqrt', 'tanh', 'sigmoid', 'pow', 'mean', 'softmax', 'logSoftmax'];

function cases(): SpecialCase[] {
  const grid = nums(fixture.grid);
  const n = grid.length;
  const rows = fixture.rows.flatMap(nums);
  const make = (device: DeviceName, dtype: DType, data: readonly number[], shape: number[]) =>
    core.tensor(data as number[], { device, dtype }).reshape(shape);
  const out: SpecialCase[] = [];
  const add = (name: string, want: readonly number[], run: SpecialCase['run']) =>
    out.push({ name, want, run, inexact: INEXACT.some((k) => name.startsWith(k)) });
  for (const [name, f] of Object.entries(UNARY)) {
    add(name, nums(fixture.unary[name]!), (d, t) => f(make(d, t, grid, [n])));
  }
  for (const [name, f] of Object.entries(BINARY)) {
    add(name, fixture.binary[name]!.flatMap(nums), (d, t) =>
      f(make(d, t, grid, [n, 1]), make(d, t, grid, [1, n])),
    );
  }
  const shape = [fixture.rows.length, fixture.rows[0]!.length];
  for (const [name, f] of Object.entries(REDUCE)) {
    add(name, nums(fixture.reduce[name]!), (d, t) => f(make(d, t, rows, shape)));
  }
  add('softmax', fixture.softmax.flatMap(nums), (d, t) => core.softmax(make(d, t, rows, shape), 1));
  add('logSoftmax', fixture.logSoftmax.flatMap(nums), (d, t) => core.logSoftmax(make(d, t, rows, shape), 1));
  return out;
}

export const SPECIAL_CASES = cases();
