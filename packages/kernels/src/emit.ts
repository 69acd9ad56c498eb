import type { ScalarType } from './spec.js';

/**
 * WGSL pieces every kernel shares. Shapes, strides and offsets travel in one storage buffer of i32 (`meta`), so a
 * pipeline serves every shape of its rank; float parameters travel in it as bit patterns.
 */

export const WG = 256;

/** A storage binding. */
export function binding(index: number, name: string, type: ScalarType, writable: boolean): string {
  return `@group(0) @binding(${index}) var<storage, ${writable ? 'read_write' : 'read'}> ${name}: array<${type}>;`;
}

export function metaBinding(index: number): string {
  return `@group(0) @binding(${index}) var<storage, read> info: array<i32>;`;
}

/** The flat thread index of a 1-D kernel dispatched as a 2-D grid (WebGPU caps each dimension at 65535). */
export const THREAD_INDEX = `let tid = gid.x + gid.y * nwg.x * ${WG}u;`;

export const ENTRY_1D = `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u)`;

/** Workgroup counts for `threads` threads of a 1-D kernel. */
export function grid1d(threads: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(threads / WG));
  if (groups <= 65535) return [groups, 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}
