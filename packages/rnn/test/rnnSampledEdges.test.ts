import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Tensor, WebrnnError, manualSeed, mul, nn, noGrad, optim, sum, tensor, tidy } from '@webrnn/rnn';
import {
  decodeSafetensors,
  encodeSafetensors,
  loadModuleFromSafetensors,
  loadStateDict,
  moduleToSafetensors,
  stateDict,
} from '../src/io/index.js';
import { writeSerialised } from '../src/io/serialisedWrites.js';

/**
 * Holes found by the sampled mutation run of rnn (`pnpm mutate:sample --package rnn`, README "Mutation testing"):
 * SeqGRU's default initialisation scale, NormStabilizer accepting beta = 0, nn.Reshape's refusals, Sequencer's
 * refusal of an input that is no sequence, loadStateDict's hint (only where `strict: false` would help), and a checkpoint's optimiser tensor for a
 * parameter one past the last, a module whose state names clash with the optimiser's when saved with one, and
 * checksum metadata whose header digest is no SHA-256, saves to one file spelled two ways waiting for each other; and a bug it showed: nn.CMul refused a 1-d batch of
 * one-element examples that Torch's CMul takes (its `input:size(1)` batch view).
 */
const std = (t: Tensor) => {
  const v = Array.from(t.dataSync());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
};

describe('SeqGRU.reset', () => {
  it("draws the weights with Torch's default std 1/sqrt(inputSize + outputSize)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 40 }),
        fc.integer({ min: 8, max: 40 }),
        fc.nat(1000),
        (D, H, seed) => {
          manualSeed(seed);
          const gru = new nn.SeqGRU(D, H);
          const want = 1 / Math.sqrt(D + H);
          // The one [D + H, 3H] weight: at least 16 * 24 draws.
          expect(std(gru.weight)).toBeGreaterThan(0.8 * want);
          expect(std(gru.weight)).toBeLessThan(1.2 * want);
          gru.dispose();
        },
      ),
      { numRuns: 10 },
    );
  });
});

describe('NormStabilizer', () => {
  it('accepts beta = 0 (no penalty) and refuses a negative or non-finite beta', () => {
    expect(new nn.NormStabilizer(0).beta).toBe(0);
    for (const beta of [-1e-9, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new nn.NormStabilizer(beta)).toThrow(/nn\.NormStabilizer: beta must be >= 0/);
    }
  });
});

describe('nn.Reshape', () => {
  it('refuses no sizes, a negative size and a fractional one, naming itself', () => {
    for (const args of [[], [-1], [2, 1.5], [[3, -2]]] as unknown as number[][]) {
      expect(() => new nn.Reshape(...args)).toThrow(/nn\.Reshape: sizes must be non-negative integers/);
    }
    expect(new nn.Reshape(2, 3).size).toEqual([2, 3]);
  });
});

describe('Sequencer', () => {
  it('refuses a 0-d input or an empty sequence, naming the input', () => {
    const seq = new nn.Sequencer(new nn.Linear(2, 2));
    for (const x of [tensor([1]).reshape([]), tensor([], { dtype: 'float32' }).reshape([0, 2])]) {
      expect(() => seq.forward(x)).toThrow(/input: expected a sequence \[T, \.\.\.\] with T >= 1/);
    }
  });
});

describe('loadStateDict', () => {
  it('suggests { strict: false } for missing or unexpected entries, not for a shape mismatch it would not fix', () => {
    manualSeed(1);
    const small = new nn.Sequential().add(new nn.Linear(3, 4));
    const wide = new nn.Sequential().add(new nn.Linear(3, 5));
    const big = new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Linear(4, 2));
    const thrown = (run: () => unknown) => {
      try {
        run();
      } catch (e) {
        expect(e).toBeInstanceOf(WebrnnError);
        return (e as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(thrown(() => loadStateDict(big, stateDict(small)))).toMatch(/\(pass \{ strict: false \}/);
    const mismatch = thrown(() => loadStateDict(wide, stateDict(small)));
    expect(mismatch).toMatch(/shape mismatch/);
    expect(mismatch).not.toMatch(/strict: false/);
  });
});

describe('checkpoint optimiser state', () => {
  it('refuses an optimiser tensor of a parameter index at or past the parameter count', async () => {
    const model = () =>
      new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Tanh()).add(new nn.Linear(4, 2));
    manualSeed(3);
    const m = model();
    const opt = new optim.Adam(m.parameters()[0], { lr: 0.01 });
    tidy(() => {
      const y = m.forward(tensor([[1, -2, 0.5]])) as Tensor;
      sum(mul(y, y)).backward();
    });
    opt.step();
    const count = m.parameters()[0].length;
    const { tensors, metadata } = decodeSafetensors(await moduleToSafetensors(m, {}, opt));
    for (const index of [count, count + 7]) {
      const extra = { ...tensors, [`optim.${index}.m`]: tensors['optim.0.m']! };
      const target = model();
      const into = new optim.Adam(target.parameters()[0], { lr: 0.5 });
      expect(() =>
        loadModuleFromSafetensors(encodeSafetensors(extra, metadata), target, { optimizer: into }, 'ckpt'),
      ).toThrow(
        `optimiser tensor 'optim.${index}.m' does not name a state of one of the ${count} parameters`,
      );
    }
  });

  it("refuses to save, with an optimiser, a module whose state names start with 'optim.'", async () => {
    // A container holding its child in a field named `optim`: the child's state is saved as 'optim.weight', ...
    class Holder extends nn.Sequential {
      readonly optim: nn.Linear;
      constructor() {
        super();
        this.optim = new nn.Linear(2, 2);
        this.add(this.optim);
      }
    }
    const m = new Holder();
    expect(Object.keys(stateDict(m))).toContain('optim.weight');
    const opt = new optim.SGD(m.parameters()[0], { lr: 0.1 });
    await expect(moduleToSafetensors(m, {}, opt)).rejects.toThrow(
      "'optim.weight' clashes with the optimiser's names 'optim.*'",
    );
    // Without an optimiser there is nothing to clash with.
    expect(decodeSafetensors(await moduleToSafetensors(m, {})).tensors['optim.weight']).toBeDefined();
  });
});

describe('checksum metadata', () => {
  /** `bytes` (a safetensors file) with its checksum record edited, the header re-encoded (padded to 8 bytes). */
  function withSums(bytes: Uint8Array, edit: (sums: Record<string, unknown>) => void): Uint8Array {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    const sums = JSON.parse(header.__metadata__['webrnn.sha256']);
    edit(sums);
    header.__metadata__['webrnn.sha256'] = JSON.stringify(sums);
    let text = JSON.stringify(header);
    text += ' '.repeat((8 - (text.length % 8)) % 8);
    const encoded = new TextEncoder().encode(text);
    const out = new Uint8Array(8 + encoded.length + bytes.length - 8 - n);
    new DataView(out.buffer).setBigUint64(0, BigInt(encoded.length), true);
    out.set(encoded, 8);
    out.set(bytes.subarray(8 + n), 8 + encoded.length);
    return out;
  }

  it('refuses a header digest that is no SHA-256 even when the tensors record is sound', () => {
    const t = { dtype: 'float32' as const, shape: [2], data: new Float32Array([1, 2]) };
    const file = encodeSafetensors({ t }, { format: 'pt' });
    expect(decodeSafetensors(withSums(file, () => {})).metadata).toEqual({ format: 'pt' });
    for (const header of ['abc', 42, null, 'F'.repeat(64)]) {
      expect(() =>
        decodeSafetensors(
          withSums(file, (sums) => {
            sums.header = header;
          }),
        ),
      ).toThrow("metadata 'webrnn.sha256' must be { header: sha256, tensors: { name: sha256 } }");
    }
  });
});

describe('nn.CMul with a one-element weight of rank 2', () => {
  it("takes a 1-d input as a batch of one-element examples, as Torch's CMul does", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: 2, maxLength: 6 }),
        fc.double({ min: -2, max: 2, noNaN: true }),
        (xs, w) => {
          const m = new nn.CMul(1, 1).type('float64');
          noGrad(() => m.weight.copy_(tensor([[w]], { dtype: 'float64' })));
          const x = tensor(xs, { dtype: 'float64' });
          const y = m.forward(x) as Tensor;
          expect(y.shape).toEqual([xs.length]);
          Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo((xs[i] as number) * w, 12));
          // Backward as Torch: gradInput = w * g, gradWeight = sum(x * g).
          const g = xs.map((_, i) => i + 1);
          m.zeroGradParameters();
          const gx = m.backward(x, tensor(g, { dtype: 'float64' })) as Tensor;
          Array.from(gx.dataSync()).forEach((v, i) => expect(v).toBeCloseTo((g[i] as number) * w, 12));
          const gw = xs.reduce((a, v, i) => a + v * (g[i] as number), 0);
          expect(Array.from(m.gradWeight.dataSync())[0]).toBeCloseTo(gw, 10);
          m.dispose();
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('saves to one path', () => {
  it('run in call order when the path is spelled with . or .. segments', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'webrnn-serialised-'));
    await mkdir(join(dir, 'sub')); // the file system resolves `sub/..` only through an existing `sub`
    try {
      for (const [first, second] of [
        [`${dir}/./a.bin`, `${dir}/a.bin`],
        [`${dir}/sub/../b.bin`, `${dir}/./b.bin`],
      ] as const) {
        // The first save's bytes come late: the second, to the same file, must wait for it and so win.
        let release: (b: Uint8Array) => void = () => {};
        const late = new Promise<Uint8Array>((r) => {
          release = r;
        });
        const p1 = writeSerialised('test', first, late);
        const p2 = writeSerialised('test', second, Promise.resolve(new Uint8Array([2])));
        // Unserialised, the second save would finish here, and the late first one overwrite it after.
        await Promise.race([p2, new Promise((r) => setTimeout(r, 300))]);
        release(new Uint8Array([1]));
        await Promise.all([p1, p2]);
        expect(Array.from(await readFile(second))).toEqual([2]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
