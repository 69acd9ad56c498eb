import { describe, expect, it, vi } from 'vitest';
import { Uniforms } from '@webrnn/kernels';
import { type View, type WebGPUBackend, getBackend } from '@webrnn/core';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * The WebGPU runtime around the kernels: buffer pooling and leaks, ordering of host writes against recorded work,
 * errors that name the op and the kernel key, out-of-memory, refusals, the WGSL dump. Skipped with one line
 * without an adapter, unless WEBRNN_REQUIRE_WEBGPU=1.
 */
const gpu = await webgpuForFile('webgpu runtime');

const view = (b: WebGPUBackend, shape: number[], data?: Float32Array): View => {
  const n = shape.reduce((a, c) => a * c, 1);
  const buffer = b.alloc('float32', n);
  if (data) b.write(buffer, data);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, c) => a * c, 1));
  return { buffer, dtype: 'float32', shape, strides, offset: 0 };
};

describe.skipIf(!gpu)('WebGPU runtime', () => {
  it('registers itself, describes its adapter, refuses float64 and synchronous reads', () => {
    const b = gpu!;
    expect(getBackend('webgpu')).toBe(b);
    expect(typeof b.adapter.description).toBe('string');
    expect(['core', 'compatibility']).toContain(b.adapter.featureLevel);
    expect(b.adapter.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(() => b.alloc('float64', 4)).toThrow(/float64 tensors are not supported on WebGPU .*use float32/);
    expect(() => b.readSync()).toThrow(/cannot read synchronously; use `await t.data\(\)`/);
  });

  it('a thousand alloc/compute/free iterations leave live buffers and bytes flat', async () => {
    const b = gpu!;
    const x = view(b, [8, 8], new Float32Array(64).fill(0.5));
    const step = () => {
      const y = view(b, [8, 8]);
      const z = view(b, [8, 8]);
      const s = view(b, [8, 1]);
      b.matmul({ a: x, b: x, out: y });
      b.unary({ op: 'tanh' }, { x: y, out: z });
      b.reduce('sum', { x: z, out: s }, [1]);
      b.binary('add', { a: x, b: z, out: y });
      for (const v of [y, z, s]) b.free(v.buffer);
    };
    // Warm up past a few automatic submits (every 256 dispatches), so that the pool reaches its working size.
    for (let i = 0; i < 300; i++) step();
    await b.read(x);
    const before = b.memory();
    for (let i = 0; i < 1000; i++) step();
    await b.read(x);
    const after = b.memory();
    expect(after.liveBuffers).toBe(before.liveBuffers);
    expect(after.liveBytes).toBe(before.liveBytes);
    // Freed buffers are reused, not piled up.
    expect(after.pooledBytes).toBeLessThanOrEqual(before.pooledBytes);
    b.free(x.buffer);
  });

  it('a host write waits for the recorded work that reads the buffer', async () => {
    const b = gpu!;
    const x = view(b, [4], Float32Array.of(1, 2, 3, 4));
    const y = view(b, [4]);
    b.copy({ x: x, out: y });
    b.write(x.buffer, Float32Array.of(9, 9, 9, 9));
    expect([...(await b.read(y))]).toEqual([1, 2, 3, 4]);
    expect([...(await b.read(x))]).toEqual([9, 9, 9, 9]);
    b.free(x.buffer);
    b.free(y.buffer);
  });

  it('a kernel that fails to compile surfaces at the next read, naming the op and the kernel key', async () => {
    const b = gpu!;
    const out = view(b, [4]);
    const uniforms = new Uniforms({ n: 1 });
    const broken = () => ({
      key: '{"kind":"broken"}',
      code: 'this is not WGSL',
      entryPoint: 'main',
      workgroupSize: [1, 1, 1] as const,
      bindings: ['read_write', 'uniform'] as const,
      uniforms,
      features: [],
    });
    const storage = (out.buffer as { gpu: Parameters<WebGPUBackend['launch']>[3][number] }).gpu;
    b.launch('brokenOp', { kind: 'broken' }, broken, [storage], { n: 4 }, [1, 1, 1]);
    await expect(b.read(out)).rejects.toThrow(/brokenOp: kernel \{"kind":"broken"\} failed to compile/);
    // The device is still usable.
    b.fill({ out: out }, 2);
    expect([...(await b.read(out))]).toEqual([2, 2, 2, 2]);
    b.free(out.buffer);
  });

  it('a tensor too large for the adapter is refused with a clear error; smaller work goes on', async () => {
    const b = gpu!;
    const tooMany = Math.floor(b.adapter.maxStorageBufferBindingSize / 4) + 1;
    expect(() => b.alloc('float32', tooMany, 'zeros')).toThrow(
      `zeros: cannot allocate ${tooMany * 4} bytes on WebGPU: the device binds at most`,
    );
    const x = view(b, [3], Float32Array.of(1, 2, 3));
    const y = view(b, [3]);
    b.unary({ op: 'affine', params: [2, 1] }, { x: x, out: y });
    expect([...(await b.read(y))]).toEqual([3, 5, 7]);
    b.free(x.buffer);
    b.free(y.buffer);
  });

  it('WEBRNN_DUMP_WGSL=1 prints a kernel with its key when it is first compiled', async () => {
    const b = gpu!;
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    process.env.WEBRNN_DUMP_WGSL = '1';
    try {
      // A rank-5 fill over a strided view: a kernel no other test compiles.
      const out = view(b, [2, 1, 2, 1, 2]);
      b.fill({ out: { ...out, shape: [2, 2, 2, 2, 1], strides: [4, 1, 2, 8, 1] } }, 1);
      const printed = log.mock.calls
        .map((c) => String(c[0]))
        .find((s) => s.includes('webrnn kernel for fill'));
      expect(printed).toMatch(/"kind":"map".*\n[\s\S]*@compute/);
      await b.read(out);
      b.free(out.buffer);
    } finally {
      delete process.env.WEBRNN_DUMP_WGSL;
      log.mockRestore();
    }
  });
});
