import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleIgnorer } from '../../../scripts/mutationSampleIgnorer.mjs';
import { listMutants } from '../../../scripts/mutants.mjs';
import {
  type ApiMutant,
  mutateRange,
  prng,
  type Report,
  sample,
  scoreSample,
  wilson,
} from '../../../scripts/mutationSample.mjs';

/**
 * scripts/mutate-sample.mjs scores a package from a random sample of its mutants. Its pure parts: the seeded
 * sample, the Wilson interval, the --mutate range of a mutant (checked with Stryker's own instrumenter) and the
 * score of exactly the sampled mutants read from a Stryker JSON report.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A throw-away root holding `files` (repository-relative paths). */
function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mutate-sample-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

// Nested mutants on purpose: the function's block holds the `if`, whose condition holds a comparison and a string.
const SRC = 'packages/core/src/a.ts';
const TEXT = [
  'export function f(a: number, b: string): string {',
  "  if (a >= 1 && b !== 'x') {",
  '    return b + a;',
  '  }',
  "  return 'none';",
  '}',
  '',
].join('\n');

describe('mutate-sample: the sample', () => {
  it('prng: the same seed gives the same sequence, in [0, 1); different seeds differ', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), (seed) => {
        const a = prng(seed);
        const b = prng(seed);
        const xs = Array.from({ length: 20 }, () => a());
        expect(Array.from({ length: 20 }, () => b())).toEqual(xs);
        for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
        const c = prng(seed + 1);
        expect(Array.from({ length: 20 }, () => c())).not.toEqual(xs);
      }),
    );
  });

  it('draws min(size, n) distinct items in their original order, the same for the same seed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer(),
        (n, size, seed) => {
          const items = Array.from({ length: n }, (_, i) => `m${i}`);
          const s = sample(items, size, seed);
          expect(s).toHaveLength(Math.min(size, n));
          const at = s.map((x) => items.indexOf(x));
          for (let i = 1; i < at.length; i++) expect(at[i]).toBeGreaterThan(at[i - 1] as number);
          expect(sample(items, size, seed)).toEqual(s);
        },
      ),
    );
  });

  it('is uniform: each item is drawn k/n of the time, and so is each pair (chi-square over 6000 seeds)', () => {
    const n = 12;
    const k = 4;
    const seeds = 6000;
    const items = Array.from({ length: n }, (_, i) => i);
    const once = new Array<number>(n).fill(0);
    const pairs = new Array<number>(n * n).fill(0);
    for (let seed = 1; seed <= seeds; seed++) {
      const s = sample(items, k, seed);
      for (const i of s) once[i] = (once[i] as number) + 1;
      for (const i of s) for (const j of s) if (i < j) pairs[i * n + j] = (pairs[i * n + j] as number) + 1;
    }
    const chi2 = (observed: number[], expected: number) =>
      observed.reduce((acc, o) => acc + (o - expected) ** 2 / expected, 0);
    // 11 degrees of freedom: P(chi2 > 31.3) = 0.001. A first-k or a biased shuffle lands in the thousands.
    expect(chi2(once, (seeds * k) / n)).toBeLessThan(31.3);
    const pairCounts: number[] = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairCounts.push(pairs[i * n + j] as number);
    // 65 degrees of freedom: P(chi2 > 107.6) = 0.001.
    expect(chi2(pairCounts, (seeds * (k * (k - 1))) / (n * (n - 1)))).toBeLessThan(107.6);
  });
});

describe('mutate-sample: the Wilson interval', () => {
  it("matches Newcombe's (1998) published 95% intervals", () => {
    // Newcombe, "Two-sided confidence intervals for the single proportion", Stat. Med. 17, Table II, method 3.
    const table: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [k, n, low, high] of table) {
      const w = wilson(k, n);
      expect(w.low).toBeCloseTo(low, 4);
      expect(w.high).toBeCloseTo(high, 4);
    }
  });

  it('holds the proportion, stays in [0, 1], mirrors k -> n - k, and narrows as n grows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const k = Math.round(f * n);
        const w = wilson(k, n);
        expect(w.low).toBeGreaterThanOrEqual(0);
        expect(w.high).toBeLessThanOrEqual(1);
        expect(w.low).toBeLessThanOrEqual(k / n);
        expect(w.high).toBeGreaterThanOrEqual(k / n);
        const m = wilson(n - k, n);
        expect(m.low).toBeCloseTo(1 - w.high, 12);
        const wide = wilson(4 * k, 4 * n);
        expect(wide.high - wide.low).toBeLessThan(w.high - w.low);
      }),
    );
  });
});

describe("mutate-sample: a mutant's --mutate range, with Stryker's instrumenter", () => {
  it('each range selects its mutant, and only mutants inside it', async () => {
    const root = fixture({ [SRC]: TEXT });
    const all = await listMutants(root, [SRC]);
    expect(all.length).toBeGreaterThan(10);
    const key = (m: ApiMutant) => JSON.stringify([m.location, m.mutatorName, m.replacement]);
    const inside = (m: ApiMutant, r: ApiMutant) => {
      const le = (a: ApiMutant['location']['start'], b: ApiMutant['location']['start']) =>
        a.line < b.line || (a.line === b.line && a.column <= b.column);
      return le(r.location.start, m.location.start) && le(m.location.end, r.location.end);
    };
    for (const m of all) {
      expect(mutateRange(m)).toMatch(/^packages\/core\/src\/a\.ts:\d+:\d+-\d+:\d+$/);
      const selected = await listMutants(root, [SRC], { patterns: [mutateRange(m)] });
      expect(selected.map(key)).toContain(key(m));
      for (const s of selected) expect(inside(s, m)).toBe(true);
    }
    // The function's emptied block holds every other mutant of its body: a range selects them all.
    const block = all.find((m) => m.mutatorName === 'BlockStatement' && m.location.start.line === 0);
    expect(block).toBeDefined();
    const nested = await listMutants(root, [SRC], { patterns: [mutateRange(block as ApiMutant)] });
    expect(nested.length).toBe(all.length);
  });

  it("the sample's ignorer leaves only the sampled mutants' nodes (and the nodes holding them) to run", async () => {
    const root = fixture({ [SRC]: TEXT });
    const all = await listMutants(root, [SRC]);
    const block = all.find((m) => m.mutatorName === 'BlockStatement' && m.location.start.line === 0);
    const string = all.find((m) => m.mutatorName === 'StringLiteral' && m.location.start.line === 4);
    const drawn = [block, string] as ApiMutant[];
    const samplePath = join(root, 'sample.json');
    writeFileSync(samplePath, JSON.stringify(drawn));
    const got = await listMutants(root, [SRC], {
      patterns: drawn.map(mutateRange),
      ignorers: [sampleIgnorer(samplePath, root)],
    });
    const kept = got.filter((m) => m.status === undefined);
    const key = (m: ApiMutant) => JSON.stringify([m.location, m.mutatorName, m.replacement]);
    // Both sampled mutants run; of the block's nested ones, none does (the string's node has no other mutant).
    expect(kept.map(key).sort()).toEqual(drawn.map(key).sort());
    expect(got.length).toBe(all.length);
  });
});

describe('mutate-sample: scoring the sample from a Stryker JSON report', () => {
  /** A report mutant for an API mutant: 1-based lines and columns, as the report schema has them. */
  const toReport = (m: ApiMutant, status: string, statusReason?: string) => ({
    mutatorName: m.mutatorName,
    replacement: m.replacement,
    location: {
      start: { line: m.location.start.line + 1, column: m.location.start.column + 1 },
      end: { line: m.location.end.line + 1, column: m.location.end.column + 1 },
    },
    status,
    ...(statusReason === undefined ? {} : { statusReason }),
  });
  const STATUSES = [
    'Killed',
    'Timeout',
    'Survived',
    'NoCoverage',
    'Ignored',
    'Static',
    'RuntimeError',
  ] as const;

  it('counts exactly the sampled mutants, by file, location, mutator and replacement', () => {
    const mutant = fc.record({
      fileName: fc.constantFrom('packages/core/src/a.ts', 'packages/core/src/b.ts'),
      mutatorName: fc.constantFrom('EqualityOperator', 'ConditionalExpression'),
      replacement: fc.constantFrom('true', 'false', 'a < b'),
      location: fc
        .tuple(fc.nat(50), fc.nat(80), fc.nat(5), fc.nat(40))
        .map(([l, c, dl, dc]) => ({ start: { line: l, column: c }, end: { line: l + dl, column: c + dc } })),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(mutant, { minLength: 1, maxLength: 40, selector: (m) => JSON.stringify(m) }),
        fc.array(fc.constantFrom(...STATUSES), { minLength: 40, maxLength: 40 }),
        fc.infiniteStream(fc.boolean()),
        (mutants, statuses, inReport) => {
          const half = Math.ceil(mutants.length / 2);
          const drawn = mutants.slice(0, half);
          const others = mutants.slice(half);
          const files: Record<string, { mutants: ReturnType<typeof toReport>[] }> = {};
          const put = (m: ApiMutant, r: ReturnType<typeof toReport>) => {
            files[`./${m.fileName}`] ??= { mutants: [] };
            files[`./${m.fileName}`]?.mutants.push(r);
          };
          const expected = {
            killed: 0,
            timeout: 0,
            survived: 0,
            noCoverage: 0,
            ignored: 0,
            static: 0,
            errors: 0,
          };
          let missing = 0;
          drawn.forEach((m, i) => {
            const s = statuses[i] as (typeof STATUSES)[number];
            if (!inReport.next().value) {
              missing++;
              return;
            }
            if (s === 'Static')
              put(m, toReport(m, 'Ignored', 'Static mutant (and "ignoreStatic" was enabled)'));
            else if (s === 'Ignored') put(m, toReport(m, 'Ignored', 'equivalent: a reason'));
            else put(m, toReport(m, s));
            const field = {
              Killed: 'killed',
              Timeout: 'timeout',
              Survived: 'survived',
              NoCoverage: 'noCoverage',
              Ignored: 'ignored',
              Static: 'static',
              RuntimeError: 'errors',
            }[s] as keyof typeof expected;
            expected[field]++;
          });
          // Mutants run but not drawn (nested in a range, or on a drawn one's node) never count.
          for (const m of others) put(m, toReport(m, 'Survived'));
          const r = scoreSample(drawn, { files } as Report, (p) => p.replace(/^\.\//, ''));
          expect(r.counts).toEqual({ ...expected, missing });
          const detected = expected.killed + expected.timeout;
          const valid = detected + expected.survived + expected.noCoverage;
          expect(r.valid).toBe(valid);
          if (valid > 0) expect(r.score).toBeCloseTo(detected / valid, 12);
          else expect(r.score).toBeNaN();
          expect(r.interval).toEqual(wilson(detected, valid));
          expect(r.survivors).toHaveLength(expected.survived + expected.noCoverage);
          expect(r.missing).toHaveLength(missing);
        },
      ),
    );
  });

  it('a report mutant on the same node with another replacement, or one column off, is not the sampled one', () => {
    const m: ApiMutant = {
      fileName: 'packages/core/src/a.ts',
      mutatorName: 'EqualityOperator',
      replacement: 'a < b',
      location: { start: { line: 3, column: 4 }, end: { line: 3, column: 10 } },
    };
    const shifted = { ...m, location: { ...m.location, start: { line: 3, column: 5 } } };
    const report = {
      files: {
        [m.fileName]: {
          mutants: [toReport({ ...m, replacement: 'a > b' }, 'Killed'), toReport(shifted, 'Killed')],
        },
      },
    } as Report;
    expect(scoreSample([m], report).counts.missing).toBe(1);
    const hit = { files: { [m.fileName]: { mutants: [toReport(m, 'Killed')] } } } as Report;
    expect(scoreSample([m], hit)).toMatchObject({ counts: { killed: 1, missing: 0 }, score: 1 });
  });
});
