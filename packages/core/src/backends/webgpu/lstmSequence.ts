/// <reference types="@webgpu/types" />
import {
  type LstmPersistentSpec,
  gateOffsets,
  lstmPersistentKernel,
  lstmPersistentOperands,
  lstmPersistentSharedFloats,
  lstmPersistentValues,
} from '@webrnn/kernels';
import { isContiguous } from '../../shape.js';
import type { LstmGateOrder, LstmSequenceViews, View } from '../backend.js';
import { type Launcher, gpuOf } from './launcher.js';

/** When lstmSequence's forward runs as one persistent launch: 'auto' below the crossover; tests force each. */
export type PersistentLstmMode = 'auto' | 'always' | 'never';
export const PERSISTENT_LSTM_MODES: readonly PersistentLstmMode[] = ['auto', 'always', 'never'];

/**
 * The crossover, in recurrent multiply-adds per gate and step, N * H * R (batch * hidden * recurrent input):
 * 'auto' runs the persistent kernel up to it and the per-step dispatches past it. One workgroup per sample runs
 * the whole sequence, so the kernel does H * R work a step on one workgroup (one core of a software adapter) for
 * each of N samples, while the per-step path's tiled matmul spreads N * 4H * R over the whole device but pays three
 * dispatches a step. N * H alone does not separate the two (N * H = 1024 won 1.6x at H = 16 and lost 0.54x at
 * H = 64); N * H * R does. Measured with `node bench/dist/persistentCrossover.js 50 5` (CPU time per sequence, T =
 * 50, forward without a tape) on Mesa lavapipe, 2 vCPU EPYC, 2026-12-05: persistent 1.2-23x faster at N * H * R
 * <= 16384 (N = 1 up to H = 128), 0.1-0.56x past 65536 but for N = 1, H = 256 (1.16x); the table is in the
 * README's Performance section.
 */
export const PERSISTENT_LSTM_MAX_WORK = 16384;

/** Threads per workgroup at most: past it each thread loops over several units. */
const MAX_THREADS = 256;

/** The device limits the plan respects (a GPUSupportedLimits has them). */
export type PersistentLstmLimits = Pick<
  GPUSupportedLimits,
  | 'maxComputeInvocationsPerWorkgroup'
  | 'maxComputeWorkgroupSizeX'
  | 'maxComputeWorkgroupStorageSize'
  | 'maxStorageBuffersPerShaderStage'
  | 'maxComputeWorkgroupsPerDimension'
>;

const pow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
/** Workgroup arrays are sized in blocks of 64 floats, so that one pipeline serves a range of layer sizes. */
const block = (n: number) => Math.ceil(n / 64) * 64;

/**
 * The persistent kernel's spec for these sizes, or null where the per-step path runs: mode 'never', past the
 * crossover in 'auto', or (whatever the mode) where the device cannot hold it: the recurrent input's double buffer
 * (and the projection's h) past the workgroup memory, more storage bindings than a stage may have, more samples
 * than workgroups in one dimension, an empty batch or layer.
 */
export function persistentLstmPlan(
  sizes: { N: number; H: number; R: number },
  variant: { keep: boolean; projection: boolean },
  limits: PersistentLstmLimits,
  mode: PersistentLstmMode,
): LstmPersistentSpec | null {
  const { N, H, R } = sizes;
  if (mode === 'never' || N === 0 || H === 0) return null;
  if (mode === 'auto' && N * H * R > PERSISTENT_LSTM_MAX_WORK) return null;
  const wg = Math.min(
    MAX_THREADS,
    limits.maxComputeInvocationsPerWorkgroup,
    limits.maxComputeWorkgroupSizeX,
    Math.max(32, pow2(Math.max(H, R))),
  );
  const spec: LstmPersistentSpec = {
    kind: 'lstmPersistent',
    wg,
    capR: block(R),
    capH: variant.projection ? block(H) : 0,
    ...variant,
  };
  const fits =
    lstmPersistentSharedFloats(spec) * 4 <= limits.maxComputeWorkgroupStorageSize &&
    lstmPersistentOperands(spec).length <= limits.maxStorageBuffersPerShaderStage &&
    N <= limits.maxComputeWorkgroupsPerDimension;
  return fits ? spec : null;
}

/** lstmSequence's forward as one persistent launch, when the plan says so (else false, nothing recorded). */
export function lstmSequenceGpu(
  l: Launcher,
  limits: PersistentLstmLimits,
  mode: PersistentLstmMode,
  views: LstmSequenceViews,
  order: LstmGateOrder,
): boolean {
  const [T, N, G] = views.gx.shape as [number, number, number];
  const H = G / 4;
  const R = views.out.shape[2]!;
  const written = [views.out, views.cs, views.acts, ...(views.hs ? [views.hs] : [])];
  // The kernel writes its outputs densely (the op allocates them so); anything else goes the per-step way.
  if (!written.every((v) => isContiguous(v.shape, v.strides))) return false;
  const variant = { keep: views.keep !== null, projection: views.projection !== null };
  const spec = persistentLstmPlan({ N, H, R }, variant, limits, mode);
  if (!spec) return false;
  const byName: Readonly<Record<string, View | null>> = {
    out: views.out,
    cs: views.cs,
    act: views.acts,
    hs: views.hs,
    gx: views.gx,
    wh: views.wh,
    h0: views.h0,
    c0: views.c0,
    keep: views.keep,
    wo: views.projection,
  };
  const g = gateOffsets(order);
  l.launch(
    'lstmSequence',
    spec,
    lstmPersistentKernel,
    lstmPersistentOperands(spec).map((n) => gpuOf(byName[n]!)),
    lstmPersistentValues({ T, N, H, R }, [g.i, g.z, g.f, g.o], byName),
    [N, 1, 1],
  );
  return true;
}
