import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, optim, randn, sum } from '@webrnn/rnn';
import { downloadModule, loadModule, loadModuleFromBlob, moduleToBlob, saveModule } from '../src/io/index.js';

/**
 * The io of pages, checked in Node: a module (and optimiser) as a Blob of .safetensors bytes, byte for byte the
 * file saveModule writes, loads back into another module of the same shape (and from a File, whose name the errors
 * show); a saveModule file loads from a Blob; bad arguments are refused by name. (The download itself and the
 * refusal of file paths in a page are tested in Chromium and in the bundles.)
 */

const dir = await mkdtemp(join(tmpdir(), 'webrnn-blob-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const build = (seed: number, hidden: number) => {
  manualSeed(seed);
  return new nn.Sequential().add(new nn.Linear(3, hidden)).add(new nn.Tanh()).add(new nn.Linear(hidden, 2));
};
const values = (ts: Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

describe('io with Blobs', () => {
  it('moduleToBlob holds the bytes of saveModule, and loadModuleFromBlob restores model and optimiser', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 1000 }),
        async (hidden, step) => {
          const a = build(1, hidden);
          const opt = new optim.Adam(a.parameters()[0], { lr: 0.01 });
          opt.zeroGrad();
          sum(a.forward(randn([4, 3])) as Tensor).backward();
          opt.step();
          const blob = await moduleToBlob(a, { step }, opt);
          expect(blob.type).toBe('application/octet-stream');
          const path = join(dir, `m${hidden}.safetensors`);
          await saveModule(path, a, { step }, opt);
          expect(new Uint8Array(await blob.arrayBuffer())).toEqual(new Uint8Array(await readFile(path)));

          const b = build(2, hidden);
          const optB = new optim.Adam(b.parameters()[0], { lr: 0.5 });
          const { metadata } = await loadModuleFromBlob(blob, b, { optimizer: optB });
          expect(metadata).toEqual({ step });
          expect(values(b.parameters()[0])).toEqual(values(a.parameters()[0]));
          expect(optB.config).toEqual(opt.config);
          // The file saveModule wrote loads from a Blob too, and the Blob's bytes load as a file.
          const c = build(3, hidden);
          await loadModuleFromBlob(new Blob([await readFile(path)]), c);
          expect(values(c.parameters()[0])).toEqual(values(a.parameters()[0]));
          await loadModule(path, c);
          for (const m of [a, b, c]) m.dispose();
        },
      ),
      { numRuns: 8 },
    );
  });

  it('names a File in its errors, and refuses what is not a Blob', async () => {
    const a = build(1, 4);
    const bytes = new Uint8Array(await (await moduleToBlob(a)).arrayBuffer());
    const wrong = build(1, 5);
    await expect(loadModuleFromBlob(new File([bytes], 'weights.safetensors'), wrong)).rejects.toThrow(
      /^loadModuleFromBlob: weights.safetensors does not fit nn.Sequential: shape mismatch/,
    );
    await expect(loadModuleFromBlob(new Blob([bytes.subarray(0, 20)]), a)).rejects.toThrow(
      /^loadModuleFromBlob: <blob>: /,
    );
    await expect(loadModuleFromBlob(bytes as unknown as Blob, a)).rejects.toThrow(
      'loadModuleFromBlob: expected a Blob or File, got Uint8Array',
    );
    await expect(loadModuleFromBlob(null as unknown as Blob, a)).rejects.toThrow(
      'loadModuleFromBlob: expected a Blob or File, got null',
    );
    for (const m of [a, wrong]) m.dispose();
  });

  it('downloadModule refuses outside a page, naming saveModule', async () => {
    const a = build(1, 2);
    await expect(downloadModule('m.safetensors', a)).rejects.toThrow(
      "downloadModule: got 'm.safetensors', but there is no page to download from; in Node use io.saveModule",
    );
    a.dispose();
  });
});
