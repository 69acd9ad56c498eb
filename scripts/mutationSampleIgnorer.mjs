// A Stryker ignorer plugin for scripts/mutate-sample.mjs, loaded by stryker.config.mjs only when
// WEBRNN_MUTATION_SAMPLE names the sample's JSON file. The --mutate ranges select each sampled mutant and every
// mutant nested inside it (a sampled emptied block holds a whole function's mutants); this ignores the nodes that
// neither are nor contain a sampled mutant's node, so that those nested ones are not run (they show as ignored).
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const before = (a, b) => a.line < b.line || (a.line === b.line && a.column <= b.column);

/**
 * The ignorer for the sample in the JSON file `samplePath` (API mutants: 0-based lines and columns), with file
 * names relative to `root`: it ignores a node unless the node is, or holds, a sampled mutant's node.
 */
export function sampleIgnorer(samplePath, root = process.cwd()) {
  /** Sampled locations by file, in Babel's coordinates (1-based lines, 0-based columns). */
  const byFile = new Map();
  for (const { fileName, location } of JSON.parse(readFileSync(samplePath, 'utf8'))) {
    const at = (p) => ({ line: p.line + 1, column: p.column });
    byFile.set(fileName, [
      ...(byFile.get(fileName) ?? []),
      { start: at(location.start), end: at(location.end) },
    ]);
  }
  return {
    shouldIgnore(path) {
      const loc = path.node.loc;
      const file = path.hub?.file?.opts?.filename;
      if (!loc || !file) return undefined;
      const sampled = byFile.get(relative(root, resolve(root, file)).split('\\').join('/')) ?? [];
      const holds = sampled.some((s) => before(loc.start, s.start) && before(s.end, loc.end));
      return holds ? undefined : 'not in the sample (scripts/mutate-sample.mjs)';
    },
  };
}

const samplePath = process.env.WEBRNN_MUTATION_SAMPLE;
export const strykerPlugins = samplePath
  ? [{ kind: 'Ignore', name: 'webrnn-sample', value: sampleIgnorer(samplePath) }]
  : [];
