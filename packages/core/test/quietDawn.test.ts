import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DAWN_FILTERED_ENV,
  DAWN_LIMIT_WARNING,
  DawnWarningFilter,
  relaunchWithoutDawnWarnings,
} from '@webrnn/core';

const WARNINGS = ['Uniform', 'Storage'].map(
  (kind) =>
    `Warning: maxDynamic${kind}BuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.`,
);

/** Lines a program may write: Dawn's two, lines that only look like them, and ordinary text (non-ASCII too). */
const line = fc.oneof(
  fc.constantFrom(...WARNINGS),
  fc.constantFrom(
    `${WARNINGS[0]} (and more)`,
    `  ${WARNINGS[1]}`,
    'Warning: maxDynamic',
    'Warning: something else',
    'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from x to 16 to fit dynamic offset allocation limit.',
    'iteration 3/10  loss 0.25 — ok ✓',
    '',
  ),
  fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !s.includes('\n')),
);

/** Cut bytes at the given points (UTF-8 characters may be cut in two). */
function chunks(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
}

describe("DawnWarningFilter: Dawn's two adapter lines are dropped, nothing else", () => {
  it('DAWN_LIMIT_WARNING matches the lines Dawn prints and nothing around them', () => {
    for (const w of WARNINGS) expect(DAWN_LIMIT_WARNING.test(w)).toBe(true);
    expect(DAWN_LIMIT_WARNING.test(`${WARNINGS[0]} `)).toBe(false);
    expect(DAWN_LIMIT_WARNING.test(`x${WARNINGS[1]}`)).toBe(false);
  });

  it('any lines cut into any chunks: the output is the input without exactly those lines', () => {
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 12 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        (lines, lastHasNewline, cuts) => {
          const text = lines.join('\n') + (lastHasNewline && lines.length > 0 ? '\n' : '');
          let out = '';
          const filter = new DawnWarningFilter((t) => {
            out += t;
          });
          for (const c of chunks(new TextEncoder().encode(text), cuts)) filter.push(c);
          filter.end();
          const complete = lastHasNewline ? lines : lines.slice(0, -1);
          const expected =
            complete
              .filter((l) => !WARNINGS.includes(l))
              .map((l) => `${l}\n`)
              .join('') + (lastHasNewline || lines.length === 0 ? '' : lines.at(-1)!);
          expect(out).toBe(expected);
        },
      ),
    );
  });

  it('text that cannot become a warning is passed on before its newline (a progress line is not delayed)', () => {
    const seen: string[] = [];
    const filter = new DawnWarningFilter((t) => seen.push(t));
    filter.push(new TextEncoder().encode('loss 0.5'));
    expect(seen).toEqual(['loss 0.5']);
    filter.push(new TextEncoder().encode('Warning: maxDyn'));
    expect(seen).toEqual(['loss 0.5']); // it may still become Dawn's line: held back
    filter.push(new TextEncoder().encode('amicFoo\n'));
    expect(seen).toEqual(['loss 0.5', 'Warning: maxDynamicFoo\n']);
  });

  it('writes no empty text: a stream that ends on a newline, or an empty stream, ends with nothing more', () => {
    const seen: string[] = [];
    const filter = new DawnWarningFilter((t) => seen.push(t));
    filter.push(new TextEncoder().encode('a\n'));
    filter.end();
    expect(seen).toEqual(['a\n']);
    const empty = new DawnWarningFilter((t) => seen.push(t));
    empty.push(new Uint8Array(0));
    empty.end();
    expect(seen).toEqual(['a\n']);
  });
});

describe('relaunchWithoutDawnWarnings', () => {
  it('runs the program itself (false) in the filtered child and with WEBRNN_VERBOSE=1', () => {
    for (const [name, value] of [
      [DAWN_FILTERED_ENV, '1'],
      ['WEBRNN_VERBOSE', '1'],
    ] as const) {
      const before = process.env[name];
      process.env[name] = value;
      try {
        expect(relaunchWithoutDawnWarnings()).toBe(false);
      } finally {
        if (before === undefined) delete process.env[name];
        else process.env[name] = before;
      }
    }
  });

  // It runs the built package; Stryker's sandbox copy has no build (its mutants are killed, in the sources, by
  // quietDawnRelaunch.test.ts).
  const inMutationSandbox = import.meta.dirname.includes(`${path.sep}.stryker-tmp${path.sep}`);
  it.skipIf(inMutationSandbox)(
    'a relaunched program: its stderr without the two lines, everything else and its exit code kept',
    () => {
      // The built package (`pnpm run build`), imported by its name from its own folder.
      const program = `import { relaunchWithoutDawnWarnings } from '@webrnn/core';
      if (!relaunchWithoutDawnWarnings()) {
        console.error(${JSON.stringify(WARNINGS[0])});
        console.log('out');
        console.error('kept');
        console.error(${JSON.stringify(WARNINGS[1])});
        process.exitCode = 3;
      }`;
      const env = { ...process.env };
      delete env[DAWN_FILTERED_ENV];
      delete env.WEBRNN_VERBOSE;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', program], {
        cwd: path.resolve(import.meta.dirname, '..'),
        env,
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('kept\n');
      expect(r.stdout).toBe('out\n');
      expect(r.status).toBe(3);
    },
  );
});
