import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import webpack from 'webpack';
import { afterAll, describe, expect, it } from 'vitest';
import { type Tensor, manualSeed, nn, tensor } from '@webrnn/rnn';
import { NODE_IMPORT } from './browser/bundleCheck.js';

/**
 * The built packages bundle for the browser unchanged with webpack 5 (target 'web', no loader, plugin, alias or
 * fallback): a project in a temporary folder whose node_modules links the packages, with a plain JavaScript app.
 * No error and no warning but webpack's size advice; no Node import; the bundle runs without Node, under a
 * simulated strict CSP, and computes what Node computes. Needs the packages built (dist/: webpack reads no
 * TypeScript), which `pnpm run build` does before the tests in CI.
 */

const pkg = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const distBuilt = existsSync(join(pkg('rnn'), 'dist/index.js'));
if (!distBuilt) console.log('browserWebpack: skipped, the packages are not built (pnpm run build)');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const APP = `
import { io, manualSeed, nn, tensor } from '@webrnn/rnn';
export async function run() {
  manualSeed(7);
  const net = new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Tanh()).add(new nn.Linear(4, 2));
  const y = Array.from(net.forward(tensor([[1, -2, 0.5], [0.25, 3, -1]])).dataSync());
  const copy = new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Tanh()).add(new nn.Linear(4, 2));
  await io.loadModuleFromBlob(await io.moduleToBlob(net), copy);
  const z = Array.from(copy.forward(tensor([[1, -2, 0.5], [0.25, 3, -1]])).dataSync());
  const refusal = await io.loadModule('model.safetensors', copy).then(() => 'loaded', (e) => e.message);
  return { y, z, refusal, hasProcess: typeof process !== 'undefined' };
}`;

describe.skipIf(!distBuilt)('@webrnn/rnn bundles for the browser with webpack, unchanged', () => {
  it('no error, no warning but size advice, no Node import; runs without Node as in Node', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'webrnn-webpack-'));
    dirs.push(dir);
    await mkdir(join(dir, 'node_modules/@webrnn'), { recursive: true });
    for (const p of ['kernels', 'core', 'rnn'])
      await symlink(pkg(p), join(dir, 'node_modules/@webrnn', p), 'dir');
    await writeFile(join(dir, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
    await writeFile(join(dir, 'app.js'), APP);
    const stats = await new Promise<webpack.Stats>((resolve, reject) => {
      const compiler = webpack({
        mode: 'production',
        context: dir,
        entry: './app.js',
        target: 'web',
        devtool: false,
        output: {
          path: join(dir, 'dist'),
          filename: 'app.js',
          library: { name: 'webrnnWebpack', type: 'var' },
          // 'auto' (the default) finds the page's address from document.currentScript, which a vm context lacks.
          publicPath: '',
        },
        optimization: { minimize: false },
      });
      compiler.run((err, s) => compiler.close(() => (err || !s ? reject(err) : resolve(s))));
    });
    const info = stats.toJson({ all: false, errors: true, warnings: true });
    expect((info.errors ?? []).map((e) => e.message)).toEqual([]);
    const warnings = (info.warnings ?? []).map((w) => w.message);
    expect(warnings.filter((w) => !/size limit|performance recommendations/.test(w))).toEqual([]);
    // The chunks webpack made (the app and its split-off file-writing code); the Node-only worker of the CPU
    // matmul is copied beside them as an asset (webpack's `new URL(..., import.meta.url)`), never run in a page.
    const chunkFiles = (stats.toJson({ all: false, chunks: true }).chunks ?? []).flatMap(
      (c) => c.files ?? [],
    );
    expect(chunkFiles).toContain('app.js');
    const chunks = await Promise.all(chunkFiles.map((f) => readFile(join(dir, 'dist', f), 'utf8')));
    for (const c of chunks) expect(NODE_IMPORT.exec(c)?.[0] ?? null).toBeNull();
    const bundled = chunks[chunkFiles.indexOf('app.js')]!;

    const context = vm.createContext(
      { console, setTimeout, clearTimeout, queueMicrotask, TextEncoder, TextDecoder, Blob, performance },
      { codeGeneration: { strings: false, wasm: true } },
    );
    // A page's `self` and address, which webpack's runtime reads when it starts (for the asset's URL).
    vm.runInContext(
      "globalThis.self = globalThis; globalThis.location = { href: 'http://localhost/' };",
      context,
    );
    vm.runInContext(bundled, context);
    const page = await vm.runInContext('webrnnWebpack.run()', context);

    manualSeed(7);
    const net = new nn.Sequential().add(new nn.Linear(3, 4)).add(new nn.Tanh()).add(new nn.Linear(4, 2));
    const x = tensor([
      [1, -2, 0.5],
      [0.25, 3, -1],
    ]);
    const inNode = Array.from((net.forward(x) as Tensor).dataSync());
    expect(page.hasProcess).toBe(false);
    expect(page.y).toEqual(inNode);
    expect(page.z).toEqual(inNode);
    expect(page.refusal).toMatch(
      /^loadModule: got the path 'model.safetensors', but .* needs Node; here use io.loadModuleFromSafetensors/,
    );
  });
});
