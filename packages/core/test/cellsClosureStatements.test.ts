import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { realIn } from './helpers/reals.js';
import type { CellDef, CellKind } from '@webrnn/kernels';
import type { View } from '../src/backends/backend.js';
import { cellClosureLoop } from '../src/backends/cpu/cellsClosure.js';

/**
 * The closure cells (a strict-CSP page) read every statement the cell table's reader accepts, not only today's
 * table: nested calls, a call's ')' inside a longer text (`) * (`, `))`), several slices of one operand in one
 * statement, absent operands. The table is swapped for one such body (the reader itself is kernels' parseCell), and
 * the loop compared with the same maths in plain JS, on random values.
 */
let body: CellDef | null = null;
vi.mock('@webrnn/kernels', async (importOriginal) => {
  const k = await importOriginal<typeof import('@webrnn/kernels')>();
  return { ...k, parseCell: (kind: CellKind, def?: CellDef) => k.parseCell(kind, body ?? def) };
});

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const DEF: CellDef = {
  family: 'lstm',
  writes: { y: 1, q: 2 },
  reads: { x: 4, w: 1 },
  optional: ['w'],
  body: [
    'a = sigmoid((x[i]))',
    'b = tanh(sigmoid(x[z]) * 2) - a',
    'c = (tanh(x[f] + w) + 1) * (a - b)',
    'd = x[i] - x[z] * x[o]',
    'y = sigmoid(tanh((a + b)) * (c - 1)) / 2 + d',
    'q[i] = w * tanh(x[o])',
    'q[z] = tanh((((c))))',
  ],
};
/** The same statements in JS, gates in 'izfo' order (i, z, f, o at 0, 1, 2, 3). */
function reference(x: readonly number[], w: number): { y: number; qi: number; qz: number } {
  const [xi, xz, xf, xo] = x as [number, number, number, number];
  const a = sigmoid(xi);
  const b = Math.tanh(sigmoid(xz) * 2) - a;
  const c = (Math.tanh(xf + w) + 1) * (a - b);
  const d = xi - xz * xo;
  const y = sigmoid(Math.tanh(a + b) * (c - 1)) / 2 + d;
  return { y, qi: w * Math.tanh(xo), qz: Math.tanh(c) };
}

const view = (buffer: Float64Array, cols: number): View => ({
  buffer,
  dtype: 'float64',
  shape: [buffer.length / cols, cols],
  strides: [cols, 1],
  offset: 0,
});
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * (1 + Math.abs(b));

describe('the closure cells on any statement the reader accepts', () => {
  it('compute what the statements say, with and without the optional operand', () => {
    body = DEF;
    const x = realIn(-4, 4);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.array(x, { minLength: 60, maxLength: 60 }),
        (N, H, withW, values) => {
          const xs = Float64Array.from(values.slice(0, N * 4 * H));
          const ws = Float64Array.from(values.slice(48, 48 + N * H));
          const y = new Float64Array(N * H);
          const q = new Float64Array(N * 2 * H);
          const loop = cellClosureLoop('lstmCell', 'izfo', withW ? [] : ['w']);
          loop(N, H, { y: view(y, H), q: view(q, 2 * H), x: view(xs, 4 * H), w: withW ? view(ws, H) : null });
          for (let n = 0; n < N; n++) {
            for (let j = 0; j < H; j++) {
              const gates = [0, 1, 2, 3].map((g) => xs[n * 4 * H + g * H + j]!);
              const r = reference(gates, withW ? ws[n * H + j]! : 0);
              expect(close(y[n * H + j]!, r.y), `y[${n}, ${j}]`).toBe(true);
              expect(close(q[n * 2 * H + j]!, r.qi), `q[i][${n}, ${j}]`).toBe(true);
              expect(close(q[n * 2 * H + H + j]!, r.qz), `q[z][${n}, ${j}]`).toBe(true);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a call whose parenthesis is never closed, naming the kernel', () => {
    body = { family: 'lstm', writes: { y: 1 }, reads: { x: 4 }, body: ['y = tanh(x[i] + 1'] };
    expect(() => cellClosureLoop('lstmCell', 'izfo', [])).toThrow(
      "cell lstmCell: a call's parenthesis is not closed",
    );
  });
});
