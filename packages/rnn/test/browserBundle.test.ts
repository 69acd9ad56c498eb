import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ENTRY, NODE_IMPORT, REFUSALS, runInPage } from './browser/bundleCheck.js';
import { LOSS_TOLERANCE, lossFell, trainTutorialNet } from './browser/tutorialNet.js';

/**
 * The packages bundle for the browser unchanged: esbuild with --platform=browser and no stubs, plugins or
 * externals, from the sources and from the built dist/ (what a user installs), with no error, no warning and no
 * Node import left in the output. The bundle then runs in a fresh vm context without `process`, `require` or
 * Node's modules (as a page), where the tutorial net trains on the CPU backend to the very losses it has in Node;
 * and once more with code generation from strings off, as under a strict Content-Security-Policy (no
 * 'unsafe-eval'), where the CPU backend must find its way without `new Function`. (browserVite.test.ts: Vite.)
 */

const examples = fileURLToPath(new URL('../../examples', import.meta.url));
const distBuilt = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)));

async function bundle(format: 'esm' | 'iife', source: boolean) {
  return build({
    stdin: { contents: ENTRY, resolveDir: examples, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    platform: 'browser',
    format,
    ...(format === 'iife' ? { globalName: 'webrnnPage' } : {}),
    // 'source' picks the packages' TypeScript sources (package.json exports); without it, dist/ as installed.
    conditions: source ? ['source'] : [],
    write: false,
    metafile: true,
    logLevel: 'silent',
    target: 'es2022',
  });
}

describe('@webrnn/rnn bundles for the browser with esbuild, unchanged', () => {
  const sources = distBuilt ? [true, false] : [true];
  it.each(sources)('from %s: no error, no warning, no Node import', async (source) => {
    const result = await bundle('esm', source);
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => w.text)).toEqual([]);
    const out = result.outputFiles[0]!.text;
    expect(out.length).toBeGreaterThan(100_000);
    expect(NODE_IMPORT.exec(out)?.[0] ?? null).toBeNull();
    // Every import was resolved into the bundle: none left for a browser to fetch.
    for (const o of Object.values(result.metafile.outputs)) expect(o.imports).toEqual([]);
    // The optional Dawn package is never bundled.
    expect(Object.keys(result.metafile.inputs).filter((p) => /node_modules\/webgpu\//.test(p))).toEqual([]);
  });

  it('the bundle trains the tutorial net without Node, with and without a strict CSP, as in Node', async () => {
    const code = (await bundle('iife', !distBuilt)).outputFiles[0]!.text;
    const inNode = await trainTutorialNet('cpu');
    expect(lossFell(inNode)).toBe(true);
    for (const csp of [false, true]) {
      const page = await runInPage(code, 'webrnnPage', csp);
      expect(page.hasProcess).toBe(false);
      expect(page.losses).toHaveLength(inNode.length);
      page.losses.forEach((l, i) =>
        expect(Math.abs(l - inNode[i]!)).toBeLessThanOrEqual(LOSS_TOLERANCE.sameBackend),
      );
      expect(page.same).toBe(true);
      page.refusals.forEach((r, i) => expect(r).toMatch(REFUSALS[i]!));
      expect(page.webgpu).toMatch(/^no WebGPU in this browser \(no navigator\.gpu/);
      expect(page.refusal).toMatch(
        /saveModule: got the path 'model.safetensors', but reading and writing files needs Node; here use io.moduleToSafetensors/,
      );
    }
  });

  it('the vm context really forbids new Function under the simulated CSP', () => {
    const context = vm.createContext({}, { codeGeneration: { strings: false, wasm: true } });
    expect(() => vm.runInContext('new Function("return 1")', context)).toThrow(
      /Code generation from strings disallowed/,
    );
  });
});
