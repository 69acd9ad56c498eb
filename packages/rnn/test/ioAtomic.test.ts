import { lstat, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, nn } from '@webrnn/rnn';
import { loadModule, removeStaleTemporaryFiles, saveModule, stateDict } from '../src/io/index.js';

/**
 * Saves replace a checkpoint whole: concurrent saves to one path are written in call order (the last called
 * wins, never a mix), the temporary file is fresh and unpredictable (a planted symlink is not followed), and
 * stale temporary files of dead processes are removed by the next save.
 */

const dir = await mkdtemp(join(tmpdir(), 'webrnn-atomic-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

function build(seed: number) {
  manualSeed(seed);
  return new nn.Sequential().add(new nn.Linear(6, 5)).add(new nn.Tanh()).add(new nn.Linear(5, 3));
}

const weightsOf = (m: nn.Module) =>
  Object.fromEntries(Object.entries(stateDict(m)).map(([n, p]) => [n, Array.from(p.dataSync())]));

async function temporaries(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((n) => n.endsWith('.webrnn-tmp'));
}

describe('concurrent saves to one path', () => {
  it('write in call order: the file is the last call, whole (metadata and weights of one model)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 6 }),
        fc.scheduler(),
        async (order, s) => {
          const path = join(dir, 'race.safetensors');
          const models = [0, 1, 2, 3].map((i) => build(100 + i));
          // Each save starts at a point chosen by the scheduler, interleaved with the others' awaits.
          const called: number[] = [];
          const saves = order.map((i, k) =>
            s.schedule(Promise.resolve(k)).then(() => {
              called.push(k);
              return saveModule(path, models[i]!, { model: i, call: k });
            }),
          );
          await s.waitAll();
          await Promise.all(saves);
          const target = build(999);
          const { metadata } = await loadModule(path, target);
          const i = metadata.model as number;
          // The scheduler decided the call order; the file is the save called last, metadata and weights.
          expect(metadata.call).toBe(called.at(-1));
          expect(order[metadata.call as number]).toBe(i);
          expect(weightsOf(target)).toEqual(weightsOf(models[i]!));
          expect(await temporaries(dir)).toEqual([]);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('the last save called wins when all are fired without awaiting', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 8 }),
        async (order) => {
          const path = join(dir, 'burst.safetensors');
          const models = [0, 1, 2, 3].map((i) => build(200 + i));
          const results = await Promise.allSettled(
            order.map((i, k) => saveModule(path, models[i]!, { model: i, call: k })),
          );
          expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
          const target = build(999);
          const { metadata } = await loadModule(path, target);
          expect(metadata).toEqual({ model: order.at(-1), call: order.length - 1 });
          expect(weightsOf(target)).toEqual(weightsOf(models[order.at(-1)!]!));
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('temporary files', () => {
  it('a symlink planted at the old predictable name is not followed', async () => {
    const path = join(dir, 'sym.safetensors');
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    await symlink(victim, `${path}.tmp-${process.pid}`);
    await saveModule(path, build(1));
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await lstat(path)).isFile()).toBe(true);
    expect((await lstat(`${path}.tmp-${process.pid}`)).isSymbolicLink()).toBe(true);
  });

  it('names are unpredictable, and stale ones of dead processes are removed by the next save', async () => {
    const path = join(dir, 'stale.safetensors');
    // A pid that runs no process (beyond the kernel's maximum), and a live one (this process) that is not saving.
    const dead = join(dir, `.stale.safetensors.4194305.${'ab'.repeat(12)}.webrnn-tmp`);
    const mine = join(dir, `.stale.safetensors.${process.pid}.${'cd'.repeat(12)}.webrnn-tmp`);
    const other = join(dir, `.other.safetensors.4194305.${'ab'.repeat(12)}.webrnn-tmp`);
    for (const f of [dead, mine, other]) await writeFile(f, 'half');
    await saveModule(path, build(2));
    const left = await temporaries(dir);
    expect(left).toEqual([`.other.safetensors.4194305.${'ab'.repeat(12)}.webrnn-tmp`]);
    expect(await removeStaleTemporaryFiles(join(dir, 'other.safetensors'))).toEqual([other]);
    expect(await temporaries(dir)).toEqual([]);
  });
});
