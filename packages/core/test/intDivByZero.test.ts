import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import { type DeviceName, type Tensor, WebrnnError, fromData } from '@webrnn/core';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * int32 division by zero raises (as PyTorch does) on every device with one message: the CPU at the call, WebGPU
 * at the next read, through the device-side error status. WGSL alone would give the dividend and the CPU's typed
 * array 0: two different silent answers.
 */
const gpu = await webgpuForFile('int32 division');

const params = { numRuns: 15, seed: Number(process.env.WEBRNN_FC_SEED ?? 20261204) };
const devices = (): DeviceName[] => (gpu ? ['cpu', 'webgpu'] : ['cpu']);
const MESSAGE = 'div: integer division by zero (an int32 divisor is 0)';

async function failure(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (e) {
    return e;
  }
  return null;
}

/** `run` raises MESSAGE: at the call on the CPU, at the next read on WebGPU (then cleared). */
async function raises(device: DeviceName, run: () => Tensor, read: (y: Tensor) => Promise<unknown>) {
  if (device === 'cpu') {
    const e = await failure(run);
    expect(e).toBeInstanceOf(WebrnnError);
    expect((e as Error).message).toBe(MESSAGE);
    return;
  }
  const y = run();
  const e = await failure(() => read(y));
  expect(e).toBeInstanceOf(WebrnnError);
  expect((e as Error).message).toBe(MESSAGE);
  await read(y); // cleared: the next read succeeds
}

const ints = (n: number, seed: number, zeroAt = -1) =>
  Int32Array.from({ length: n }, (_, i) => {
    if (i === zeroAt) return 0;
    const v = ((seed + i * 37) % 19) - 9;
    return v === 0 ? 5 : v;
  });

describe('int32 division by zero', () => {
  it('div raises with one zero divisor anywhere (broadcast or not); a valid division truncates alike', async () => {
    const arb = fc.record({
      m: fc.integer({ min: 1, max: 5 }),
      n: fc.integer({ min: 1, max: 5 }),
      broadcastRow: fc.boolean(),
      seed: fc.nat(1000),
      at: fc.nat(100),
      readOther: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const bShape = c.broadcastRow ? [c.n] : [c.m, c.n];
        const bSize = c.broadcastRow ? c.n : c.m * c.n;
        const quotients: number[][] = [];
        for (const device of devices()) {
          const a = fromData(ints(c.m * c.n, c.seed), [c.m, c.n], { dtype: 'int32', device });
          const good = fromData(ints(bSize, c.seed + 3), bShape, { dtype: 'int32', device });
          const q = core.div(a, good);
          quotients.push(Array.from(await q.data()));
          const bad = fromData(ints(bSize, c.seed + 3, c.at % bSize), bShape, { dtype: 'int32', device });
          await raises(
            device,
            () => core.div(a, bad),
            (y) => (c.readOther ? a.data() : y.data()),
          );
          for (const t of [a, good, q, bad]) t.dispose();
        }
        // Truncation toward zero on both devices (and the CPU's is JS's).
        const a0 = ints(c.m * c.n, c.seed);
        const b0 = ints(bSize, c.seed + 3);
        expect(quotients[0]).toEqual(
          Array.from(a0, (v, i) => Math.trunc(v / b0[c.broadcastRow ? i % c.n : i]!) | 0),
        );
        if (quotients[1]) expect(quotients[1]).toEqual(quotients[0]);
      }),
      params,
    );
  });

  it('div by the number 0 (refused at the call on every device), and div_ in place: the CPU leaves the target as it was', async () => {
    for (const device of devices()) {
      const a = fromData(new Int32Array([7, -8, 9]), [3], { dtype: 'int32', device });
      // The divisor is known on the host: no device needs to run anything to find it.
      await raises(
        'cpu',
        () => core.div(a, 0),
        (y) => y.data(),
      );
      const target = fromData(new Int32Array([7, -8, 9]), [3], { dtype: 'int32', device });
      const divisor = fromData(new Int32Array([2, 0, 3]), [3], { dtype: 'int32', device });
      await raises(
        device,
        () => target.div_(divisor),
        (y) => y.data(),
      );
      if (device === 'cpu') expect(Array.from(target.dataSync())).toEqual([7, -8, 9]);
      for (const t of [a, target, divisor]) t.dispose();
    }
  });

  it('float division by zero does not raise: it gives +-Inf', async () => {
    for (const device of devices()) {
      const a = fromData(new Float32Array([1, -1]), [2], { device });
      const b = fromData(new Float32Array([0, 0]), [2], { device });
      const q = core.div(a, b);
      expect(Array.from(await q.data())).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
      for (const t of [a, b, q]) t.dispose();
    }
  });
});
