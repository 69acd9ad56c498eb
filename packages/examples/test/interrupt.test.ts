import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { io } from '@webrnn/rnn';
import { describe, expect, it } from 'vitest';
import { main as cos } from '../src/cos.js';
import { main as nested } from '../src/nested-recurrence-lstm.js';
import { main as attention } from '../src/recurrent-visual-attention.js';
import { RunCheckpoints, resumedSeed } from '../src/shared/checkpoint.js';
import { expectPlot, quietly, tmpDir } from './helpers.js';

// The built programs under a real SIGINT (shared/trainLoop.ts + shared/checkpoint.ts): the first progress line
// shows that training runs, the signal stops it, the checkpoint and the plots so far are written, and --resume
// continues from the saved iteration. Built by `pnpm run build` (the check runs it first).
const dist = path.resolve(import.meta.dirname, '../dist');

interface Stopped {
  readonly code: number | null;
  readonly stdout: string;
}

/** Run `dist/<program>.js`, send SIGINT once its first progress line is out, and wait for it to exit. */
function interrupt(program: string, args: readonly string[]): Promise<Stopped> {
  const file = path.join(dist, `${program}.js`);
  if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm run build first`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let sent = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!sent && /^iteration +\d+\//m.test(stdout)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.resume();
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout });
    });
  });
}

/** The iteration and file of the stop message. */
function stopMessage(stdout: string, total: number): { iteration: number; file: string } {
  expect(stdout).toContain('SIGINT: stopping training after this iteration');
  const m =
    /stopped after iteration (\d+) of (\d+): checkpoint written to (\S+) \(continue with --resume \3\)/.exec(
      stdout,
    );
  expect(m, stdout).not.toBeNull();
  expect(Number(m![2])).toBe(total);
  return { iteration: Number(m![1]), file: m![3]! };
}

/** The metadata a RunCheckpoints file holds. */
function runInfo(file: string): { program: string; iteration: number } {
  const meta = io.decodeSafetensors(new Uint8Array(readFileSync(file)), file, 'test').metadata;
  return JSON.parse(meta.webrnnRun!);
}

describe('Ctrl-C in the built programs writes a checkpoint that --resume continues', () => {
  it('cos: stops, saves to <out>/checkpoint.safetensors without --save, resumes at the saved iteration', async () => {
    const out = tmpDir();
    const shape = ['--backend', 'cpu', '--hidden', '8', '--batch', '8', '--predict', '20'];
    const r = await interrupt('cos', [...shape, '--iterations', '1000000', '--out', out]);
    expect(r.code).toBe(0);
    const { iteration, file } = stopMessage(r.stdout, 1000000);
    expect(iteration).toBeGreaterThan(0);
    expect(iteration).toBeLessThan(1000000);
    expect(file).toBe(path.join(out, 'checkpoint.safetensors'));
    expect(runInfo(file)).toMatchObject({ program: 'cos', iteration });
    // The plots of the run so far and the summary (it says the run was stopped).
    expectPlot(path.join(out, 'loss'));
    expectPlot(path.join(out, 'one-step'));
    expect(r.stdout).toMatch(new RegExp(`training +${iteration} iterations .*stopped by a signal`));
    // --resume continues from there up to --iterations in all.
    const resumed = (await quietly(() =>
      cos([...shape, '--iterations', String(iteration + 3), '--resume', file, '--out', tmpDir()]),
    ))!;
    expect(resumed.iterations).toBe(iteration + 3);
    expect(resumed.losses).toHaveLength(3);
    // The weights came back: the first loss resumed is far below an untrained model's.
    const fresh = (await quietly(() => cos([...shape, '--iterations', '3', '--out', tmpDir()])))!;
    expect(resumed.losses[0]!).toBeLessThan(fresh.losses[0]!);
    await expect(
      cos([...shape, '--hidden', '9', '--iterations', String(iteration + 3), '--resume', file]),
    ).rejects.toThrow(`--hidden 9 differs from the checkpoint's 8 (${file})`);
    await expect(cos([...shape, '--iterations', String(iteration), '--resume', file])).rejects.toThrow(
      `has ${iteration} iterations done already`,
    );
  }, 180_000);

  it('recurrent-visual-attention: --save and --save-every, the optimiser state, the held-out evaluation', async () => {
    const out = tmpDir();
    const file = path.join(out, 'ckpt', 'agent.safetensors');
    const tiny = [
      '--backend',
      'cpu',
      '--eval-size',
      '20',
      '--batch-size',
      '4',
      '--canvas',
      '12',
      '--digit-scale',
      '1',
    ];
    const small = [
      ...tiny,
      '--glimpse-hidden-size',
      '8',
      '--locator-hidden-size',
      '4',
      '--image-hidden-size',
      '8',
    ];
    const shape = [...small, '--hidden-size', '8', '--rho', '2', '--glimpse-patch-size', '4'];
    const r = await interrupt('recurrent-visual-attention', [
      ...shape,
      '--iterations',
      '1000000',
      '--save',
      file,
      '--save-every',
      '5',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    const { iteration } = stopMessage(r.stdout, 1000000);
    expect(runInfo(file)).toMatchObject({ program: 'recurrent-visual-attention', iteration });
    expectPlot(path.join(out, 'loss'));
    expectPlot(path.join(out, 'accuracy'));
    expect(r.stdout).toMatch(new RegExp(`checkpoint +${path.resolve(file)}`));
    // SGD's momentum buffers travel with the weights.
    const names = Object.keys(io.decodeSafetensors(new Uint8Array(readFileSync(file)), file, 'test').tensors);
    expect(names.some((n) => n.startsWith('optim'))).toBe(true);
    const resumed = (await quietly(() =>
      attention([...shape, '--iterations', String(iteration + 2), '--resume', file, '--out', tmpDir()]),
    ))!;
    expect(resumed.iterations).toBe(iteration + 2);
    expect(resumed.losses).toHaveLength(2);
    expect(resumed.evaluations[0]!.iteration).toBe(iteration);
    expect(resumed.evaluations.at(-1)!.iteration).toBe(iteration + 2);
    await expect(
      attention([...shape, '--fast-l-s-t-m', '--iterations', String(iteration + 2), '--resume', file]),
    ).rejects.toThrow('differs from the checkpoint');
  }, 180_000);
});

describe('Ctrl-C in the loops with their own checkpoints', () => {
  it('char-lm: a real SIGINT reaches its loop on the CPU; the checkpoint holds the iterations done', async () => {
    const out = tmpDir();
    const file = path.join(out, 'model.safetensors');
    const args = ['--backend', 'cpu', '--hidden', '16', '--embed', '8', '--batch', '8', '--seq-length', '16'];
    const r = await interrupt('char-lm', [
      ...args,
      '--sample-length',
      '10',
      '--iterations',
      '1000000',
      '--save',
      file,
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    const m = /interrupted after (\d+) of 1000000 iterations/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    const meta = io.decodeSafetensors(new Uint8Array(readFileSync(file)), file, 'test').metadata;
    expect(JSON.parse(meta.charLm!).iterations).toBe(Number(m![1]));
    expectPlot(path.join(out, 'loss'));
  }, 180_000);
});

describe('nested-recurrence-lstm', () => {
  it('--save writes the end of the run, --resume goes on to --iterations in all', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'n.safetensors');
    const args = ['--backend', 'cpu', '--hidden', '5', '--out', dir];
    const done = (await quietly(() => nested([...args, '--iterations', '30', '--save', file])))!;
    expect(done.checkpoint).toBe(file);
    expect(runInfo(file)).toMatchObject({ program: 'nested-recurrence-lstm', iteration: 30 });
    const resumed = (await quietly(() => nested([...args, '--iterations', '35', '--resume', file])))!;
    expect(resumed.iterations).toBe(35);
    expect(resumed.losses).toHaveLength(5);
    // Trained weights: the resumed run starts below where the first one started.
    expect(resumed.losses[0]!).toBeLessThan(done.losses[0]!);
    // The generator's state is in the checkpoint, and restored: resuming again repeats the same iterations.
    expect((runInfo(file) as { rng?: { xoshiro128: number[] } }).rng?.xoshiro128).toHaveLength(4);
    const again = (await quietly(() => nested([...args, '--iterations', '35', '--resume', file])))!;
    expect(again.losses).toEqual(resumed.losses);
  });
});

describe('RunCheckpoints', () => {
  it('refuses a file of another program and a missing file, naming --resume', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'x.safetensors');
    const r = (await quietly(() =>
      cos([
        '--backend',
        'cpu',
        '--hidden',
        '4',
        '--batch',
        '4',
        '--predict',
        '5',
        '--iterations',
        '2',
        '--save',
        file,
        '--out',
        dir,
      ]),
    ))!;
    expect(r.checkpoint).toBe(file);
    const other = new RunCheckpoints(
      'seq2seq',
      { save: '', saveEvery: 0, resume: file, seed: 1, out: dir },
      {},
    );
    const { nn } = await import('@webrnn/rnn');
    expect(() => other.resume(new nn.Linear(1, 1))).toThrow(
      `--resume: ${file} is not a seq2seq checkpoint (it was written by cos)`,
    );
    const missing = new RunCheckpoints(
      'cos',
      { save: '', saveEvery: 0, resume: '/nonexistent/c.safetensors', seed: 1, out: dir },
      {},
    );
    expect(() => missing.resume(new nn.Linear(1, 1))).toThrow(
      '--resume: cannot read /nonexistent/c.safetensors',
    );
  });

  it('the resumed seed depends on the seed and the iteration', () => {
    const seeds = new Set<number>();
    for (const seed of [1, 2, 3]) for (const it of [0, 1, 100]) seeds.add(resumedSeed(seed, it));
    expect(seeds.size).toBe(9);
    expect(resumedSeed(5, 7)).toBe(resumedSeed(5, 7));
  });
});
