import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Tensor,
  type TypedArray,
  manualSeed,
  mul,
  nn,
  optim,
  randn,
  sum,
  tensor,
  tidy,
} from '@webrnn/rnn';
import {
  decodeSafetensors,
  encodeSafetensors,
  loadModule,
  loadModuleFromSafetensors,
  loadStateDict,
  loadStateDictAsync,
  loadTensors,
  moduleToSafetensors,
  saveModule,
  saveTensors,
  stateDict,
} from '../src/io/index.js';
import { webgpuForFile } from './helpers/webgpu.js';

/**
 * Saving and loading: the safetensors reader/writer (round trips, a file laid out as Python writes it, every
 * malformed case with its message), state dict names and strict/non-strict loading, checkpoints with metadata
 * and optimiser state that resume training exactly, and WebGPU models saved and loaded into CPU ones.
 */

const dir = await mkdtemp(join(tmpdir(), 'webrnn-io-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const file = (name: string) => join(dir, name);

/** Embeddings, a FastLSTM and a GRU in Sequencers, and a Linear: [T, N] int32 indices to [T, N, 5]. */
function buildModel(seed: number) {
  manualSeed(seed);
  return new nn.Sequential()
    .add(new nn.LookupTable(10, 6))
    .add(new nn.Sequencer(new nn.FastLSTM(6, 7)))
    .add(new nn.Sequencer(new nn.GRU(7, 4)))
    .add(new nn.Sequencer(new nn.Linear(4, 5)));
}

const indices = () =>
  tensor(
    [
      [1, 2, 9],
      [0, 5, 3],
    ],
    { dtype: 'int32' },
  );

const run = (m: nn.Module, x: Tensor) => Array.from((m.forward(x) as Tensor).dataSync());
const values = (ts: readonly Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

describe('stateDict', () => {
  it('names parameters by container index and field, in the order of parameters()', () => {
    const m = buildModel(1);
    const sd = stateDict(m);
    expect(Object.keys(sd)).toEqual([
      '0.weight',
      '1.0.i2g.weight',
      '1.0.i2g.bias',
      '1.0.o2g.weight',
      '2.0.i2g.weight',
      '2.0.i2g.bias',
      '2.0.o2g.weight',
      '2.0.i2h.weight',
      '2.0.i2h.bias',
      '2.0.o2h.weight',
      '3.0.0.weight',
      '3.0.0.bias',
    ]);
    expect(Object.values(sd)).toEqual(m.parameters()[0]);
    expect(Object.values(sd).every((t, i) => t === m.parameters()[0][i])).toBe(true);
  });

  it('lists a shared parameter once, under its first name', () => {
    manualSeed(3);
    const lin = new nn.Linear(3, 3);
    const m = new nn.Sequential().add(lin).add(new nn.Tanh()).add(lin.sharedClone());
    expect(Object.keys(stateDict(m))).toEqual(['0.weight', '0.bias']);
  });

  it('loads in place: parameters and getParameters views keep their identity, dtype converts', () => {
    const a = buildModel(1);
    const b = buildModel(2).double();
    const x = indices();
    const before = b.parameters()[0];
    const [flat] = b.getParameters();
    expect(run(b, x)).not.toEqual(run(a, x));
    expect(loadStateDict(b, stateDict(a))).toEqual({ missing: [], unexpected: [] });
    expect(b.parameters()[0].every((p, i) => p === before[i] && p.dtype === 'float64')).toBe(true);
    // float32 values widen exactly, so the float64 model computes on the same weights.
    expect(Array.from(flat.dataSync())).toEqual(Array.from(a.getParameters()[0].dataSync()));
    const ya = run(a, x);
    const yb = run(b, x);
    yb.forEach((v, i) => expect(v).toBeCloseTo(ya[i]!, 5));
  });

  it('strict loading names missing, unexpected and mis-shaped parameters and writes nothing', () => {
    manualSeed(4);
    const small = new nn.Sequential().add(new nn.Linear(3, 4));
    const big = new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Linear(4, 2));
    const other = new nn.Sequential().add(new nn.Linear(3, 5));
    const bigBefore = values(big.parameters()[0]);
    expect(() => loadStateDict(big, stateDict(small))).toThrow(
      "loadStateDict: the state dict does not fit nn.Sequential: missing: '1.weight', '1.bias' (pass { strict: false } to load what matches)",
    );
    expect(() => loadStateDict(small, stateDict(big))).toThrow("unexpected: '1.weight', '1.bias'");
    expect(() => loadStateDict(other, stateDict(small))).toThrow(
      "shape mismatch: '0.weight' is [4, 3] there, [5, 3] in the module; '0.bias' is [4] there, [5] in the module",
    );
    expect(() => loadStateDict(other, stateDict(small), { strict: false })).toThrow('shape mismatch');
    expect(values(big.parameters()[0])).toEqual(bigBefore);

    expect(loadStateDict(big, stateDict(small), { strict: false })).toEqual({
      missing: ['1.weight', '1.bias'],
      unexpected: [],
    });
    expect(values(big.parameters()[0]).slice(0, 2)).toEqual(values(small.parameters()[0]));
    expect(values(big.parameters()[0]).slice(2)).toEqual(bigBefore.slice(2));
    expect(loadStateDict(small, stateDict(big), { strict: false })).toEqual({
      missing: [],
      unexpected: ['1.weight', '1.bias'],
    });
  });
});

describe('saveModule / loadModule', () => {
  it('a model loaded into a fresh one built with another seed gives identical outputs', async () => {
    const a = buildModel(1);
    const x = indices();
    await saveModule(file('model.safetensors'), a, { config: { vocab: 10, hidden: [7, 4] }, epoch: 3 });
    const b = buildModel(2);
    const before = b.parameters()[0];
    expect(run(b, x)).not.toEqual(run(a, x));
    const res = await loadModule(file('model.safetensors'), b);
    expect(res).toEqual({
      missing: [],
      unexpected: [],
      metadata: { config: { vocab: 10, hidden: [7, 4] }, epoch: 3 },
    });
    expect(b.parameters()[0].every((p, i) => p === before[i])).toBe(true);
    expect(run(b, x)).toEqual(run(a, x));
    // The file is plain safetensors: parameter names, dtype and shapes in the header.
    const { tensors } = decodeSafetensors(new Uint8Array(await readFile(file('model.safetensors'))));
    expect(tensors['1.0.i2g.weight']!.shape).toEqual([28, 6]);
    expect(tensors['1.0.i2g.weight']!.dtype).toBe('float32');
  });

  it('round-trips float64 models exactly and metadata of every JSON kind', async () => {
    const a = buildModel(5).double();
    const meta = {
      s: 'text',
      n: '123',
      u: 'ünï — 日本',
      num: -1.5e-300,
      t: true,
      z: null,
      arr: [1, 'a', [false]],
      nested: { a: { b: [] } },
    };
    const bytes = await moduleToSafetensors(a, meta);
    const b = buildModel(6).double();
    const { metadata } = loadModuleFromSafetensors(bytes, b);
    expect(metadata).toEqual(meta);
    expect(values(b.parameters()[0])).toEqual(values(a.parameters()[0]));
    expect(b.parameters()[0][0]!.dtype).toBe('float64');
  });

  it('refuses reserved metadata keys and values that are not JSON', async () => {
    const m = new nn.Linear(2, 2);
    await expect(moduleToSafetensors(m, { 'webrnn.x': 1 })).rejects.toThrow(
      "metadata keys starting 'webrnn.' are reserved, got 'webrnn.x'",
    );
    await expect(moduleToSafetensors(m, { f: undefined as never })).rejects.toThrow(
      "metadata 'f' is not JSON-able (undefined)",
    );
  });

  it('names the file when the model does not fit it, and when it cannot be read', async () => {
    manualSeed(7);
    const path = file('lin.safetensors');
    await saveModule(path, new nn.Linear(3, 4));
    await expect(loadModule(path, new nn.Linear(3, 5))).rejects.toThrow(
      `loadModule: ${path} does not fit nn.Linear: shape mismatch: 'weight' is [4, 3] there, [5, 3] in the module`,
    );
    // Same names and shapes, another structure: refused when strict, loaded by names otherwise.
    const seq = file('seq.safetensors');
    await saveModule(seq, new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Tanh()));
    const other = new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Sigmoid());
    await expect(loadModule(seq, other)).rejects.toThrow(
      `loadModule: ${seq}: holds a model of another structure (load with { strict: false } to match by names only)`,
    );
    await expect(loadModule(seq, other, { strict: false })).resolves.toBeTruthy();
    await expect(loadModule(file('nope.safetensors'), new nn.Linear(3, 4))).rejects.toThrow(
      `loadModule: cannot read ${file('nope.safetensors')}: ENOENT`,
    );
  });

  const step = (m: nn.Module, opt: optim.Optimizer<object, object>, x: Tensor) => {
    opt.zeroGrad();
    tidy(() => {
      const y = m.forward(x) as Tensor;
      sum(mul(y, y)).backward();
    });
    opt.step();
  };

  for (const [name, make] of [
    ['Adam', (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.01 })],
    ['SGD with momentum', (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.05, momentum: 0.9, dampening: 0 })],
    ['RMSprop', (ps: Tensor[]) => new optim.RMSprop(ps, { lr: 0.01 })],
  ] as const) {
    it(`a checkpoint with ${name} state resumes training exactly`, async () => {
      const x = indices();
      const a = buildModel(1);
      const optA = make(a.parameters()[0]);
      step(a, optA, x);
      step(a, optA, x);
      const path = file(`ckpt-${name}.safetensors`);
      await saveModule(path, a, { step: 2 }, optA);
      const b = buildModel(2);
      const optB = make(b.parameters()[0]);
      optB.config = {}; // restored from the file
      step(b, optB, x); // state to be replaced
      const { metadata } = await loadModule(path, b, { optimizer: optB });
      expect(metadata).toEqual({ step: 2 });
      expect(optB.config).toEqual(optA.config);
      step(a, optA, x);
      step(b, optB, x);
      expect(values(b.parameters()[0])).toEqual(values(a.parameters()[0]));
    });
  }

  it('works with getParameters vectors and refuses a different optimiser or a file without one', async () => {
    const a = buildModel(1);
    const [w, dw] = a.getParameters();
    const opt = new optim.Adam(w, {}, dw);
    tidy(() => sum(a.forward(indices()) as Tensor).backward());
    opt.step();
    const path = file('flat.safetensors');
    await saveModule(path, a, {}, opt);
    const { tensors } = decodeSafetensors(new Uint8Array(await readFile(path)));
    expect(Object.keys(tensors).filter((n) => n.startsWith('optim.'))).toEqual([
      'optim.0.m',
      'optim.0.v',
      'optim.0.denom',
    ]);
    const b = buildModel(2);
    const [wb, dwb] = b.getParameters();
    const sgd = new optim.SGD(wb, {}, dwb);
    const before = values(b.parameters()[0]);
    await expect(loadModule(path, b, { optimizer: sgd })).rejects.toThrow(
      `loadModule: ${path}: holds the state of optim.Adam, not of optim.SGD`,
    );
    expect(values(b.parameters()[0])).toEqual(before); // nothing written
    const adamOnList = new optim.Adam(b.parameters()[0]);
    await expect(loadModule(path, b, { optimizer: adamOnList })).rejects.toThrow(
      'holds optimiser state for 1 parameters, the optim.Adam has 12',
    );
    await saveModule(file('plain.safetensors'), a);
    await expect(loadModule(file('plain.safetensors'), b, { optimizer: sgd })).rejects.toThrow(
      'holds no optimiser state',
    );
    const adam = new optim.Adam(wb, {}, dwb);
    await loadModule(path, b, { optimizer: adam });
    expect(Array.from(adam.states[0]!.m!.dataSync())).toEqual(Array.from(opt.states[0]!.m!.dataSync()));
    expect(adam.states[0]!.t).toBe(1);
  });
});

// ---- safetensors bytes -------------------------------------------------------------------------------------

/** A file as the spec lays it out: u64 LE header length, the header (padded with spaces), the data. */
function rawFile(header: string, data: Uint8Array = new Uint8Array(0), pad = 0, length?: number): Uint8Array {
  const h = new TextEncoder().encode(header + ' '.repeat(pad));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(length ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function leBytes(kind: 'f32' | 'f64' | 'i32', xs: number[]): Uint8Array {
  const size = kind === 'f64' ? 8 : 4;
  const out = new Uint8Array(xs.length * size);
  const v = new DataView(out.buffer);
  xs.forEach((x, i) => {
    if (kind === 'f64') v.setFloat64(i * size, x, true);
    else if (kind === 'f32') v.setFloat32(i * size, x, true);
    else v.setInt32(i * size, x, true);
  });
  return out;
}

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('safetensors format', () => {
  it('reads a file laid out as Python safetensors writes it (padded header, F64 first)', async () => {
    // As `save_file({"i": i32 [3], "w": f32 [2, 2], "d": f64 [2]}, path, metadata={"format": "pt"})` writes it:
    // compact JSON, metadata first, tensors ordered by dtype (F64, F32, I32) then name, header padded to 8.
    const header =
      '{"__metadata__":{"format":"pt"},"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},' +
      '"w":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},"i":{"dtype":"I32","shape":[3],"data_offsets":[32,44]}}';
    const pad = (8 - (header.length % 8)) % 8;
    expect(pad).toBeGreaterThan(0);
    const data = concat(
      leBytes('f64', [0.1, -1e300]),
      leBytes('f32', [1.5, -2, 0.25, 3]),
      leBytes('i32', [2147483647, -2147483648, 7]),
    );
    const bytes = rawFile(header, data, pad);
    expect((8 + header.length + pad) % 8).toBe(0);
    await writeFile(file('python.safetensors'), bytes);
    const ts = await loadTensors(file('python.safetensors'), { device: 'cpu' });
    expect(Object.keys(ts)).toEqual(['d', 'w', 'i']);
    expect(ts.d!.dtype).toBe('float64');
    expect(Array.from(ts.d!.dataSync())).toEqual([0.1, -1e300]);
    expect(ts.i!.dtype).toBe('int32');
    expect(Array.from(ts.i!.dataSync())).toEqual([2147483647, -2147483648, 7]);
    expect(ts.w!.toArraySync()).toEqual([
      [1.5, -2],
      [0.25, 3],
    ]);
    // dtype converts floating-point tensors only: int32 keeps its indices.
    const conv = await loadTensors(file('python.safetensors'), { dtype: 'float32' });
    expect([conv.d!.dtype, conv.i!.dtype, conv.w!.dtype]).toEqual(['float32', 'int32', 'float32']);
    // And our writer produces the same bytes for the same tensors and metadata.
    const ours = encodeSafetensors(
      {
        d: { dtype: 'float64', shape: [2], data: new Float64Array([0.1, -1e300]) },
        w: { dtype: 'float32', shape: [2, 2], data: new Float32Array([1.5, -2, 0.25, 3]) },
        i: { dtype: 'int32', shape: [3], data: new Int32Array([2147483647, -2147483648, 7]) },
      },
      { format: 'pt' },
      'encodeSafetensors',
      { checksums: false }, // Python writes none
    );
    expect(Array.from(ours)).toEqual(Array.from(bytes));
  });

  it('keeps plain-string metadata of other writers as strings', () => {
    const m = new nn.Linear(1, 1);
    const bytes = rawFile(
      '{"__metadata__":{"format":"pt"},"weight":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"bias":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      leBytes('f32', [2, -3]),
    );
    expect(loadModuleFromSafetensors(bytes, m).metadata).toEqual({ format: 'pt' });
    expect(Array.from(m.weight.dataSync())).toEqual([2]);
    expect(Array.from(m.bias!.dataSync())).toEqual([-3]);
  });

  it('round-trips float32, float64 and int32 tensors of any shape, on disk and in memory', async () => {
    const dtypes = ['float32', 'float64', 'int32'] as const;
    const arb = fc.array(
      fc.record({
        dtype: fc.constantFrom(...dtypes),
        shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
        seed: fc.integer({ min: 0, max: 1000 }),
      }),
      { maxLength: 5 },
    );
    fc.assert(
      fc.property(arb, (specs) => {
        const tensors: Record<string, { dtype: (typeof dtypes)[number]; shape: number[]; data: TypedArray }> =
          {};
        specs.forEach(({ dtype, shape, seed }, k) => {
          const n = shape.reduce((a, b) => a * b, 1);
          const data =
            dtype === 'int32'
              ? Int32Array.from({ length: n }, (_, i) => ((seed + i) * 2654435761) | 0)
              : dtype === 'float64'
                ? Float64Array.from({ length: n }, (_, i) => Math.sin(seed + i) * 10 ** ((i % 7) * 40 - 120))
                : Float32Array.from({ length: n }, (_, i) => Math.cos(seed * i) * 1e5);
          tensors[`t${k}.${dtype}`] = { dtype, shape, data };
        });
        const bytes = encodeSafetensors(tensors, { k: 'v' });
        const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(headerLength % 8).toBe(0);
        const back = decodeSafetensors(bytes);
        expect(back.metadata).toEqual({ k: 'v' });
        expect(Object.keys(back.tensors)).toEqual(Object.keys(tensors));
        for (const [name, t] of Object.entries(tensors)) {
          const b = back.tensors[name]!;
          expect([b.dtype, b.shape]).toEqual([t.dtype, t.shape]);
          expect(b.data.constructor).toBe(t.data.constructor);
          expect(Array.from(b.data)).toEqual(Array.from(t.data));
        }
      }),
      { numRuns: 25 },
    );
    // Through files and tensors, with special values.
    const rec = {
      f64: tensor([Math.PI, -0, Number.MIN_VALUE, Number.MAX_VALUE, Number.POSITIVE_INFINITY], {
        dtype: 'float64',
      }),
      i32: tensor([[-2147483648], [2147483647]], { dtype: 'int32' }),
      scalar: tensor(2.5),
      empty: randn([0, 3]),
    };
    await saveTensors(file('tensors.safetensors'), rec, { note: 'hi' });
    const back = await loadTensors(file('tensors.safetensors'));
    for (const [k, t] of Object.entries(rec)) {
      expect([back[k]!.dtype, back[k]!.shape]).toEqual([t.dtype, t.shape]);
      expect(Array.from(back[k]!.dataSync())).toEqual(Array.from(t.dataSync()));
    }
    expect(Object.is(back.f64!.dataSync()[1], -0)).toBe(true);
    expect(decodeSafetensors(new Uint8Array(await readFile(file('tensors.safetensors')))).metadata).toEqual({
      note: 'hi',
    });
  });

  it('refuses malformed files with an error naming the file and the tensor', async () => {
    const t = (name: string, dtype: string, shape: unknown, offs: unknown) =>
      `"${name}":{"dtype":"${dtype}","shape":${JSON.stringify(shape)},"data_offsets":${JSON.stringify(offs)}}`;
    const eight = new Uint8Array(8);
    const good = encodeSafetensors(
      { a: { dtype: 'float32', shape: [3], data: new Float32Array([1, 2, 3]) } },
      {},
      'encodeSafetensors',
      { checksums: false },
    );
    const cases: [string, Uint8Array, string][] = [
      ['empty file', new Uint8Array(5), 'file is 5 bytes, too short for the 8-byte header length'],
      [
        'truncated header',
        good.subarray(0, 20),
        'header length 56 exceeds the 12 bytes after it (truncated or not safetensors)',
      ],
      [
        'truncated data',
        good.subarray(0, good.length - 1),
        "tensor 'a': data_offsets [0, 12] are out of range: the data is 11 bytes",
      ],
      [
        'header length too big',
        rawFile('{}', undefined, 0, 1 << 30),
        'header length 1073741824 exceeds the 2 bytes after it',
      ],
      ['bad JSON', rawFile('{"a": {'), 'header is not valid JSON ('],
      ['not an object', rawFile('[1, 2]'), 'header must be a JSON object starting with \'{\', got "[1, 2]"'],
      [
        'bad UTF-8',
        concat(rawFile('{"'), new Uint8Array([0xff])).map((b, i) => (i === 0 ? 3 : b)),
        'header is not valid UTF-8',
      ],
      [
        'entry not an object',
        rawFile('{"a":3}'),
        "tensor 'a': entry must be an object { dtype, shape, data_offsets }",
      ],
      [
        'unknown dtype',
        rawFile(`{${t('w', 'Q8', [2], [0, 8])}}`, eight),
        "tensor 'w': unknown dtype 'Q8' (webrnn reads F32, F64 and I32)",
      ],
      [
        'unsupported dtype',
        rawFile(`{${t('w', 'F16', [4], [0, 8])}}`, eight),
        "tensor 'w': dtype F16 is not supported",
      ],
      [
        'bad shape',
        rawFile(`{${t('w', 'F32', [-2], [0, 8])}}`, eight),
        "tensor 'w': shape must be an array of non-negative integers, got [-2]",
      ],
      [
        'bad offsets',
        rawFile(`{${t('w', 'F32', [2], [8, 0])}}`, eight),
        "tensor 'w': data_offsets must be [begin, end] with 0 <= begin <= end, got [8,0]",
      ],
      [
        'offsets out of range',
        rawFile(`{${t('w', 'F32', [4], [0, 16])}}`, eight),
        "tensor 'w': data_offsets [0, 16] are out of range: the data is 8 bytes",
      ],
      [
        'shape/bytes mismatch',
        rawFile(`{${t('w', 'F64', [2], [0, 8])}}`, eight),
        "tensor 'w': shape [2] F64 needs 16 bytes but data_offsets [0, 8] hold 8",
      ],
      [
        'overlap',
        rawFile(`{${t('a', 'F32', [2], [0, 8])},${t('b', 'I32', [1], [4, 8])}}`, eight),
        "tensor 'b' (bytes 4..8) overlaps tensor 'a' (ending at 8)",
      ],
      [
        'hole',
        rawFile(`{${t('a', 'F32', [1], [4, 8])}}`, eight),
        "tensor 'a' starts at byte 4, leaving bytes 0..4 unused",
      ],
      [
        'trailing bytes',
        rawFile(`{${t('a', 'F32', [1], [0, 4])}}`, eight),
        'the tensors end at byte 4 of a 8-byte data section (trailing bytes)',
      ],
      [
        'metadata not strings',
        rawFile('{"__metadata__":{"epoch":3}}'),
        "__metadata__ entry 'epoch' must be a string, got 3",
      ],
    ];
    for (const [what, bytes, msg] of cases) {
      expect(() => decodeSafetensors(bytes, 'bad.safetensors'), what).toThrow(
        `decodeSafetensors: bad.safetensors: ${msg}`,
      );
    }
    // Through the file functions: named by path.
    const path = file('bad.safetensors');
    await writeFile(path, cases[13]![1]);
    await expect(loadTensors(path)).rejects.toThrow(
      `loadTensors: ${path}: tensor 'w': shape [2] F64 needs 16 bytes`,
    );
    await expect(loadModule(path, new nn.Linear(1, 1))).rejects.toThrow(`loadModule: ${path}: tensor 'w'`);
  });

  it('refuses tensors it cannot write', () => {
    expect(() =>
      encodeSafetensors({ a: { dtype: 'float32', shape: [2], data: new Float32Array(3) } }),
    ).toThrow("encodeSafetensors: tensor 'a' of shape [2] float32 has 3 values in a Float32Array");
    expect(() =>
      encodeSafetensors({ a: { dtype: 'float32', shape: [1], data: new Float64Array(1) } }),
    ).toThrow('has 1 values in a Float64Array');
    expect(() => encodeSafetensors({}, { a: 1 as unknown as string })).toThrow(
      "metadata 'a' must be a string, got number",
    );
  });
});

// ---- WebGPU ------------------------------------------------------------------------------------------------

const gpu = await webgpuForFile('io');

describe('saving and loading on WebGPU', () => {
  it.skipIf(!gpu)('a webgpu model saved loads into a cpu model equal, and back', async () => {
    const x = indices();
    const cpu = buildModel(1);
    const expected = values(cpu.parameters()[0]);
    const g = buildModel(1).to('webgpu');
    await saveModule(file('gpu.safetensors'), g, { from: 'webgpu' });
    const b = buildModel(2);
    expect((await loadModule(file('gpu.safetensors'), b)).metadata).toEqual({ from: 'webgpu' });
    expect(values(b.parameters()[0])).toEqual(expected);
    expect(run(b, x)).toEqual(run(cpu, x));

    // In memory: a webgpu state dict needs the async loader for a cpu module.
    const c = buildModel(3);
    expect(() => loadStateDict(c, stateDict(g))).toThrow('use `await loadStateDictAsync(...)`');
    await loadStateDictAsync(c, stateDict(g));
    expect(values(c.parameters()[0])).toEqual(expected);

    // A cpu file into a webgpu model, in place.
    const g2 = buildModel(4).to('webgpu');
    const before = g2.parameters()[0];
    await loadModule(file('gpu.safetensors'), g2);
    expect(g2.parameters()[0].every((p, i) => p === before[i] && p.device === 'webgpu')).toBe(true);
    const got = await Promise.all(g2.parameters()[0].map(async (p) => Array.from(await p.data())));
    expect(got).toEqual(expected);
    g.dispose();
    g2.dispose();
  });
});
