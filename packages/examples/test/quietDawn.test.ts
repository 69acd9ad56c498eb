import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAWN_FILTERED_ENV } from '@webrnn/rnn';
import { wantsDawnFilter } from '../src/shared/quietDawn.js';
import { tmpDir } from './helpers.js';

const WARNINGS = ['Uniform', 'Storage'].map(
  (kind) =>
    `Warning: maxDynamic${kind}BuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.`,
);

describe('wantsDawnFilter: only runs that may load Dawn are relaunched', () => {
  it.each([
    [[], {}, true],
    [['--backend', 'webgpu'], {}, true],
    [['--backend', 'auto', '--iterations', '3'], {}, true],
    [['--backend', 'cpu'], {}, false],
    [['--backend=cpu'], {}, false],
    [['--verbose'], {}, false],
    [['--help'], {}, false],
    [[], { WEBRNN_VERBOSE: '1' }, false],
    [[], { [DAWN_FILTERED_ENV]: '1' }, false],
    [['--', '--backend', 'cpu'], {}, true],
  ])('%j with env %j -> %s', (argv, env, want) => {
    expect(wantsDawnFilter(argv, env)).toBe(want);
  });
});

// The built programs (run by `pnpm run build` before the check): a default run prints none of Dawn's lines,
// --verbose shows them where this machine's adapter produces them, and exit codes and signals pass through.
const dist = path.resolve(import.meta.dirname, '../dist');
const COS = path.join(dist, 'cos.js');
const SMALL = ['--hidden', '8', '--batch', '8', '--predict', '20'];

interface Ran {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runNode(args: readonly string[], onStdout?: (all: string, pid: number) => void): Promise<Ran> {
  if (!existsSync(COS)) throw new Error(`${COS} is missing: run pnpm run build first`);
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env[DAWN_FILTERED_ENV];
    delete env.WEBRNN_VERBOSE;
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      onStdout?.(stdout, child.pid!);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Whether Dawn prints its lines on this machine: an adapter request in a bare process, stderr read as is. */
async function dawnWarns(): Promise<boolean> {
  const probe = `import('webgpu').then(async ({ create }) => { await create([]).requestAdapter(); process.exit(0); }, () => process.exit(0));`;
  const r = await runNode(['--input-type=module', '-e', probe]);
  return r.stderr.includes('artificially reduced');
}

describe("the examples' launcher", () => {
  it("a default run (--backend auto) prints none of Dawn's lines; --verbose shows them where Dawn prints them", async () => {
    const quiet = await runNode([COS, ...SMALL, '--iterations', '2', '--out', tmpDir()]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toMatch(/^backend: /m);
    expect(quiet.stderr).not.toContain('artificially reduced');
    const verbose = await runNode([COS, ...SMALL, '--iterations', '2', '--out', tmpDir(), '--verbose']);
    expect(verbose.code, verbose.stderr).toBe(0);
    if (await dawnWarns()) for (const w of WARNINGS) expect(verbose.stderr).toContain(w);
  }, 120_000);

  it('a failing run keeps its exit code and its error line on stderr', async () => {
    const r = await runNode([COS, '--iterations', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --iterations/m);
  }, 60_000);

  it('SIGINT and SIGTERM sent to the launcher reach the program once: it stops, saves and exits with 0', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      let sent = false;
      const r = await runNode([COS, ...SMALL, '--iterations', '1000000', '--out', tmpDir()], (all, pid) => {
        if (!sent && /^iteration +\d+\//m.test(all)) {
          sent = true;
          process.kill(pid, signal);
        }
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`${signal}: stopping training after this iteration`);
      expect(r.stdout).toMatch(/stopped after iteration \d+ of 1000000: checkpoint written to/);
    }
  }, 120_000);

  it('the launcher ends the way the program ended: killed by a signal, it is killed by the same signal', async () => {
    let sent = false;
    const r = await runNode([COS, ...SMALL, '--iterations', '1000000', '--out', tmpDir()], (all, pid) => {
      if (!sent && /^iteration +\d+\//m.test(all)) {
        sent = true;
        // The program is the launcher's only child (Linux lists it under /proc).
        const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
        expect(children).toHaveLength(1);
        process.kill(Number(children[0]), 'SIGKILL');
      }
    });
    expect(sent).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout).not.toContain('stopping training');
  }, 120_000);
});
