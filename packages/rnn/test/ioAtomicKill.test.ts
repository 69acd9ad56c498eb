import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, nn } from '@webrnn/rnn';
import { loadModule, moduleToSafetensors, removeStaleTemporaryFiles } from '../src/io/index.js';

/**
 * A process SIGKILLed at a random moment while it replaces a checkpoint (over and over, alternating two
 * checkpoints) leaves one of the two whole, never a mix or a truncated file, and at most one stale temporary
 * file, which the documented cleanup removes. The child runs the very source of atomicWrite.ts (transpiled
 * here), which imports nothing of webrnn.
 */

const dir = await mkdtemp(join(tmpdir(), 'webrnn-kill-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

function build(seed: number) {
  manualSeed(seed);
  // About 1 MB of weights: a write takes long enough to be killed in the middle.
  return new nn.Sequential().add(new nn.Linear(400, 300)).add(new nn.Linear(300, 200));
}

const CHILD = `
import { readFileSync } from 'node:fs';
import { writeFileAtomically } from './atomicWrite.mjs';
const [target, a, b] = process.argv.slice(2);
const files = [readFileSync(a), readFileSync(b)];
process.stdout.write('ready\\n');
for (let i = 0; ; i++) await writeFileAtomically(target, files[i % 2]);
`;

async function runAndKill(target: string, a: string, b: string, delayMs: number): Promise<void> {
  const child = spawn(process.execPath, [join(dir, 'child.mjs'), target, a, b], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready: ${stderr}`)));
  });
  await new Promise((r) => setTimeout(r, delayMs));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  expect(stderr).toBe('');
}

describe('a save killed at any moment', () => {
  it('leaves the old or the new checkpoint whole, and a stale temporary file the cleanup removes', async () => {
    const source = await readFile(
      fileURLToPath(new URL('../src/io/atomicWrite.ts', import.meta.url)),
      'utf8',
    );
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    await writeFile(join(dir, 'atomicWrite.mjs'), js);
    await writeFile(join(dir, 'child.mjs'), CHILD);
    const [a, b] = [join(dir, 'a.bin'), join(dir, 'b.bin')];
    const bytesA = Buffer.from(await moduleToSafetensors(build(1), { which: 'a' }));
    const bytesB = Buffer.from(await moduleToSafetensors(build(2), { which: 'b' }));
    await writeFile(a, bytesA);
    await writeFile(b, bytesB);
    const target = join(dir, 'ckpt.safetensors');
    await writeFile(target, bytesA);
    let stale = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 60 }), async (delayMs) => {
        await runAndKill(target, a, b, delayMs);
        const now = await readFile(target);
        expect(now.equals(bytesA) || now.equals(bytesB)).toBe(true);
        const which = now.equals(bytesA) ? 'a' : 'b';
        expect((await loadModule(target, build(3))).metadata).toEqual({ which });
        const temps = (await readdir(dir)).filter((n) => n.endsWith('.webrnn-tmp'));
        expect(temps.length).toBeLessThanOrEqual(1);
        stale += temps.length;
        expect((await removeStaleTemporaryFiles(target)).length).toBe(temps.length);
        expect((await readdir(dir)).filter((n) => n.endsWith('.webrnn-tmp'))).toEqual([]);
      }),
      { numRuns: 25 },
    );
    // Shown, not asserted (timing): how often the kill fell inside a write.
    console.log(`ioAtomicKill: ${stale} of 25 kills left a temporary file`);
  });
});
