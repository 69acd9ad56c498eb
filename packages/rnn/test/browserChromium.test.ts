import { existsSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'puppeteer-core';
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

const distBuilt = existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)));

async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./browser/page.ts', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    // The built packages as a user installs them; their sources where they are not built.
    conditions: distBuilt ? [] : ['source'],
    write: false,
    logLevel: 'silent',
    target: 'es2022',
  });
  return result.outputFiles[0]!.text;
}

function serve(script: string): Promise<Server> {
  const server = createServer((req, res) => {
    const [path, query = ''] = (req.url ?? '/').split('?');
    const variant = (new URLSearchParams(query).get('variant') ?? 'plain') as Variant;
    const headers = VARIANTS[variant] ?? {};
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (path === '/page.js') {
      res.setHeader('Content-Type', 'text/javascript');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
      res.end(script);
    } else if (path === '/') {
      res.setHeader('Content-Type', 'text/html');
      res.end('<!doctype html><meta charset="utf-8"><title>webrnn</title><script src="/page.js"></script>');
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
  const results = new Map<Variant, PageResult>();
  const logs: string[] = [];

  beforeAll(async () => {
    const [script] = await Promise.all([bundlePage()]);
    server = await serve(script);
    nodeLosses = await trainTutorialNet('cpu');
    browser = await launchChromium(chromium!);
    const port = (server.address() as AddressInfo).port;
    // The pages one after the other: the machine's cores are few, and each page wants them all.
    for (const variant of Object.keys(VARIANTS) as Variant[]) {
      const page = await browser.newPage();
      page.on('console', (m) => logs.push(`[${variant}] ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`[${variant}] page error: ${(e as Error).message}`));
      await page.goto(`http://127.0.0.1:${port}/?variant=${variant}${variant === 'plain' ? '&checks' : ''}`);
      await page.waitForFunction(
        () => (globalThis as { webrnnResult?: unknown }).webrnnResult !== undefined,
        {
          timeout: 90_000,
        },
      );
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
      expect(r.cpu).toHaveLength(nodeLosses.length);
      r.cpu.forEach((l, i) =>
        expect(Math.abs(l - nodeLosses[i]!)).toBeLessThanOrEqual(LOSS_TOLERANCE.sameBackend),
      );
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

  it('each page is what it claims: no SharedArrayBuffer plain, SharedArrayBuffer isolated, no eval under the CSP', () => {
    expect([get('plain').sharedArrayBuffer, get('plain').evalAllowed]).toEqual([false, true]);
    expect([get('isolated').crossOriginIsolated, get('isolated').sharedArrayBuffer]).toEqual([true, true]);
    expect(get('csp').evalAllowed).toBe(false);
  });
});
