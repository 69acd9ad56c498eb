import { existsSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, WebWorker } from 'puppeteer-core';
import { setCpuWasm } from '@webrnn/rnn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageResult } from './browser/page.js';
import { CHECK_TOLERANCE } from './browser/pageChecks.js';
import { LOSS_TOLERANCE, lossFell, trainTutorialNet } from './browser/tutorialNet.js';
import { chromiumForFile, launchChromium, requireBrowser } from './helpers/chromium.js';

/**
 * The packages in a real browser: headless Chromium (Debian's, installed by scripts/setup-browser.sh) loads a
 * page bundled from the packages with esbuild as a user would, which trains the tutorial net on the CPU backend
 * and on WebGPU (navigator.gpu: Chromium's SwiftShader Vulkan, no GPU needed) and runs op and module checks on
 * both. Its losses must fall and equal this Node process's CPU run within the written tolerance. Three pages:
 * plain (no SharedArrayBuffer: the CPU backend runs on one thread without a word), cross-origin isolated
 * (COOP/COEP: SharedArrayBuffer exists), and a strict Content-Security-Policy (no 'unsafe-eval': the CPU backend
 * cannot use `new Function`). Without Chromium or its WebGPU adapter the test is skipped, and fails instead when
 * WEBRNN_REQUIRE_WEBGPU=1 (CI).
 */

const chromium = chromiumForFile('browserChromium');

const VARIANTS = {
  plain: {},
  isolated: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  csp: { 'Content-Security-Policy': "default-src 'none'; script-src 'self'" },
} satisfies Record<string, Record<string, string>>;
type Variant = keyof typeof VARIANTS;

/** An app that depends on @webrnn/core (as rnn does). */
const rnnPackage = fileURLToPath(new URL('..', import.meta.url));
const distBuilt = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)));

/** The page's script, and the CPU matmul's worker, which esbuild leaves to the app to bundle and serve. */
async function bundlePage(): Promise<{ page: string; worker: string }> {
  const bundle = async (entry: { file: string } | { contents: string }) => {
    const result = await build({
      ...('file' in entry
        ? { entryPoints: [fileURLToPath(new URL(entry.file, import.meta.url))] }
        : { stdin: { contents: entry.contents, resolveDir: rnnPackage } }),
      bundle: true,
      platform: 'browser',
      format: 'esm',
      // The built packages as a user installs them; their sources where they are not built.
      conditions: distBuilt ? [] : ['source'],
      write: false,
      logLevel: 'silent',
      target: 'es2022',
    });
    return result.outputFiles[0]!.text;
  };
  return {
    page: await bundle({ file: './browser/page.ts' }),
    // As the README tells esbuild users: the worker from the package's own export.
    worker: await bundle({ contents: "import '@webrnn/core/matmulWorker.js';" }),
  };
}

/** The page being tested (pages are loaded one after the other). */
let current: Variant = 'plain';

function serve(scripts: { page: string; worker: string }): Promise<Server> {
  const server = createServer((req, res) => {
    const [path, query = ''] = (req.url ?? '/').split('?');
    // A worker's script carries the policies of the page that starts it (a worker is isolated by its own headers).
    const variant = (new URLSearchParams(query).get('variant') ??
      (path === '/matmulWorker.js' ? current : 'plain')) as Variant;
    const headers = VARIANTS[variant] ?? {};
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (path === '/page.js' || path === '/matmulWorker.js') {
      res.setHeader('Content-Type', 'text/javascript');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
      res.end(path === '/page.js' ? scripts.page : scripts.worker);
    } else if (path === '/') {
      res.setHeader('Content-Type', 'text/html');
      res.end(
        '<!doctype html><meta charset="utf-8"><title>webrnn</title><script type="module" src="/page.js"></script>',
      );
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe.skipIf(!chromium)('the packages in headless Chromium', () => {
  let browser: Browser;
  let server: Server;
  let nodeLosses: number[];
  /** This process's losses with the CPU backend's wasm kernels off (setCpuWasm('off')). */
  let nodeLossesJs: number[];
  const results = new Map<Variant, PageResult>();
  const workers = new Map<Variant, WebWorker>();
  /**
   * Whether the worker is in its matmul loop: it took the shared buffers and sleeps in Atomics.wait between jobs,
   * so that nothing else runs in it (an evaluation there waits); a worker that never got them (say, a
   * SharedArrayBuffer its agent may not receive) is free and answers at once.
   */
  const inMatmulLoop = new Map<Variant, string>();
  const logs: string[] = [];

  beforeAll(async () => {
    server = await serve(await bundlePage());
    nodeLosses = await trainTutorialNet('cpu');
    setCpuWasm('off');
    try {
      nodeLossesJs = await trainTutorialNet('cpu');
    } finally {
      setCpuWasm('auto');
    }
    browser = await launchChromium(chromium!);
    const port = (server.address() as AddressInfo).port;
    // The pages one after the other: the machine's cores are few, and each page wants them all.
    for (const variant of Object.keys(VARIANTS) as Variant[]) {
      const page = await browser.newPage();
      page.on('console', (m) => logs.push(`[${variant}] ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`[${variant}] page error: ${(e as Error).message}`));
      current = variant;
      // The CPU matmul's worker, where the page starts one.
      page.on('workercreated', (w) => workers.set(variant, w));
      await page.goto(`http://127.0.0.1:${port}/?variant=${variant}${variant === 'plain' ? '&checks' : ''}`);
      await page.waitForFunction(
        () => (globalThis as { webrnnResult?: unknown }).webrnnResult !== undefined,
        {
          timeout: 90_000,
        },
      );
      const w = workers.get(variant);
      if (w) {
        const sleep = new Promise<string>((r) => setTimeout(() => r('in its loop'), 2000));
        inMatmulLoop.set(variant, await Promise.race([w.evaluate(() => 'free').catch(() => 'gone'), sleep]));
      }
      results.set(
        variant,
        await page.evaluate(() => (globalThis as unknown as { webrnnResult: PageResult }).webrnnResult),
      );
      const r = results.get(variant)!;
      const span = (l: number[] | null) =>
        l?.length ? `${l[0]!.toFixed(3)} -> ${l.at(-1)!.toFixed(3)}` : 'none';
      console.log(
        `browserChromium ${variant}: cpu ${span(r.cpu)}, webgpu ${span(r.webgpu)} on ${r.adapter || r.webgpuError}`,
      );
      await page.close();
    }
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  const get = (v: Variant): PageResult => {
    const r = results.get(v)!;
    expect(r.error ?? '', logs.join('\n')).toBe('');
    return r;
  };

  it.each(Object.keys(VARIANTS) as Variant[])(
    '%s page: the CPU backend trains the net to the losses of Node',
    (v) => {
      const r = get(v);
      expect(lossFell(r.cpu)).toBe(true);
      // The CSP page may not compile WebAssembly either (no 'wasm-unsafe-eval'): its CPU backend runs the
      // JavaScript kernels throughout, whose float32 elementwise results differ from the wasm ones by a few ulps.
      const want = v === 'csp' ? nodeLossesJs : nodeLosses;
      expect(r.cpu).toHaveLength(want.length);
      r.cpu.forEach((l, i) => expect(Math.abs(l - want[i]!)).toBeLessThanOrEqual(LOSS_TOLERANCE.sameBackend));
    },
  );

  it.each(Object.keys(VARIANTS) as Variant[])(
    '%s page: WebGPU (navigator.gpu) trains the net as the CPU does',
    (v) => {
      const r = get(v);
      if (!r.webgpu) {
        const why = `no WebGPU adapter in Chromium: ${r.webgpuError}`;
        if (requireBrowser) throw new Error(`WEBRNN_REQUIRE_WEBGPU=1 but ${why}`);
        console.log(`browserChromium: WebGPU part skipped (${why})`);
        return;
      }
      expect(r.adapter).toMatch(/navigator\.gpu/);
      expect(lossFell(r.webgpu)).toBe(true);
      r.webgpu.forEach((l, i) =>
        expect(Math.abs(l - nodeLosses[i]!) / (1 + Math.abs(nodeLosses[i]!))).toBeLessThanOrEqual(
          LOSS_TOLERANCE.cpuVsWebgpu,
        ),
      );
    },
  );

  it('op and module checks agree between the CPU and WebGPU in the page', () => {
    const r = get('plain');
    if (!r.webgpu && !requireBrowser) return;
    expect(r.checks.length).toBeGreaterThanOrEqual(5);
    expect(r.checks.filter((c) => !(c.worst <= CHECK_TOLERANCE))).toEqual([]);
  });

  it('large CPU matmuls: one thread in a plain page, an isolated worker in an isolated one, equal to float64', async () => {
    for (const v of Object.keys(VARIANTS) as Variant[]) expect(get(v).bigMatmulError, v).toBeLessThan(2e-3);
    expect([...workers.keys()]).toEqual(['isolated']);
    expect(inMatmulLoop.get('isolated')).toBe('in its loop');
  });

  it('each page is what it claims: no SharedArrayBuffer plain, SharedArrayBuffer isolated, no eval under the CSP', () => {
    expect([get('plain').sharedArrayBuffer, get('plain').evalAllowed]).toEqual([false, true]);
    expect([get('isolated').crossOriginIsolated, get('isolated').sharedArrayBuffer]).toEqual([true, true]);
    expect(get('csp').evalAllowed).toBe(false);
  });
});
