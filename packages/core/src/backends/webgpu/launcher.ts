/// <reference types="@webgpu/types" />
import type { FieldValues, Kernel, ScalarType, Spec } from '@webrnn/kernels';
import type { DType } from '../../dtype.js';
import type { DeviceCheck } from '../../errors.js';
import { contiguousStrides } from '../../shape.js';
import type { View, Views } from '../backend.js';

/**
 * What the WebGPU kernel families (elementwise.ts, reduce.ts, gather.ts, cells.ts) need from the backend: to
 * record a launch and to make and drop temporaries. Each family is a set of functions over a Launcher, so the
 * backend class stays the one place that owns the device, the pool, the pipelines and the queue.
 */
export interface Launcher {
  readonly launch: LaunchFn;
  alloc(dtype: DType, size: number, op?: string): GpuStorage;
  free(buffer: object): void;
  copy(views: Views<'copy'>): void;
}

/**
 * Compile (once per key) and record one launch of `build(spec)` over `buffers` with the uniform `values`; a checked
 * kernel (one that can raise a device-side error) gets `check` (see WebGPUBackend.launch).
 */
export type LaunchFn = <S extends Spec>(
  op: string,
  spec: S,
  build: (spec: S) => Kernel,
  buffers: readonly GPUBuffer[],
  values: FieldValues,
  groups: readonly [number, number, number],
  check?: DeviceCheck,
) => void;

/** A tensor's storage on the GPU. */
export interface GpuStorage {
  readonly gpu: GPUBuffer;
  readonly dtype: DType;
  readonly size: number;
}

export const scalar = (dtype: DType): ScalarType => (dtype === 'int32' ? 'i32' : 'f32');
export const gpuOf = (v: View): GPUBuffer => (v.buffer as GpuStorage).gpu;

/** A dense row-major view over the whole of `buffer`. */
export function dense(buffer: GpuStorage, shape: readonly number[]): View {
  return { buffer, dtype: buffer.dtype, shape, strides: contiguousStrides(shape), offset: 0 };
}
