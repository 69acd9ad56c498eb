import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io } from '@webrnn/rnn';
import { buildModel, cosProbe } from '../src/cosModel.js';
import { chromiumForFile, launchChromium, requireBrowser } from '../../rnn/test/helpers/chromium.js';
import { type WebServer, serveWeb } from '../src/serveWeb.js';

/**
 * The web demo in headless Chromium (with WebGPU on SwiftShader, as browserChromium.test.ts): the page trains the
 * cos predictor live on WebGPU, and after a switch on the CPU, while its loss falls; its three charts are drawn
 * (a screenshot holds the colours of every curve); the download button saves a .safetensors file that loads into
 * the same model in Node. By default (`auto`) the page starts on the device that core's chooseDevice measures faster
 * with cos.ts's own probe, cross-origin isolated or not. Skipped without Chromium; fails instead when
 * WEBRNN_REQUIRE_WEBGPU=1 (CI).
 */

const chromium = chromiumForFile('browserDemo');

interface DemoState {
  device: string;
  reason: string;
  probeKey: string;
  adapter: string;
  iteration: number;
  losses: number[];
  evaluations: number;
  running: boolean;
  downloads: number;
  error: string;
}

const ITERATIONS = 60;

// Functions given to page.evaluate run in the page, where `globalThis` holds the DOM (`as any`: the tests are
// type-checked without the DOM lib, and such a function cannot call a helper of this file).

describe.skipIf(!chromium)('the web demo (packages/examples/web)', () => {
  let server: WebServer;
  let browser: Browser;
  let page: Page;
  let downloads: string;
  const logs: string[] = [];
  const stateOf = (p: Page) =>
    p.evaluate(() => (globalThis as unknown as { webrnnDemo: DemoState }).webrnnDemo);
  const state = () => stateOf(page);

  beforeAll(async () => {
    server = await serveWeb({ port: 0, sources: true });
    downloads = await mkdtemp(join(tmpdir(), 'webrnn-demo-'));
    browser = await launchChromium(chromium!);
    page = await browser.newPage();
    page.on('console', (m) => logs.push(m.text()));
    page.on('pageerror', (e) => logs.push(`page error: ${(e as Error).message}`));
    page.on('requestfailed', (r) => logs.push(`request failed: ${r.url()}`));
    page.on('response', (r) => void (r.status() >= 400 && logs.push(`HTTP ${r.status()}: ${r.url()}`)));
    await page.setViewport({ width: 980, height: 1000 });
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (downloads) await rm(downloads, { recursive: true, force: true });
  });

  it('trains live on WebGPU, switches to the CPU mid-run, and the loss falls', async () => {
    await page.goto(`${server.url}?iterations=${ITERATIONS}&backend=webgpu`);
    await page.waitForFunction(() =>
      (globalThis as any).document.querySelector('#status')?.textContent?.includes('iteration'),
    );
    const first = await state();
    if (first.device !== 'webgpu') {
      const why = `the page found no WebGPU adapter (${first.adapter || 'none'})`;
      if (requireBrowser) throw new Error(`WEBRNN_REQUIRE_WEBGPU=1 but ${why}`);
      console.log(`browserDemo: WebGPU part skipped, ${why}`);
    }
    await page.click('#start');
    await page.waitForFunction(
      () => (globalThis as unknown as { webrnnDemo: DemoState }).webrnnDemo.iteration >= 30,
      {
        timeout: 90_000,
      },
    );
    await page.select('#backend', 'cpu');
    await page.waitForFunction(
      (n) => {
        const d = (globalThis as unknown as { webrnnDemo: DemoState }).webrnnDemo;
        return (d.iteration >= n && !d.running) || d.error !== '';
      },
      { timeout: 90_000 },
      ITERATIONS,
    );
    const s = await state();
    expect(s.error, logs.join('\n')).toBe('');
    // Every file the page asked for was there (the CPU matmul's worker included).
    expect(logs.filter((l) => /^(HTTP|request failed)/.test(l))).toEqual([]);
    expect(s.device).toBe('cpu');
    expect(s.losses).toHaveLength(ITERATIONS);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(s.losses.slice(-10))).toBeLessThan(0.5 * mean(s.losses.slice(0, 10)));
    expect(s.evaluations).toBeGreaterThanOrEqual(1);
    expect(await page.$eval('#status', (e) => e.textContent)).toMatch(
      new RegExp(`iteration ${ITERATIONS}/${ITERATIONS}`),
    );
  }, 200_000);

  it('draws the loss curve and both forecasts (screenshot)', async () => {
    const shot = await page.screenshot({ encoding: 'base64', fullPage: true });
    // Decode the screenshot in the page and count the pixels of each curve's colour.
    const counts = await page.evaluate(async (b64) => {
      // An <img> from a data: address: the page's Content-Security-Policy allows data: images, not fetches.
      const img = new (globalThis as any).Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = new (globalThis as any).OffscreenCanvas(img.width, img.height);
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const px: Uint8ClampedArray = g.getImageData(0, 0, img.width, img.height).data;
      const colours: Record<string, [number, number, number]> = {
        loss: [0xff, 0x7f, 0x0e],
        oneStep: [0xd6, 0x27, 0x28],
        multiStep: [0x1f, 0x77, 0xb4],
        truth: [0x88, 0x88, 0x88],
      };
      const out: Record<string, number> = {};
      for (const [name, [r, gr, b]] of Object.entries(colours)) {
        let n = 0;
        for (let i = 0; i < px.length; i += 4) {
          if (Math.abs(px[i]! - r) < 24 && Math.abs(px[i + 1]! - gr) < 24 && Math.abs(px[i + 2]! - b) < 24)
            n++;
        }
        out[name] = n;
      }
      return { ...out, width: img.width as number, height: img.height as number } as Record<string, number>;
    }, shot);
    expect(counts.width).toBeGreaterThanOrEqual(900);
    for (const k of ['loss', 'oneStep', 'multiStep', 'truth'] as const)
      expect(counts[k], k).toBeGreaterThan(200);
  });

  it('downloads the model as .safetensors, which loads into the same model in Node', async () => {
    await page.click('#download');
    let files: string[] = [];
    for (let i = 0; i < 100 && !files.includes('cos.safetensors'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      files = await readdir(downloads);
    }
    expect(files).toContain('cos.safetensors');
    const bytes = new Uint8Array(await readFile(join(downloads, 'cos.safetensors')));
    const model = buildModel(32, false);
    const { metadata } = io.loadModuleFromSafetensors(bytes, model);
    expect(metadata).toMatchObject({ iteration: ITERATIONS, hidden: 32, rho: 10, trainedOn: 'cpu' });
    model.dispose();
  });

  // `auto`, the default: the page times cos.ts's probe (the same key: the same model at the same sizes) on both
  // devices with chooseDevice, says so, and trains on the faster; cross-origin isolated or not, under the CSP.
  for (const isolated of [true, false]) {
    it(`auto measures cos.ts's probe and trains on the faster device (${isolated ? '' : 'not '}cross-origin isolated)`, async () => {
      const plain = isolated ? null : await serveWeb({ port: 0, sources: true, isolated: false });
      const p = await browser.newPage();
      const seen: string[] = [];
      p.on('pageerror', (e) => seen.push(`page error: ${(e as Error).message}`));
      p.on('response', (r) => void (r.status() >= 400 && seen.push(`HTTP ${r.status()}: ${r.url()}`)));
      try {
        await p.goto(`${(plain ?? server).url}?iterations=20&autostart`);
        await p.waitForFunction(
          () => {
            const d = (globalThis as unknown as { webrnnDemo: DemoState }).webrnnDemo;
            return (d.iteration >= 20 && !d.running) || d.error !== '';
          },
          { timeout: 120_000 },
        );
        const s = await stateOf(p);
        expect(s.error, seen.join('\n')).toBe('');
        expect(seen).toEqual([]);
        expect(await p.evaluate(() => (globalThis as any).crossOriginIsolated)).toBe(isolated);
        expect(await p.$eval('#choice', (e) => e.textContent)).toBe(`backend: ${s.device} (${s.reason})`);
        expect(s.losses).toHaveLength(20);
        if (!s.adapter) {
          if (requireBrowser) throw new Error('WEBRNN_REQUIRE_WEBGPU=1 but the page found no WebGPU adapter');
          expect([s.device, s.reason]).toEqual(['cpu', 'no WebGPU adapter here']);
          return;
        }
        expect(s.probeKey).toBe(cosProbe({ hidden: 32, rho: 10, batch: 32 }, false).key);
        const m = s.reason.match(/^measured: cpu ([\d.]+) ms\/step, webgpu ([\d.]+) ms\/step on .+$/);
        expect(m, s.reason).not.toBeNull();
        expect(s.device).toBe(Number(m![2]) < Number(m![1]) ? 'webgpu' : 'cpu');
      } finally {
        await p.close();
        await plain?.close();
      }
    }, 200_000);
  }
});
