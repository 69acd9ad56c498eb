import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Tensor, WebrnnError, manualSeed, mul, nn, optim, sum, tensor, tidy } from '@webrnn/rnn';
import {
  type HostTensor,
  decodeSafetensors,
  encodeSafetensors,
  loadModule,
  loadModuleFromSafetensors,
  loadTensors,
  moduleToSafetensors,
  saveTensors,
  stateDict,
} from '../src/io/index.js';

/**
 * A checkpoint is checked, not trusted: every single-bit flip in a checksummed file is refused (or leaves the
 * weights and metadata as saved), names such as `__proto__` load like any other, and the optimiser's saved
 * numbers are type-checked field by field.
 */

const dir = await mkdtemp(join(tmpdir(), 'webrnn-integrity-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

function build(seed: number) {
  manualSeed(seed);
  return new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Tanh()).add(new nn.Linear(4, 2));
}

function trained(seed: number) {
  const m = build(seed);
  const opt = new optim.Adam(m.parameters()[0], { lr: 0.01 });
  opt.zeroGrad();
  tidy(() => {
    const y = m.forward(tensor([[1, -2, 0.5]])) as Tensor;
    sum(mul(y, y)).backward();
  });
  opt.step();
  return { m, opt };
}

const weightsOf = (m: nn.Module) =>
  Object.fromEntries(Object.entries(stateDict(m)).map(([n, p]) => [n, Array.from(p.dataSync())]));

function flip(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

describe('checksums', () => {
  const { m, opt } = trained(1);
  const metadata = { epoch: 3, config: { hidden: 4 } };
  const good = moduleToSafetensors(m, metadata, opt);

  it('every single-bit flip, in the header or the data, is refused or changes nothing loaded', async () => {
    const bytes = await good;
    const headerBits = (8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) * 8;
    const expected = weightsOf(m);
    let refused = 0;
    await fc.assert(
      fc.property(
        fc.oneof(fc.nat(headerBits - 1), fc.integer({ min: headerBits, max: bytes.length * 8 - 1 })),
        (bit) => {
          const target = build(2);
          const opt2 = new optim.Adam(target.parameters()[0], {});
          let loaded: { metadata: Record<string, unknown> };
          try {
            loaded = loadModuleFromSafetensors(flip(bytes, bit), target, { optimizer: opt2 }, 'ckpt');
          } catch (e) {
            expect(e).toBeInstanceOf(WebrnnError);
            expect((e as Error).message).toMatch(/^loadModuleFromSafetensors: ckpt: /);
            refused++;
            return;
          }
          // Not refused: then nothing that was loaded differs (e.g. the flip renamed the checksums' own key).
          expect(weightsOf(target)).toEqual(expected);
          expect(loaded.metadata).toMatchObject(metadata);
          expect(opt2.config).toEqual(opt.config);
        },
      ),
      { numRuns: 400 },
    );
    expect(refused).toBeGreaterThan(380);
  });

  it('names the file and the tensor whose bytes changed', async () => {
    const bytes = await good;
    const path = join(dir, 'flipped.safetensors');
    await writeFile(path, flip(bytes, bytes.length * 8 - 3));
    const lastName = Object.entries(decodeSafetensors(bytes).tensors).find(
      ([, t]) => t.dtype === 'float32' && t.data.length > 0,
    );
    expect(lastName).toBeDefined();
    await expect(
      loadModule(path, build(3), { optimizer: new optim.Adam(build(3).parameters()[0]) }),
    ).rejects.toThrow(new RegExp(`^loadModule: ${path}: tensor '[^']+' fails its SHA-256 checksum`));
  });

  it('still verify after another tool lays the same tensors out in another order', async () => {
    const bytes = await good;
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    const dataStart = 8 + n;
    // Reverse the data order, keeping every entry's (and the metadata's, checksums included) content.
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (const name of [...names].reverse()) {
      const [b, e] = header[name].data_offsets;
      chunks.push(bytes.subarray(dataStart + b, dataStart + e));
      header[name].data_offsets = [at, at + e - b];
      at += e - b;
    }
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + at);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    let p = 8 + json.length;
    for (const c of chunks) {
      out.set(c, p);
      p += c.length;
    }
    expect(out.length).toBe(bytes.length - (n - json.length));
    const target = build(7);
    loadModuleFromSafetensors(out, target, {}, 'relaid');
    expect(weightsOf(target)).toEqual(weightsOf(m));
    // Swapping two same-sized tensors' offsets is caught by their own checksums.
    const [a, b] = names.filter((k) => header[k].shape.join() === header[names[0]!].shape.join()).slice(0, 2);
    expect(b).toBeDefined();
    [header[a!].data_offsets, header[b!].data_offsets] = [header[b!].data_offsets, header[a!].data_offsets];
    const swapped = out.slice();
    swapped.set(new TextEncoder().encode(JSON.stringify(header)), 8);
    expect(() => loadModuleFromSafetensors(swapped, build(7), {}, 'swapped')).toThrow(
      'fails its SHA-256 checksum',
    );
  });

  it('files without checksums (other tools) still load; ours hide the checksum key from the metadata', async () => {
    const t: HostTensor = { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) };
    const plain = encodeSafetensors({ t }, { format: 'pt' }, 'encodeSafetensors', { checksums: false });
    expect(new TextDecoder().decode(plain).includes('sha256')).toBe(false);
    expect(decodeSafetensors(plain).metadata).toEqual({ format: 'pt' });
    const summed = encodeSafetensors({ t }, { format: 'pt' });
    expect(new TextDecoder().decode(summed).includes('webrnn.sha256')).toBe(true);
    expect(decodeSafetensors(summed).metadata).toEqual({ format: 'pt' });
    expect(() => encodeSafetensors({ t }, { 'webrnn.sha256': 'x' })).toThrow(
      "encodeSafetensors: metadata key 'webrnn.sha256' is reserved for the checksums",
    );
  });
});

describe('names from a file', () => {
  const own = (entries: [string, HostTensor][]) => {
    const r: Record<string, HostTensor> = {};
    for (const [k, v] of entries) Object.defineProperty(r, k, { value: v, enumerable: true });
    return r;
  };
  const t = (v: number): HostTensor => ({ dtype: 'float32', shape: [1], data: new Float32Array([v]) });

  it('__proto__, constructor and toString load like any other name, or are refused by name', async () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    await fc.assert(
      fc.asyncProperty(fc.subarray(names, { minLength: 1 }), fc.boolean(), async (picked, checksums) => {
        const record = own(picked.map((n, i) => [n, t(i + 1)]));
        const bytes = encodeSafetensors(record, {}, 'encodeSafetensors', { checksums });
        const back = decodeSafetensors(bytes).tensors;
        expect(Object.keys(back)).toEqual(picked);
        picked.forEach((n, i) =>
          expect(Array.from(Object.getOwnPropertyDescriptor(back, n)!.value.data)).toEqual([i + 1]),
        );
        const path = join(dir, 'names.safetensors');
        await writeFile(path, bytes);
        const loaded = await loadTensors(path);
        expect(Object.keys(loaded)).toEqual(picked);
        // A module has none of these names: strict refuses them by name, non-strict reports them.
        await expect(loadModule(path, new nn.Linear(1, 1))).rejects.toThrow(
          `unexpected: ${picked.map((n) => `'${n}'`).join(', ')}`,
        );
        const res = await loadModule(path, new nn.Linear(1, 1), { strict: false });
        expect(res.unexpected).toEqual(picked);
        expect(res.missing).toEqual(['weight', 'bias']);
      }),
      { numRuns: 12 },
    );
  });

  it('saveTensors keeps a tensor named __proto__', async () => {
    const record: Record<string, Tensor> = {};
    Object.defineProperty(record, '__proto__', { value: tensor([7]), enumerable: true });
    const path = join(dir, 'proto.safetensors');
    await saveTensors(path, record);
    const back = await loadTensors(path);
    expect(Object.keys(back)).toEqual(['__proto__']);
    expect(Array.from(Object.getOwnPropertyDescriptor(back, '__proto__')!.value.dataSync())).toEqual([7]);
  });
});

describe('optimiser state from a file', () => {
  /** A checkpoint whose optimiser info was edited (re-encoded, so checksums hold: the schema must catch it). */
  async function edited(
    edit: (info: { config: Record<string, unknown>; states: Record<string, unknown>[] }) => void,
  ) {
    const { m, opt } = trained(4);
    const { tensors, metadata } = decodeSafetensors(await moduleToSafetensors(m, {}, opt));
    const info = JSON.parse(metadata['webrnn.optim']!);
    edit(info);
    return encodeSafetensors(tensors, { ...metadata, 'webrnn.optim': JSON.stringify(info) });
  }
  const load = (bytes: Uint8Array) => {
    const m = build(5);
    const opt = new optim.Adam(m.parameters()[0], { lr: 0.5 });
    const before = weightsOf(m);
    try {
      loadModuleFromSafetensors(bytes, m, { optimizer: opt }, 'ckpt');
    } catch (e) {
      // A refused load changes nothing.
      expect(weightsOf(m)).toEqual(before);
      expect(opt.config).toEqual({ lr: 0.5 });
      throw e;
    }
    return opt;
  };

  it("refuses learningRate: 'abc' naming the field", async () => {
    const bytes = await edited((info) => {
      info.config.learningRate = 'abc';
    });
    expect(() => load(bytes)).toThrow(
      `loadModuleFromSafetensors: ckpt: optimiser config field 'learningRate' must be a finite number, got "abc"`,
    );
  });

  it('refuses any ill-typed config or state field, unknown fields and unknown state tensors', async () => {
    const bad = fc.oneof(
      fc.string(),
      fc.constant(null),
      fc.array(fc.integer(), { maxLength: 2 }),
      fc.object({ maxDepth: 1 }),
      fc.boolean(),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay', 'learningRateDecay'),
        bad,
        async (field, value) => {
          const bytes = await edited((info) => {
            info.config[field] = value;
          });
          expect(() => load(bytes)).toThrow(`optimiser config field '${field}' must be a finite number`);
        },
      ),
      { numRuns: 30 },
    );
    const counts = [-1, 1.5, '3', null, true];
    for (const t of counts) {
      const bytes = await edited((info) => {
        info.states[1]!.t = t;
      });
      expect(() => load(bytes)).toThrow(
        `optimiser states[1] field 't' must be a non-negative integer, got ${JSON.stringify(t)}`,
      );
    }
    const unknown = await edited((info) => {
      info.config.momentum = 0.9;
    });
    expect(() => load(unknown)).toThrow("optimiser config has unknown field 'momentum'");
    const { m, opt } = trained(6);
    const { tensors, metadata } = decodeSafetensors(await moduleToSafetensors(m, {}, opt));
    Object.assign(tensors, { 'optim.0.bogus': tensors['optim.0.m']! });
    expect(() => load(encodeSafetensors(tensors, metadata))).toThrow(
      "optimiser tensor 'optim.0.bogus' is no state of optim.Adam (it has m, v, denom)",
    );
    // A sound file loads, and its numbers are restored.
    const ok = load(await edited(() => {}));
    expect(ok.config).toEqual({ lr: 0.01 });
    expect(ok.states[0]).toMatchObject({ t: 1 });
  });
});
