import { expect } from 'vitest';
import type { Tensor } from '@webrnn/rnn';

/**
 * The one way to require or skip WebGPU in a test file (core's): `const gpu = await webgpuForFile('what')` at the
 * top level, then `it.skipIf(!gpu)(...)` / `describe.skipIf(!gpu)(...)`, so that without an adapter the tests are
 * reported skipped (never passed green), and fail under WEBRNN_REQUIRE_WEBGPU=1.
 */
export { webgpuForFile } from '../../../core/test/helpers/webgpu.js';

/**
 * WebGPU (f32) against the CPU: |cpu - gpu| <= tol * max(1e-3, max |cpu|) elementwise. The default tolerance is
 * core's WebGPU tests' a little widened, since errors compound over the steps of a sequence.
 */
export async function expectCloseToCpu(name: string, cpu: Tensor, gpu: Tensor, tol = 2e-4): Promise<void> {
  const a = cpu.dataSync();
  const b = await gpu.data();
  expect(b.length, name).toBe(a.length);
  let scale = 1e-3;
  for (const v of a) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - b[i]!) <= tol * scale)) expect.fail(`${name}[${i}]: cpu ${a[i]} webgpu ${b[i]}`);
  }
}
