#!/usr/bin/env node
// Usage: node scripts/import-cycles.mjs [root]
// Fails when the relative imports of any package's src/ form a cycle: a loop makes load order decide which
// module sees `undefined`, and hides which layer depends on which. No dependency: the import lines are parsed
// with a regex (`import`/`export ... from`, `import('...')`), relative paths resolved, and Tarjan's algorithm
// finds the strongly connected components. `import type` is skipped: it is erased and cannot form a load loop.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const importRe =
  /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** The relative, value-level imports of `file`, resolved to .ts paths. */
export function importsOf(file, text) {
  const out = [];
  for (const m of text.matchAll(importRe)) {
    if (m[2]) continue; // `import type` / `export type ... from`
    const spec = m[3] ?? m[4];
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    const candidates = [target, `${target}.ts`, join(target, 'index.ts')];
    const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
    if (found) out.push(found);
  }
  return out;
}

/** Strongly connected components with more than one file (or a file importing itself). */
export function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const result = [];
  // Iterative Tarjan: deep import chains must not overflow the JS stack.
  for (const start of graph.keys()) {
    if (idx.has(start)) continue;
    const work = [[start, 0]];
    idx.set(start, index);
    low.set(start, index++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [v, i] = frame;
      const edges = graph.get(v) ?? [];
      if (i < edges.length) {
        frame[1]++;
        const w = edges[i];
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(v)));
      }
      if (low.get(v) === idx.get(v)) {
        const scc = [];
        let w;
        do {
          w = stack.pop();
          onStack.delete(w);
          scc.push(w);
        } while (w !== v);
        if (scc.length > 1 || edges.includes(v)) result.push(scc.sort());
      }
    }
  }
  return result;
}

// Checks the src/ folders under <dir>/packages (the repository by default; a test passes a fixture).
function main(dir = root) {
  const packagesDir = join(dir, 'packages');
  const graph = new Map();
  for (const pkg of readdirSync(packagesDir)) {
    const src = join(packagesDir, pkg, 'src');
    if (!existsSync(src)) continue;
    for (const f of sourceFiles(src)) graph.set(f, importsOf(f, readFileSync(f, 'utf8')));
  }
  const found = cycles(graph);
  if (found.length === 0) {
    console.log(`import-cycles: no cycle among ${graph.size} files`);
    return;
  }
  for (const scc of found) {
    console.error(`import cycle of ${scc.length} files:`);
    for (const f of scc) console.error(`  ${relative(dir, f)}`);
  }
  process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname))
  main(process.argv[2]);
