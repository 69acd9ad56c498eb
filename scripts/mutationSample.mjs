// The pure parts of scripts/mutate-sample.mjs (tested by packages/core/test/mutateSample.test.ts): a seeded sample of
// a package's mutants, the Stryker --mutate ranges that select them, and their score read from Stryker's JSON report.

/** mulberry32: a small seeded PRNG, uniform in [0, 1); the same seed gives the same sequence on every machine. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `size` distinct items of `items` drawn uniformly without replacement (a partial Fisher-Yates shuffle driven by
 * `prng(seed)`), returned in the order of `items`. All of them when `size` is not smaller.
 */
export function sample(items, size, seed) {
  const n = items.length;
  const k = Math.min(size, n);
  const index = Array.from({ length: n }, (_, i) => i);
  const next = prng(seed);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(next() * (n - i));
    [index[i], index[j]] = [index[j], index[i]];
  }
  return index
    .slice(0, k)
    .sort((a, b) => a - b)
    .map((i) => items[i]);
}

/** The 95% Wilson score interval of a proportion of `k` successes in `n` trials (`z` = 1.96 by default). */
export function wilson(k, n, z = 1.959963984540054) {
  if (n === 0) return { low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At k = 0 or k = n one end is exactly 0 or 1; computed, it would be off by rounding.
  return { low: k === 0 ? 0 : centre - half, high: k === n ? 1 : centre + half };
}

/**
 * One mutant's identity across runs: file, location (0-based lines and columns, as Stryker's API gives them),
 * mutator and replacement. Ids differ between runs (they number the mutants of the files instrumented), this does not.
 */
export function mutantKey(file, { start, end }, mutatorName, replacement) {
  return `${file}@${start.line}:${start.column}-${end.line}:${end.column}|${mutatorName}|${replacement}`;
}

/**
 * The --mutate pattern that selects a mutant of Stryker's API (0-based location): `file:line:col-line:col` with
 * 1-based lines and 0-based columns (Stryker's project reader takes one off the lines, not the columns), which
 * selects the mutants whose node lies inside the range, this one and any nested in it.
 */
export function mutateRange({ fileName, location: { start, end } }) {
  return `${fileName}:${start.line + 1}:${start.column}-${end.line + 1}:${end.column}`;
}

/** The key of a mutant of Stryker's JSON report (mutation-testing-report-schema: 1-based lines and columns). */
function reportKey(file, m) {
  const at = (p) => ({ line: p.line - 1, column: p.column - 1 });
  return mutantKey(
    file,
    { start: at(m.location.start), end: at(m.location.end) },
    m.mutatorName,
    m.replacement,
  );
}

const STATIC = /static mutant/i;

/**
 * The score of exactly the `sampled` mutants (API mutants, `fileName` repository-relative) in a Stryker JSON
 * `report` (its files keyed by a path whose repository-relative form `relative(path)` gives); the report's other
 * mutants (nested in a sampled one's range, or on the same node) are not counted.
 * Score = (killed + timeout) / (sampled - ignored - static - errors), as Stryker counts (errors: a mutant that did
 * not compile or crashed the runner is not valid); no coverage counts as survived.
 */
export function scoreSample(sampled, report, relative = (p) => p) {
  const byKey = new Map();
  for (const [path, file] of Object.entries(report.files)) {
    for (const m of file.mutants) byKey.set(reportKey(relative(path), m), m);
  }
  const counts = {
    killed: 0,
    timeout: 0,
    survived: 0,
    noCoverage: 0,
    ignored: 0,
    static: 0,
    errors: 0,
    missing: 0,
  };
  const survivors = [];
  const missing = [];
  for (const s of sampled) {
    const m = byKey.get(mutantKey(s.fileName, s.location, s.mutatorName, s.replacement));
    if (m === undefined) {
      counts.missing++;
      missing.push(s);
      continue;
    }
    switch (m.status) {
      case 'Killed':
        counts.killed++;
        break;
      case 'Timeout':
        counts.timeout++;
        break;
      case 'Survived':
      case 'NoCoverage':
        counts[m.status === 'Survived' ? 'survived' : 'noCoverage']++;
        survivors.push({ ...s, status: m.status });
        break;
      case 'Ignored':
        counts[STATIC.test(m.statusReason ?? '') ? 'static' : 'ignored']++;
        break;
      default:
        counts.errors++;
    }
  }
  const detected = counts.killed + counts.timeout;
  const valid = detected + counts.survived + counts.noCoverage;
  return {
    counts,
    valid,
    score: valid === 0 ? Number.NaN : detected / valid,
    interval: wilson(detected, valid),
    survivors,
    missing,
  };
}
