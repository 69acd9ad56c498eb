import { describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, optim, randn } from '@webrnn/rnn';
import { expectCloseToCpu, webgpuForFile } from './helpers/webgpu.js';

/**
 * clipGradNormAsync on WebGPU (float32, no f64 there) against the CPU: the same norm within float32 rounding and
 * the same clipped gradients, on gradient lists and on a module's parameters (their .grad). It used to cast to
 * float64 and throw on WebGPU, which stopped char-lm there.
 */
const gpu = await webgpuForFile('clipGradNormAsync');

/** The norm in float64 from the host copies: the reference both devices are held to. */
async function hostNorm(gs: readonly Tensor[]): Promise<number> {
  let s = 0;
  for (const g of gs) for (const v of await g.data()) s += v * v;
  return Math.sqrt(s);
}

/** Relative float32 rounding of a sum of squares over n terms, with room (sqrt halves it; 4 for the margin). */
const f32Tol = (n: number) => 4 * n * 2 ** -24;

describe('optim.clipGradNormAsync on WebGPU', () => {
  it.skipIf(!gpu)('returns the CPU norm and leaves gradients below maxNorm unchanged', async () => {
    manualSeed(11);
    const cpu = [randn([37, 5]), randn([3]), randn([2, 3, 4])];
    const want = await hostNorm(cpu);
    const onGpu = cpu.map((g) => g.to('webgpu'));
    const got = await optim.clipGradNormAsync(onGpu, want * 2);
    expect(Math.abs(got - want) / want).toBeLessThanOrEqual(f32Tol(185 + 3 + 24));
    for (const [i, g] of onGpu.entries()) await expectCloseToCpu(`g${i}`, cpu[i]!, g, 0);
  });

  it.skipIf(!gpu)('rescales like the CPU above maxNorm', async () => {
    manualSeed(12);
    const cpu = [randn([64, 9]).mul(50), randn([9]).mul(50)];
    const onGpu = cpu.map((g) => g.to('webgpu'));
    const cpuNorm = await optim.clipGradNormAsync(cpu, 1.5);
    const gpuNorm = await optim.clipGradNormAsync(onGpu, 1.5);
    expect(cpuNorm).toBeGreaterThan(1.5);
    expect(Math.abs(gpuNorm - cpuNorm) / cpuNorm).toBeLessThanOrEqual(f32Tol(64 * 9 + 9));
    for (const [i, g] of onGpu.entries()) await expectCloseToCpu(`g${i}`, cpu[i]!, g, 1e-5);
    expect(await hostNorm(onGpu)).toBeCloseTo(1.5, 4);
  });

  it.skipIf(!gpu)("clips a module's parameters (their .grad) as on the CPU", async () => {
    const run = async (device: 'cpu' | 'webgpu') => {
      manualSeed(13);
      const m = new nn.Sequential().add(new nn.Linear(6, 5)).add(new nn.Tanh()).add(new nn.Linear(5, 2));
      const x = randn([4, 6]);
      const g = randn([4, 2]).mul(30);
      m.to(device);
      m.forward(x.to(device));
      m.backward(x.to(device), g.to(device));
      const norm = await optim.clipGradNormAsync(m.parameters()[0], 0.25);
      return { norm, grads: m.parameters()[1] };
    };
    const cpu = await run('cpu');
    const webgpu = await run('webgpu');
    expect(cpu.norm).toBeGreaterThan(0.25);
    expect(Math.abs(webgpu.norm - cpu.norm) / cpu.norm).toBeLessThanOrEqual(1e-5);
    for (const [i, g] of webgpu.grads.entries()) await expectCloseToCpu(`grad${i}`, cpu.grads[i]!, g, 1e-4);
  });

  it.skipIf(!gpu)('reports a NaN norm and leaves the gradients alone, as the CPU does', async () => {
    const cpu = [randn([3]), randn([2]).fill_(Number.NaN)];
    const onGpu = cpu.map((g) => g.to('webgpu'));
    expect(await optim.clipGradNormAsync(cpu, 1)).toBeNaN();
    expect(await optim.clipGradNormAsync(onGpu, 1)).toBeNaN();
    expect(Array.from(await onGpu[0]!.data())).toEqual(Array.from(cpu[0]!.dataSync()));
  });

  it.skipIf(!gpu)('the synchronous clipGradNorm refuses WebGPU and names the async one', () => {
    expect(() => optim.clipGradNorm([randn([2]).to('webgpu')], 1)).toThrow(/clipGradNormAsync/);
  });
});
