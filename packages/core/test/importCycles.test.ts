import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/** scripts/import-cycles.mjs (run by `pnpm run check`): the repository passes, and a fixture's loops are named. */
const repo = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const script = join(repo, 'scripts/import-cycles.mjs');

function run(root?: string): { code: number; out: string } {
  try {
    const out = execFileSync('node', [script, ...(root ? [root] : [])], { encoding: 'utf8', stdio: 'pipe' });
    return { code: 0, out };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: err.stdout + err.stderr };
  }
}

const fixtures: string[] = [];
afterAll(() => {
  for (const f of fixtures) rmSync(f, { recursive: true, force: true });
});

/** A throw-away repository: `files` maps paths under packages/ to their sources. */
function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'import-cycles-'));
  fixtures.push(root);
  for (const [path, text] of Object.entries(files)) {
    const p = join(root, 'packages', path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return root;
}

describe('import-cycles', () => {
  it('finds no cycle in the repository', () => {
    const { code, out } = run();
    expect(out).toMatch(/no cycle among \d+ files/);
    expect(code).toBe(0);
  });

  it('names each cycle (multi-line imports, re-exports, index.js folders) and exits 1', () => {
    const root = fixture({
      'a/src/x.ts': "import {\n  y,\n} from './y.js';\nexport const x = () => y;\n",
      'a/src/y.ts': "import { x } from './x.js';\nexport const y = () => x;\n",
      'a/src/leaf.ts': "import { x } from './x.js';\nexport const leaf = x;\n",
      'b/src/index.ts': "export * from './ops/index.js';\n",
      'b/src/ops/index.ts': "export { f } from './f.js';\n",
      'b/src/ops/f.ts': "import { g } from '../g.js';\nexport const f = g;\n",
      'b/src/g.ts': "import * as all from './index.js';\nexport const g = all;\n",
    });
    const { code, out } = run(root);
    expect(code).toBe(1);
    expect(out).toContain('import cycle of 2 files:\n  packages/a/src/x.ts\n  packages/a/src/y.ts\n');
    expect(out).toContain(
      'import cycle of 4 files:\n  packages/b/src/g.ts\n  packages/b/src/index.ts\n  packages/b/src/ops/f.ts\n  packages/b/src/ops/index.ts\n',
    );
    expect(out).not.toContain('leaf.ts');
  });

  it('ignores type-only imports, which are erased and cannot loop at load time', () => {
    const root = fixture({
      'a/src/x.ts': "import type { Y } from './y.js';\nexport type X = { y?: Y };\nexport const x = 1;\n",
      'a/src/y.ts': "import { x } from './x.js';\nexport type Y = number;\nexport const y = x;\n",
    });
    const { code, out } = run(root);
    expect(out).toContain('no cycle among 2 files');
    expect(code).toBe(0);
  });
});
