import { open, mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Tensor, nn, tensor } from '@webrnn/rnn';
import { decodeSafetensors, loadModule, loadTensors, saveTensors } from '../src/io/index.js';

/**
 * Loading streams the file: the header is read and checked whole, then each tensor the load uses from its
 * offset. Files over 2 GiB (more than one Node buffer) load, with memory for the tensors read only.
 */

const dir = await mkdtemp(join(tmpdir(), 'webrnn-stream-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const dtypeArb = fc.constantFrom('float32', 'float64', 'int32') as fc.Arbitrary<
  'float32' | 'float64' | 'int32'
>;
const tensorArb = fc
  .tuple(dtypeArb, fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v =
      dtype === 'int32'
        ? fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
        : dtype === 'float32'
          ? fc.float({ noNaN: true })
          : fc.double({ noNaN: true });
    return fc.array(v, { minLength: n, maxLength: n }).map((values) => ({ dtype, shape, values }));
  });

describe('streamed loading', () => {
  it('gives what the in-memory decoder gives, for all tensors or a chosen few', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tensorArb, { minKeys: 1, maxKeys: 5 }),
        fc.func(fc.boolean()),
        async (spec, pick) => {
          const record: Record<string, Tensor> = {};
          for (const [k, t] of Object.entries(spec)) {
            Object.defineProperty(record, k, {
              value: tensor(t.values, { shape: t.shape, dtype: t.dtype }),
              enumerable: true,
            });
          }
          const path = join(dir, 'prop.safetensors');
          await saveTensors(path, record, { note: 'x' });
          const whole = decodeSafetensors(new Uint8Array(await readFile(path))).tensors;
          const names = Object.keys(spec).filter((n) => pick(n));
          const streamed = await loadTensors(path, { names });
          expect(Object.keys(streamed)).toEqual(Object.keys(whole).filter((n) => names.includes(n)));
          for (const n of names) {
            const s = Object.getOwnPropertyDescriptor(streamed, n)!.value as Tensor;
            const w = Object.getOwnPropertyDescriptor(whole, n)!.value;
            expect([s.dtype, s.shape]).toEqual([w.dtype, w.shape]);
            expect(Array.from(s.dataSync())).toEqual(Array.from(w.data));
            s.dispose();
          }
          for (const t of Object.values(record)) t.dispose();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses names the file lacks, naming them', async () => {
    const path = join(dir, 'few.safetensors');
    await saveTensors(path, { a: tensor([1]) });
    await expect(loadTensors(path, { names: ['a', 'b'] })).rejects.toThrow(
      `loadTensors: ${path} has no tensor 'b'`,
    );
  });
});

describe('a file over 2 GiB', () => {
  // A sparse file: a 2.25 GiB tensor `pad` that is one hole on disk, then a Linear(3, 2)'s weight and bias.
  // Reading `pad` itself would need 2.25 GiB of memory: that part is not tested; the others must load
  // without reading it, from offsets past 2^31.
  const PAD = 2.25 * 2 ** 30;
  const header = JSON.stringify({
    pad: { dtype: 'F32', shape: [PAD / 4], data_offsets: [0, PAD] },
    weight: { dtype: 'F32', shape: [2, 3], data_offsets: [PAD, PAD + 24] },
    bias: { dtype: 'F32', shape: [2], data_offsets: [PAD + 24, PAD + 32] },
  }).padEnd(256, ' ');
  const weight = [1.5, -2, 3.25, 0.5, -0.125, 8];
  const bias = [0.75, -4];
  const path = join(dir, 'big.safetensors');
  const size = 8 + header.length + PAD + 32;

  async function writeSparse() {
    const fh = await open(path, 'w');
    try {
      await fh.truncate(size);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(header.length));
      await fh.write(len, 0, 8, 0);
      await fh.write(Buffer.from(header), 0, header.length, 8);
      const values = Buffer.from(new Float32Array([...weight, ...bias]).buffer);
      await fh.write(values, 0, values.length, 8 + header.length + PAD);
    } finally {
      await fh.close();
    }
  }

  it('loads the tensors a module uses, from offsets past 2 GiB, in bounded memory', async () => {
    await writeSparse();
    expect(size).toBeGreaterThan(2 ** 31);
    const rss = process.memoryUsage().rss;
    const m = new nn.Linear(3, 2);
    await expect(loadModule(path, m)).rejects.toThrow(
      `loadModule: ${path} does not fit nn.Linear: unexpected: 'pad'`,
    );
    const res = await loadModule(path, m, { strict: false });
    expect(res.unexpected).toEqual(['pad']);
    expect(Array.from(m.parameters()[0][0]!.dataSync())).toEqual(weight);
    expect(Array.from(m.parameters()[0][1]!.dataSync())).toEqual(bias);
    const ts = await loadTensors(path, { names: ['bias', 'weight'] });
    expect(Object.keys(ts)).toEqual(['weight', 'bias']);
    expect(Array.from(ts.bias!.dataSync())).toEqual(bias);
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 2 ** 20);
    // The header is checked against the whole file: one byte short is refused before any tensor is read.
    await truncate(path, size - 1);
    await expect(loadModule(path, m, { strict: false })).rejects.toThrow(
      `loadModule: ${path}: tensor 'bias': data_offsets [${PAD + 24}, ${PAD + 32}] are out of range: the data is ${PAD + 31} bytes (truncated?)`,
    );
  });
});
