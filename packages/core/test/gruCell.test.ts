import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';
import {
  type DType,
  type Tensor,
  add,
  affine,
  gradcheck,
  gruCell,
  manualSeed,
  matmul,
  memory,
  mul,
  narrow,
  noGrad,
  randn,
  sigmoid,
  tanh,
  tidy,
  vjp,
} from '@webrnn/core';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * The fused GRU cell (Torch7's: reset gate before the recurrent product) against the same cell written with
 * separate ops, forward and every gradient; central differences in float64; bad input; WebGPU against the CPU
 * (skipped with one line without an adapter, failing then when WEBRNN_REQUIRE_WEBGPU=1); memory.
 */

const f64 = { dtype: 'float64' as const };

/** The cell written with separate ops: the reference the fused op must match. */
function composed(gates: Tensor, xc: Tensor, hPrev: Tensor, uc: Tensor, transU: boolean): Tensor {
  const H = hPrev.shape[1]!;
  const r = sigmoid(narrow(gates, 1, 0, H));
  const u = sigmoid(narrow(gates, 1, H, H));
  const hc = tanh(add(xc, matmul(mul(r, hPrev), uc, { transB: transU })));
  return add(mul(affine(u, -1, 1), hc), mul(u, hPrev));
}

/** Operands as GRU layers make them: gates and xc are narrowed from one [N, 3H] projection; hPrev is a transpose. */
function operands(N: number, H: number, dtype: DType, scale = 1) {
  const leaves = tidy(() => [
    randn([N, 3 * H], { dtype }).mul(scale),
    randn([H, N], { dtype }).tanh(),
    randn([H, H], { dtype }).mul(scale / Math.sqrt(H)),
  ]);
  const [proj, hT, uc] = leaves as [Tensor, Tensor, Tensor];
  const views = () => [narrow(proj, 1, 0, 2 * H), narrow(proj, 1, 2 * H, H), hT.t(), uc] as const;
  return { leaves, views };
}

function expectClose(
  name: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  rtol: number,
  atol: number,
) {
  expect(got.length, name).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = atol + rtol * Math.abs(want[i]!);
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) {
      throw new Error(`${name}: element ${i} is ${got[i]}, expected ${want[i]} (tolerance ${tol})`);
    }
  }
}

describe('gruCell (fused)', () => {
  it('equals the composed ops, forward and every gradient (random shapes, dtypes, layouts, needed inputs)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom<DType>('float32', 'float64'),
        fc.boolean(),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 0, max: 1e6 }),
        (N, H, dtype, transU, wants, seed) =>
          tidy(() => {
            manualSeed(seed);
            const { leaves, views } = operands(N, H, dtype, 2);
            // Leaves that require grad: the projection (gates and xc), hPrev, uc; at least one.
            if (!wants.some(Boolean)) wants[2] = true;
            leaves.forEach((t, i) => wants[i] && t.requiresGrad_());
            const seedGrad = randn([N, H], { dtype });
            // Separate views for each, so that each vjp has its own graph to consume.
            const h1 = gruCell(...views(), { transU });
            const [g, xc, hPrev, uc] = views();
            const h2 = composed(g, xc, hPrev, uc, transU);
            const [rtol, atol] = dtype === 'float64' ? [1e-12, 1e-13] : [1e-5, 1e-6];
            expectClose('h', h1.dataSync(), h2.dataSync(), rtol, atol);
            const req = leaves.filter((t) => t.requiresGrad);
            const g1 = vjp([h1], [seedGrad], req);
            const g2 = vjp([h2], [seedGrad], req);
            g1.forEach((gr, k) => {
              expect(gr?.shape).toEqual(req[k]!.shape);
              expectClose(`grad ${k}`, gr!.dataSync(), g2[k]!.dataSync(), rtol, atol);
            });
          }),
      ),
      { numRuns: 30 },
    );
  });

  it('passes gradcheck in float64 (N = H = 1 included, both weight layouts)', () => {
    for (const [N, H] of [
      [1, 1],
      [3, 2],
      [2, 4],
    ] as const) {
      for (const transU of [false, true]) {
        manualSeed(N * 7 + H);
        const g = randn([N, 2 * H], f64).requiresGrad_();
        const xc = randn([N, H], f64).requiresGrad_();
        const hPrev = randn([N, H], f64).requiresGrad_();
        const uc = randn([H, H], f64).requiresGrad_();
        expect(gradcheck((a, b, c, d) => gruCell(a!, b!, c!, d!, { transU }), [g, xc, hPrev, uc])).toBe(true);
      }
    }
  });

  it('is the identity when the update gate is saturated open, and forgets hPrev when closed and r = 0', () => {
    const [N, H] = [2, 3];
    const hPrev = randn([N, H]);
    const uc = randn([H, H]);
    const xc = randn([N, H]);
    const open = core.cat([core.zeros([N, H]), core.full([N, H], 100)], 1);
    expectClose('h', gruCell(open, xc, hPrev, uc).dataSync(), hPrev.dataSync(), 1e-7, 0);
    const shut = core.full([N, 2 * H], -100);
    expectClose('h', gruCell(shut, xc, hPrev, uc).dataSync(), tanh(xc).dataSync(), 1e-6, 1e-7);
  });

  it('rejects bad shapes and dtypes, naming the op and what it got', () => {
    const [g, xc, h, u] = [randn([2, 6]), randn([2, 3]), randn([2, 3]), randn([3, 3])];
    const msg =
      'gruCell: expected gatesRU [N, 2H], xc [N, H], hPrev [N, H] and uc [H, H]; got gatesRU [2, 6], ' +
      'xc [2, 3], hPrev [2, 3] and uc [3, 2]';
    expect(() => gruCell(g, xc, h, randn([3, 2]))).toThrow(msg);
    expect(() => gruCell(randn([2, 8]), xc, h, u)).toThrow(/got gatesRU \[2, 8\]/);
    expect(() => gruCell(g, randn([1, 3]), h, u)).toThrow(/xc \[1, 3\]/);
    expect(() => gruCell(g, xc, randn([3]), u)).toThrow(/hPrev \[3\]/);
    expect(() => gruCell(g, xc, randn([1, 2, 3]), u)).toThrow(/hPrev \[1, 2, 3\]/);
    expect(() => gruCell(g, xc, h, randn([3, 3], f64))).toThrow(
      'gruCell: dtype mismatch: float32 and float64',
    );
    const i32 = { dtype: 'int32' as const };
    expect(() =>
      gruCell(
        core.zeros([2, 6], i32),
        core.zeros([2, 3], i32),
        core.zeros([2, 3], i32),
        core.zeros([3, 3], i32),
      ),
    ).toThrow('gruCell: gatesRU has dtype int32, expected float32 or float64');
    const dead = randn([2, 3]);
    dead.dispose();
    expect(() => gruCell(g, xc, dead, u)).toThrow(/gruCell/);
  });
});

describe('gruCell memory', () => {
  const snapshot = () => {
    const m = memory();
    return { tensors: m.tensors, storages: m.storages, bytes: m.bytes, buffers: m.cpu.liveBuffers };
  };

  it('training-like steps, forward-only steps and unused graphs leak nothing', () => {
    manualSeed(5);
    const { leaves, views } = operands(3, 4, 'float64');
    for (const t of leaves) t.requiresGrad_();
    const step = () =>
      tidy(() => {
        const [g, xc, hPrev, uc] = views();
        let h = hPrev;
        for (let t = 0; t < 3; t++) h = gruCell(g, xc, h, uc, { transU: t % 2 === 1 });
        core.sum(h).backward();
      });
    step();
    for (const t of leaves) t.zeroGrad();
    const m0 = snapshot();
    for (let i = 0; i < 20; i++) {
      step();
      for (const t of leaves) t.zeroGrad();
    }
    expect(snapshot(), 'training steps').toEqual(m0);
    noGrad(() =>
      tidy(() => {
        gruCell(...views());
      }),
    );
    expect(snapshot(), 'forward only').toEqual(m0);
    // A graph never backpropagated is freed with its output.
    const [g, xc, hPrev, uc] = views();
    gruCell(g, xc, hPrev, uc).dispose();
    for (const t of [g, xc, hPrev]) t.dispose();
    expect(snapshot()).toEqual(m0);
    for (const t of leaves) t.dispose();
  });
});

const gpu = await webgpuForFile('gruCell');

describe('gruCell on WebGPU against the CPU', () => {
  it.skipIf(!gpu)(
    'forward and every gradient agree, strided operands, both weight layouts, size-1 dims',
    async () => {
      // `shared`: hPrev is a view of the projection's buffer too (one buffer bound twice, read-only).
      for (const [N, H, transU, shared] of [
        [1, 1, false, false],
        [3, 5, true, false],
        [4, 2, false, true],
        [2, 7, true, true],
      ] as const) {
        manualSeed(N * 31 + H);
        const { leaves } = operands(N, H, 'float32', 2);
        const seedGrad = randn([N, H]);
        // Each gradient is read before leaving the helper; its results are host arrays.
        const run = async (device: 'cpu' | 'webgpu') => {
          const ls = leaves.map((t) => t.to(device).requiresGrad_());
          const [proj, hT, uc] = ls as [Tensor, Tensor, Tensor];
          const hPrev = shared ? narrow(proj, 1, H, H) : hT.t();
          const h = gruCell(narrow(proj, 1, 0, 2 * H), narrow(proj, 1, 2 * H, H), hPrev, uc, { transU });
          const grads = vjp([h], [seedGrad.to(device)], shared ? [proj, uc] : ls);
          return Promise.all([h, ...grads].map((t) => t!.data()));
        };
        const want = await run('cpu');
        const got = await run('webgpu');
        // exp/tanh are a few ulp off in WGSL; gradients through the [H, H] matmul add one rounding per term.
        expect(got.length).toBe(shared ? 3 : 4);
        ['h', 'grad proj', ...(shared ? [] : ['grad hPrev']), 'grad uc'].forEach((name, k) =>
          expectClose(`${name} N=${N} H=${H}`, got[k]!, want[k]!, 1e-4, 1e-5 * (H + 1)),
        );
      }
    },
  );

  it.skipIf(!gpu)('leaves live buffers flat over training-like steps', async () => {
    manualSeed(2);
    const dev = { device: 'webgpu' as const };
    const proj = randn([3, 12], dev).requiresGrad_();
    const uc = randn([4, 4], dev).requiresGrad_();
    const h0 = randn([3, 4], dev);
    const step = () =>
      tidy(() => {
        const h = gruCell(narrow(proj, 1, 0, 8), narrow(proj, 1, 8, 4), h0, uc);
        core.sum(gruCell(narrow(proj, 1, 0, 8), narrow(proj, 1, 8, 4), h, uc, { transU: true })).backward();
        proj.zeroGrad();
        uc.zeroGrad();
      });
    step();
    await proj.data();
    const live = memory().webgpu!.liveBuffers;
    for (let i = 0; i < 10; i++) step();
    await uc.data();
    expect(memory().webgpu!.liveBuffers).toBe(live);
    for (const t of [proj, uc, h0]) t.dispose();
  });
});
