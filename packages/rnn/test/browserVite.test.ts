import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Rollup, build, defaultClientConditions } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY, NODE_IMPORT, REFUSALS, runInPage } from './browser/bundleCheck.js';
import { LOSS_TOLERANCE, trainTutorialNet } from './browser/tutorialNet.js';

/**
 * The packages bundle for the browser unchanged with Vite (Rolldown) too, as a user's app installs them: a project
 * in a temporary folder whose node_modules links @webrnn/rnn, core and kernels, built by Vite with no config file,
 * no plugin and no alias (only `build.lib`, to get one file): no warning, no Node import left; the bundle trains
 * the tutorial net without Node to the losses of Node. The built dist/ when there is one, else the sources.
 */

const pkg = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const distBuilt = existsSync(join(pkg('rnn'), 'dist/index.js'));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function project(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'webrnn-vite-'));
  dirs.push(dir);
  await mkdir(join(dir, 'node_modules/@webrnn'), { recursive: true });
  for (const p of ['kernels', 'core', 'rnn'])
    await symlink(pkg(p), join(dir, 'node_modules/@webrnn', p), 'dir');
  await writeFile(join(dir, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
  await writeFile(join(dir, 'app.ts'), ENTRY);
  return dir;
}

describe('@webrnn/rnn bundles for the browser with Vite, unchanged', () => {
  async function viteBuild(dir: string, format: 'es' | 'iife') {
    const warnings: string[] = [];
    const result = await build({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      // 'source' picks the packages' TypeScript sources (package.json exports) where dist/ is not built.
      resolve: distBuilt ? {} : { conditions: ['source', ...defaultClientConditions] },
      build: {
        write: false,
        minify: false,
        lib: { entry: join(dir, 'app.ts'), formats: [format], name: 'webrnnVite', fileName: 'app' },
        rollupOptions: { onwarn: (w) => void warnings.push(w.message) },
      },
    });
    const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
    const chunks = outputs.flatMap((o) => o.output).filter((o) => o.type === 'chunk');
    // An ES build splits off the dynamically imported file-writing code; an IIFE holds everything.
    if (format === 'iife') expect(chunks).toHaveLength(1);
    return { code: chunks.map((c) => c.code).join('\n'), warnings };
  }

  it('as an ES module (the format of a Vite app): no warning, no Node import', async () => {
    const { code, warnings } = await viteBuild(await project(), 'es');
    expect(warnings).toEqual([]);
    expect(NODE_IMPORT.exec(code)?.[0] ?? null).toBeNull();
  });

  it('as an IIFE, run without Node, under a strict CSP: trains the net as in Node', async () => {
    const { code, warnings } = await viteBuild(await project(), 'iife');
    // An IIFE has no import.meta (only the Node-only worker of the CPU matmul reads it, and never in a page).
    expect(warnings.filter((w) => !w.includes('EMPTY_IMPORT_META'))).toEqual([]);
    const inNode = await trainTutorialNet('cpu');
    const page = await runInPage(code, 'webrnnVite', true);
    expect(page.hasProcess).toBe(false);
    expect(page.losses).toHaveLength(inNode.length);
    page.losses.forEach((l, i) =>
      expect(Math.abs(l - inNode[i]!)).toBeLessThanOrEqual(LOSS_TOLERANCE.sameBackend),
    );
    expect(page.same).toBe(true);
    page.refusals.forEach((r, i) => expect(r).toMatch(REFUSALS[i]!));
    expect(page.webgpu).toMatch(/^no WebGPU in this browser \(no navigator\.gpu/);
    expect(page.refusal).toMatch(/^saveModule: got the path 'model.safetensors'/);
  });
});
