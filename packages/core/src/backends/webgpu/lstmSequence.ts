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
 * 'auto' runs the persistent kernel up to PERSISTENT_LSTM_MAX_WORK at any batch, and up to
 * PERSISTENT_LSTM_MAX_WORK_SMALL_BATCH at batch 1 or 2 (whose per-step matmuls of one or two rows leave most of
 * the device idle). One workgroup per sample runs the whole sequence, so each sample's H * R a step runs on one
 * workgroup (one core of a software adapter), while the per-step path's matmul spreads N * 4H * R over the device
 * but pays three dispatches a step. N * H alone does not separate the two (N * H = 1024 was 5.7x faster at H = 16
 * and 0.44x at H = 64).
 *
 * Measured with `node bench/dist/persistentCrossover.js 50 5` (CPU time per sequence, T = 50, forward without a
 * tape, persistent and per-step alternated) on Mesa lavapipe, 2 vCPU EPYC, 2026-12-05, three runs: persistent
 * 1.2-24x faster below 16384; at 16384 0.75-2.6x (break-even at N >= 16); past it 0.14-1.5x at N >= 4; at N = 1
 * 1.8-2.3x up to 262144 (H = 512), at N = 2 1.15-1.5x at 131072 and 0.90x at 524288. The table is in the
 * README's Performance section. A GPU would want its own figures (there workgroups run side by side).
 */
export const PERSISTENT_LSTM_MAX_WORK = 16384;
export const PERSISTENT_LSTM_SMALL_BATCH = 2;
export const PERSISTENT_LSTM_MAX_WORK_SMALL_BATCH = 262144;

/** Whether 'auto' takes the persistent kernel for these sizes (the measured crossover above). */
export function persistentLstmPays(N: number, H: number, R: number): boolean {
  const work = N * H * R;
  return (
    work <= PERSISTENT_LSTM_MAX_WORK ||
    (N <= PERSISTENT_LSTM_SMALL_BATCH && work <= PERSISTENT_LSTM_MAX_WORK_SMALL_BATCH)
  );
}

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
  variant: { keep: boolean; projection: boolean; vec4: boolean },
  limits: PersistentLstmLimits,
  mode: PersistentLstmMode,
): LstmPersistentSpec | null {
  const { N, H, R } = sizes;
  if (mode === 'never' || N === 0 || H === 0) return null;
  if (mode === 'auto' && !persistentLstmPays(N, H, R)) return null;
  const wg = Math.min(
    MAX_THREADS,
    limits.maxComputeInvocationsPerWorkgroup,
    limits.maxComputeWorkgroupSizeX,
    Math.max(32, pow2(Math.max(variant.vec4 ? H / 4 : H, R))),
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
  const wh = views.wh;
  // wh read as vec4 where its units are contiguous and 16-byte aligned (always for a dense weight and H % 4 == 0).
  const vec4 = H % 4 === 0 && wh.strides[1] === 1 && wh.offset % 4 === 0 && wh.strides[0]! % 4 === 0;
  const variant = { keep: views.keep !== null, projection: views.projection !== null, vec4 };
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
