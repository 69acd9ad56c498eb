import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PersistentLstmLimits, persistentLstmPlan } from '../src/backends/webgpu/lstmSequence.js';

/**
 * The persistent LSTM plan's workgroup size and its limits at their edges (no device needed), beyond
 * webgpuLstmPersistent.test.ts: one thread per unit (a vec4 weight: per 4 units) or recurrent input while the
 * limits allow it, at least 32 and never more than the next power of two of what is needed; a layer whose
 * workgroup memory or batch exactly reaches the device's limit still gets the persistent kernel.
 */
const roomy: PersistentLstmLimits = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupStorageSize: 1 << 20,
  maxStorageBuffersPerShaderStage: 10,
  maxComputeWorkgroupsPerDimension: 65535,
};

describe('the persistent LSTM plan', () => {
  it('has a thread per unit or input (up to the limits), at least 32, at most the next power of two', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 600 }),
        fc.boolean(),
        fc.constantFrom(64, 128, 256, 1024),
        fc.constantFrom(64, 256, 1024),
        (H4, R, vec4, threads, sizeX) => {
          const H = 4 * H4; // vec4 needs H % 4 == 0; the scalar plan takes any H
          const limits = {
            ...roomy,
            maxComputeInvocationsPerWorkgroup: threads,
            maxComputeWorkgroupSizeX: sizeX,
          };
          const spec = persistentLstmPlan(
            { N: 1, H, R },
            { keep: false, projection: false, vec4 },
            limits,
            'always',
          );
          expect(spec).not.toBeNull();
          const wg = spec!.wg;
          const needed = Math.max(vec4 ? H / 4 : H, R);
          const cap = Math.min(256, threads, sizeX);
          expect(wg).toBeLessThanOrEqual(cap);
          expect(wg).toBeGreaterThanOrEqual(Math.min(cap, Math.max(32, needed)));
          expect(wg).toBeLessThan(Math.max(64, 2 * needed)); // a power of two at most: no idle half
        },
      ),
      { numRuns: 300 },
    );
  });

  it('plans it when the workgroup memory or the batch exactly reaches its limit, not one past', () => {
    const plain = { keep: false, projection: false, vec4: false };
    // R = 512: its double buffer is 2 * 512 floats = 4096 bytes.
    const exact = { ...roomy, maxComputeWorkgroupStorageSize: 4096 };
    expect(persistentLstmPlan({ N: 1, H: 8, R: 512 }, plain, exact, 'always')).not.toBeNull();
    expect(persistentLstmPlan({ N: 1, H: 8, R: 513 }, plain, exact, 'always')).toBeNull();
    const groups = { ...roomy, maxComputeWorkgroupsPerDimension: 7 };
    expect(persistentLstmPlan({ N: 7, H: 8, R: 8 }, plain, groups, 'always')).not.toBeNull();
    expect(persistentLstmPlan({ N: 8, H: 8, R: 8 }, plain, groups, 'always')).toBeNull();
  });
});
