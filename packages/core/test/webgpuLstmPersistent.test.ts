import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type LstmGateOrder,
  type Tensor,
  gt,
  lstmSequence,
  manualSeed,
  memory,
  narrow,
  select,
  rand,
  randn,
  tensor,
  tidy,
  vjp,
} from '@webrnn/core';
import {
  PERSISTENT_LSTM_MAX_WORK,
  PERSISTENT_LSTM_MAX_WORK_SMALL_BATCH,
  type PersistentLstmLimits,
  type PersistentLstmMode,
  persistentLstmPlan,
} from '../src/backends/webgpu/lstmSequence.js';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * lstmSequence's persistent WebGPU forward (kernels' lstmPersistent.ts: one launch for all steps) against the CPU
 * in float64: outputs, cells and, through the per-step backward that runs on its saved activations, every
 * gradient; every variant (mask, projection, gate order, more units than threads) forced, and 'auto' on both
 * sides of the crossover. Tolerance: float32 sums of R products per gate, carried over T steps (atol grows with
 * R and T; the state is bounded by the gates, so the error does not compound).
 */
const gpu = await webgpuForFile('webgpuLstmPersistent');
const f64 = { dtype: 'float64' as const };

afterEach(() => {
  if (gpu) gpu.persistentLstm = 'auto';
});

interface Case {
  T: number;
  N: number;
  H: number;
  R: number | null;
  order: LstmGateOrder;
  masked: boolean;
  /** Read h0 and c0 through views with stride 0 (an expanded zero state) or transposed. */
  stateView: 'dense' | 'expanded' | 'transposed';
  /**
   * wh dense or a view at an offset of 4 floats, rows 4H + 4 apart (read as vec4 when H % 4 == 0), or read by
   * scalars: a transposed view, a view at an offset of one float (not 16-byte aligned, rows 4H + 4 apart), or
   * one whose rows are 4H + 2 floats apart, or one whose units are 2 floats apart (interleaved).
   */
  whView: 'dense' | 'alignedOffset' | 'transposed' | 'offset' | 'rowStride' | 'interleaved';
  seed: number;
}

/** The layer on the CPU (float64) and on WebGPU in `mode`: outputs, cells and gradients; which path WebGPU took. */
async function compare(c: Case, mode: PersistentLstmMode): Promise<boolean> {
  gpu!.persistentLstm = mode;
  const spy = vi.spyOn(gpu!, 'lstmSequence');
  manualSeed(c.seed);
  const r = c.R ?? c.H;
  const gx = randn([c.T, c.N, 4 * c.H], f64);
  const whShape = {
    dense: [r, 4 * c.H],
    transposed: [4 * c.H, r],
    alignedOffset: [r, 4 * c.H + 4],
    offset: [r, 4 * c.H + 4],
    rowStride: [r, 4 * c.H + 2],
    interleaved: [r, 4 * c.H, 2],
  }[c.whView];
  const wh = randn(whShape, f64).mul(1 / Math.sqrt(r));
  const whView = (t: Tensor) =>
    c.whView === 'dense'
      ? t
      : c.whView === 'transposed'
        ? t.t()
        : c.whView === 'interleaved'
          ? select(t, 2, 0)
          : narrow(t, 1, { alignedOffset: 4, offset: 1, rowStride: 0 }[c.whView as 'offset'], 4 * c.H);
  // Bases (the leaves differentiated) and the views of them the op reads, made on each device.
  const h0Base =
    c.stateView === 'expanded'
      ? randn([1, r], f64)
      : c.stateView === 'transposed'
        ? randn([r, c.N], f64)
        : randn([c.N, r], f64);
  const c0Base = c.stateView === 'expanded' ? randn([1, c.H], f64) : randn([c.N, c.H], f64);
  const h0View = (t: Tensor) =>
    c.stateView === 'expanded' ? t.expand([c.N, r]) : c.stateView === 'transposed' ? t.t() : t;
  const c0View = (t: Tensor) => (c.stateView === 'expanded' ? t.expand([c.N, c.H]) : t);
  const wo = c.R === null ? null : randn([c.H, c.R], f64).mul(1 / Math.sqrt(c.H));
  const keep = c.masked ? gt(rand([c.T, c.N, 1], f64), 0.3).cast('float64') : null;
  const gy = randn([c.T, c.N, r], f64);
  const gc = randn([c.T, c.N, c.H], f64);
  const bases = [gx, wh, h0Base, c0Base, ...(wo ? [wo] : [])];
  const run = (d: 'cpu' | 'webgpu') =>
    tidy(() => {
      const on = (t: Tensor) => (d === 'cpu' ? t.detach() : t.cast('float32').to('webgpu'));
      const ins = bases.map((t) => on(t).requiresGrad_());
      const [y, cs] = lstmSequence(ins[0]!, whView(ins[1]!), h0View(ins[2]!), c0View(ins[3]!), {
        order: c.order,
        keep: keep && on(keep),
        projection: ins[4] ?? null,
      });
      return [y, cs, ...vjp([y, cs], [on(gy), on(gc)], ins).map((g) => g!)];
    });
  const want = run('cpu');
  const got = run('webgpu');
  const used = spy.mock.results.some((res) => res.value === true);
  spy.mockRestore();
  const names = ['out', 'cells', 'gx', 'wh', 'h0', 'c0', 'projection'];
  const atol = 2e-5 * (r + c.H) * Math.sqrt(c.T);
  for (let k = 0; k < want.length; k++) {
    const [w, g] = [want[k]!.dataSync(), await got[k]!.data()];
    expect(g.length, names[k]).toBe(w.length);
    let worst = 0;
    for (let i = 0; i < w.length; i++)
      worst = Math.max(worst, Math.abs(w[i]! - g[i]!) / (1 + Math.abs(w[i]!)));
    expect(worst, `${names[k]} of ${JSON.stringify(c)} (${mode})`).toBeLessThan(atol);
  }
  for (const t of [...want, ...got, ...bases, gy, gc, ...(keep ? [keep] : [])]) t.dispose();
  return used;
}

const caseArb = (sizes: { N: [number, number]; H: [number, number] }) =>
  fc.record({
    T: fc.constantFrom(1, 2, 3, 5, 7),
    N: fc.integer({ min: sizes.N[0], max: sizes.N[1] }),
    H: fc.integer({ min: sizes.H[0], max: sizes.H[1] }),
    R: fc.option(fc.integer({ min: 1, max: 9 }), { nil: null }),
    order: fc.constantFrom<LstmGateOrder>('izfo', 'ifog', 'ifgo'),
    masked: fc.boolean(),
    stateView: fc.constantFrom<Case['stateView']>('dense', 'expanded', 'transposed'),
    whView: fc.constantFrom<Case['whView']>('dense', 'transposed'),
    seed: fc.integer({ min: 0, max: 10_000 }),
  });

describe.skipIf(!gpu)('lstmSequence on WebGPU, the persistent forward', () => {
  it('forced on: outputs, cells and gradients equal the CPU (masks, projections, gate orders, state views)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb({ N: [1, 5], H: [1, 40] }), async (c) => {
        expect(await compare(c, 'always'), 'the persistent kernel ran').toBe(true);
      }),
      { numRuns: 15 },
    );
  });

  it('forced off: the per-step path runs and agrees too', async () => {
    const c: Case = {
      T: 3,
      N: 2,
      H: 5,
      R: 3,
      order: 'izfo',
      masked: true,
      stateView: 'dense',
      whView: 'dense',
      seed: 3,
    };
    expect(await compare(c, 'never')).toBe(false);
  });

  it('more units than threads in a workgroup (each thread loops over several), scalar and vec4, with and without a projection', async () => {
    const cases: [number, number | null, Case['whView']][] = [
      [300, null, 'transposed'],
      [300, 5, 'transposed'],
      [1028, 3, 'dense'],
    ];
    for (const [H, R, whView] of cases) {
      const c: Case = { T: 3, N: 2, H, R, order: 'ifog', masked: true, stateView: 'dense', whView, seed: 11 };
      expect(await compare(c, 'always')).toBe(true);
    }
  });

  it('reads a dense weight as vec4 and a transposed one by scalars (H % 4 == 0), both equal to the CPU', async () => {
    for (const whView of [
      'dense',
      'alignedOffset',
      'transposed',
      'offset',
      'rowStride',
      'interleaved',
    ] as const) {
      for (const R of [null, 3]) {
        const launch = vi.spyOn(gpu!, 'launch');
        const c: Case = {
          T: 4,
          N: 3,
          H: 8,
          R,
          order: 'izfo',
          masked: true,
          stateView: 'dense',
          whView,
          seed: 5,
        };
        expect(await compare(c, 'always')).toBe(true);
        const specs = launch.mock.calls.map((call) => call[1] as { kind: string; vec4?: boolean });
        expect(specs.filter((spec) => spec.kind === 'lstmPersistent').map((spec) => spec.vec4)).toEqual([
          whView === 'dense' || whView === 'alignedOffset',
        ]);
        launch.mockRestore();
      }
    }
  });

  it("'auto' takes the persistent kernel up to the crossover in N * H * R and the per-step path past it", async () => {
    const H = 32;
    const below = PERSISTENT_LSTM_MAX_WORK / (H * H);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: Math.max(1, below - 3), max: below + 3 }),
        fc.constantFrom(1, 2, 5),
        fc.integer({ min: 0, max: 1000 }),
        async (N, T, seed) => {
          const c: Case = {
            T,
            N,
            H,
            R: null,
            order: 'ifog',
            masked: false,
            stateView: 'dense',
            whView: 'dense',
            seed,
          };
          expect(await compare(c, 'auto')).toBe(N * H * H <= PERSISTENT_LSTM_MAX_WORK);
        },
      ),
      { numRuns: 6 },
    );
    // Batch 1 takes it further (its per-step matmul of one row leaves the device idle).
    const c: Case = {
      T: 2,
      N: 1,
      H: 256,
      R: null,
      order: 'ifgo',
      masked: true,
      stateView: 'dense',
      whView: 'dense',
      seed: 2,
    };
    expect(await compare(c, 'auto')).toBe(true);
  });

  it('NaN and infinities in the input reach the same outputs as on the CPU (the numeric contract)', async () => {
    gpu!.persistentLstm = 'always';
    const [T, N, H] = [4, 3, 8];
    manualSeed(21);
    const g = randn([T, N, 4 * H]).dataSync() as Float32Array;
    // A NaN pre-activation in sample 0 at step 1, +Inf and -Inf in sample 1 (saturating gates), sample 2 clean.
    g[(1 * N + 0) * 4 * H + 3] = Number.NaN;
    g[(0 * N + 1) * 4 * H + H + 2] = Number.POSITIVE_INFINITY;
    g[(2 * N + 1) * 4 * H + 3 * H + 5] = Number.NEGATIVE_INFINITY;
    const gx = tensor(g, { shape: [T, N, 4 * H] });
    const wh = randn([H, 4 * H]).mul(0.3);
    const [h0, c0] = [randn([N, H]), randn([N, H])];
    const want = lstmSequence(gx, wh, h0, c0).map((t) => t.dataSync());
    const got = lstmSequence(
      ...([gx, wh, h0, c0].map((t) => t.to('webgpu')) as [Tensor, Tensor, Tensor, Tensor]),
    );
    for (let k = 0; k < 2; k++) {
      const [w, v] = [want[k]!, await got[k]!.data()];
      let nans = 0;
      for (let i = 0; i < w.length; i++) {
        if (Number.isNaN(w[i]!)) nans++;
        expect(Number.isNaN(v[i]!), `NaN at ${i}`).toBe(Number.isNaN(w[i]!));
        if (!Number.isNaN(w[i]!)) expect(Math.abs(v[i]! - w[i]!), `${k}[${i}]`).toBeLessThan(1e-5);
      }
      // The NaN spreads from step 1 through sample 0's recurrence: the check above compared real NaNs.
      expect(nans, 'NaNs in the reference').toBeGreaterThan(0);
    }
  });

  it('leaves no tensors or GPU buffers behind after forward and backward', async () => {
    gpu!.persistentLstm = 'always';
    manualSeed(4);
    const wh = randn([6, 24], { device: 'webgpu' }).requiresGrad_();
    const probe = () =>
      tidy(() => {
        const gx = randn([5, 2, 24], { device: 'webgpu' }).requiresGrad_();
        const [y, c] = lstmSequence(
          gx,
          wh,
          randn([2, 6], { device: 'webgpu' }),
          randn([2, 6], { device: 'webgpu' }),
        );
        y.sum().add(c.sum()).backward();
        const g = wh.grad!;
        wh.grad = null;
        return g;
      });
    const first = probe();
    await first.data();
    first.dispose();
    const before = memory();
    const g = probe();
    await g.data();
    g.dispose();
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.webgpu!.liveBytes).toBe(before.webgpu!.liveBytes);
  });

  it('an empty sequence is refused by name before any launch, as on the CPU', () => {
    gpu!.persistentLstm = 'always';
    const z = (shape: number[]) => randn(shape).to('webgpu');
    expect(() => lstmSequence(z([0, 2, 8]), z([2, 8]), z([2, 2]), z([2, 2]))).toThrow(
      /lstmSequence: expected gx \[T, N, 4H\] \(T >= 1\).*got gx \[0, 2, 8\]/,
    );
  });
});

describe('the persistent plan (no device needed)', () => {
  const roomy: PersistentLstmLimits = {
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    maxComputeWorkgroupStorageSize: 16384,
    maxStorageBuffersPerShaderStage: 8,
    maxComputeWorkgroupsPerDimension: 65535,
  };
  const plain = { keep: false, projection: false, vec4: false };

  it('respects every device limit, whatever the mode, and falls back where one does not fit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 1, max: 70000 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(64, 256, 1024),
        fc.constantFrom(4096, 16384, 32768),
        fc.constantFrom(8, 10),
        (H, R, N, keep, projection, vec4, threads, bytes, buffers) => {
          const limits = {
            ...roomy,
            maxComputeInvocationsPerWorkgroup: threads,
            maxComputeWorkgroupStorageSize: bytes,
            maxStorageBuffersPerShaderStage: buffers,
          };
          const spec = persistentLstmPlan({ N, H, R }, { keep, projection, vec4 }, limits, 'always');
          const buffersNeeded = 7 + (keep ? 1 : 0) + (projection ? 2 : 0);
          if (spec === null) {
            // Workgroup arrays are sized in blocks of 64 floats (one pipeline serves a range of sizes).
            const block = (n: number) => Math.ceil(n / 64) * 64;
            const shared = 4 * (2 * block(R) + (projection ? block(H) : 0));
            const tooBig = shared > bytes || buffersNeeded > buffers || N > 65535;
            expect(tooBig, 'refused only when a limit is passed').toBe(true);
            return;
          }
          expect(spec.wg).toBeLessThanOrEqual(threads);
          expect(4 * (2 * spec.capR + spec.capH)).toBeLessThanOrEqual(bytes);
          expect(spec.capR).toBeGreaterThanOrEqual(R);
          expect(spec.capH).toBeGreaterThanOrEqual(projection ? H : 0);
          expect(buffersNeeded).toBeLessThanOrEqual(buffers);
          expect(N).toBeLessThanOrEqual(65535);
        },
      ),
    );
  });

  it("'never' and empty layers never plan it; 'auto' stops at the crossover", () => {
    expect(persistentLstmPlan({ N: 1, H: 8, R: 8 }, plain, roomy, 'never')).toBeNull();
    expect(persistentLstmPlan({ N: 0, H: 8, R: 8 }, plain, roomy, 'always')).toBeNull();
    expect(persistentLstmPlan({ N: 3, H: 0, R: 8 }, plain, roomy, 'always')).toBeNull();
    const [H, R] = [32, 8];
    const N = PERSISTENT_LSTM_MAX_WORK / (H * R);
    expect(persistentLstmPlan({ N, H, R }, plain, roomy, 'auto')).not.toBeNull();
    expect(persistentLstmPlan({ N: N + 1, H, R }, plain, roomy, 'auto')).toBeNull();
    expect(persistentLstmPlan({ N: N + 1, H, R }, plain, roomy, 'always')).not.toBeNull();
    // Batches of 1 and 2 up to the second threshold.
    const small = PERSISTENT_LSTM_MAX_WORK_SMALL_BATCH;
    expect(persistentLstmPlan({ N: 1, H: small / 512, R: 512 }, plain, roomy, 'auto')).not.toBeNull();
    expect(persistentLstmPlan({ N: 2, H: small / 1024, R: 512 }, plain, roomy, 'auto')).not.toBeNull();
    expect(persistentLstmPlan({ N: 2, H: small / 1024 + 1, R: 512 }, plain, roomy, 'auto')).toBeNull();
    expect(persistentLstmPlan({ N: 3, H: 64, R: 128 }, plain, roomy, 'auto')).toBeNull();
  });
});
