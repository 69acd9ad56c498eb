import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DeviceName, type Tensor, WebrnnError, fromData, manualSeed, nn } from '@webrnn/rnn';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * A bad word index (LookupTable) or target class (ClassNLLCriterion, CrossEntropyCriterion) raises on every device
 * with one message: the CPU in forward, WebGPU at the next read (device-side errors), after which the error is
 * cleared. On WebGPU nothing goes through the bad index: its output row is NaN, and neither its gradient nor the
 * parameter update touches any row of the weight.
 */
const gpu = await webgpuForFile('index errors');
const params = { numRuns: 10, seed: Number(process.env.WEBRNN_FC_SEED ?? 20261204) };
const devices = (): DeviceName[] => (gpu ? ['cpu', 'webgpu'] : ['cpu']);

async function failure(run: () => unknown): Promise<Error | null> {
  try {
    await run();
  } catch (e) {
    expect(e).toBeInstanceOf(WebrnnError);
    return e as Error;
  }
  return null;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Coordinates of flat position `p` in `shape`. */
function coords(p: number, shape: readonly number[]): number[] {
  const c: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    c.unshift(p % shape[d]!);
    p = Math.floor(p / shape[d]!);
  }
  return c;
}

const lookupArb = fc
  .record({
    nIndex: fc.integer({ min: 1, max: 6 }),
    shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 2 }),
    at: fc.nat(100),
    tooLarge: fc.boolean(),
    over: fc.nat(90),
    seed: fc.nat(100),
  })
  .map((c) => {
    const size = c.shape.reduce((a, b) => a * b, 1);
    const position = c.at % size;
    const bad = c.tooLarge ? c.nIndex + c.over : -1 - (c.over % 3);
    const values = Int32Array.from({ length: size }, (_, i) =>
      i === position ? bad : (c.seed + i) % c.nIndex,
    );
    return { ...c, size, position, bad, values };
  });

describe('LookupTable with an index out of range', () => {
  it('forward raises the same message on both devices (WebGPU at the next read; the bad row reads NaN)', async () => {
    await fc.assert(
      fc.asyncProperty(lookupArb, async (c) => {
        const message = `nn.LookupTable: input: index ${c.bad} at position ${fmt(coords(c.position, c.shape))} is out of range for nIndex ${c.nIndex} (expected 0 <= index < ${c.nIndex})`;
        for (const device of devices()) {
          manualSeed(c.seed);
          const m = new nn.LookupTable(c.nIndex, 3).to(device);
          const idx = fromData(c.values, c.shape, { dtype: 'int32', device });
          if (device === 'cpu') {
            expect((await failure(() => m.forward(idx)))?.message).toBe(message);
          } else {
            const out = m.forward(idx) as Tensor;
            expect((await failure(() => out.data()))?.message).toBe(message);
            const rows = await out.data();
            const w = await m.weight.data();
            for (let i = 0; i < c.size; i++) {
              for (let k = 0; k < 3; k++) {
                const want = i === c.position ? Number.NaN : w[c.values[i]! * 3 + k]!;
                expect(rows[i * 3 + k]).toEqual(want);
              }
            }
          }
          idx.dispose();
        }
      }),
      params,
    );
  });

  it.skipIf(!gpu)(
    'on WebGPU, backward and updateParameters train only the rows of the valid indices',
    async () => {
      const nIndex = 4;
      const lr = 0.5;
      manualSeed(3);
      const m = new nn.LookupTable(nIndex, 2).to('webgpu');
      const w0 = Array.from(await m.weight.data());
      // Index 100 would have trained row 3 when indices were clamped.
      const idx = fromData(new Int32Array([1, 100, 1, 0]), [4], { dtype: 'int32', device: 'webgpu' });
      const gradOut = fromData(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), [4, 2], { device: 'webgpu' });
      m.zeroGradParameters();
      m.forward(idx);
      m.backward(idx, gradOut);
      m.updateParameters(lr);
      const message =
        'nn.LookupTable: input: index 100 at position [1] is out of range for nIndex 4 (expected 0 <= index < 4)';
      expect((await failure(() => m.weight.data()))?.message).toBe(message);
      // Row 1 gets gradOut rows 0 and 2, row 0 gets row 3; rows 2 and 3 are untouched.
      const grad = [7, 8, 1 + 5, 2 + 6, 0, 0, 0, 0];
      expect(Array.from(await m.gradWeight.data())).toEqual(grad);
      const w = Array.from(await m.weight.data());
      w.forEach((v, i) => expect(v).toBeCloseTo(w0[i]! - lr * grad[i]!, 5));
      idx.dispose();
      gradOut.dispose();
    },
  );
});

describe('ClassNLLCriterion and CrossEntropyCriterion with a target out of range', () => {
  it('raise the same message on both devices, the CPU in forward, WebGPU at the next read', async () => {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 5 }),
      classes: fc.integer({ min: 2, max: 6 }),
      at: fc.nat(100),
      tooLarge: fc.boolean(),
      over: fc.nat(3),
      cross: fc.boolean(),
      weighted: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const position = c.at % c.n;
        // -100 is the ignore index: a bad target is any other negative value, or C and beyond.
        const bad = c.tooLarge ? c.classes + c.over : -1 - c.over;
        const targets = Int32Array.from({ length: c.n }, (_, i) => (i === position ? bad : i % c.classes));
        const name = c.cross ? 'nn.CrossEntropyCriterion' : 'nn.ClassNLLCriterion';
        const reason = `target: class ${bad} at position ${position} is out of range for ${c.classes} classes (expected 0 <= class < ${c.classes})`;
        for (const device of devices()) {
          const weights = c.weighted
            ? fromData(
                Float32Array.from({ length: c.classes }, (_, i) => i + 1),
                [c.classes],
                { device },
              )
            : null;
          const crit = c.cross ? new nn.CrossEntropyCriterion(weights) : new nn.ClassNLLCriterion(weights);
          const scores = fromData(
            Float32Array.from({ length: c.n * c.classes }, (_, i) => -((i % 7) + 1) / 4),
            [c.n, c.classes],
            { device },
          );
          const target = fromData(targets, [c.n], { dtype: 'int32', device });
          if (device === 'cpu') {
            expect((await failure(() => crit.forward(scores, target)))?.message).toBe(`${name}: ${reason}`);
          } else {
            const loss = crit.forward(scores, target);
            expect((await failure(() => loss.data()))?.message).toBe(`${name}: ${reason}`);
            await loss.data(); // cleared
          }
          for (const t of [scores, target, weights]) t?.dispose();
        }
      }),
      params,
    );
  });
});
