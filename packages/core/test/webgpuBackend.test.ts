import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type View } from '@webrnn/core';
import {
  gpu,
  cpu,
  params,
  dense,
  layoutArb,
  shapeArb,
  values,
  pair,
  out,
  free,
  same,
} from './helpers/backendPairs.js';

/**
 * The Backend interface on WebGPU against CpuBackend, at the backend level (this file: the elementwise family,
 * reductions and softmax; webgpuKernels.test.ts: matmul, gather/scatterAdd and the LSTM cell): random shapes with
 * size-1 dims, broadcast (stride 0) dims, transposed and padded (strided) views and nonzero offsets, for float32
 * and int32. Without an adapter the file prints one line and skips, unless WEBRNN_REQUIRE_WEBGPU=1, where it fails.
 *
 * Tolerances, against the CPU's results (computed in float64, stored as float32): exact for moves, casts,
 * comparisons, max/min/arg and int32; |err| <= 2 ulp-ish (rel 2e-7) for + - * and the CPU's own rounding; rel 2e-6
 * for WGSL's exp/log/tanh/pow/sqrt/division builtins, which may be a few ulp off; sums, matmuls and softmax
 * normalisers accumulate one rounding per term, so their bound grows with the length: 2e-7 * n * sum of |terms|.
 */

const maxAbs = (v: View) => Math.max(0, ...Array.from(cpu.readSync(v), Math.abs));

describe.skipIf(!gpu)('WebGPU backend against CpuBackend: elementwise, reductions, softmax', () => {
  it('unary ops and clamp/affine, float32 and int32, on strided and broadcast views', async () => {
    const floatOps = [
      ['neg', 0],
      ['abs', 0],
      ['sign', 0],
      ['relu', 0],
      ['step', 0],
      ['square', 2e-7],
      ['exp', 2e-6],
      ['tanh', 2e-6],
      ['sigmoid', 2e-6],
      ['log', 2e-6],
      ['sqrt', 2e-6],
      ['reciprocal', 2e-6],
    ] as const;
    await fc.assert(
      fc.asyncProperty(
        shapeArb(0, 4).chain((s) => fc.tuple(fc.constant(s), layoutArb(s.length))),
        async ([shape, layout]) => {
          for (const [op, rtol] of floatOps) {
            const positive = op === 'log' || op === 'sqrt' || op === 'reciprocal';
            const x = pair('float32', shape, layout, (n) => values('float32', n, 3, positive));
            const y = out('float32', shape);
            cpu.unary({ op }, { x: x.cpu, out: y.cpu });
            gpu!.unary({ op }, { x: x.gpu, out: y.gpu });
            await same(op, y, rtol, 1e-7);
            free(x, y);
          }
          for (const spec of [
            { op: 'clamp', params: [-1, 0.5] },
            { op: 'affine', params: [3, -0.25] },
          ] as const) {
            for (const dtype of ['float32', 'int32'] as const) {
              const x = pair(dtype, shape, layout);
              const y = out(dtype, shape, 3);
              cpu.unary(spec, { x: x.cpu, out: y.cpu });
              gpu!.unary(spec, { x: x.gpu, out: y.gpu });
              await same(`${spec.op} ${dtype}`, y, 2e-7);
              free(x, y);
            }
          }
          for (const op of ['neg', 'abs', 'sign', 'relu', 'step', 'square'] as const) {
            const x = pair('int32', shape, layout, (n) => values('int32', n, 1000));
            const y = out('int32', shape);
            cpu.unary({ op }, { x: x.cpu, out: y.cpu });
            gpu!.unary({ op }, { x: x.gpu, out: y.gpu });
            await same(`${op} int32`, y);
            free(x, y);
          }
        },
      ),
      params,
    );
  });

  it('binary ops with broadcasting, in place, and int32', async () => {
    const ops = [
      ['add', 2e-7],
      ['sub', 2e-7],
      ['mul', 2e-7],
      ['div', 2e-6],
      ['pow', 2e-6],
      ['max', 0],
      ['min', 0],
      ['gt', 0],
      ['ge', 0],
      ['lt', 0],
      ['le', 0],
      ['eq', 0],
    ] as const;
    const arb = shapeArb(1, 4).chain((s) =>
      fc.tuple(fc.constant(s), layoutArb(s.length), layoutArb(s.length)),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([shape, la, lb]) => {
        for (const [op, rtol] of ops) {
          for (const dtype of op === 'pow' ? (['float32'] as const) : (['float32', 'int32'] as const)) {
            const positive = op === 'pow' || op === 'div';
            const a = pair(dtype, shape, la, (n) => values(dtype, n, 3, positive));
            const b = pair(dtype, shape, lb, (n) => values(dtype, n, 2, positive));
            const y = out(dtype, shape, 1);
            cpu.binary(op, { a: a.cpu, b: b.cpu, out: y.cpu });
            gpu!.binary(op, { a: a.gpu, b: b.gpu, out: y.gpu });
            await same(`${op} ${dtype}`, y, rtol, 1e-7);
            free(a, b, y);
          }
        }
        // out aliasing a: the in-place form used for gradient accumulation.
        const a = pair('float32', shape);
        const b = pair('float32', shape, lb);
        cpu.binary('add', { a: a.cpu, b: b.cpu, out: a.cpu });
        gpu!.binary('add', { a: a.gpu, b: b.gpu, out: a.gpu });
        await same('add in place', a, 2e-7);
        free(a, b);
      }),
      params,
    );
  });

  it('where, copy with casts into strided views, fill', async () => {
    const arb = shapeArb(0, 4).chain((s) =>
      fc.tuple(fc.constant(s), layoutArb(s.length), layoutArb(s.length, false)),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([shape, lx, lout]) => {
        for (const ct of ['float32', 'int32'] as const) {
          const c = pair(ct, shape, lx, (n) => values(ct, n, 1));
          const a = pair('float32', shape, lx);
          const b = pair('float32', shape);
          const y = out('float32', shape);
          cpu.where({ cond: c.cpu, a: a.cpu, b: b.cpu, out: y.cpu });
          gpu!.where({ cond: c.gpu, a: a.gpu, b: b.gpu, out: y.gpu });
          await same(`where (${ct} condition)`, y);
          free(c, a, b, y);
        }
        for (const [from, to] of [
          ['float32', 'int32'],
          ['int32', 'float32'],
          ['float32', 'float32'],
          ['int32', 'int32'],
        ] as const) {
          const x = pair(from, shape, lx, (n) => values(from, n, 100));
          const y = pair(to, shape, lout, (n) => values(to, n, 1));
          cpu.copy({ x: x.cpu, out: y.cpu });
          gpu!.copy({ x: x.gpu, out: y.gpu });
          await same(`copy ${from} -> ${to}`, y);
          free(x, y);
        }
        for (const [dtype, value] of [
          ['float32', -1.25],
          ['int32', 2 ** 25 + 1],
        ] as const) {
          const y = pair(dtype, shape, lout);
          cpu.fill({ out: y.cpu }, value);
          gpu!.fill({ out: y.gpu }, value);
          await same(`fill ${dtype}`, y);
          free(y);
        }
      }),
      params,
    );
  });

  it('reductions over any axes (thread and workgroup modes), arg ops on one axis', async () => {
    const arb = fc
      .tuple(shapeArb(1, 4), fc.integer({ min: 0, max: 2 }))
      .map(([s, long]) => (long ? [...s.slice(0, -1), [70, 300][long - 1]!] : s))
      .chain((s) =>
        fc.tuple(
          fc.constant(s),
          layoutArb(s.length),
          fc.subarray([...s.keys()], { minLength: 1 }),
          fc.nat(s.length - 1),
        ),
      );
    await fc.assert(
      fc.asyncProperty(arb, async ([shape, layout, axes, argAxis]) => {
        for (const dtype of ['float32', 'int32'] as const) {
          const x = pair(dtype, shape, layout);
          const count = axes.reduce((n, d) => n * shape[d]!, 1);
          for (const op of ['sum', 'max', 'min'] as const) {
            const y = out(
              dtype,
              shape.map((d, i) => (axes.includes(i) ? 1 : d)),
            );
            cpu.reduce(op, { x: x.cpu, out: y.cpu }, axes);
            gpu!.reduce(op, { x: x.gpu, out: y.gpu }, axes);
            const tol = op === 'sum' && dtype === 'float32' ? 2e-7 * count * count * maxAbs(x.cpu) : 0;
            await same(`${op} ${dtype} over [${axes}]`, y, 0, tol);
            free(y);
          }
          for (const op of ['argmax', 'argmin'] as const) {
            const y = out(
              'int32',
              shape.map((d, i) => (i === argAxis ? 1 : d)),
            );
            cpu.reduce(op, { x: x.cpu, out: y.cpu }, [argAxis]);
            gpu!.reduce(op, { x: x.gpu, out: y.gpu }, [argAxis]);
            await same(`${op} ${dtype} over ${argAxis}`, y);
            free(y);
          }
          free(x);
        }
      }),
      params,
    );
  });

  it('softmax and logSoftmax over rows short and long', async () => {
    const arb = fc.tuple(
      fc.integer({ min: 1, max: 9 }),
      fc.constantFrom(1, 2, 5, 65, 300),
      fc.nat(3),
      fc.boolean(),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([rows, n, offset, log]) => {
        const x = pair('float32', [rows, n], { ...dense(2), offset }, (k) => values('float32', k, 10));
        const y = out('float32', [rows, n], 2);
        cpu.softmax({ x: x.cpu, out: y.cpu }, log);
        gpu!.softmax({ x: x.gpu, out: y.gpu }, log);
        // exp rounding (2e-6) plus the normaliser's length-dependent sum; log-softmax errors are absolute (~|lse|).
        await same(log ? 'logSoftmax' : 'softmax', y, 2e-6 + 2e-7 * n, log ? 1e-5 : 1e-7);
        free(x, y);
      }),
      params,
    );
  });
});
