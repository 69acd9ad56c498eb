import { afterAll } from 'vitest';
import { type WebGPUBackend, initWebGPU, lastWebGPUError } from '@webrnn/core';

/**
 * The WebGPU adapter of a test file (top-level await): null, with one printed line, where there is none, and an
 * error instead when WEBRNN_REQUIRE_WEBGPU=1 (CI); released when the file ends. The one way every package's tests
 * require or skip WebGPU: `const gpu = await webgpuForFile('what')`, then `it.skipIf(!gpu)` / `describe.skipIf(!gpu)`
 * (evaluated after the await), so that a WebGPU test without an adapter is reported skipped, never passed green.
 */
export async function webgpuForFile(what: string): Promise<WebGPUBackend | null> {
  const gpu = await initWebGPU();
  if (!gpu) {
    if (process.env.WEBRNN_REQUIRE_WEBGPU === '1') {
      throw new Error(`WEBRNN_REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${lastWebGPUError()}`);
    }
    console.log(`${what}: webgpu part skipped (${lastWebGPUError()})`);
  }
  afterAll(() => gpu?.destroy());
  return gpu;
}
