import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { type DeviceName, type Tensor, WebrnnError, fromData, tidy } from '@webrnn/core';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * Out-of-range indices raise on every device with the same message (device-side errors on WebGPU): each property
 * puts one bad index (negative, or >= the axis size) at a random position of a random index and checks that the
 * CPU throws at the call, WebGPU at the next read (of the result, or of an unrelated tensor), that the error is
 * then cleared, and that nothing went through the bad index.
 */
const gpu = await webgpuForFile('index errors');

const params = { numRuns: 12, seed: Number(process.env.WEBRNN_FC_SEED ?? 20261204) };
const devices = (): DeviceName[] => (gpu ? ['cpu', 'webgpu'] : ['cpu']);

/** The message of the WebrnnError `run` throws (failing the test if it does not). */
function thrown(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(WebrnnError);
    return (e as Error).message;
  }
  throw new Error('expected a WebrnnError, nothing was thrown');
}

async function rejected(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WebrnnError);
    return (e as Error).message;
  }
  throw new Error('expected the read to throw a WebrnnError, it succeeded');
}

/**
 * On the CPU, `run` throws `message` at the call. On WebGPU it records the launch and returns its result; the
 * next read throws `message` (a read of the result, or of an unrelated tensor made afterwards), and the read after
 * that succeeds. Returns the WebGPU result (null on the CPU) for further checks, once the error is cleared.
 */
async function raises(
  device: DeviceName,
  run: () => Tensor,
  message: string,
  readUnrelated: boolean,
): Promise<Tensor | null> {
  if (device === 'cpu') {
    expect(thrown(run)).toBe(message);
    return null;
  }
  const y = run();
  const other = fromData(new Float32Array([1, 2, 3]), [3], { device: 'webgpu' });
  expect(await rejected(readUnrelated ? other.data() : y.data())).toBe(message);
  expect(Array.from(await other.data())).toEqual([1, 2, 3]);
  other.dispose();
  return y;
}

/** A random index case: x's shape, the axis, the index's shape (no larger off the axis), a bad value and where. */
const caseArb = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
  .chain((xShape) =>
    fc.record({
      xShape: fc.constant(xShape),
      axis: fc.nat(xShape.length - 1),
      idxShape: fc.tuple(...xShape.map((d) => fc.integer({ min: 1, max: d + 1 }))),
      seed: fc.nat(1000),
      tooLarge: fc.boolean(),
      over: fc.nat(3),
      at: fc.nat(10000),
      transposed: fc.boolean(),
      readUnrelated: fc.boolean(),
    }),
  )
  .map((c) => {
    // Off the axis the index may not be larger than x; along it, any length.
    const idxShape = c.idxShape.map((d, i) => (i === c.axis ? d : Math.min(d, c.xShape[i]!)));
    const n = c.xShape[c.axis]!;
    const size = idxShape.reduce((a, b) => a * b, 1);
    const values = Int32Array.from({ length: size }, (_, i) => (c.seed * 7 + i * 5) % n);
    const position = c.at % size;
    const bad = c.tooLarge ? n + c.over : -1 - c.over;
    values[position] = bad;
    return { ...c, idxShape, n, values, position, bad };
  });

/** The index as given: dense, or (rank >= 2) the same values through a transposed view. */
function indexOn(
  device: DeviceName,
  values: Int32Array,
  shape: readonly number[],
  transposed: boolean,
): Tensor {
  const dense = fromData(values, shape, { dtype: 'int32', device });
  if (!transposed || shape.length < 2) return dense;
  const t = core.transpose(core.contiguous(core.transpose(dense)));
  dense.dispose();
  return t;
}

const xOn = (device: DeviceName, shape: readonly number[], dtype: 'float32' | 'int32' = 'float32') =>
  fromData(
    dtype === 'int32'
      ? Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 3 - 4)
      : // Quarters: sums of them and small integers are exact in f32, whatever order the atomics add in.
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (((i * 7) % 11) - 5) / 4),
    shape,
    { dtype, device },
  );

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;
const rangeMessage = (
  op: string,
  c: { bad: number; position: number; axis: number; xShape: number[]; n: number },
) =>
  `${op}: index ${c.bad} at position ${c.position} is out of range for axis ${c.axis} of shape ${fmt(c.xShape)} (expected 0 <= index < ${c.n})`;

describe('an index out of range raises on every device with one message', () => {
  it('gather: at the call on the CPU, at the next read on WebGPU; the bad element reads NaN (0 for int32)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.boolean(), async (c, int) => {
        const dtype = int ? 'int32' : 'float32';
        const message = rangeMessage('gather', c);
        // The CPU's gather over the same index with the bad entry replaced by 0: what WebGPU's other elements hold.
        const fixed = Int32Array.from(c.values, (v, i) => (i === c.position ? 0 : v));
        const want = tidy(() =>
          core.gather(xOn('cpu', c.xShape, dtype), c.axis, indexOn('cpu', fixed, c.idxShape, false)),
        );
        for (const device of devices()) {
          const x = xOn(device, c.xShape, dtype);
          const index = indexOn(device, c.values, c.idxShape, c.transposed);
          const y = await raises(device, () => core.gather(x, c.axis, index), message, c.readUnrelated);
          if (y) {
            const got = await y.data();
            const expected = Array.from(want.dataSync(), (v, i) =>
              i === c.position ? (int ? 0 : Number.NaN) : v,
            );
            expect(Array.from(got)).toEqual(expected);
            y.dispose();
          }
          x.dispose();
          index.dispose();
        }
        want.dispose();
      }),
      params,
    );
  });

  it('indexSelect: the position is the one in its 1-D index', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const len = c.idxShape[c.axis]!;
        const values = Int32Array.from({ length: len }, (_, i) => (c.seed + i * 3) % c.n);
        const position = c.at % len;
        values[position] = c.bad;
        const message = rangeMessage('indexSelect', { ...c, position });
        for (const device of devices()) {
          const x = xOn(device, c.xShape);
          const index = fromData(values, [len], { dtype: 'int32', device });
          const y = await raises(device, () => core.indexSelect(x, c.axis, index), message, c.readUnrelated);
          y?.dispose();
          x.dispose();
          index.dispose();
        }
      }),
      params,
    );
  });

  for (const method of ['loop', 'atomic'] as const) {
    it(`scatterAdd (${method} kernel on WebGPU): nothing is added through the bad index`, async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, fc.boolean(), async (c, int) => {
          const dtype = int ? 'int32' : 'float32';
          const message = rangeMessage('scatterAdd', c);
          // What the other entries add: the CPU's scatter with the bad entry sent to 0 and its source zeroed.
          const srcValues = (skip: boolean) =>
            Float32Array.from({ length: c.values.length }, (_, i) => (skip && i === c.position ? 0 : i + 1));
          const fixed = Int32Array.from(c.values, (v, i) => (i === c.position ? 0 : v));
          const want = tidy(() =>
            core.scatterAdd(
              xOn('cpu', c.xShape, dtype),
              c.axis,
              indexOn('cpu', fixed, c.idxShape, false),
              core.cast(fromData(srcValues(true), c.idxShape), dtype),
            ),
          );
          for (const device of devices()) {
            if (gpu) gpu!.scatterMethod = method;
            const x = xOn(device, c.xShape, dtype);
            const index = indexOn(device, c.values, c.idxShape, c.transposed);
            const src = core.cast(fromData(srcValues(false), c.idxShape, { device }), dtype);
            const y = await raises(
              device,
              () => core.scatterAdd(x, c.axis, index, src),
              message,
              c.readUnrelated,
            );
            if (y) {
              expect(Array.from(await y.data())).toEqual(Array.from(want.dataSync()));
              y.dispose();
            }
            // The input is never written (scatterAdd is out of place), whichever device raised.
            const x0 = xOn('cpu', c.xShape, dtype);
            expect(Array.from(await x.data())).toEqual(Array.from(x0.dataSync()));
            for (const t of [x, x0, index, src]) t.dispose();
          }
          want.dispose();
        }),
        params,
      );
      if (gpu) gpu!.scatterMethod = 'auto';
    });
  }

  it.skipIf(!gpu)(
    'gather backward (a scatterAdd) skips a bad index too: the gradient has no contribution from it',
    async () => {
      const x = fromData(new Float32Array([1, 2, 3, 4]), [4], { device: 'webgpu' }).requiresGrad_();
      const index = fromData(new Int32Array([1, 9, 1]), [3], { dtype: 'int32', device: 'webgpu' });
      const y = core.gather(x, 0, index);
      core.sum(y).backward();
      const message =
        'gather: index 9 at position 1 is out of range for axis 0 of shape [4] (expected 0 <= index < 4)';
      expect(await rejected(x.grad!.data())).toBe(message);
      expect(Array.from(await x.grad!.data())).toEqual([0, 2, 0, 0]);
    },
  );

  it('nll and crossEntropy name the target and the classes', async () => {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 5 }),
      classes: fc.integer({ min: 1, max: 6 }),
      at: fc.nat(100),
      tooLarge: fc.boolean(),
      over: fc.nat(3),
      single: fc.boolean(),
      cross: fc.boolean(),
      reduction: fc.constantFrom('mean', 'sum', 'none') as fc.Arbitrary<'mean' | 'sum' | 'none'>,
      readUnrelated: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const op = c.cross ? 'crossEntropy' : 'nll';
        const n = c.single ? 1 : c.n;
        const position = c.at % n;
        const bad = c.tooLarge ? c.classes + c.over : -1 - c.over;
        const targets = Int32Array.from({ length: n }, (_, i) => (i === position ? bad : i % c.classes));
        const message = `${op}: target ${bad} at position ${position} is out of range for ${c.classes} classes (expected 0 <= target < ${c.classes})`;
        for (const device of devices()) {
          const scores = xOn(device, c.single ? [c.classes] : [n, c.classes]);
          const target = c.single
            ? fromData(targets, [], { dtype: 'int32', device })
            : fromData(targets, [n], { dtype: 'int32', device });
          const f = c.cross ? core.crossEntropy : core.nll;
          const y = await raises(device, () => f(scores, target, c.reduction), message, c.readUnrelated);
          y?.dispose();
          scores.dispose();
          target.dispose();
        }
      }),
      params,
    );
  });
});

describe('device-side errors and reads', () => {
  it.skipIf(!gpu)(
    'the first error wins, and one error is thrown by one read only (concurrent reads)',
    async () => {
      const x = xOn('webgpu', [3, 2]);
      const first = fromData(new Int32Array([0, 5]), [2], { dtype: 'int32', device: 'webgpu' });
      const second = fromData(new Int32Array([-1]), [1], { dtype: 'int32', device: 'webgpu' });
      const a = core.indexSelect(x, 0, first);
      const b = core.indexSelect(x, 1, second);
      const settled = await Promise.allSettled([b.data(), a.data(), x.data()]);
      // The first read submitted reports the first launch's error; the later ones find the status cleared.
      expect(settled.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
      expect(((settled[0] as PromiseRejectedResult).reason as Error).message).toBe(
        'indexSelect: index 5 at position 1 is out of range for axis 0 of shape [3, 2] (expected 0 <= index < 3)',
      );
      for (const t of [x, first, second, a, b]) t.dispose();
    },
  );
});

describe('checked kernels at high rank', () => {
  it.skipIf(!gpu)(
    'rank-10 gather and scatterAdd (by both kernels) still fit their uniform slot and raise',
    async () => {
      const shape = [2, 1, 2, 1, 1, 2, 1, 1, 1, 2];
      const values = Int32Array.from({ length: 16 }, (_, i) => i % 2);
      values[11] = 2;
      const message = rangeMessage('gather', { bad: 2, position: 11, axis: 9, xShape: shape, n: 2 });
      const x = xOn('webgpu', shape);
      const index = fromData(values, shape, { dtype: 'int32', device: 'webgpu' });
      await raises('webgpu', () => core.gather(x, 9, index), message, false);
      for (const method of ['loop', 'atomic'] as const) {
        gpu!.scatterMethod = method;
        const y = await raises(
          'webgpu',
          () => core.scatterAdd(x, 9, index, x),
          message.replace('gather', 'scatterAdd'),
          false,
        );
        y!.dispose();
      }
      gpu!.scatterMethod = 'auto';
      x.dispose();
      index.dispose();
    },
  );
});

describe('the host table of launch descriptions', () => {
  it.skipIf(!gpu)(
    'stays bounded over a long loop of valid launches without reads, and empties at a read',
    async () => {
      const w = xOn('webgpu', [10, 4]);
      const idx = fromData(new Int32Array([3, 1, 4, 1, 5]), [5], { dtype: 'int32', device: 'webgpu' });
      const target = fromData(new Int32Array([0, 3, 2, 1, 0]), [5], { dtype: 'int32', device: 'webgpu' });
      let last: Tensor | null = null;
      for (let step = 0; step < 600; step++) {
        last?.dispose();
        last = tidy(() => core.crossEntropy(core.indexSelect(w, 0, idx), target));
      }
      // indexSelect's and crossEntropy's descriptions, interned: one entry each however many launches.
      expect(gpu!.deviceCheckEntries).toBeGreaterThan(0);
      expect(gpu!.deviceCheckEntries).toBeLessThanOrEqual(2);
      const loss = await last!.item();
      expect(Number.isFinite(loss)).toBe(true);
      expect(gpu!.deviceCheckEntries).toBe(0);
      for (const t of [w, idx, target, last!]) t.dispose();
    },
  );
});
