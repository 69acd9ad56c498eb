import { afterAll, describe, expect, it } from 'vitest';
import * as core from '@webrnn/core';

import { gpu } from './helpers/backendPairs.js';

/**
 * A shape whose bytes cannot be had is refused before anything is allocated, by a WebrnnError naming the op and
 * the bytes: on the CPU an element count past 2^53, a typed array past its length limit, or more bytes than the
 * process can get (a bare RangeError, or an out-of-memory kill once the lazily committed pages are filled); on
 * WebGPU more than the device binds per buffer. Nothing here allocates: every shape is refused by a check (the
 * memory limit is injected, so the outcome does not depend on the machine).
 */
const cpu = core.getBackend('cpu');
afterAll(() => core.registerBackend(cpu));

const TYPED = /on the CPU: a typed array holds at most 4294967296 elements$/;

describe('shapes too large to allocate are named errors', () => {
  it('creation ops on the CPU: [1e6, 1e6], [2^40], and counts past 2^53', () => {
    const cases: [string, () => unknown, RegExp][] = [
      ['zeros', () => core.zeros([1e6, 1e6]), TYPED],
      ['ones', () => core.ones([2 ** 40], { dtype: 'int32' }), TYPED],
      ['full', () => core.full([1e6, 1e6], 2), TYPED],
      ['randn', () => core.randn([1e6, 1e6]), TYPED],
      ['uniform', () => core.uniform([2 ** 33]), TYPED],
      ['randint', () => core.randint(0, 9, [2 ** 33]), TYPED],
      ['arange', () => core.arange(0, 1e12), TYPED],
      ['linspace', () => core.linspace(0, 1, 1e12), TYPED],
      [
        'zeros',
        () => core.zeros([1e10, 1e10]),
        /has 100000000000000000000 elements, more than can be addressed/,
      ],
    ];
    for (const [op, f, rest] of cases) {
      expect(f, op).toThrow(core.WebrnnError);
      expect(f, op).toThrow(new RegExp(`^${op}: `));
      expect(f, op).toThrow(rest);
    }
    expect(() => core.zeros([1e6, 1e6])).toThrow(
      'zeros: cannot allocate 4000000000000 bytes (1000000000000 float32 elements) on the CPU',
    );
  });

  it('ops whose output would be too large name themselves', () => {
    const col = core.zeros([1e6, 1]);
    const row = core.zeros([1, 1e6]);
    expect(() => col.add(row)).toThrow(/^add: cannot allocate 4000000000000 bytes/);
    expect(() => col.matmul(row)).toThrow(/^matmul: cannot allocate 4000000000000 bytes/);
    expect(() => col.expand([1e6, 1e6]).contiguous()).toThrow(
      /^contiguous: cannot allocate 4000000000000 bytes/,
    );
    expect(() => core.cat([col.expand([1e6, 1e6]), col.expand([1e6, 1e6])], 1)).toThrow(
      /^cat: cannot allocate/,
    );
  });

  it('more bytes than the process can get: [2^31] float32 with 4e9 bytes to spare', () => {
    core.registerBackend(new core.CpuBackend(4e9));
    try {
      expect(() => core.zeros([2 ** 31])).toThrow(
        'zeros: cannot allocate 8589934592 bytes (2147483648 float32 elements) on the CPU: this process can get about 4000000000 bytes of memory',
      );
      expect(() => core.randn([2 ** 30])).toThrow(/^randn: cannot allocate 4294967296 bytes/);
      expect(() => core.arange(0, 2 ** 30, 1, { dtype: 'float32' })).toThrow(
        /^arange: cannot allocate 4294967296 bytes/,
      );
      // What fits is allocated as before.
      expect(core.zeros([4]).dataSync()).toEqual(new Float32Array(4));
    } finally {
      core.registerBackend(cpu);
    }
  });

  it.skipIf(!gpu)('WebGPU: more than the device binds per buffer, named by the op', async () => {
    const limit = gpu!.device.limits.maxStorageBufferBindingSize;
    const n = Math.floor(limit / 4) + 1;
    expect(() => core.zeros([n], { device: 'webgpu' })).toThrow(
      `zeros: cannot allocate ${n * 4} bytes on WebGPU: the device binds at most ${limit} bytes per buffer`,
    );
    const col = core.zeros([2 ** 16, 1], { device: 'webgpu' });
    const row = core.zeros([1, 2 ** 16], { device: 'webgpu' });
    expect(() => col.add(row)).toThrow(/^add: cannot allocate 17179869184 bytes on WebGPU/);
    expect(() => col.matmul(row)).toThrow(/^matmul: cannot allocate 17179869184 bytes on WebGPU/);
    col.dispose();
    row.dispose();
  });
});
