import { afterAll, beforeAll, expect } from 'vitest';
import { type Tensor, getBackend, initWebGPU, lastWebGPUError } from '@webrnn/rnn';

/**
 * The one way to require or skip WebGPU in a test file (core's): `const gpu = await webgpuForFile('what')` at the
 * top level, then `it.skipIf(!gpu)(...)` / `describe.skipIf(!gpu)(...)`, so that without an adapter the tests are
 * reported skipped (never passed green), and fail under WEBRNN_REQUIRE_WEBGPU=1.
 */
export { webgpuForFile } from '../../../core/test/helpers/webgpu.js';

/**
 * @deprecated Use webgpuForFile: a test that returns early on `!gpu()` passes green without an adapter. Kept only
 * for io.test.ts, which another branch is changing.
 *
 * The WebGPU set-up every module test file shares: initialise the adapter once for the file, skip with one line
 * when there is none (failing instead when WEBRNN_REQUIRE_WEBGPU=1, as in CI), release it at the end. Returns a
 * function telling whether WebGPU is there; tests start with `if (!gpu()) return;`.
 */
export function useWebGPU(what: string): () => boolean {
  let available = false;
  beforeAll(async () => {
    available = (await initWebGPU()) !== null;
    if (!available) {
      if (process.env.WEBRNN_REQUIRE_WEBGPU === '1')
        throw new Error(`WebGPU is unavailable: ${lastWebGPUError()}`);
      console.log(`${what} webgpu tests skipped: ${lastWebGPUError()}`);
    }
  });
  afterAll(() => {
    if (available) getBackend('webgpu').destroy();
  });
  return () => available;
}

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
