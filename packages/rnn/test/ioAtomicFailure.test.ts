import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { WebrnnError, manualSeed, nn } from '@webrnn/rnn';
import { loadModule, saveModule } from '../src/io/index.js';

/**
 * A save that fails anywhere in its write (a short write, a failed fsync, a failed rename: injected into
 * node:fs/promises as a full disk or an I/O error would) leaves the previous checkpoint byte for byte and no
 * temporary file, and says which save and path failed.
 */

type Point = 'write' | 'sync' | 'rename';
const inject: { at: Point | null } = { at: null };

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const fail = (code: string) => Object.assign(new Error(`${code}: injected failure`), { code });
  return {
    ...real,
    open: async (...args: Parameters<typeof real.open>) => {
      const fh = await real.open(...args);
      if (args[1] !== 'wx') return fh;
      return new Proxy(fh, {
        get(target, key) {
          if (key === 'writeFile' && inject.at === 'write') {
            return async (data: Uint8Array) => {
              await target.writeFile(data.subarray(0, data.length >> 1));
              throw fail('ENOSPC');
            };
          }
          if (key === 'sync' && inject.at === 'sync') return async () => Promise.reject(fail('EIO'));
          const v = Reflect.get(target, key);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    },
    rename: async (...args: Parameters<typeof real.rename>) =>
      inject.at === 'rename' ? Promise.reject(fail('EXDEV')) : real.rename(...args),
  };
});

const dir = await mkdtemp(join(tmpdir(), 'webrnn-fail-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

function build(seed: number) {
  manualSeed(seed);
  return new nn.Sequential().add(new nn.Linear(4, 3)).add(new nn.Linear(3, 2));
}

describe('a failing save', () => {
  it('leaves the previous checkpoint and no temporary file', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Point>('write', 'sync', 'rename'),
        fc.integer({ min: 0, max: 1000 }),
        async (at, seed) => {
          const path = join(dir, 'ckpt.safetensors');
          inject.at = null;
          await saveModule(path, build(seed), { good: seed });
          const before = await readFile(path);
          inject.at = at;
          const failing = saveModule(path, build(seed + 1), { good: -1 });
          await expect(failing).rejects.toThrow(WebrnnError);
          await expect(failing).rejects.toThrow(`saveModule: cannot write ${path}: `);
          inject.at = null;
          expect((await readFile(path)).equals(before)).toBe(true);
          expect((await readdir(dir)).filter((n) => n.endsWith('.webrnn-tmp'))).toEqual([]);
          expect((await loadModule(path, build(5))).metadata).toEqual({ good: seed });
          // The next save to the path goes through: a failed one does not block the queue.
          await saveModule(path, build(seed + 2), { good: seed + 2 });
          expect((await loadModule(path, build(5))).metadata).toEqual({ good: seed + 2 });
        },
      ),
      { numRuns: 15 },
    );
  });
});
